/* SPDX-License-Identifier: MIT */
/* The vCPU loop: every exit becomes TLFS messages the router delivers; replies go back into kvm_run. */
#include "vmm/vp.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/msg.h"

#define X86_GP_VECTOR 13

void vp_init(struct vp *vp, uint32_t index, struct vmm_router *router, void *owner)
{
	memset(vp, 0, sizeof(*vp));
	vp->index = index;
	vp->router = router;
	vp->owner = owner;
	vp->switch_to = -1;
	for (unsigned v = 0; v < VP_MAX_VTL; v++) {
		vp->vcpu[v].fd = -1;
		vp->dctx[v].vp_index = index;
		vp->dctx[v].vtl = (uint8_t)v;
		vp->dctx[v].memo = &vp->seg_memo[v];
	}
}

void vp_fini(struct vp *vp)
{
	for (unsigned v = 0; v < VP_MAX_VTL; v++)
		vmm_vcpu_destroy(&vp->vcpu[v]);
}

void vp_request_stop(struct vp *vp, int status)
{
	vp->stop_status = status;
	vp->stop_requested = 1;
	for (unsigned v = 0; v < VP_MAX_VTL; v++)
		if (vp->vcpu[v].run)
			vp->vcpu[v].run->immediate_exit = 1;
}

void vp_wait_out_of_guest(struct vp *const *vps, unsigned n, const struct vp *self)
{
	for (unsigned i = 0; i < n; i++) {
		if (vps[i] == self)
			continue;
		while (__atomic_load_n(&vps[i]->in_guest, __ATOMIC_SEQ_CST))
			sched_yield();
	}
}

void vp_copy_shared_gprs(struct kvm_regs *dst, const struct kvm_regs *src)
{
	uint64_t rsp = dst->rsp, rip = dst->rip, rflags = dst->rflags;

	*dst = *src;
	dst->rsp = rsp;
	dst->rip = rip;
	dst->rflags = rflags;
}

int vp_switch_vtl(struct vp *vp, uint8_t vtl)
{
	if (vtl >= VP_MAX_VTL || vp->vcpu[vtl].fd < 0 || !vp->vcpu[vtl].run)
		return -EINVAL;
	vp->switch_to = vtl;
	return 0;
}

int vp_complete_pending(struct vp *vp, uint8_t vtl)
{
	struct vmm_vcpu *c;
	int ret;

	if (vtl >= VP_MAX_VTL)
		return -EINVAL;
	c = &vp->vcpu[vtl];
	if (!vp->pending[vtl] || !c->run)
		return 0;
	if (vtl != vp->active_vtl)
		vp->deferred_before[vtl] = c->run->s.regs.regs;
	c->run->immediate_exit = 1;
	ret = vmm_vcpu_run(c);
	c->run->immediate_exit = 0;
	if (ret == 0)
		return -EPROTO;          /* it ran guest code: KVM ignored immediate_exit */
	if (ret != -EINTR)
		return ret;
	vp->pending[vtl] = false;
	if (vtl != vp->active_vtl) {
		vp->deferred_after[vtl] = c->run->s.regs.regs;
		vp->deferred[vtl] = true;
	}
	return 1;
}

/* Shared registers the forced completion changed take their completed values (see vp.h). */
static void apply_deferred(struct vp *vp, uint8_t vtl, struct kvm_regs *dst)
{
	__u64 *d = (__u64 *)dst;
	const __u64 *b = (const __u64 *)&vp->deferred_before[vtl];
	const __u64 *a = (const __u64 *)&vp->deferred_after[vtl];

	_Static_assert(sizeof(struct kvm_regs) == 18 * sizeof(__u64), "kvm_regs is 18 registers");
	/* struct kvm_regs order: rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags. */
	for (unsigned i = 0; i < 16; i++)
		if (a[i] != b[i] && i != 6)          /* RSP (6), RIP and RFLAGS are private */
			d[i] = a[i];
	vp->deferred[vtl] = false;
}

/* Carry out a switch a service asked for: shared registers move with the VP to the new VTL. */
static int do_switch(struct vp *vp)
{
	uint8_t from = vp->active_vtl, to = (uint8_t)vp->switch_to;
	struct kvm_run *src = vp->vcpu[from].run, *dst = vp->vcpu[to].run;

	vp->switch_to = -1;
	if (from == to)
		return 0;
	/*
	 * A VTL stopped in an MMIO read (a GpaIntercept) gets the read's value from KVM's emulator,
	 * which loses it when the registers are set between the exit and its completion (the
	 * emulator's register cache is dropped, its destination register with it). Complete the
	 * read first, so the write it makes is a deferred one and survives the copy below.
	 */
	if (vp->pending[to] && dst->exit_reason == KVM_EXIT_MMIO && !dst->mmio.is_write) {
		int ret = vp_complete_pending(vp, to);
		if (ret < 0)
			return ret;
	}
	/*
	 * VTL0 entered for the first time (after the secure kernel's start-up) begins with hvrun's
	 * boot contract registers, not with whatever VTL1 left in the shared ones.
	 */
	if (to != 0 || vp->started[to]) {
		vp_copy_shared_gprs(&dst->s.regs.regs, &src->s.regs.regs);
		if (vp->deferred[to])
			apply_deferred(vp, to, &dst->s.regs.regs);
		dst->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	}
	if (dst->s.regs.sregs.cr2 != src->s.regs.sregs.cr2) {
		/* A vCPU that never ran has no sync copy yet: fetch its sregs before writing them back. */
		if (!vp->started[to] && vmm_vcpu_get_sregs(&vp->vcpu[to], &dst->s.regs.sregs))
			return -EIO;
		dst->s.regs.sregs.cr2 = src->s.regs.sregs.cr2;
		dst->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
	}
	vp->active_vtl = to;
	vp->vtl_switches++;
	return 0;
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
	const struct kvm_regs *r = &vp->vcpu[vp->active_vtl].run->s.regs.regs;
	const struct kvm_sregs *s = &vp->vcpu[vp->active_vtl].run->s.regs.sregs;
	char desc[256], last[256] = "none";

	vmm_msg_describe(msg, desc, sizeof(desc));
	if (vp->have_last)
		vmm_msg_describe(&vp->msgs[vp->cur ^ 1], last, sizeof(last));
	pr_err("VP %u (VTL%u) stopped: %s (%s). RIP=%#" PRIx64 " RSP=%#" PRIx64 " RFLAGS=%#" PRIx64
	       " CS=%#x CR0=%#" PRIx64 " CR2=%#" PRIx64 " CR3=%#" PRIx64 " CR4=%#" PRIx64
	       " EFER=%#" PRIx64 ". Last routed message: %s. Exit status %d.",
	       vp->index, vp->active_vtl, reply->reason ? reply->reason : "stopped", desc, (uint64_t)r->rip,
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
	struct vmm_vcpu *vcpu = &vp->vcpu[vp->active_vtl];
	struct kvm_run *run = vcpu->run;
	uint32_t n = vmm_decode_count(run);
	struct vmm_vp_state state = {
		.regs = &run->s.regs.regs,
		.sregs = &run->s.regs.sregs,
		.valid = VMM_STATE_GPRS | VMM_STATE_SREGS,
	};

	for (uint32_t i = 0; i < n; i++, vp->cur ^= 1, vp->have_last = true) {
		struct hv_message *msg = &vp->msgs[vp->cur];
		struct vmm_reply reply;
		struct vmm_exit exit = { .msg = msg, .state = &state, .vp = vp, .cache = &vp->route_cache };
		bool inject;
		int ret;

		ret = vmm_decode_exit(run, vcpu->run_size, &vp->dctx[vp->active_vtl], i, msg);
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
				stop_report(vp, msg, &reply, reply.status);
			vp->cur ^= 1;
			vp->have_last = true;
			return 1;
		}
		ret = vp_apply_reply(run, vcpu->run_size, i, &reply, state.dirty, &inject);
		if (ret)
			return ret;
		if (inject && run->exit_reason == KVM_EXIT_IO) {
			/*
			 * A fault belongs to the instruction that caused it (TLFS: #UD at the hypercall):
			 * let KVM finish the port exit without running the guest (it steps past the
			 * `out`), then put RIP back on the intercepted instruction.
			 */
			uint64_t fault_rip = vmm_msg_intercept(msg)->rip;
			vp->pending[vp->active_vtl] = true;
			ret = vp_complete_pending(vp, vp->active_vtl);
			if (ret < 0)
				return ret;
			run->s.regs.regs.rip = fault_rip;
			run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		}
		if (inject) {
			ret = vmm_vcpu_inject_exception(vcpu, reply.vector, reply.error_code_valid,
							reply.error_code);
			if (ret)
				return ret;
		}
	}
	/* IO, MMIO and MSR exits are completed by KVM at the vCPU's next KVM_RUN. */
	vp->pending[vp->active_vtl] = run->exit_reason == KVM_EXIT_IO || run->exit_reason == KVM_EXIT_MMIO ||
				      run->exit_reason == KVM_EXIT_X86_RDMSR ||
				      run->exit_reason == KVM_EXIT_X86_WRMSR;
	if (vp->switch_to >= 0)
		return do_switch(vp);
	return 0;
}

/*
 * Before entering VTL0: inject the highest deliverable interrupt if the guest can take it now,
 * else ask KVM for an exit when it can (KVM_EXIT_IRQ_WINDOW_OPEN, routed as
 * X64InterruptionDeliverable).
 */
static int inject_interrupts(struct vp *vp)
{
	struct vmm_vcpu *c = &vp->vcpu[0];
	int vector;

	if (!vp->vic || vp->active_vtl != 0)
		return 0;
	if (!vmm_vic_any_pending(vp->vic)) {
		c->run->request_interrupt_window = 0;
		return 0;
	}
	vector = vmm_vic_deliverable(vp->vic);
	if (vector < 0) {
		c->run->request_interrupt_window = 0;
		return 0;
	}
	if (c->run->ready_for_interrupt_injection && c->run->if_flag) {
		int ret = vmm_vcpu_interrupt(c, (uint8_t)vector);
		if (ret)
			return ret;
		vmm_vic_ack(vp->vic, (uint8_t)vector);
		vp->irq_rip = c->run->s.regs.regs.rip;
		vp->irq_rip_valid = true;
		c->run->request_interrupt_window = 0;
		return 0;
	}
	c->run->request_interrupt_window = 1;
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
		ret = inject_interrupts(vp);
		if (ret) {
			pr_err("VP %u: KVM_INTERRUPT failed: %s", vp->index, strerror(-ret));
			return ret;
		}
		vp->started[vp->active_vtl] = true;
		/* Enter only while nobody is rearranging memory (Dekker-style with vp_wait_out_of_guest). */
		__atomic_store_n(&vp->in_guest, 1, __ATOMIC_SEQ_CST);
		while (vp->pausing && __atomic_load_n(vp->pausing, __ATOMIC_SEQ_CST) && !vp->stop_requested) {
			__atomic_store_n(&vp->in_guest, 0, __ATOMIC_SEQ_CST);
			sched_yield();
			__atomic_store_n(&vp->in_guest, 1, __ATOMIC_SEQ_CST);
		}
		ret = vmm_vcpu_run(&vp->vcpu[vp->active_vtl]);
		__atomic_store_n(&vp->in_guest, 0, __ATOMIC_SEQ_CST);
		if (ret == -EINTR || ret == -EAGAIN) {
			/* A pending completion, if any, was done before KVM looked at the signal. */
			vp->pending[vp->active_vtl] = false;
			vp->vcpu[vp->active_vtl].run->immediate_exit = 0;
			continue;
		}
		vp->pending[vp->active_vtl] = false;
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
