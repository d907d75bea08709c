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

struct vp {
	uint32_t index;
	struct vmm_vcpu vcpu;
	struct vmm_router *router;
	struct vmm_decode_ctx dctx;
	void *owner;                     /* the partition; services reach it through their opaque */
	volatile sig_atomic_t stop_requested;
	volatile sig_atomic_t stop_status;
	struct hv_message last_msg;      /* the last message routed, for stop reports */
	bool have_last;
	uint64_t exits;                  /* KVM_RUN returns handled */
};

/* Run until a service stops the VP or vp_request_stop() is called. *status gets the exit status. */
int vp_run(struct vp *vp, int *status);

/* Async-signal-safe: make the next or current KVM_RUN return, then stop with `status`. */
void vp_request_stop(struct vp *vp, int status);

/* Apply a service reply to the kvm_run area (pure: unit-tested without KVM). */
int vp_apply_reply(struct kvm_run *run, size_t run_size, uint32_t index, const struct vmm_reply *reply,
		   uint32_t dirty, bool *need_inject);

#endif /* VMM_VP_H */
