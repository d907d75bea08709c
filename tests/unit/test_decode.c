/* SPDX-License-Identifier: MIT */
/* Exit decoder tests: every KVM exit type hvrun handles becomes the right TLFS message. */
#include "vmm/decode.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "fake_run.h"
#include "hvrun/abi.h"
#include "vmm/msg.h"

static const struct vmm_decode_ctx ctx0 = { .vp_index = 3, .vtl = 0, .sender = 7 };

static void check_header(const struct hv_message *m, uint32_t type, uint8_t access)
{
	const struct hv_x64_intercept_header *h = vmm_msg_intercept(m);

	assert_int_equal(m->header.message_type, type);
	assert_int_equal(m->header.sender, 7);
	assert_int_equal(h->vp_index, 3);
	assert_int_equal(h->access_type, access);
	assert_int_equal(h->rip, 0x101234);
	assert_int_equal(h->rflags, 0x2);
	assert_int_equal(h->cs.selector, 0x08);
	/* type 0xb, S, DPL0, P, L, G */
	assert_int_equal(h->cs.attributes, 0xb | 0x10 | 0x80 | 0x2000 | 0x8000);
	assert_int_equal(h->execution_state, HV_EXEC_STATE_CR0_PE | HV_EXEC_STATE_EFER_LMA);
}

static void test_io_out_byte(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct hv_message m;

	(void)state;
	run->s.regs.regs.rax = 0x1141;
	fake_run_io(run, 0x3f8, 1, 1, 1, 'A');
	assert_int_equal(vmm_decode_count(run), 1);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	check_header(&m, HVMSG_X64_IO_PORT_INTERCEPT, HV_INTERCEPT_ACCESS_WRITE);
	assert_int_equal(vmm_msg_io(&m)->port, 0x3f8);
	assert_int_equal(vmm_msg_io_size(&m), 1);
	assert_int_equal(vmm_msg_io(&m)->access_info & (HV_IO_ACCESS_STRING | HV_IO_ACCESS_REP), 0);
	assert_int_equal(vmm_msg_io(&m)->rax, 0x1141);
	assert_int_equal(vmm_msg_io_ext(&m)->data, 'A');
	assert_int_equal(vmm_msg_io_ext(&m)->count, 1);
	assert_int_equal(m.header.payload_size, sizeof(struct hv_x64_io_port_intercept) + sizeof(struct hvrun_io_ext));
	free(run);
}

static void test_io_in_word(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct hv_message m;

	(void)state;
	fake_run_io(run, 0x80, 0, 2, 1, 0);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	check_header(&m, HVMSG_X64_IO_PORT_INTERCEPT, HV_INTERCEPT_ACCESS_READ);
	assert_int_equal(vmm_msg_io_size(&m), 2);
	assert_int_equal(vmm_msg_io_ext(&m)->data, 0);
	free(run);
}

static void test_io_string_elements(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct hv_message m;

	(void)state;
	fake_run_io(run, 0xe9, 1, 4, 3, 0x10);
	assert_int_equal(vmm_decode_count(run), 3);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 2, &m), 0);
	assert_int_equal(vmm_msg_io_ext(&m)->data, 0x12);
	assert_int_equal(vmm_msg_io_ext(&m)->index, 2);
	assert_int_equal(vmm_msg_io_ext(&m)->count, 3);
	assert_int_equal(vmm_msg_io(&m)->access_info, 4 | HV_IO_ACCESS_STRING | HV_IO_ACCESS_REP);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 3, &m), -EINVAL);
	free(run);
}

static void test_io_hostile_kvm_run(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct hv_message m;

	(void)state;
	fake_run_io(run, 0x3f8, 1, 1, 1, 0);
	run->io.data_offset = FAKE_RUN_SIZE;          /* data area outside the mapping */
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), -EINVAL);
	fake_run_io(run, 0x3f8, 1, 4, 1, 0);
	run->io.count = 0x7fffffff;                   /* count * size wraps past the mapping */
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), -EINVAL);
	fake_run_io(run, 0x3f8, 1, 3, 1, 0);          /* no 3-byte port access exists */
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), -EINVAL);
	assert_int_equal(vmm_decode_exit(run, sizeof(*run) - 1, &ctx0, 0, &m), -EINVAL);
	assert_int_equal(vmm_decode_exit(NULL, FAKE_RUN_SIZE, &ctx0, 0, &m), -EINVAL);
	free(run);
}

static void test_hypercall_port(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct kvm_regs *r = &run->s.regs.regs;
	struct hv_message m;

	(void)state;
	r->rcx = 0x10008;
	r->rdx = 0x1111;
	r->r8 = 0x2222;
	r->rax = 0x3333;
	r->rsi = 0x4444;
	r->rdi = 0x5555;
	r->rbx = 0x6666;
	fake_run_io(run, HVRUN_PORT_HYPERCALL, 1, 1, 1, 0);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	check_header(&m, HVMSG_HYPERCALL_INTERCEPT, HV_INTERCEPT_ACCESS_EXECUTE);
	assert_int_equal(vmm_msg_hypercall(&m)->rcx, 0x10008);
	assert_int_equal(vmm_msg_hypercall(&m)->rdx, 0x1111);
	assert_int_equal(vmm_msg_hypercall(&m)->r8, 0x2222);
	assert_int_equal(vmm_msg_hypercall(&m)->rax, 0x3333);
	assert_int_equal(vmm_msg_hypercall(&m)->rsi, 0x4444);
	assert_int_equal(vmm_msg_hypercall(&m)->rdi, 0x5555);
	assert_int_equal(vmm_msg_hypercall(&m)->rbx, 0x6666);
	assert_int_equal(m.header.payload_size, sizeof(struct hv_x64_hypercall_intercept));

	/* Reading the hypercall port, or a string write to it, is plain port I/O. */
	fake_run_io(run, HVRUN_PORT_HYPERCALL, 0, 1, 1, 0);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	assert_int_equal(m.header.message_type, HVMSG_X64_IO_PORT_INTERCEPT);
	fake_run_io(run, HVRUN_PORT_HYPERCALL, 1, 1, 2, 0);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	assert_int_equal(m.header.message_type, HVMSG_X64_IO_PORT_INTERCEPT);
	free(run);
}

static int protected_gpa(void *opaque, uint64_t gpa)
{
	return gpa == *(uint64_t *)opaque;
}

static void test_mmio(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct hv_message m;
	uint64_t prot = 0x200000;
	struct vmm_decode_ctx ctx = ctx0;

	(void)state;
	fake_run_mmio(run, 0xd0000000, 1, 4, 0xdeadbeef);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	check_header(&m, HVMSG_UNMAPPED_GPA, HV_INTERCEPT_ACCESS_WRITE);
	assert_int_equal(vmm_msg_mem(&m)->gpa, 0xd0000000);
	assert_int_equal(vmm_msg_mem_ext(&m)->size, 4);
	assert_int_equal(vmm_msg_mem_ext(&m)->data, 0xdeadbeef);

	fake_run_mmio(run, 0xd0000008, 0, 8, 0);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	check_header(&m, HVMSG_UNMAPPED_GPA, HV_INTERCEPT_ACCESS_READ);
	assert_int_equal(vmm_msg_mem_ext(&m)->size, 8);

	ctx.gpa_is_protected = protected_gpa;
	ctx.opaque = &prot;
	fake_run_mmio(run, 0x200000, 1, 1, 0x5a);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx, 0, &m), 0);
	assert_int_equal(m.header.message_type, HVMSG_GPA_INTERCEPT);
	fake_run_mmio(run, 0x201000, 1, 1, 0x5a);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx, 0, &m), 0);
	assert_int_equal(m.header.message_type, HVMSG_UNMAPPED_GPA);

	fake_run_mmio(run, 0xd0000000, 1, 3, 0);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), -EINVAL);
	fake_run_mmio(run, 0xd0000000, 1, 16, 0);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), -EINVAL);
	free(run);
}

static void test_msr(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct hv_message m;

	(void)state;
	fake_run_msr(run, 0x40000001, 1, 0x1234567800001001ull);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	check_header(&m, HVMSG_X64_MSR_INTERCEPT, HV_INTERCEPT_ACCESS_WRITE);
	assert_int_equal(vmm_msg_msr(&m)->msr, 0x40000001);
	assert_int_equal(vmm_msg_msr(&m)->rax, 0x00001001);
	assert_int_equal(vmm_msg_msr(&m)->rdx, 0x12345678);

	run->s.regs.regs.rax = 0xaa;
	run->s.regs.regs.rdx = 0xbb;
	fake_run_msr(run, 0x40000020, 0, 0);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	check_header(&m, HVMSG_X64_MSR_INTERCEPT, HV_INTERCEPT_ACCESS_READ);
	assert_int_equal(vmm_msg_msr(&m)->msr, 0x40000020);
	assert_int_equal(vmm_msg_msr(&m)->rax, 0xaa);
	assert_int_equal(vmm_msg_msr(&m)->rdx, 0xbb);
	free(run);
}

static void test_plain_exits(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct hv_message m;

	(void)state;
	run->exit_reason = KVM_EXIT_HLT;
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	check_header(&m, HVMSG_X64_HALT, HV_INTERCEPT_ACCESS_EXECUTE);

	run->exit_reason = KVM_EXIT_SHUTDOWN;
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	check_header(&m, HVMSG_UNRECOVERABLE_EXCEPTION, HV_INTERCEPT_ACCESS_EXECUTE);
	assert_int_equal(vmm_msg_exit_ext(&m)->kvm_exit_reason, KVM_EXIT_SHUTDOWN);

	run->exit_reason = KVM_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = 0x21;
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	check_header(&m, HVMSG_INVALID_VP_REGISTER_VALUE, HV_INTERCEPT_ACCESS_EXECUTE);
	assert_int_equal(vmm_msg_exit_ext(&m)->data[0], 0x21);

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->internal.ndata = 16;        /* more than the message carries: clipped to 4 */
	for (int i = 0; i < 16; i++)
		run->internal.data[i] = 100 + i;
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	check_header(&m, HVMSG_UNSUPPORTED_FEATURE, HV_INTERCEPT_ACCESS_EXECUTE);
	assert_int_equal(vmm_msg_exit_ext(&m)->kvm_exit_reason, KVM_EXIT_INTERNAL_ERROR);
	assert_int_equal(vmm_msg_exit_ext(&m)->suberror, KVM_INTERNAL_ERROR_EMULATION);
	assert_int_equal(vmm_msg_exit_ext(&m)->data[3], 103);

	run->exit_reason = 9999;
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	assert_int_equal(m.header.message_type, HVMSG_UNSUPPORTED_FEATURE);
	assert_int_equal(vmm_msg_exit_ext(&m)->kvm_exit_reason, 9999);
	/* Only port I/O has more than one element. */
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 1, &m), -EINVAL);
	free(run);
}

static void test_debug_exit(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct hv_message m;

	(void)state;
	run->exit_reason = KVM_EXIT_DEBUG;
	run->debug.arch.exception = 1;
	run->debug.arch.dr6 = 0x4000;
	run->s.regs.regs.r15 = 0xf15;
	run->s.regs.regs.rax = 0xa;
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	check_header(&m, HVMSG_X64_EXCEPTION_INTERCEPT, HV_INTERCEPT_ACCESS_EXECUTE);
	assert_int_equal(vmm_msg_exception(&m)->vector, 1);
	assert_int_equal(vmm_msg_exception(&m)->exception_parameter, 0x4000);
	assert_int_equal(vmm_msg_exception(&m)->gpr[0], 0xa);
	assert_int_equal(vmm_msg_exception(&m)->gpr[15], 0xf15);
	free(run);
}

/*
 * The segment memo only saves work: over a sequence of exits whose segments change now and then
 * (one field at a time, the unusable flag and the padding byte included), decoding with a memo
 * gives byte for byte the message decoding without one gives.
 */
static void test_segment_memo_never_changes_the_message(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct vmm_segment_memo memo = { 0 };
	struct vmm_decode_ctx with = ctx0;
	uint64_t x = 0x2545f4914f6cdd1dull;
	unsigned changed = 0;

	(void)state;
	with.memo = &memo;
	fake_run_io(run, 0x80, 1, 1, 1, 0);
	for (int step = 0; step < 5000; step++) {
		struct hv_message a, b;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (x % 4 == 0) {
			struct kvm_segment *segs[] = { &run->s.regs.sregs.cs, &run->s.regs.sregs.ds,
						       &run->s.regs.sregs.es };
			uint8_t *bytes = (uint8_t *)segs[(x >> 8) % 3];
			bytes[(x >> 16) % sizeof(struct kvm_segment)] ^= (uint8_t)(1u << ((x >> 24) % 8));
			changed++;
		}
		memset(&a, 0xa5, sizeof(a));
		memset(&b, 0x5a, sizeof(b));
		assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &a), 0);
		assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &with, 0, &b), 0);
		if (memcmp(&a, &b, sizeof(a)))
			fail_msg("step %d: the memo changed the message", step);
	}
	assert_true(changed > 1000);
	free(run);
}

static void test_execution_state(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct kvm_sregs *s = &run->s.regs.sregs;
	struct kvm_regs *r = &run->s.regs.regs;

	(void)state;
	s->ss.dpl = 3;
	assert_int_equal(vmm_execution_state(r, s, 0) & HV_EXEC_STATE_CPL_MASK, 3);
	assert_int_equal((vmm_execution_state(r, s, 1) & HV_EXEC_STATE_VTL_MASK) >> HV_EXEC_STATE_VTL_SHIFT, 1);
	s->cr0 = 0x10;          /* real mode: CPL 0, PE clear, whatever SS says */
	s->efer = 0;
	assert_int_equal(vmm_execution_state(r, s, 0), 0);
	s->cr0 = 0x40001;       /* PE + AM */
	r->rflags = 0x102;      /* TF */
	assert_int_equal(vmm_execution_state(r, s, 0),
			 3 | HV_EXEC_STATE_CR0_PE | HV_EXEC_STATE_CR0_AM | HV_EXEC_STATE_DEBUG_ACTIVE);
	free(run);
}

static void test_describe(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct hv_message m;
	char buf[256];

	(void)state;
	fake_run_io(run, 0x3f8, 1, 1, 1, 0x48);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	vmm_msg_describe(&m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "X64IoPortIntercept"));
	assert_non_null(strstr(buf, "port=0x3f8"));
	assert_non_null(strstr(buf, "data=0x48"));
	fake_run_msr(run, 0x40000001, 1, 0x1001);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx0, 0, &m), 0);
	vmm_msg_describe(&m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "msr=0x40000001"));
	assert_non_null(strstr(buf, "value=0x1001"));
	vmm_msg_describe(&m, buf, 8);            /* truncation is safe */
	assert_int_equal(strlen(buf), 7);
	assert_string_equal(vmm_msg_type_name(HVMSG_GPA_INTERCEPT), "GpaIntercept");
	assert_string_equal(vmm_msg_type_name(0x12345), "Unknown");
	free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_out_byte),
		cmocka_unit_test(test_io_in_word),
		cmocka_unit_test(test_io_string_elements),
		cmocka_unit_test(test_io_hostile_kvm_run),
		cmocka_unit_test(test_hypercall_port),
		cmocka_unit_test(test_mmio),
		cmocka_unit_test(test_msr),
		cmocka_unit_test(test_plain_exits),
		cmocka_unit_test(test_debug_exit),
		cmocka_unit_test(test_segment_memo_never_changes_the_message),
		cmocka_unit_test(test_execution_state),
		cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
