/* SPDX-License-Identifier: MIT */
/* VP reply application tests: replies land in the right kvm_run fields, never outside the mapping. */
#include "vmm/vp.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fake_run.h"

static void test_io_in_writes_element(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct vmm_reply reply = { .action = VMM_ACT_RESUME, .data = 0xbeef };
	bool inject;
	uint16_t v;

	(void)state;
	fake_run_io(run, 0x80, 0, 2, 3, 0);
	assert_int_equal(vp_apply_reply(run, FAKE_RUN_SIZE, 1, &reply, 0, &inject), 0);
	memcpy(&v, (uint8_t *)run + run->io.data_offset + 2, 2);
	assert_int_equal(v, 0xbeef);
	memcpy(&v, (uint8_t *)run + run->io.data_offset, 2);
	assert_int_equal(v, 0);            /* element 0 untouched */
	assert_false(inject);
	assert_int_equal(run->kvm_dirty_regs, 0);
	free(run);
}

static void test_io_out_leaves_data(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct vmm_reply reply = { .action = VMM_ACT_RESUME, .data = 0xff };
	bool inject;

	(void)state;
	fake_run_io(run, 0x3f8, 1, 1, 1, 0x41);
	assert_int_equal(vp_apply_reply(run, FAKE_RUN_SIZE, 0, &reply, 0, &inject), 0);
	assert_int_equal(*((uint8_t *)run + run->io.data_offset), 0x41);
	free(run);
}

static void test_io_in_outside_mapping(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct vmm_reply reply = { .action = VMM_ACT_RESUME };
	bool inject;

	(void)state;
	fake_run_io(run, 0x80, 0, 4, 1, 0);
	run->io.data_offset = FAKE_RUN_SIZE - 2;
	assert_int_equal(vp_apply_reply(run, FAKE_RUN_SIZE, 0, &reply, 0, &inject), -EINVAL);
	free(run);
}

static void test_mmio_read(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct vmm_reply reply = { .action = VMM_ACT_RESUME, .data = 0x1122334455667788ull };
	bool inject;

	(void)state;
	fake_run_mmio(run, 0xd0000000, 0, 4, 0);
	assert_int_equal(vp_apply_reply(run, FAKE_RUN_SIZE, 0, &reply, 0, &inject), 0);
	assert_int_equal(run->mmio.data[0], 0x88);
	assert_int_equal(run->mmio.data[3], 0x55);
	assert_int_equal(run->mmio.data[4], 0);       /* only len bytes */
	free(run);
}

static void test_msr_read_and_gp(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct vmm_reply reply = { .action = VMM_ACT_RESUME, .data = 0xabcdef };
	bool inject;

	(void)state;
	fake_run_msr(run, 0x40000002, 0, 0);
	assert_int_equal(vp_apply_reply(run, FAKE_RUN_SIZE, 0, &reply, 0, &inject), 0);
	assert_int_equal(run->msr.data, 0xabcdef);
	assert_int_equal(run->msr.error, 0);

	reply = (struct vmm_reply){ .action = VMM_ACT_INJECT, .vector = 13, .error_code_valid = true };
	fake_run_msr(run, 0x40000002, 1, 5);
	assert_int_equal(vp_apply_reply(run, FAKE_RUN_SIZE, 0, &reply, 0, &inject), 0);
	assert_int_equal(run->msr.error, 1);
	assert_false(inject);             /* KVM raises the #GP itself */

	reply = (struct vmm_reply){ .action = VMM_ACT_INJECT, .vector = 6 };
	fake_run_msr(run, 0x40000002, 0, 0);
	assert_int_equal(vp_apply_reply(run, FAKE_RUN_SIZE, 0, &reply, 0, &inject), 0);
	assert_int_equal(run->msr.error, 0);
	assert_true(inject);
	free(run);
}

static void test_dirty_state_written_back(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct vmm_reply reply = { .action = VMM_ACT_RESUME };
	bool inject;

	(void)state;
	fake_run_io(run, 0xeb, 1, 1, 1, 0);
	assert_int_equal(vp_apply_reply(run, FAKE_RUN_SIZE, 0, &reply, VMM_STATE_GPRS, &inject), 0);
	assert_int_equal(run->kvm_dirty_regs, KVM_SYNC_X86_REGS);
	assert_int_equal(vp_apply_reply(run, FAKE_RUN_SIZE, 0, &reply, VMM_STATE_SREGS, &inject), 0);
	assert_int_equal(run->kvm_dirty_regs, KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS);
	free(run);
}

static void test_inject_on_io(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct vmm_reply reply = { .action = VMM_ACT_INJECT, .vector = 6 };
	bool inject;

	(void)state;
	fake_run_io(run, 0xeb, 1, 1, 1, 0);
	assert_int_equal(vp_apply_reply(run, FAKE_RUN_SIZE, 0, &reply, 0, &inject), 0);
	assert_true(inject);
	free(run);
}

static void test_request_stop(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct vp vp;
	int status = -1;

	(void)state;
	vp_init(&vp, 0, NULL, NULL);
	vp.vcpu[0].run = run;
	vp.vcpu[0].fd = 1000;       /* never used: the stop is seen before KVM_RUN */
	vp_request_stop(&vp, 124);
	assert_int_equal(run->immediate_exit, 1);
	assert_int_equal(vp.stop_requested, 1);
	/* A stop requested before the first KVM_RUN is honoured without entering the guest. */
	assert_int_equal(vp_run(&vp, &status), 0);
	assert_int_equal(status, 124);
	free(run);
}

static void test_shared_gprs(void **state)
{
	struct kvm_regs src, dst;

	(void)state;
	memset(&src, 0x11, sizeof(src));
	memset(&dst, 0x22, sizeof(dst));
	src.rax = 1;
	src.r15 = 15;
	src.rsp = 0xaaa;
	src.rip = 0xbbb;
	src.rflags = 0xccc;
	dst.rsp = 0x1000;
	dst.rip = 0x2000;
	dst.rflags = 0x202;
	vp_copy_shared_gprs(&dst, &src);
	assert_int_equal(dst.rax, 1);
	assert_int_equal(dst.r15, 15);
	assert_int_equal(dst.rbx, src.rbx);
	assert_int_equal(dst.rbp, src.rbp);
	/* RSP, RIP and RFLAGS are private to each VTL. */
	assert_int_equal(dst.rsp, 0x1000);
	assert_int_equal(dst.rip, 0x2000);
	assert_int_equal(dst.rflags, 0x202);
}

static void test_switch_vtl_needs_vcpu(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct vp vp;

	(void)state;
	vp_init(&vp, 3, NULL, NULL);
	assert_int_equal(vp.switch_to, -1);
	assert_int_equal(vp.dctx[1].vtl, 1);
	assert_int_equal(vp.dctx[1].vp_index, 3);
	assert_int_equal(vp_switch_vtl(&vp, 1), -EINVAL);     /* VTL1 has no vCPU */
	assert_int_equal(vp_switch_vtl(&vp, 7), -EINVAL);
	vp.vcpu[1].run = run;
	vp.vcpu[1].fd = 1000;
	assert_int_equal(vp_switch_vtl(&vp, 1), 0);
	assert_int_equal(vp.switch_to, 1);
	/* Nothing pending: completing is a no-op that touches no vCPU. */
	assert_int_equal(vp_complete_pending(&vp, 1), 0);
	assert_int_equal(vp_complete_pending(&vp, 9), -EINVAL);
	free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_in_writes_element),
		cmocka_unit_test(test_io_out_leaves_data),
		cmocka_unit_test(test_io_in_outside_mapping),
		cmocka_unit_test(test_mmio_read),
		cmocka_unit_test(test_msr_read_and_gp),
		cmocka_unit_test(test_dirty_state_written_back),
		cmocka_unit_test(test_inject_on_io),
		cmocka_unit_test(test_request_stop),
		cmocka_unit_test(test_shared_gprs),
		cmocka_unit_test(test_switch_vtl_needs_vcpu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
