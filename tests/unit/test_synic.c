/* SPDX-License-Identifier: MIT */
/* SynIC slot protocol tests: free slot, MessagePending, queue order, EOM redelivery, overflow. */
#include "hv/synic.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

static struct hv_message msg(uint32_t type, uint8_t tag)
{
	struct hv_message m;

	memset(&m, 0, sizeof(m));
	m.header.message_type = type;
	m.header.payload_size = 8;
	m.header.sender = tag;
	m.payload.bytes[0] = tag;
	m.payload.bytes[239] = (uint8_t)~tag;
	return m;
}

static void test_free_slot_delivers(void **state)
{
	struct hv_message slot;
	struct hv_msg_queue q = { 0 };
	struct hv_message m = msg(0x1234, 7);

	(void)state;
	memset(&slot, 0, sizeof(slot));
	assert_int_equal(hv_synic_deliver(&slot, &q, &m), 1);
	assert_int_equal(slot.header.message_type, 0x1234);
	assert_int_equal(slot.header.message_flags, 0);
	assert_int_equal(slot.payload.bytes[0], 7);
	assert_int_equal(slot.payload.bytes[239], (uint8_t)~7);
	assert_int_equal(q.count, 0);
}

static void test_busy_slot_queues_and_sets_pending(void **state)
{
	struct hv_message slot;
	struct hv_msg_queue q = { 0 };
	struct hv_message a = msg(1, 1), b = msg(2, 2), c = msg(3, 3);

	(void)state;
	memset(&slot, 0, sizeof(slot));
	assert_int_equal(hv_synic_deliver(&slot, &q, &a), 1);
	assert_int_equal(hv_synic_deliver(&slot, &q, &b), 0);
	assert_int_equal(slot.header.message_flags & HV_MESSAGE_FLAG_PENDING, HV_MESSAGE_FLAG_PENDING);
	assert_int_equal(hv_synic_deliver(&slot, &q, &c), 0);
	/* EOM with the slot still full changes nothing. */
	assert_int_equal(hv_synic_redeliver(&slot, &q), 0);
	assert_int_equal(slot.header.message_type, 1);
	/* The guest consumes: type 0, then EOM. Order is kept; pending stays while more wait. */
	slot.header.message_type = 0;
	assert_int_equal(hv_synic_redeliver(&slot, &q), 1);
	assert_int_equal(slot.header.message_type, 2);
	assert_int_equal(slot.header.message_flags & HV_MESSAGE_FLAG_PENDING, HV_MESSAGE_FLAG_PENDING);
	slot.header.message_type = 0;
	assert_int_equal(hv_synic_redeliver(&slot, &q), 1);
	assert_int_equal(slot.header.message_type, 3);
	assert_int_equal(slot.header.message_flags & HV_MESSAGE_FLAG_PENDING, 0);
	slot.header.message_type = 0;
	assert_int_equal(hv_synic_redeliver(&slot, &q), 0);
	assert_int_equal(slot.header.message_type, 0);
}

static void test_queue_full(void **state)
{
	struct hv_message slot;
	struct hv_msg_queue q = { 0 };
	struct hv_message m = msg(9, 9);

	(void)state;
	memset(&slot, 0, sizeof(slot));
	assert_int_equal(hv_synic_deliver(&slot, &q, &m), 1);
	for (unsigned i = 0; i < HV_SYNIC_QUEUE_DEPTH; i++)
		assert_int_equal(hv_synic_deliver(&slot, &q, &m), 0);
	assert_int_equal(hv_synic_deliver(&slot, &q, &m), -ENOBUFS);
	assert_int_equal(q.count, HV_SYNIC_QUEUE_DEPTH);
}

static void test_free_slot_but_queue_keeps_order(void **state)
{
	struct hv_message slot;
	struct hv_msg_queue q = { 0 };
	struct hv_message a = msg(1, 1), b = msg(2, 2), c = msg(3, 3);

	(void)state;
	memset(&slot, 0, sizeof(slot));
	hv_synic_deliver(&slot, &q, &a);
	hv_synic_deliver(&slot, &q, &b);
	/* The guest frees the slot but has not written EOM yet when c arrives: b goes first, and
	 * the call reports that a message entered the slot (the SINT must be raised for it). */
	slot.header.message_type = 0;
	assert_int_equal(hv_synic_deliver(&slot, &q, &c), 1);
	assert_int_equal(slot.header.message_type, 2);
	assert_int_equal(q.count, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_slot_delivers),
		cmocka_unit_test(test_busy_slot_queues_and_sets_pending),
		cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_free_slot_but_queue_keeps_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
