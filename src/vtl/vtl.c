/* SPDX-License-Identifier: MIT */
/*
 * VSM: VTL1 is a second KVM VM over the same RAM plus memory only it maps. A VP runs one VTL at
 * a time; VTL call/return switch which vCPU the VP's thread runs. VTL0 protections are slot
 * attributes of VTL0's VM, and a refused access becomes a GpaIntercept delivered to VTL1.
 */
#include "vtl/vtl.h"

#include <errno.h>
#include <string.h>

#include "hv/hcpage.h"
#include "hv/hv.h"
#include "hypercall/calls.h"
#include "partition/partition.h"
#include "partition/services.h"
#include "vmm/log.h"
#include "vmm/msg.h"

#define X86_UD_VECTOR 6
#define PAGE_MASK_4K 0xfffull

int vtl_map_flags_to_prot(uint32_t flags, uint8_t *prot)
{
	if (flags & ~HV_MAP_GPA_SUPPORTED)
		return -ERANGE;
	/* Write without read cannot be expressed by second-level paging (nor by KVM slots). */
	if ((flags & HV_MAP_GPA_WRITABLE) && !(flags & HV_MAP_GPA_READABLE))
		return -ERANGE;
	*prot = (uint8_t)flags;
	return 0;
}

static int check_partition(const struct partition *p, uint64_t partition_id)
{
	return partition_id == HV_PARTITION_ID_SELF || partition_id == p->id ? 0 : -ESRCH;
}

int vtl_enable_partition(struct partition *p, uint8_t caller_vtl, uint64_t partition_id,
			 uint8_t target_vtl, uint8_t flags)
{
	int ret;

	if (check_partition(p, partition_id))
		return -ESRCH;
	if (!(p->hv.features.priv_ebx & HV_PRIV_ACCESS_VSM))
		return -EACCES;
	if (target_vtl != caller_vtl + 1 || target_vtl >= HV_MAX_VTL)
		return -EACCES;          /* only the next VTL up, and hvrun has VTL0 and VTL1 */
	if (flags)
		return -EINVAL;          /* MBEC and the other options are not offered */
	if (part_vtl_enabled(p, target_vtl))
		return -EALREADY;
	ret = part_vtl_create(p, target_vtl);
	if (ret)
		return ret == -EALREADY ? ret : -ENOMEM;
	hv_partition_vtl_reset(&p->hv.vtl[target_vtl]);
	for (unsigned i = 0; i < p->nvps; i++)
		hv_vp_vtl_reset(&p->vps[i].hv[target_vtl]);
	p->vsm.config[target_vtl] = 0;
	pr_info("partition %llu: VTL%u enabled", (unsigned long long)p->id, target_vtl);
	return 0;
}

static void segment_from_hv(struct kvm_segment *k, const struct hv_x64_segment *s)
{
	memset(k, 0, sizeof(*k));
	k->base = s->base;
	k->limit = s->limit;
	k->selector = s->selector;
	k->type = s->attributes & 0xf;
	k->s = (s->attributes >> 4) & 1;
	k->dpl = (s->attributes >> 5) & 3;
	k->present = (s->attributes >> 7) & 1;
	k->avl = (s->attributes >> 12) & 1;
	k->l = (s->attributes >> 13) & 1;
	k->db = (s->attributes >> 14) & 1;
	k->g = (s->attributes >> 15) & 1;
	k->unusable = !k->present;
}

int vtl_enable_vp(struct partition *p, uint8_t caller_vtl, uint32_t caller_vp, uint64_t partition_id,
		  uint32_t vp_index, uint8_t target_vtl, const struct hv_initial_vp_context *c)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct part_vp *pvp;
	int ret;

	if (check_partition(p, partition_id))
		return -ESRCH;
	if (vp_index == HV_VP_INDEX_SELF)
		vp_index = caller_vp;
	if (vp_index >= p->nvps)
		return -ECHILD;
	pvp = &p->vps[vp_index];
	if (target_vtl != 1)
		return -EINVAL;
	if (!part_vtl_enabled(p, target_vtl))
		return -ENOTRECOVERABLE;
	/* The lower VTL may enable VTL1 only on the VP it runs on, so that VP is at a known point. */
	if (caller_vtl < target_vtl && vp_index != caller_vp)
		return -EACCES;
	if (pvp->vp.vcpu[target_vtl].fd >= 0)
		return -EALREADY;

	vtl_context_to_kvm(c, &regs, &sregs);
	ret = part_vp_vtl_create(p, pvp, target_vtl, &regs, &sregs, c->msr_cr_pat);
	if (ret == -ERANGE)
		return -ERANGE;      /* KVM refused the context: INVALID_REGISTER_VALUE */
	if (ret)
		return ret == -EALREADY ? ret : -ENOMEM;
	pr_info("partition %llu: VTL%u enabled on VP %u at RIP %#llx", (unsigned long long)p->id,
		target_vtl, vp_index, (unsigned long long)c->rip);
	return 0;
}

void vtl_context_to_kvm(const struct hv_initial_vp_context *c, struct kvm_regs *regs, struct kvm_sregs *sregs)
{
	memset(regs, 0, sizeof(*regs));
	memset(sregs, 0, sizeof(*sregs));
	regs->rip = c->rip;
	regs->rsp = c->rsp;
	regs->rflags = c->rflags | 0x2;
	segment_from_hv(&sregs->cs, &c->cs);
	segment_from_hv(&sregs->ds, &c->ds);
	segment_from_hv(&sregs->es, &c->es);
	segment_from_hv(&sregs->fs, &c->fs);
	segment_from_hv(&sregs->gs, &c->gs);
	segment_from_hv(&sregs->ss, &c->ss);
	segment_from_hv(&sregs->tr, &c->tr);
	segment_from_hv(&sregs->ldt, &c->ldtr);
	sregs->idt.base = c->idtr.base;
	sregs->idt.limit = c->idtr.limit;
	sregs->gdt.base = c->gdtr.base;
	sregs->gdt.limit = c->gdtr.limit;
	sregs->efer = c->efer;
	sregs->cr0 = c->cr0;
	sregs->cr3 = c->cr3;
	sregs->cr4 = c->cr4;
}

int vtl_modify_protection(struct partition *p, uint8_t caller_vtl, uint64_t partition_id, uint32_t flags,
			  uint8_t input_vtl, const uint64_t *gpfns, unsigned count, unsigned *done)
{
	struct part_view *view0 = part_view_of(p, 0);
	uint8_t target, prot;
	int ret;

	*done = 0;
	if (check_partition(p, partition_id))
		return -EACCES;
	if (input_vtl & HV_INPUT_VTL_RESERVED)
		return -EINVAL;
	target = (input_vtl & HV_INPUT_VTL_USE_TARGET) ? (input_vtl & HV_INPUT_VTL_TARGET_MASK) : caller_vtl;
	/* Protections describe what VTLs *below* `target` may do; VTL0 has nobody below it. */
	if (caller_vtl == 0 || target > caller_vtl)
		return -EACCES;
	if (target == 0)
		return -EINVAL;
	if (!part_vtl_enabled(p, target))
		return -ENOTRECOVERABLE;
	if (!(p->vsm.config[target] & HV_VSM_CONFIG_ENABLE_VTL_PROTECTION))
		return -EACCES;      /* EnableVtlProtection must be set first */
	ret = vtl_map_flags_to_prot(flags, &prot);
	if (ret)
		return ret;
	if (count > HC_PAGE_SIZE / 8)
		return -EINVAL;          /* more than one input page can hold */
	/* Validate the whole list first so a bad page leaves every protection as it was. */
	for (unsigned i = 0; i < count; i++) {
		if (gpfns[i] >= view0->npages)
			return -EINVAL;          /* nothing was changed: no rep completed */
	}
	{
		/* Remember the old protections: a failed commit must leave none recorded. */
		uint8_t old[HC_PAGE_SIZE / 8];
		for (unsigned i = 0; i < count; i++) {
			old[i] = part_view_prot(view0, gpfns[i] * PART_PAGE_SIZE);
			part_view_protect(view0, gpfns[i], 1, prot);
		}
		ret = part_view_commit(view0);
		if (ret) {
			for (unsigned i = count; i-- > 0;)
				part_view_protect(view0, gpfns[i], 1, old[i]);
			return ret;
		}
	}
	p->vsm.protection_changes += count;
	*done = count;
	return 0;
}

/* The VP assist page of `vtl`, if enabled and writable by that VTL. */
static uint8_t *assist_page(struct partition *p, struct part_vp *pvp, uint8_t vtl)
{
	uint64_t msr = pvp->hv[vtl].vp_assist;
	void *hva;

	if (!(msr & 1) ||
	    part_view_access_cached(part_view_of(p, vtl), &pvp->tlb[vtl], msr & ~PAGE_MASK_4K, 4096, true, &hva))
		return NULL;
	return hva;
}

static void set_entry_reason(struct partition *p, struct part_vp *pvp, uint8_t vtl, uint32_t reason)
{
	uint8_t *assist = assist_page(p, pvp, vtl);

	if (assist)
		memcpy(assist + HV_VP_ASSIST_ENTRY_REASON, &reason, sizeof(reason));
}

int vtl_enter(struct partition *p, struct part_vp *pvp, uint8_t vtl, uint32_t entry_reason)
{
	if (vtl >= HV_MAX_VTL || pvp->vp.vcpu[vtl].fd < 0)
		return -EINVAL;
	set_entry_reason(p, pvp, vtl, entry_reason);
	if (pvp->vp.active_vtl == vtl)
		return 0;
	return vp_switch_vtl(&pvp->vp, vtl);
}

static void inject_ud(struct vmm_reply *reply, const char *why)
{
	reply->action = VMM_ACT_INJECT;
	reply->vector = X86_UD_VECTOR;
	reply->error_code_valid = false;
	reply->reason = why;
}

int vtl_call_or_return(struct partition *p, const struct vmm_exit *exit, uint16_t code,
		       struct vmm_reply *reply)
{
	struct kvm_regs *regs = exit->state->regs;
	struct part_vp *pvp = part_vp_of(exit->vp);
	uint8_t vtl = pvp->vp.active_vtl;
	int ret;

	reply->action = VMM_ACT_RESUME;
	/*
	 * The trampolines moved the caller's control input to RAX. VtlReturn defines bit 0
	 * (FastReturn) and reserves the rest; VtlCall defines no field, so hvrun ignores it.
	 */
	if (code == HVCALL_VTL_RETURN && (regs->rax & ~1ull)) {
		inject_ud(reply, "VtlReturn with reserved control input bits set: #UD");
		return 0;
	}
	if (code == HVCALL_VTL_CALL) {
		if ((unsigned)vtl + 1 >= HV_MAX_VTL || pvp->vp.vcpu[vtl + 1].fd < 0) {
			inject_ud(reply, "VtlCall with no higher VTL enabled: #UD");
			return 0;
		}
		ret = vtl_enter(p, pvp, vtl + 1, HV_VTL_ENTRY_VTL_CALL);
		reply->reason = "VtlCall: entering VTL1";
		return ret;
	}
	if (vtl == 0) {
		inject_ud(reply, "VtlReturn from VTL0: #UD");
		return 0;
	}
	/* RAX holds the caller's control input: bit 0 = fast return (keep RAX/RCX as they are). */
	if (!(regs->rax & 1)) {
		uint8_t *assist = assist_page(p, pvp, vtl);
		if (assist) {
			memcpy(&regs->rax, assist + HV_VP_ASSIST_RETURN_RAX, 8);
			memcpy(&regs->rcx, assist + HV_VP_ASSIST_RETURN_RCX, 8);
			exit->state->dirty |= VMM_STATE_GPRS;
		}
	}
	reply->reason = "VtlReturn: back to VTL0";
	return vp_switch_vtl(&pvp->vp, (uint8_t)(vtl - 1));
}

/*
 * A VTL0 access a VTL1 protection refused. KVM has already dropped a write (the instruction is
 * complete); a read completes with 0. The intercept goes to VTL1 as a TLFS message, in its VP
 * assist page when VsmPartitionConfig.InterceptPage is set, else in its SIM page's SINT0 slot.
 */
static int gpa_intercept_handle(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	struct partition *p = opaque;
	struct part_vp *pvp = part_vp_of(exit->vp);
	const struct hv_x64_intercept_header *h = vmm_msg_intercept(exit->msg);
	uint8_t vtl = (uint8_t)((h->execution_state & HV_EXEC_STATE_VTL_MASK) >> HV_EXEC_STATE_VTL_SHIFT);
	uint8_t higher = (uint8_t)(vtl + 1);
	int ret = -ENOENT;

	reply->action = VMM_ACT_RESUME;
	reply->data = 0;
	if (higher >= HV_MAX_VTL || pvp->vp.vcpu[higher].fd < 0) {
		p->vsm.intercepts_dropped++;
		reply->reason = "protection violation, no higher VTL on this VP: access dropped";
		return 0;
	}
	if (p->vsm.config[higher] & HV_VSM_CONFIG_INTERCEPT_PAGE) {
		uint8_t *assist = assist_page(p, pvp, higher);
		if (assist) {
			memcpy(assist + HV_VP_ASSIST_INTERCEPT_MSG, exit->msg, sizeof(*exit->msg));
			ret = 1;
		}
	}
	if (ret < 0)
		ret = hv_synic_post(p, pvp, higher, 0, exit->msg);
	if (ret < 0) {
		p->vsm.intercepts_dropped++;
		reply->reason = "protection violation: VTL1 has no intercept channel (dropped)";
		return 0;
	}
	p->vsm.intercepts_delivered++;
	reply->reason = "protection violation: intercept delivered to VTL1";
	return vtl_enter(p, pvp, higher, HV_VTL_ENTRY_INTERCEPT);
}

static const struct vmm_service gpa_intercept_service = {
	.name = "vtl-intercept",
	.msg_type = HVMSG_GPA_INTERCEPT,
	.handle = gpa_intercept_handle,
};

static int vtl_module_create(struct partition *p, void **state)
{
	*state = NULL;
	return part_register_services(p, &gpa_intercept_service, 1, p);
}

static void vtl_module_destroy(struct partition *p, void *state)
{
	(void)state;
	part_unregister_services(p, &gpa_intercept_service, 1, p);
}

const struct part_module vtl_module = {
	.name = "vtl",
	.create = vtl_module_create,
	.destroy = vtl_module_destroy,
};

/* ---- VSM registers ---- */

static uint64_t enabled_vtl_set(const struct partition *p)
{
	uint64_t set = 0;

	for (unsigned v = 0; v < HV_MAX_VTL; v++)
		if (part_vtl_enabled(p, (uint8_t)v))
			set |= 1ull << v;
	return set;
}

int vtl_register_get(struct partition *p, struct part_vp *pvp, uint8_t caller_vtl, uint8_t target_vtl,
		     uint32_t name, uint64_t *low, uint64_t *high)
{
	*low = *high = 0;
	switch (name) {
	case HV_REG_VSM_CODE_PAGE_OFFSETS:
		*low = HV_HCPAGE_VSM_CODE_OFFSETS;
		return 0;
	case HV_REG_VSM_VP_STATUS: {
		uint64_t vp_set = 0;
		for (unsigned v = 0; v < HV_MAX_VTL; v++)
			if (pvp->vp.vcpu[v].fd >= 0)
				vp_set |= 1ull << v;
		*low = (pvp->vp.active_vtl & 0xfu) | vp_set << 16;
		return 0;
	}
	case HV_REG_VSM_PARTITION_STATUS:
		*low = enabled_vtl_set(p) | (uint64_t)(HV_MAX_VTL - 1) << 16;
		return 0;
	case HV_REG_VSM_CAPABILITIES:
		/* Dr6Shared (bit 0) clear, no MBEC VTLs: only the intercept page is offered. */
		*low = HV_VSM_CAP_INTERCEPT_PAGE;
		return 0;
	case HV_REG_VSM_PARTITION_CONFIG:
		if (target_vtl == 0 || caller_vtl < target_vtl)
			return -EACCES;
		*low = p->vsm.config[target_vtl];
		return 0;
	default:
		return -ENOENT;
	}
}

static int set_partition_config(struct partition *p, uint8_t vtl, uint64_t value)
{
	uint64_t old = p->vsm.config[vtl];
	uint8_t prot;

	if (value & ~HV_VSM_CONFIG_SUPPORTED)
		return -ERANGE;
	if ((old & HV_VSM_CONFIG_ENABLE_VTL_PROTECTION) && !(value & HV_VSM_CONFIG_ENABLE_VTL_PROTECTION))
		return -ERANGE;          /* EnableVtlProtection is write-once */
	if (vtl_map_flags_to_prot((uint32_t)((value & HV_VSM_CONFIG_DEFAULT_MASK) >>
					     HV_VSM_CONFIG_DEFAULT_MASK_SHIFT), &prot))
		return -ERANGE;
	if ((old & HV_VSM_CONFIG_ENABLE_VTL_PROTECTION) &&
	    ((old ^ value) & HV_VSM_CONFIG_DEFAULT_MASK))
		return -ERANGE;          /* the default mask is fixed once protection is on */
	if (!(old & HV_VSM_CONFIG_ENABLE_VTL_PROTECTION) && (value & HV_VSM_CONFIG_ENABLE_VTL_PROTECTION)) {
		struct part_view *view0 = part_view_of(p, 0);
		int ret = part_view_protect(view0, 0, view0->npages, prot);
		if (!ret)
			ret = part_view_commit(view0);
		if (ret)
			return ret;
	}
	p->vsm.config[vtl] = value;
	return 0;
}

int vtl_register_set(struct partition *p, struct part_vp *pvp, uint8_t caller_vtl, uint8_t target_vtl,
		     uint32_t name, uint64_t low, uint64_t high)
{
	(void)high;
	(void)pvp;
	switch (name) {
	case HV_REG_VSM_CODE_PAGE_OFFSETS:
	case HV_REG_VSM_VP_STATUS:
	case HV_REG_VSM_PARTITION_STATUS:
	case HV_REG_VSM_CAPABILITIES:
		return -EINVAL;          /* read-only */
	case HV_REG_VSM_PARTITION_CONFIG:
		if (target_vtl == 0 || caller_vtl < target_vtl)
			return -EACCES;
		return set_partition_config(p, target_vtl, low);
	default:
		return -ENOENT;
	}
}

/* ---- hypercalls ---- */

/* Header: u64 TargetPartitionId, u32 MapFlags, HV_INPUT_VTL, 3 reserved; rep u64 GPA page numbers. */
static int modify_vtl_protection_mask(struct hc_args *a)
{
	struct hc_env *env = a->env;
	uint64_t partition_id, gpfns[HC_PAGE_SIZE / 8];
	uint32_t flags;
	unsigned n = (unsigned)(a->ctl->rep_count - a->reps_done), done;
	int ret;

	memcpy(&partition_id, a->in, 8);
	memcpy(&flags, a->in + 8, 4);
	if (a->in[13] || a->in[14] || a->in[15])
		return -EINVAL;
	memcpy(gpfns, a->in + 16 + 8u * a->reps_done, 8u * n);
	ret = vtl_modify_protection(env->p, env->vtl, partition_id, flags, a->in[12], gpfns, n, &done);
	a->reps_done = (uint16_t)(a->reps_done + done);
	return ret;
}

const struct hc_call hc_call_modify_vtl_protection_mask = {
	.code = HVCALL_MODIFY_VTL_PROTECTION_MASK,
	.name = "HvCallModifyVtlProtectionMask",
	.rep = true,
	.in_size = 16,
	.rep_in_size = 8,
	.fn = modify_vtl_protection_mask,
};

/* Input: u64 PartitionId, u8 TargetVtl, u8 Flags, 6 reserved. */
static int enable_partition_vtl(struct hc_args *a)
{
	struct hc_env *env = a->env;
	uint64_t partition_id;

	memcpy(&partition_id, a->in, 8);
	for (unsigned i = 10; i < 16; i++)
		if (a->in[i])
			return -EINVAL;
	return vtl_enable_partition(env->p, env->vtl, partition_id, a->in[8], a->in[9]);
}

const struct hc_call hc_call_enable_partition_vtl = {
	.code = HVCALL_ENABLE_PARTITION_VTL,
	.name = "HvCallEnablePartitionVtl",
	.in_size = 16,
	.fn = enable_partition_vtl,
};

/* Input: u64 PartitionId, u32 VpIndex, u8 TargetVtl, 3 reserved, HV_INITIAL_VP_CONTEXT. */
static int enable_vp_vtl(struct hc_args *a)
{
	struct hc_env *env = a->env;
	struct hv_initial_vp_context ctx;
	uint64_t partition_id;
	uint32_t vp_index;

	memcpy(&partition_id, a->in, 8);
	memcpy(&vp_index, a->in + 8, 4);
	if (a->in[13] || a->in[14] || a->in[15])
		return -EINVAL;
	memcpy(&ctx, a->in + 16, sizeof(ctx));
	return vtl_enable_vp(env->p, env->vtl, env->exit->vp->index, partition_id, vp_index, a->in[12], &ctx);
}

const struct hc_call hc_call_enable_vp_vtl = {
	.code = HVCALL_ENABLE_VP_VTL,
	.name = "HvCallEnableVpVtl",
	.in_size = 16 + sizeof(struct hv_initial_vp_context),
	.fn = enable_vp_vtl,
};
