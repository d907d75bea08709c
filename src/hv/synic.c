/* SPDX-License-Identifier: MIT */
/* The SynIC message protocol (TLFS): free slot = type 0; busy slot = MessagePending + EOM. */
#include "hv/synic.h"

#include <errno.h>
#include <string.h>

/* Write the payload first and the type last, so a reader that sees the type sees the message. */
static void put(struct hv_message *slot, const struct hv_message *m, bool more)
{
	volatile uint32_t *type = &slot->header.message_type;

	memcpy(&slot->payload, &m->payload, sizeof(slot->payload));
	slot->header.payload_size = m->header.payload_size;
	slot->header.message_flags = more ? HV_MESSAGE_FLAG_PENDING : 0;
	slot->header.reserved = 0;
	slot->header.sender = m->header.sender;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*type = m->header.message_type;
}

int hv_synic_deliver(struct hv_message *slot, struct hv_msg_queue *q, const struct hv_message *m)
{
	uint32_t busy = __atomic_load_n(&slot->header.message_type, __ATOMIC_ACQUIRE);

	if (busy == HVMSG_NONE && q->count == 0) {
		put(slot, m, false);
		return 1;
	}
	if (q->count == HV_SYNIC_QUEUE_DEPTH)
		return -ENOBUFS;
	q->msg[(q->head + q->count) % HV_SYNIC_QUEUE_DEPTH] = *m;
	q->count++;
	if (busy != HVMSG_NONE) {
		__atomic_fetch_or(&slot->header.message_flags, HV_MESSAGE_FLAG_PENDING, __ATOMIC_SEQ_CST);
		/*
		 * The guest may have emptied the slot after we looked and before the flag landed: it
		 * then saw no MessagePending and will not write EOM. Look again and deliver ourselves.
		 */
		return hv_synic_redeliver(slot, q);
	}
	/* Free slot, older messages queued (no EOM yet): the oldest goes in first. */
	return hv_synic_redeliver(slot, q);
}

int hv_synic_redeliver(struct hv_message *slot, struct hv_msg_queue *q)
{
	if (!q->count || __atomic_load_n(&slot->header.message_type, __ATOMIC_SEQ_CST) != HVMSG_NONE)
		return 0;
	put(slot, &q->msg[q->head], q->count > 1);
	q->head = (uint8_t)((q->head + 1) % HV_SYNIC_QUEUE_DEPTH);
	q->count--;
	return 1;
}
