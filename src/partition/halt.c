/* SPDX-License-Identifier: MIT */
/*
 * HLT and interrupt windows. HLT with interrupts disabled can never wake: the partition stops
 * with status 0. HLT with interrupts enabled waits (the VP's thread sleeps) until an interrupt
 * is deliverable or the partition stops. An open interrupt window needs no work: the VP loop
 * injects before the next entry.
 */
#include "partition/partition.h"
#include "partition/services.h"
#include "vmm/exitcode.h"
#include "vmm/msg.h"

#define X86_RFLAGS_IF (1ull << 9)
#define HALT_POLL_MS 10u

static int halt_handle(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	struct part_vp *pvp = part_vp_of(exit->vp);
	const struct hv_x64_intercept_header *h = vmm_msg_intercept(exit->msg);
	/* Interrupts are injected into VTL0 only (vp.c): a VTL1 hlt is never the one they woke. */
	unsigned msg_vtl = (h->execution_state & HV_EXEC_STATE_VTL_MASK) >> HV_EXEC_STATE_VTL_SHIFT;

	(void)opaque;
	if (!(h->rflags & X86_RFLAGS_IF)) {
		reply->action = VMM_ACT_STOP;
		reply->status = HVRUN_EXIT_OK;
		reply->reason = "hlt with interrupts disabled";
		return 0;
	}
	reply->action = VMM_ACT_RESUME;
	/*
	 * KVM reports a HLT exit with RIP past the 1-byte hlt. If the last interrupt was injected
	 * with RIP on this very hlt, the guest took it just before halting: on a CPU that interrupt
	 * would have woken the hlt (`sti; hlt` defers it into the halt), so the hlt returns now and
	 * the guest re-checks what the handler did. Without this the VP can sleep with the work
	 * already done, if the platform delivered the interrupt inside sti's shadow (seen under
	 * nested emulation: KVM reported the vCPU ready for injection with RIP on the hlt of
	 * `sti; hlt`, and about one SynIC test run in a hundred stalled for seconds).
	 */
	if (msg_vtl == 0) {
		bool at_this_hlt = pvp->vp.irq_rip_valid && pvp->vp.irq_rip == h->rip - 1;

		pvp->vp.irq_rip_valid = false;
		if (at_this_hlt) {
			pvp->vp.hlt_rewakes++;
			reply->reason = "hlt: woken by the interrupt taken at it";
			return 0;
		}
	}
	if (vmm_vic_wait(&pvp->vic, &pvp->vp.stop_requested, HALT_POLL_MS))
		reply->reason = "hlt: woken by an interrupt";
	else
		reply->reason = "hlt: woken by a stop";
	return 0;
}

static int window_handle(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	(void)opaque;
	(void)exit;
	reply->action = VMM_ACT_RESUME;
	reply->reason = "interrupt window open";
	return 0;
}

static const struct vmm_service halt_services[] = {
	{ .name = "halt", .msg_type = HVMSG_X64_HALT, .handle = halt_handle },
	{ .name = "halt", .msg_type = HVMSG_X64_INTERRUPTION_DELIVERABLE, .handle = window_handle },
};
#define N_HALT (sizeof(halt_services) / sizeof(halt_services[0]))

static int halt_create(struct partition *p, void **state)
{
	*state = NULL;
	return part_register_services(p, halt_services, N_HALT, p);
}

static void halt_destroy(struct partition *p, void *state)
{
	(void)state;
	part_unregister_services(p, halt_services, N_HALT, p);
}

const struct part_module part_halt_module = {
	.name = "halt",
	.create = halt_create,
	.destroy = halt_destroy,
};
