/* SPDX-License-Identifier: MIT */
/* KVM exit -> TLFS message. Pure: reads only the kvm_run buffer it is given. */
#include "vmm/decode.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "hvrun/abi.h"

#define X86_CR0_PE   (1ull << 0)
#define X86_CR0_AM   (1ull << 18)
#define X86_EFER_LMA (1ull << 10)
#define X86_RFLAGS_TF (1ull << 8)

uint16_t vmm_segment_attributes(const struct kvm_segment *seg)
{
	return (uint16_t)((seg->type & 0xf) | (seg->s & 1) << 4 | (seg->dpl & 3) << 5 |
			  (seg->present & 1) << 7 | (seg->avl & 1) << 12 | (seg->l & 1) << 13 |
			  (seg->db & 1) << 14 | (seg->g & 1) << 15);
}

static void put_segment(struct hv_x64_segment *out, const struct kvm_segment *seg)
{
	out->base = seg->base;
	out->limit = seg->limit;
	out->selector = seg->selector;
	out->attributes = vmm_segment_attributes(seg);
}

static inline bool segment_equal(const struct kvm_segment *a, const struct kvm_segment *b)
{
	uint64_t x[3], y[3];

	_Static_assert(sizeof(struct kvm_segment) == sizeof(x), "kvm_segment is three words");
	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2])) == 0;
}

/*
 * put_segment through the VP's memo (slot: VMM_SEG_MEMO_*), when the context has one. A zeroed
 * memo is already right: an all-zero KVM segment packs to an all-zero TLFS segment.
 */
static inline __attribute__((always_inline)) void put_segment_memo(struct hv_x64_segment *out,
	const struct kvm_segment *seg, const struct vmm_decode_ctx *ctx, unsigned slot)
{
	struct vmm_segment_memo *m = ctx->memo;

	if (!m) {
		put_segment(out, seg);
		return;
	}
	if (!segment_equal(&m->raw[slot], seg)) {
		m->raw[slot] = *seg;
		put_segment(&m->packed[slot], seg);
	}
	*out = m->packed[slot];
}

uint16_t vmm_execution_state(const struct kvm_regs *regs, const struct kvm_sregs *sregs, uint8_t vtl)
{
	uint16_t st = 0;

	if (sregs->cr0 & X86_CR0_PE) {
		st |= HV_EXEC_STATE_CR0_PE;
		st |= sregs->ss.dpl & HV_EXEC_STATE_CPL_MASK;
	}
	if (sregs->cr0 & X86_CR0_AM)
		st |= HV_EXEC_STATE_CR0_AM;
	if (sregs->efer & X86_EFER_LMA)
		st |= HV_EXEC_STATE_EFER_LMA;
	if (regs->rflags & X86_RFLAGS_TF)
		st |= HV_EXEC_STATE_DEBUG_ACTIVE;
	st |= (uint16_t)((vtl & 0xfu) << HV_EXEC_STATE_VTL_SHIFT);
	return st;
}

static void *init_msg(struct hv_message *msg, uint32_t type, size_t payload, const struct vmm_decode_ctx *ctx,
		      const struct kvm_run *run, uint8_t access)
{
	const struct kvm_regs *regs = &run->s.regs.regs;
	const struct kvm_sregs *sregs = &run->s.regs.sregs;
	struct hv_x64_intercept_header *h = (struct hv_x64_intercept_header *)msg->payload.bytes;

	memset(msg, 0, sizeof(*msg));
	msg->header.message_type = type;
	msg->header.payload_size = (uint8_t)payload;
	msg->header.sender = ctx->sender;
	h->vp_index = ctx->vp_index;
	/* KVM does not report the instruction length of these exits: 0 means "not known". */
	h->instruction_length = (uint8_t)((sregs->cr8 & 0xf) << 4);
	h->access_type = access;
	h->execution_state = vmm_execution_state(regs, sregs, ctx->vtl);
	put_segment_memo(&h->cs, &sregs->cs, ctx, VMM_SEG_MEMO_CS);
	h->rip = regs->rip;
	h->rflags = regs->rflags;
	return h;
}

uint32_t vmm_decode_count(const struct kvm_run *run)
{
	if (run->exit_reason == KVM_EXIT_IO && run->io.count > 1)
		return run->io.count;
	return 1;
}

static int decode_io(const struct kvm_run *run, size_t run_size, const struct vmm_decode_ctx *ctx,
		     uint32_t index, struct hv_message *msg)
{
	const struct kvm_regs *regs = &run->s.regs.regs;
	uint8_t size = run->io.size;
	uint32_t count = run->io.count ? run->io.count : 1;
	uint8_t access = run->io.direction == KVM_EXIT_IO_OUT ? HV_INTERCEPT_ACCESS_WRITE :
							      HV_INTERCEPT_ACCESS_READ;
	uint64_t data = 0;

	if (size != 1 && size != 2 && size != 4)
		return -EINVAL;
	if (index >= count)
		return -EINVAL;
	/*
	 * The data area must lie inside the mapping (offset + count * size <= run_size) and after
	 * struct kvm_run itself: an IN reply is written there and must not land on exit_reason.
	 */
	if (run->io.data_offset < sizeof(*run) || run->io.data_offset > run_size ||
	    (uint64_t)count * size > run_size - run->io.data_offset)
		return -EINVAL;
	if (access == HV_INTERCEPT_ACCESS_WRITE)
		memcpy(&data, (const uint8_t *)run + run->io.data_offset + (size_t)index * size, size);

	if (run->io.port == HVRUN_PORT_HYPERCALL && count == 1 && access == HV_INTERCEPT_ACCESS_WRITE) {
		struct hv_x64_hypercall_intercept *hc =
			init_msg(msg, HVMSG_HYPERCALL_INTERCEPT, sizeof(*hc), ctx, run, HV_INTERCEPT_ACCESS_EXECUTE);
		hc->rax = regs->rax;
		hc->rbx = regs->rbx;
		hc->rcx = regs->rcx;
		hc->rdx = regs->rdx;
		hc->r8 = regs->r8;
		hc->rsi = regs->rsi;
		hc->rdi = regs->rdi;
		return 0;
	}

	struct hv_x64_io_port_intercept *io = init_msg(msg, HVMSG_X64_IO_PORT_INTERCEPT,
		sizeof(*io) + sizeof(struct hvrun_io_ext), ctx, run, access);
	struct hvrun_io_ext *ext = (struct hvrun_io_ext *)(io + 1);
	const struct kvm_sregs *sregs = &run->s.regs.sregs;

	io->port = run->io.port;
	io->access_info = (uint8_t)(size | (count > 1 ? HV_IO_ACCESS_STRING | HV_IO_ACCESS_REP : 0));
	io->rax = regs->rax;
	put_segment_memo(&io->ds, &sregs->ds, ctx, VMM_SEG_MEMO_DS);
	put_segment_memo(&io->es, &sregs->es, ctx, VMM_SEG_MEMO_ES);
	io->rcx = regs->rcx;
	io->rsi = regs->rsi;
	io->rdi = regs->rdi;
	ext->data = data;
	ext->count = count;
	ext->index = index;
	return 0;
}

static int decode_mmio(const struct kvm_run *run, const struct vmm_decode_ctx *ctx, struct hv_message *msg)
{
	uint32_t len = run->mmio.len;
	uint32_t type = HVMSG_UNMAPPED_GPA;

	if (len != 1 && len != 2 && len != 4 && len != 8)
		return -EINVAL;
	if (ctx->gpa_is_protected && ctx->gpa_is_protected(ctx->opaque, run->mmio.phys_addr))
		type = HVMSG_GPA_INTERCEPT;

	struct hv_x64_memory_intercept *mem = init_msg(msg, type,
		sizeof(*mem) + sizeof(struct hvrun_mem_ext), ctx, run,
		run->mmio.is_write ? HV_INTERCEPT_ACCESS_WRITE : HV_INTERCEPT_ACCESS_READ);
	struct hvrun_mem_ext *ext = (struct hvrun_mem_ext *)(mem + 1);

	mem->gpa = run->mmio.phys_addr;
	/* KVM reports the GPA only; the faulting GVA is not known at this exit. */
	mem->access_info = 0;
	ext->size = (uint8_t)len;
	if (run->mmio.is_write)
		memcpy(&ext->data, run->mmio.data, len);
	return 0;
}

static int decode_msr(const struct kvm_run *run, const struct vmm_decode_ctx *ctx, struct hv_message *msg)
{
	int is_write = run->exit_reason == KVM_EXIT_X86_WRMSR;
	struct hv_x64_msr_intercept *m = init_msg(msg, HVMSG_X64_MSR_INTERCEPT, sizeof(*m), ctx, run,
		is_write ? HV_INTERCEPT_ACCESS_WRITE : HV_INTERCEPT_ACCESS_READ);

	m->msr = run->msr.index;
	if (is_write) {
		m->rax = run->msr.data & 0xffffffffu;
		m->rdx = run->msr.data >> 32;
	} else {
		m->rax = run->s.regs.regs.rax;
		m->rdx = run->s.regs.regs.rdx;
	}
	return 0;
}

static void exit_ext(struct hv_message *msg, uint32_t reason, uint32_t suberror,
		     const uint64_t *data, unsigned ndata)
{
	struct hvrun_exit_ext *ext =
		(struct hvrun_exit_ext *)(msg->payload.bytes + sizeof(struct hv_x64_intercept_header));

	ext->kvm_exit_reason = reason;
	ext->suberror = suberror;
	for (unsigned i = 0; i < ndata && i < 4; i++)
		ext->data[i] = data[i];
}

int vmm_decode_exit(const struct kvm_run *run, size_t run_size, const struct vmm_decode_ctx *ctx,
		    uint32_t index, struct hv_message *msg)
{
	const size_t plain = sizeof(struct hv_x64_intercept_header) + sizeof(struct hvrun_exit_ext);

	if (!run || !ctx || !msg || run_size < sizeof(*run))
		return -EINVAL;
	if (index && run->exit_reason != KVM_EXIT_IO)
		return -EINVAL;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return decode_io(run, run_size, ctx, index, msg);
	case KVM_EXIT_MMIO:
		return decode_mmio(run, ctx, msg);
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		return decode_msr(run, ctx, msg);
	case KVM_EXIT_HLT:
		init_msg(msg, HVMSG_X64_HALT, sizeof(struct hv_x64_plain_intercept), ctx, run,
			 HV_INTERCEPT_ACCESS_EXECUTE);
		return 0;
	case KVM_EXIT_IRQ_WINDOW_OPEN: {
		/* HV_X64_INTERRUPTION_DELIVERABLE_MESSAGE: deliverable type 0 = interrupt */
		init_msg(msg, HVMSG_X64_INTERRUPTION_DELIVERABLE, sizeof(struct hv_x64_plain_intercept) + 8,
			 ctx, run, HV_INTERCEPT_ACCESS_EXECUTE);
		return 0;
	}
	case KVM_EXIT_SHUTDOWN:
		init_msg(msg, HVMSG_UNRECOVERABLE_EXCEPTION, plain, ctx, run, HV_INTERCEPT_ACCESS_EXECUTE);
		exit_ext(msg, KVM_EXIT_SHUTDOWN, 0, NULL, 0);
		return 0;
	case KVM_EXIT_FAIL_ENTRY: {
		uint64_t d[2] = { run->fail_entry.hardware_entry_failure_reason, run->fail_entry.cpu };
		init_msg(msg, HVMSG_INVALID_VP_REGISTER_VALUE, plain, ctx, run, HV_INTERCEPT_ACCESS_EXECUTE);
		exit_ext(msg, KVM_EXIT_FAIL_ENTRY, 0, d, 2);
		return 0;
	}
	case KVM_EXIT_INTERNAL_ERROR: {
		uint32_t n = run->internal.ndata < 4 ? run->internal.ndata : 4;
		uint64_t d[4] = { 0 };
		for (uint32_t i = 0; i < n; i++)
			d[i] = run->internal.data[i];
		init_msg(msg, HVMSG_UNSUPPORTED_FEATURE, plain, ctx, run, HV_INTERCEPT_ACCESS_EXECUTE);
		exit_ext(msg, KVM_EXIT_INTERNAL_ERROR, run->internal.suberror, d, n);
		return 0;
	}
	case KVM_EXIT_DEBUG: {
		struct hv_x64_exception_intercept *ex = init_msg(msg, HVMSG_X64_EXCEPTION_INTERCEPT,
			sizeof(*ex), ctx, run, HV_INTERCEPT_ACCESS_EXECUTE);
		const struct kvm_regs *r = &run->s.regs.regs;
		ex->vector = (uint16_t)run->debug.arch.exception;
		ex->exception_parameter = run->debug.arch.dr6;
		put_segment(&ex->ds, &run->s.regs.sregs.ds);
		put_segment(&ex->ss, &run->s.regs.sregs.ss);
		uint64_t g[16] = { r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
				   r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };
		memcpy(ex->gpr, g, sizeof(g));
		return 0;
	}
	default:
		init_msg(msg, HVMSG_UNSUPPORTED_FEATURE, plain, ctx, run, HV_INTERCEPT_ACCESS_EXECUTE);
		exit_ext(msg, run->exit_reason, 0, NULL, 0);
		return 0;
	}
}
