/* SPDX-License-Identifier: MIT */
/* A virtual processor's run loop: KVM_RUN -> decode -> route -> apply the reply, until a stop. */
#ifndef VMM_VP_H
#define VMM_VP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "hv/message.h"
#include "vmm/decode.h"
#include "vmm/kvm.h"
#include "vmm/router.h"
#include "vmm/vic.h"

#define VP_MAX_VTL 2

/*
 * A virtual processor: one vCPU per enabled VTL (each in that VTL's KVM VM), exactly one of them
 * active. The run loop runs the active vCPU; a service switches VTLs with vp_switch_vtl().
 */
struct vp {
	uint32_t index;
	struct vmm_vcpu vcpu[VP_MAX_VTL];      /* fd -1 where the VTL is not enabled */
	struct vmm_decode_ctx dctx[VP_MAX_VTL];
	struct vmm_segment_memo seg_memo[VP_MAX_VTL];   /* behind dctx[].memo */
	uint8_t active_vtl;
	int switch_to;                         /* -1, or the VTL to make active after this exit */
	bool pending[VP_MAX_VTL];              /* vCPU exited and KVM still has to complete it */
	bool started[VP_MAX_VTL];              /* vCPU has run at least once */
	/*
	 * A forced completion of a stopped VTL (vp_complete_pending) may write a shared register
	 * (an MMIO read's destination). That write belongs to when the VTL resumes: it is kept
	 * here and applied after the shared registers are copied in on the next switch to it.
	 */
	bool deferred[VP_MAX_VTL];
	struct kvm_regs deferred_before[VP_MAX_VTL];
	struct kvm_regs deferred_after[VP_MAX_VTL];
	struct vmm_router *router;
	struct vmm_vic *vic;             /* VTL0 interrupts to inject (NULL: none) */
	void *owner;                     /* the partition; services reach it through their opaque */
	volatile sig_atomic_t stop_requested;
	volatile sig_atomic_t stop_status;
	/*
	 * Exits are decoded into these in turn: msgs[cur] is the message being routed, the other one
	 * the message routed before it (for stop reports), so nothing is copied per exit.
	 */
	struct hv_message msgs[2];
	unsigned cur;
	bool have_last;
	struct vmm_route_cache route_cache;   /* this VP's last route (router.h) */
	uint64_t exits;                  /* KVM_RUN returns handled */
	int in_guest;                    /* inside KVM_RUN (atomic): see vp_quiesce */
	const int *pausing;              /* the partition asks VPs to stay out of the guest (atomic) */
	uint64_t vtl_switches;
	/*
	 * RIP at which the last interrupt was injected into VTL0 (valid until the next HLT exit):
	 * an interrupt taken right at a `hlt` must wake that hlt (see halt.c).
	 */
	uint64_t irq_rip;
	bool irq_rip_valid;
	uint64_t hlt_rewakes;            /* HLTs that returned at once for that reason */
};

/* Zero the VP and mark every vCPU absent. */
void vp_init(struct vp *vp, uint32_t index, struct vmm_router *router, void *owner);
/* Destroy every vCPU of the VP. */
void vp_fini(struct vp *vp);

/* Run until a service stops the VP or vp_request_stop() is called. *status gets the exit status. */
int vp_run(struct vp *vp, int *status);

/* Async-signal-safe: make the next or current KVM_RUN return, then stop with `status`. */
void vp_request_stop(struct vp *vp, int status);

/*
 * From a service handling an exit of this VP: after the exit is answered, make `vtl` active.
 * The shared general-purpose registers (all but RSP, RIP, RFLAGS) and CR2 follow (TLFS VSM
 * register sharing); everything else stays private to each VTL's vCPU.
 */
int vp_switch_vtl(struct vp *vp, uint8_t vtl);

/*
 * Let KVM finish the exit a non-running vCPU is stopped in (a port write, an MMIO access) without
 * running any guest instruction (KVM_RUN with immediate_exit), so its state is exact. Returns 1
 * when it completed something, 0 when nothing was pending, or a negative errno.
 */
int vp_complete_pending(struct vp *vp, uint8_t vtl);

/*
 * Keep `vps` (except `self`) out of KVM_RUN: *pausing must already be set; kicks are the
 * caller's. Returns once none of them is in the guest. Used around memory-slot updates.
 */
void vp_wait_out_of_guest(struct vp *const *vps, unsigned n, const struct vp *self);

/* Copy the registers the VTLs share from one register file to another (pure). */
void vp_copy_shared_gprs(struct kvm_regs *dst, const struct kvm_regs *src);

/* Apply a service reply to the kvm_run area (pure: unit-tested without KVM). */
int vp_apply_reply(struct kvm_run *run, size_t run_size, uint32_t index, const struct vmm_reply *reply,
		   uint32_t dirty, bool *need_inject);

#endif /* VMM_VP_H */
