/* SPDX-License-Identifier: MIT */
/* Virtual interrupt controller tests: priority classes, TPR, ISR nesting, auto-EOI, waiting. */
#include "vmm/vic.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>
#include <cmocka.h>

static void test_priority_and_eoi(void **state)
{
	struct vmm_vic v;

	(void)state;
	assert_int_equal(vmm_vic_init(&v), 0);
	assert_int_equal(vmm_vic_deliverable(&v), -1);
	assert_false(vmm_vic_any_pending(&v));
	assert_int_equal(vmm_vic_raise(&v, 3, false), -EINVAL);      /* exceptions are not IRQs */
	assert_false(vmm_vic_any_pending(&v));
	assert_int_equal(vmm_vic_raise(&v, 0x31, false), 1);
	assert_int_equal(vmm_vic_raise(&v, 0x31, false), 0);         /* already pending */
	assert_int_equal(vmm_vic_raise(&v, 0x52, false), 1);
	assert_int_equal(vmm_vic_deliverable(&v), 0x52);              /* highest first */
	vmm_vic_ack(&v, 0x52);
	/* 0x31 is a lower class than 0x52 in service: blocked until EOI. */
	assert_int_equal(vmm_vic_deliverable(&v), -1);
	vmm_vic_eoi(&v);
	assert_int_equal(vmm_vic_deliverable(&v), 0x31);
	assert_true(vmm_vic_any_pending(&v));
	vmm_vic_ack(&v, 0x31);
	assert_false(vmm_vic_any_pending(&v));          /* the fast path sees an empty IRR */
	vmm_vic_eoi(&v);
	assert_int_equal(vmm_vic_deliverable(&v), -1);
	assert_int_equal(v.injected, 2);
	vmm_vic_fini(&v);
}

static void test_tpr_masks_classes(void **state)
{
	struct vmm_vic v;

	(void)state;
	assert_int_equal(vmm_vic_init(&v), 0);
	vmm_vic_set_tpr(&v, 0x40);
	assert_int_equal(vmm_vic_tpr(&v), 0x40);
	vmm_vic_raise(&v, 0x45, false);                       /* same class as TPR: masked */
	assert_int_equal(vmm_vic_deliverable(&v), -1);
	vmm_vic_raise(&v, 0x50, false);
	assert_int_equal(vmm_vic_deliverable(&v), 0x50);
	vmm_vic_set_tpr(&v, 0);
	vmm_vic_ack(&v, 0x50);
	vmm_vic_eoi(&v);
	assert_int_equal(vmm_vic_deliverable(&v), 0x45);
	vmm_vic_fini(&v);
}

static void test_auto_eoi_skips_isr(void **state)
{
	struct vmm_vic v;

	(void)state;
	assert_int_equal(vmm_vic_init(&v), 0);
	vmm_vic_raise(&v, 0x60, true);
	vmm_vic_raise(&v, 0x20, false);
	vmm_vic_ack(&v, 0x60);
	/* nothing entered the ISR, so the lower vector is deliverable at once */
	assert_int_equal(vmm_vic_deliverable(&v), 0x20);
	vmm_vic_fini(&v);
}

struct waiter {
	struct vmm_vic *v;
	volatile int stop;
	int result;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->result = vmm_vic_wait(w->v, &w->stop, 5);
	return NULL;
}

static void test_wait_wakes_on_raise_and_stop(void **state)
{
	struct vmm_vic v;
	struct waiter w = { .v = &v };
	pthread_t t;

	(void)state;
	assert_int_equal(vmm_vic_init(&v), 0);
	w.result = -5;
	assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
	usleep(20000);
	assert_int_equal(w.result, -5);                 /* still waiting: nothing pending */
	vmm_vic_raise(&v, 0x40, false);
	pthread_join(t, NULL);
	assert_int_equal(w.result, 1);

	vmm_vic_ack(&v, 0x40);                          /* in service: nothing deliverable */
	w.result = -5;
	assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
	usleep(20000);
	w.stop = 1;
	vmm_vic_kick(&v);
	pthread_join(t, NULL);
	assert_int_equal(w.result, 0);
	vmm_vic_fini(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_priority_and_eoi),
		cmocka_unit_test(test_tpr_masks_classes),
		cmocka_unit_test(test_auto_eoi_skips_isr),
		cmocka_unit_test(test_wait_wakes_on_raise_and_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
