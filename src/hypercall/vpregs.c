/* SPDX-License-Identifier: MIT */
/*
 * HvCallGetVpRegisters / HvCallSetVpRegisters: TLFS register names mapped onto KVM state
 * (sync regs, sregs, MSRs, debug registers) and onto hvrun's synthetic registers.
 */
#include "hypercall/calls.h"

#include <errno.h>
#include <string.h>

#include "hv/cpuid.h"
#include "partition/partition.h"
#include "vmm/decode.h"
#include "vtl/vtl.h"

#define CR0_PE (1ull << 0)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_RESERVED (~0x3f7fffull)      /* bits KVM refuses beyond the architectural ones */
#define EFER_RESERVED (~0xd01ull)        /* SCE, LME, LMA, NXE */

/*
 * The state of the (VP, VTL) a call addresses: the caller's live exit state, or a stopped
 * lower VTL's vCPU (its pending exit completed first, so what is read and written is exact).
 * The general-purpose registers other than RSP are shared by the VTLs: they always resolve to
 * the caller's live registers, which follow the VP on the next VTL switch.
 */
struct regfile {
	struct kvm_regs *regs;          /* private RIP, RSP, RFLAGS */
	struct kvm_regs *shared;        /* shared RAX..R15 (except RSP) */
	struct kvm_sregs *sregs;
	struct vmm_vcpu *vcpu;
	uint32_t *dirty;                /* where a change of `regs` is recorded */
	uint32_t *shared_dirty;
	uint32_t other_dirty;
	bool is_caller;
};

static int regfile_get(struct hc_env *env, uint32_t vp_index, uint8_t vtl, struct regfile *rf)
{
	struct part_vp *self = part_vp_of(env->exit->vp);
	struct vmm_vcpu *c;
	int ret;

	/* Registers of another VP would need that VP stopped: hvrun offers the caller's VP only. */
	if (vp_index != HV_VP_INDEX_SELF && vp_index != self->vp.index)
		return -ECHILD;
	rf->shared = env->exit->state->regs;
	rf->shared_dirty = &env->exit->state->dirty;
	if (vtl == env->vtl) {
		rf->regs = env->exit->state->regs;
		rf->sregs = env->exit->state->sregs;
		rf->vcpu = &self->vp.vcpu[vtl];
		rf->dirty = &env->exit->state->dirty;
		rf->is_caller = true;
		return 0;
	}
	if (vtl >= HV_MAX_VTL)
		return -EINVAL;
	c = &self->vp.vcpu[vtl];
	if (c->fd < 0 || !c->run)
		return -ENOTRECOVERABLE;
	ret = vp_complete_pending(&self->vp, vtl);
	if (ret < 0)
		return -EBUSY;

	rf->regs = &c->run->s.regs.regs;
	rf->sregs = &c->run->s.regs.sregs;
	rf->vcpu = c;
	rf->other_dirty = 0;
	rf->dirty = &rf->other_dirty;
	rf->is_caller = false;
	return 0;
}

/* A stopped vCPU's changed registers reach KVM with its next KVM_RUN (sync regs). */
static void regfile_put(struct regfile *rf)
{
	if (!rf->is_caller && (rf->other_dirty & VMM_STATE_GPRS))
		rf->vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

/* HvRegisterPendingEvent0 (HV_X64_PENDING_EXCEPTION_EVENT): 0 pending, 3:1 type (0 exception),
 * 8 deliver error code, 31:16 vector, 63:32 error code. */
static int set_pending_event(struct regfile *rf, const struct hv_register_value *v)
{
	uint8_t vector = (uint8_t)(v->low >> 16);

	if (!(v->low & 1))
		return 0;
	if (((v->low >> 1) & 7) != 0 || (v->low >> 16 & 0xffff) > 31)
		return -ERANGE;          /* only exceptions (vectors 0-31) can be injected */
	if (rf->is_caller)
		return -EBUSY;           /* a VTL injects into a lower VTL, not into itself */
	return vmm_vcpu_inject_exception(rf->vcpu, vector, (v->low >> 8) & 1, (uint32_t)(v->low >> 32)) ?
	       -ERANGE : 0;
}

static __u64 *gpr(struct kvm_regs *r, unsigned i)
{
	__u64 *order[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
				&r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15 };
	return order[i];
}

static struct kvm_segment *segment(struct kvm_sregs *s, unsigned i)
{
	struct kvm_segment *order[8] = { &s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs, &s->ldt, &s->tr };
	return order[i];
}

static void segment_from_hv(struct kvm_segment *k, const struct hv_register_value *v)
{
	uint16_t attr = (uint16_t)(v->high >> 48);

	k->base = v->low;
	k->limit = (uint32_t)v->high;
	k->selector = (uint16_t)(v->high >> 32);
	k->type = attr & 0xf;
	k->s = (attr >> 4) & 1;
	k->dpl = (attr >> 5) & 3;
	k->present = (attr >> 7) & 1;
	k->avl = (attr >> 12) & 1;
	k->l = (attr >> 13) & 1;
	k->db = (attr >> 14) & 1;
	k->g = (attr >> 15) & 1;
	k->unusable = !k->present;
}

/* MSR-backed registers (read and written with KVM_GET/SET_MSRS). */
static int msr_of(uint32_t name, uint32_t *msr)
{
	switch (name) {
	case HV_REG_TSC: *msr = 0x10; return 0;
	case HV_REG_KERNEL_GS: *msr = 0xc0000102; return 0;
	case HV_REG_PAT: *msr = 0x277; return 0;
	case HV_REG_SYSENTER_CS: *msr = 0x174; return 0;
	case HV_REG_SYSENTER_ESP: *msr = 0x175; return 0;
	case HV_REG_SYSENTER_EIP: *msr = 0x176; return 0;
	case HV_REG_STAR: *msr = 0xc0000081; return 0;
	case HV_REG_LSTAR: *msr = 0xc0000082; return 0;
	case HV_REG_CSTAR: *msr = 0xc0000083; return 0;
	case HV_REG_SFMASK: *msr = 0xc0000084; return 0;
	default: return -ENOENT;
	}
}

/* Synthetic registers are the synthetic MSRs of the addressed VTL. */
static int synthetic_of(uint32_t name, uint32_t *msr)
{
	if (name >= HV_REG_SINT0 && name <= HV_REG_SINT0 + 15) {
		*msr = HV_X64_MSR_SINT0 + (name - HV_REG_SINT0);
		return 0;
	}
	switch (name) {
	case HV_REG_GUEST_OS_ID: *msr = HV_X64_MSR_GUEST_OS_ID; return 0;
	case HV_REG_VP_INDEX: *msr = HV_X64_MSR_VP_INDEX; return 0;
	case HV_REG_TIME_REF: *msr = HV_X64_MSR_TIME_REF_COUNT; return 0;
	case HV_REG_VP_ASSIST: *msr = HV_X64_MSR_VP_ASSIST_PAGE; return 0;
	case HV_REG_REF_TSC: *msr = HV_X64_MSR_REFERENCE_TSC; return 0;
	case HV_REG_SCONTROL: *msr = HV_X64_MSR_SCONTROL; return 0;
	case HV_REG_SVERSION: *msr = HV_X64_MSR_SVERSION; return 0;
	case HV_REG_SIEFP: *msr = HV_X64_MSR_SIEFP; return 0;
	case HV_REG_SIMP: *msr = HV_X64_MSR_SIMP; return 0;
	case HV_REG_EOM: *msr = HV_X64_MSR_EOM; return 0;
	default: return -ENOENT;
	}
}

int hc_vp_register_get(struct hc_env *env, uint32_t vp_index, uint8_t vtl, uint32_t name,
		       struct hv_register_value *v)
{
	struct regfile rf;
	uint32_t msr;
	int ret;

	memset(v, 0, sizeof(*v));
	ret = regfile_get(env, vp_index, vtl, &rf);
	if (ret)
		return ret;
	if (name >= HV_REG_RAX && name <= HV_REG_RAX + 15) {
		unsigned i = name - HV_REG_RAX;
		v->low = *gpr(i == 4 ? rf.regs : rf.shared, i);     /* RSP (index 4) is private */
		return 0;
	}
	ret = vtl_register_get(env->p, part_vp_of(env->exit->vp), env->vtl, vtl, name, &v->low, &v->high);
	if (ret != -ENOENT)
		return ret;
	if (name == HV_REG_PENDING_EVENT0)
		return 0;                /* an injected event is delivered at once: none pending */
	if (name >= HV_REG_ES && name <= HV_REG_TR) {
		const struct kvm_segment *k = segment(rf.sregs, name - HV_REG_ES);
		v->low = k->base;
		v->high = k->limit | (uint64_t)k->selector << 32 | (uint64_t)vmm_segment_attributes(k) << 48;
		return 0;
	}
	if (!msr_of(name, &msr))
		return vmm_vcpu_get_msrs(rf.vcpu, &msr, &v->low, 1) ? -EIO : 0;
	if (!synthetic_of(name, &msr)) {
		ret = hv_synthetic_msr(env->p, part_vp_of(env->exit->vp), vtl, msr, false, &v->low, env->reply);
		return ret == -EPERM ? -EINVAL : ret;
	}
	switch (name) {
	case HV_REG_RIP: v->low = rf.regs->rip; return 0;
	case HV_REG_RFLAGS: v->low = rf.regs->rflags; return 0;
	case HV_REG_CR0: v->low = rf.sregs->cr0; return 0;
	case HV_REG_CR2: v->low = rf.sregs->cr2; return 0;
	case HV_REG_CR3: v->low = rf.sregs->cr3; return 0;
	case HV_REG_CR4: v->low = rf.sregs->cr4; return 0;
	case HV_REG_CR8: v->low = rf.sregs->cr8; return 0;
	case HV_REG_EFER: v->low = rf.sregs->efer; return 0;
	case HV_REG_APIC_BASE: v->low = rf.sregs->apic_base; return 0;
	case HV_REG_IDTR:
	case HV_REG_GDTR: {
		const struct kvm_dtable *t = name == HV_REG_IDTR ? &rf.sregs->idt : &rf.sregs->gdt;
		v->low = (uint64_t)t->limit << 48;     /* {u16 pad[3], u16 limit, u64 base} */
		v->high = t->base;
		return 0;
	}
	case HV_REG_DR0: case HV_REG_DR0 + 1: case HV_REG_DR0 + 2: case HV_REG_DR0 + 3:
	case HV_REG_DR6: case HV_REG_DR7: {
		struct kvm_debugregs dr;
		if (vmm_vcpu_get_debugregs(rf.vcpu, &dr))
			return -EIO;
		v->low = name == HV_REG_DR6 ? dr.dr6 : name == HV_REG_DR7 ? dr.dr7 : dr.db[name - HV_REG_DR0];
		return 0;
	}
	case HV_REG_HV_VERSION:
		v->low = HV_HVRUN_BUILD | (uint64_t)(HV_HVRUN_MAJOR << 16 | HV_HVRUN_MINOR) << 32;
		return 0;
	case HV_REG_PRIV_FEATURES:
		v->low = env->p->hv.features.priv_eax | (uint64_t)env->p->hv.features.priv_ebx << 32;
		v->high = env->p->hv.features.ecx | (uint64_t)env->p->hv.features.edx << 32;
		return 0;
	default:
		return -EINVAL;           /* unknown or unsupported register name */
	}
}

/* Apply an sregs change now so KVM can refuse it here (INVALID_REGISTER_VALUE), not at entry. */
static int commit_sregs(struct regfile *rf, const struct kvm_sregs *next)
{
	if (vmm_vcpu_set_sregs(rf->vcpu, next))
		return -ERANGE;
	*rf->sregs = *next;
	return 0;
}

static int set_register(struct hc_env *env, uint8_t vtl, struct regfile *rfp, uint32_t name,
			const struct hv_register_value *v);

int hc_vp_register_set(struct hc_env *env, uint32_t vp_index, uint8_t vtl, uint32_t name,
		       const struct hv_register_value *v)
{
	struct regfile rf;
	int ret;

	ret = regfile_get(env, vp_index, vtl, &rf);
	if (ret)
		return ret;
	ret = set_register(env, vtl, &rf, name, v);
	regfile_put(&rf);
	return ret;
}

static int set_register(struct hc_env *env, uint8_t vtl, struct regfile *rfp, uint32_t name,
			const struct hv_register_value *v)
{
	struct regfile rf = *rfp;      /* a copy: its pointers still reach the caller's flags */
	struct kvm_sregs next;
	uint32_t msr;
	int ret;

	if (name >= HV_REG_RAX && name <= HV_REG_RAX + 15) {
		unsigned i = name - HV_REG_RAX;
		if (i == 4) {
			*gpr(rf.regs, i) = v->low;
			*rf.dirty |= VMM_STATE_GPRS;
		} else {
			*gpr(rf.shared, i) = v->low;
			*rf.shared_dirty |= VMM_STATE_GPRS;
		}
		return 0;
	}
	ret = vtl_register_set(env->p, part_vp_of(env->exit->vp), env->vtl, vtl, name, v->low, v->high);
	if (ret != -ENOENT)
		return ret;
	if (name == HV_REG_PENDING_EVENT0)
		return set_pending_event(&rf, v);
	if (!msr_of(name, &msr))
		return vmm_vcpu_set_msrs(rf.vcpu, &msr, &v->low, 1) ? -ERANGE : 0;
	if (!synthetic_of(name, &msr)) {
		uint64_t value = v->low;
		ret = hv_synthetic_msr(env->p, part_vp_of(env->exit->vp), vtl, msr, true, &value, env->reply);
		return ret == -EPERM ? -EINVAL : ret;
	}
	next = *rf.sregs;
	if (name >= HV_REG_ES && name <= HV_REG_TR) {
		segment_from_hv(segment(&next, name - HV_REG_ES), v);
		return commit_sregs(&rf, &next);
	}
	switch (name) {
	case HV_REG_RIP:
		/*
		 * The caller's own RIP cannot be set from inside its hypercall: KVM completes the
		 * trapping instruction after hvrun returns and would move RIP past the new value.
		 */
		if (rf.is_caller)
			return -EBUSY;
		rf.regs->rip = v->low;
		*rf.dirty |= VMM_STATE_GPRS;
		return 0;
	case HV_REG_RFLAGS:
		rf.regs->rflags = (v->low & 0x3f7fd7ull) | 0x2;   /* architectural bits; bit 1 reads 1 */
		*rf.dirty |= VMM_STATE_GPRS;
		return 0;
	case HV_REG_CR0:
		if ((v->low >> 32) || ((v->low & CR0_PG) && !(v->low & CR0_PE)) ||
		    ((v->low & CR0_NW) && !(v->low & CR0_CD)))
			return -ERANGE;
		next.cr0 = v->low;
		return commit_sregs(&rf, &next);
	case HV_REG_CR2: next.cr2 = v->low; return commit_sregs(&rf, &next);
	case HV_REG_CR3: next.cr3 = v->low; return commit_sregs(&rf, &next);
	case HV_REG_CR4:
		if (v->low & CR4_RESERVED)
			return -ERANGE;
		next.cr4 = v->low;
		return commit_sregs(&rf, &next);
	case HV_REG_CR8:
		if (v->low > 15)
			return -ERANGE;
		next.cr8 = v->low;
		return commit_sregs(&rf, &next);
	case HV_REG_EFER:
		if (v->low & EFER_RESERVED)
			return -ERANGE;
		next.efer = v->low;
		return commit_sregs(&rf, &next);
	case HV_REG_APIC_BASE:
		next.apic_base = v->low;
		return commit_sregs(&rf, &next);
	case HV_REG_IDTR:
	case HV_REG_GDTR: {
		struct kvm_dtable *t = name == HV_REG_IDTR ? &next.idt : &next.gdt;
		t->limit = (uint16_t)(v->low >> 48);
		t->base = v->high;
		return commit_sregs(&rf, &next);
	}
	case HV_REG_DR0: case HV_REG_DR0 + 1: case HV_REG_DR0 + 2: case HV_REG_DR0 + 3:
	case HV_REG_DR6: case HV_REG_DR7: {
		struct kvm_debugregs dr;
		if (vmm_vcpu_get_debugregs(rf.vcpu, &dr))
			return -EIO;
		if (name == HV_REG_DR6)
			dr.dr6 = v->low;
		else if (name == HV_REG_DR7)
			dr.dr7 = v->low;
		else
			dr.db[name - HV_REG_DR0] = v->low;
		return vmm_vcpu_set_debugregs(rf.vcpu, &dr) ? -ERANGE : 0;
	}
	default:
		return -EINVAL;           /* unknown, or read-only (version, features) */
	}
}

static int vp_registers_header(struct hc_args *a, uint32_t *vp_index, uint8_t *vtl)
{
	struct hc_env *env = a->env;
	struct hc_vp_registers_header h;
	int ret;

	memcpy(&h, a->in, sizeof(h));
	if (h.reserved[0] || h.reserved[1] || h.reserved[2])
		return -EINVAL;
	if (!(env->p->hv.features.priv_ebx & HV_PRIV_ACCESS_VP_REGISTERS))
		return -EACCES;
	ret = hc_resolve_partition(env, h.partition_id);
	if (ret)
		return ret;
	ret = hc_resolve_vtl(env, h.input_vtl, vtl);
	if (ret)
		return ret;
	*vp_index = h.vp_index;
	return 0;
}

static int get_vp_registers(struct hc_args *a)
{
	uint32_t vp_index;
	uint8_t vtl;
	int ret = vp_registers_header(a, &vp_index, &vtl);

	if (ret)
		return ret;
	for (; a->reps_done < a->ctl->rep_count; a->reps_done++) {
		struct hv_register_value v;
		uint32_t name;
		memcpy(&name, a->in + sizeof(struct hc_vp_registers_header) + 4u * a->reps_done, 4);
		ret = hc_vp_register_get(a->env, vp_index, vtl, name, &v);
		if (ret)
			return ret;
		memcpy(a->out + sizeof(v) * a->reps_done, &v, sizeof(v));
	}
	return 0;
}

static int set_vp_registers(struct hc_args *a)
{
	uint32_t vp_index;
	uint8_t vtl;
	int ret = vp_registers_header(a, &vp_index, &vtl);

	if (ret)
		return ret;
	for (; a->reps_done < a->ctl->rep_count; a->reps_done++) {
		struct hc_register_assoc e;
		memcpy(&e, a->in + sizeof(struct hc_vp_registers_header) + sizeof(e) * a->reps_done, sizeof(e));
		if (e.reserved[0] || e.reserved[1] || e.reserved[2])
			return -EINVAL;
		ret = hc_vp_register_set(a->env, vp_index, vtl, e.name, &e.value);
		if (ret)
			return ret;
	}
	return 0;
}

const struct hc_call hc_call_get_vp_registers = {
	.code = HVCALL_GET_VP_REGISTERS,
	.name = "HvCallGetVpRegisters",
	.rep = true,
	.varhead = false,
	.in_size = sizeof(struct hc_vp_registers_header),
	.rep_in_size = 4,
	.rep_out_size = sizeof(struct hv_register_value),
	.fn = get_vp_registers,
};

const struct hc_call hc_call_set_vp_registers = {
	.code = HVCALL_SET_VP_REGISTERS,
	.name = "HvCallSetVpRegisters",
	.rep = true,
	.in_size = sizeof(struct hc_vp_registers_header),
	.rep_in_size = sizeof(struct hc_register_assoc),
	.fn = set_vp_registers,
};
