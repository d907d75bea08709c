/* SPDX-License-Identifier: MIT */
/*
 * The hypercall service: HypercallIntercept messages from the hypercall page. Applies the TLFS
 * #UD rules, hands VTL call/return to the VTL service's hooks, runs everything else through the
 * engine (hc.c) against the caller VTL's memory view, and returns the result in RAX.
 */
#include <errno.h>

#include "hypercall/calls.h"
#include "hypercall/hc.h"
#include "partition/partition.h"
#include "partition/services.h"
#include "vmm/log.h"
#include "vmm/msg.h"
#include "vtl/vtl.h"

#define X86_UD_VECTOR 6

/* The calls hvrun implements, in code order. Anything else is INVALID_HYPERCALL_CODE. */
static const struct hc_call *const calls[] = {
	&hc_call_notify_long_spin_wait,
	&hc_call_modify_vtl_protection_mask,
	&hc_call_enable_partition_vtl,
	&hc_call_enable_vp_vtl,
	&hc_call_get_vp_registers,
	&hc_call_set_vp_registers,
	&hc_call_post_message,
	&hc_call_signal_event,
	&hc_call_start_virtual_processor,
	&hc_call_get_vp_index_from_apic_id,
};

/* Guest memory as the calling VTL sees it, through the calling VP's translation cache. */
struct view_ctx {
	struct part_view *view;
	struct part_view_tlb *tlb;
};

static int view_access(void *ctx, uint64_t gpa, uint32_t len, bool write, void **hva)
{
	const struct view_ctx *c = ctx;

	return part_view_access_cached(c->view, c->tlb, gpa, len, write, hva);
}

static void inject_ud(struct vmm_reply *reply, const char *why)
{
	reply->action = VMM_ACT_INJECT;
	reply->vector = X86_UD_VECTOR;
	reply->error_code_valid = false;
	reply->reason = why;
}

static int hypercall_handle(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	struct partition *p = opaque;
	const struct hv_x64_intercept_header *h = vmm_msg_intercept(exit->msg);
	struct kvm_regs *regs = exit->state->regs;
	uint8_t vtl = (uint8_t)((h->execution_state & HV_EXEC_STATE_VTL_MASK) >> HV_EXEC_STATE_VTL_SHIFT);
	struct hc_env env = { .p = p, .exit = exit, .vtl = vtl, .reply = reply };
	struct part_view *view = part_view_of(p, vtl);
	const struct hc_call *call;
	uint64_t result;
	uint16_t code = (uint16_t)(regs->rcx & HV_HYPERCALL_CODE_MASK);

	reply->action = VMM_ACT_RESUME;
	if (!(h->execution_state & HV_EXEC_STATE_CR0_PE) || (h->execution_state & HV_EXEC_STATE_CPL_MASK)) {
		inject_ud(reply, "hypercall from real mode or CPL>0: #UD");
		return 0;
	}
	if (!(h->execution_state & HV_EXEC_STATE_EFER_LMA) || !(h->cs.attributes & (1u << 13))) {
		inject_ud(reply, "hypercall outside 64-bit mode (not supported): #UD");
		return 0;
	}
	if (!view || vtl >= HV_MAX_VTL || !(p->hv.vtl[vtl].hypercall & HV_HYPERCALL_MSR_ENABLE)) {
		inject_ud(reply, "hypercall before the hypercall page was enabled: #UD");
		return 0;
	}
	if (code == HVCALL_VTL_CALL || code == HVCALL_VTL_RETURN)
		return vtl_call_or_return(p, exit, code, reply);

	struct view_ctx vctx = { .view = view, .tlb = &part_vp_of(exit->vp)->tlb[vtl] };
	struct hc_mem mem = { .access = view_access, .ctx = &vctx, .gpa_limit = 1ull << p->gpa_bits };
	struct hc_regs in = { .rcx = regs->rcx, .rdx = regs->rdx, .r8 = regs->r8 };

	result = hc_execute(&p->hv.calls, &in, &mem, &env, &call);
	regs->rax = result;
	exit->state->dirty |= VMM_STATE_GPRS;
	vmm_trace("vp%u %s (%#x) -> %s, reps %u", exit->vp->index, call ? call->name : "unknown call", code,
		  hc_status_name((uint16_t)result), (unsigned)((result >> 32) & 0xfff));
	return 0;
}

static const struct vmm_service hypercall_service = {
	.name = "hypercall",
	.msg_type = HVMSG_HYPERCALL_INTERCEPT,
	.state_mask = VMM_STATE_GPRS | VMM_STATE_SREGS,
	.handle = hypercall_handle,
};

static int hypercall_create(struct partition *p, void **state)
{
	int ret = hc_table_init(&p->hv.calls, calls, sizeof(calls) / sizeof(calls[0]));

	*state = NULL;
	if (ret)
		return ret;
	return part_register_services(p, &hypercall_service, 1, p);
}

static void hypercall_destroy(struct partition *p, void *state)
{
	(void)state;
	part_unregister_services(p, &hypercall_service, 1, p);
}

const struct part_module hypercall_module = {
	.name = "hypercall",
	.create = hypercall_create,
	.destroy = hypercall_destroy,
};
