/* SPDX-License-Identifier: MIT */
/* The vCPU loop: every exit becomes TLFS messages the router delivers; replies go back into kvm_run. */
#include "vmm/vp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/msg.h"

#define X86_GP_VECTOR 13

void vp_request_stop(struct vp *vp, int status)
{
	vp->stop_status = status;
	vp->stop_requested = 1;
	if (vp->vcpu.run)
		vp->vcpu.run->immediate_exit = 1;
}

int vp_apply_reply(struct kvm_run *run, size_t run_size, uint32_t index, const struct vmm_reply *reply,
		   uint32_t dirty, bool *need_inject)
{
	*need_inject = false;
	if (dirty & VMM_STATE_GPRS)
		run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	if (dirty & VMM_STATE_SREGS)
		run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		if (run->io.direction == KVM_EXIT_IO_IN && reply->action == VMM_ACT_RESUME) {
			uint64_t off = run->io.data_offset + (uint64_t)index * run->io.size;
			if (run->io.size > 8 || off > run_size || run->io.size > run_size - off)
				return -EINVAL;
			memcpy((uint8_t *)run + off, &reply->data, run->io.size);
		}
		break;
	case KVM_EXIT_MMIO:
		if (!run->mmio.is_write && reply->action == VMM_ACT_RESUME) {
			if (run->mmio.len > sizeof(run->mmio.data))
				return -EINVAL;
			memcpy(run->mmio.data, &reply->data, run->mmio.len);
		}
		break;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		run->msr.error = 0;
		if (reply->action == VMM_ACT_INJECT) {
			/* KVM raises #GP itself when told the access failed. */
			if (reply->vector == X86_GP_VECTOR) {
				run->msr.error = 1;
				return 0;
			}
		} else if (run->exit_reason == KVM_EXIT_X86_RDMSR) {
			run->msr.data = reply->data;
		}
		break;
	default:
		break;
	}
	if (reply->action == VMM_ACT_INJECT)
		*need_inject = true;
	return 0;
}

static void stop_report(struct vp *vp, const struct hv_message *msg, const struct vmm_reply *reply,
			int status)
{
	const struct kvm_regs *r = &vp->vcpu.run->s.regs.regs;
	const struct kvm_sregs *s = &vp->vcpu.run->s.regs.sregs;
	char desc[256], last[256] = "none";

	vmm_msg_describe(msg, desc, sizeof(desc));
	if (vp->have_last)
		vmm_msg_describe(&vp->last_msg, last, sizeof(last));
	pr_err("VP %u stopped: %s (%s). RIP=%#" PRIx64 " RSP=%#" PRIx64 " RFLAGS=%#" PRIx64
	       " CS=%#x CR0=%#" PRIx64 " CR2=%#" PRIx64 " CR3=%#" PRIx64 " CR4=%#" PRIx64
	       " EFER=%#" PRIx64 ". Last routed message: %s. Exit status %d.",
	       vp->index, reply->reason ? reply->reason : "stopped", desc, (uint64_t)r->rip,
	       (uint64_t)r->rsp, (uint64_t)r->rflags, s->cs.selector, (uint64_t)s->cr0,
	       (uint64_t)s->cr2, (uint64_t)s->cr3, (uint64_t)s->cr4, (uint64_t)s->efer, last, status);
}

static bool status_needs_report(int status)
{
	return status >= HVRUN_EXIT_TRIPLE_FAULT && status <= HVRUN_EXIT_UNHANDLED;
}

/* Returns 1 to stop (status set), 0 to continue, negative errno on a host failure. */
static int handle_exit(struct vp *vp, int *status)
{
	struct kvm_run *run = vp->vcpu.run;
	uint32_t n = vmm_decode_count(run);
	struct vmm_vp_state state = {
		.regs = &run->s.regs.regs,
		.sregs = &run->s.regs.sregs,
		.valid = VMM_STATE_GPRS | VMM_STATE_SREGS,
	};

	for (uint32_t i = 0; i < n; i++) {
		struct hv_message msg;
		struct vmm_reply reply;
		struct vmm_exit exit = { .msg = &msg, .state = &state, .vp = vp };
		bool inject;
		int ret;

		ret = vmm_decode_exit(run, vp->vcpu.run_size, &vp->dctx, i, &msg);
		if (ret) {
			pr_err("VP %u: inconsistent exit %u from KVM", vp->index, run->exit_reason);
			return ret;
		}
		ret = vmm_router_dispatch(vp->router, &exit, NULL, NULL, &reply);
		if (ret) {
			reply = (struct vmm_reply){ .action = VMM_ACT_STOP, .status = HVRUN_EXIT_UNHANDLED,
						    .reason = "a service failed" };
			pr_err("VP %u: service error %d (%s)", vp->index, ret, strerror(-ret));
		}
		if (reply.action == VMM_ACT_STOP) {
			*status = reply.status;
			if (status_needs_report(reply.status))
				stop_report(vp, &msg, &reply, reply.status);
			vp->last_msg = msg;
			vp->have_last = true;
			return 1;
		}
		ret = vp_apply_reply(run, vp->vcpu.run_size, i, &reply, state.dirty, &inject);
		if (ret)
			return ret;
		if (inject) {
			ret = vmm_vcpu_inject_exception(&vp->vcpu, reply.vector, reply.error_code_valid,
							reply.error_code);
			if (ret)
				return ret;
		}
		vp->last_msg = msg;
		vp->have_last = true;
	}
	return 0;
}

int vp_run(struct vp *vp, int *status)
{
	*status = HVRUN_EXIT_HOST_ERROR;
	for (;;) {
		int ret;

		if (vp->stop_requested) {
			*status = vp->stop_status;
			return 0;
		}
		ret = vmm_vcpu_run(&vp->vcpu);
		if (ret == -EINTR || ret == -EAGAIN) {
			vp->vcpu.run->immediate_exit = 0;
			continue;
		}
		if (ret) {
			pr_err("VP %u: KVM_RUN failed: %s", vp->index, strerror(-ret));
			return ret;
		}
		vp->exits++;
		ret = handle_exit(vp, status);
		if (ret < 0)
			return ret;
		if (ret > 0)
			return 0;
	}
}
