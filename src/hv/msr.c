/* SPDX-License-Identifier: MIT */
/* TLFS rules for the synthetic MSRs: read-back, reserved-bit preservation, read-only and #GP cases. */
#include "hv/hv.h"

#include <errno.h>
#include <string.h>

#define PAGE_SHIFT 12
#define GPA_MSR_ENABLE   0x1ull
#define GPA_MSR_RSVDP    0xffeull            /* bits 11:1 of SIMP/SIEFP/REFERENCE_TSC/VP_ASSIST */
#define HYPERCALL_RSVDP  0xffcull            /* bits 11:2 of HV_X64_MSR_HYPERCALL */
#define SINT_VECTOR_MASK 0xffull
#define SINT_WRITABLE    (SINT_VECTOR_MASK | HV_SINT_MASKED | HV_SINT_AUTO_EOI)
#define SINT_RESET       HV_SINT_MASKED
#define SINT_MIN_VECTOR  16u
#define HV_APIC_HZ_DEFAULT 1000000000ull

void hv_vp_vtl_reset(struct hv_vp_vtl *v)
{
	memset(v, 0, sizeof(*v));
	for (unsigned i = 0; i < HV_SINT_COUNT; i++)
		v->synic.sint[i] = SINT_RESET;
}

void hv_partition_vtl_reset(struct hv_partition_vtl *p)
{
	memset(p, 0, sizeof(*p));
}

void hv_features_get(struct hv_features *f, bool vsm)
{
	memset(f, 0, sizeof(*f));
	f->priv_eax = HV_PRIV_ACCESS_PARTITION_REF_COUNT | HV_PRIV_ACCESS_SYNIC_REGS | HV_PRIV_ACCESS_INTR_CTRL_REGS |
		      HV_PRIV_ACCESS_HYPERCALL_MSRS | HV_PRIV_ACCESS_VP_INDEX | HV_PRIV_ACCESS_RESET |
		      HV_PRIV_ACCESS_PARTITION_REF_TSC | HV_PRIV_ACCESS_FREQUENCY_REGS;
	f->priv_ebx = HV_PRIV_ACCESS_VP_REGISTERS | HV_PRIV_POST_MESSAGES | HV_PRIV_SIGNAL_EVENTS |
		      HV_PRIV_START_VIRTUAL_PROCESSOR;
	if (vsm)
		f->priv_ebx |= HV_PRIV_ACCESS_VSM;
	f->edx = HV_FEATURE_FREQUENCY_MSRS | HV_FEATURE_HYPERCALL_MSR_LOCK;
	f->recommendations = HV_RECOMMEND_RELAXED_TIMING | HV_RECOMMEND_APIC_MSRS;
}

static bool has(const struct hv_msr_ctx *c, uint32_t priv_eax)
{
	return (c->features->priv_eax & priv_eax) == priv_eax;
}

/*
 * May a GPA-page MSR point at the page holding `msr_value`'s GPFN? RAM, or the VTL's private
 * memory: a secure kernel keeps its hypercall page, SIM page and VP assist page where VTL0
 * cannot reach them.
 */
static bool gpa_page_valid(const struct hv_msr_ctx *c, uint64_t msr_value)
{
	uint64_t gpfn = msr_value >> PAGE_SHIFT;
	uint64_t first = c->private_base >> PAGE_SHIFT;

	if (gpfn < (c->ram_size >> PAGE_SHIFT))
		return true;
	return gpfn >= first && gpfn - first < (c->private_size >> PAGE_SHIFT);
}

/* A GPA-page MSR: bit 0 enable, 11:1 preserved, 63:12 GPFN that must be a valid page when enabled. */
static int write_gpa_msr(const struct hv_msr_ctx *c, uint64_t *reg, uint64_t value, uint32_t effect,
			 uint32_t *effects)
{
	uint64_t next = (value & ~GPA_MSR_RSVDP) | (*reg & GPA_MSR_RSVDP);

	if ((next & GPA_MSR_ENABLE) && !gpa_page_valid(c, next))
		return -EPERM;
	if (next != *reg)
		*effects |= effect;
	*reg = next;
	return 0;
}

int hv_msr_read(const struct hv_msr_ctx *c, uint32_t msr, uint64_t *value)
{
	const struct hv_synic *s = &c->vpvtl->synic;

	*value = 0;
	switch (msr) {
	case HV_X64_MSR_GUEST_OS_ID:
		if (!has(c, HV_PRIV_ACCESS_HYPERCALL_MSRS))
			return -EPERM;
		*value = c->pvtl->guest_os_id;
		return 0;
	case HV_X64_MSR_HYPERCALL:
		if (!has(c, HV_PRIV_ACCESS_HYPERCALL_MSRS))
			return -EPERM;
		*value = c->pvtl->hypercall;
		return 0;
	case HV_X64_MSR_VP_INDEX:
		if (!has(c, HV_PRIV_ACCESS_VP_INDEX))
			return -EPERM;
		*value = c->vp_index;
		return 0;
	case HV_X64_MSR_RESET:
		return has(c, HV_PRIV_ACCESS_RESET) ? 0 : -EPERM;
	case HV_X64_MSR_TIME_REF_COUNT:
		if (!has(c, HV_PRIV_ACCESS_PARTITION_REF_COUNT))
			return -EPERM;
		*value = c->ref_time;
		return 0;
	case HV_X64_MSR_REFERENCE_TSC:
		if (!has(c, HV_PRIV_ACCESS_PARTITION_REF_TSC))
			return -EPERM;
		*value = c->pvtl->reference_tsc;
		return 0;
	case HV_X64_MSR_TSC_FREQUENCY:
		if (!has(c, HV_PRIV_ACCESS_FREQUENCY_REGS) || !c->tsc_hz)
			return -EPERM;
		*value = c->tsc_hz;
		return 0;
	case HV_X64_MSR_APIC_FREQUENCY:
		if (!has(c, HV_PRIV_ACCESS_FREQUENCY_REGS))
			return -EPERM;
		*value = c->apic_hz ? c->apic_hz : HV_APIC_HZ_DEFAULT;
		return 0;
	case HV_X64_MSR_VP_ASSIST_PAGE:
		*value = c->vpvtl->vp_assist;
		return 0;
	case HV_X64_MSR_EOI:
		return -EPERM;           /* write-only */
	case HV_X64_MSR_ICR:
		if (!has(c, HV_PRIV_ACCESS_INTR_CTRL_REGS))
			return -EPERM;
		*value = c->vpvtl->icr;
		return 0;
	case HV_X64_MSR_TPR:
		if (!has(c, HV_PRIV_ACCESS_INTR_CTRL_REGS))
			return -EPERM;
		*value = c->vpvtl->tpr;
		return 0;
	}
	if (!has(c, HV_PRIV_ACCESS_SYNIC_REGS))
		return -EPERM;
	switch (msr) {
	case HV_X64_MSR_SCONTROL: *value = s->scontrol; return 0;
	case HV_X64_MSR_SVERSION: *value = HV_SYNIC_VERSION_1; return 0;
	case HV_X64_MSR_SIEFP: *value = s->siefp; return 0;
	case HV_X64_MSR_SIMP: *value = s->simp; return 0;
	case HV_X64_MSR_EOM: *value = 0; return 0;   /* write-only trigger */
	default:
		if (msr >= HV_X64_MSR_SINT0 && msr <= HV_X64_MSR_SINT15) {
			*value = s->sint[msr - HV_X64_MSR_SINT0];
			return 0;
		}
		return -EPERM;
	}
}

static int write_hypercall(struct hv_msr_ctx *c, uint64_t value, uint32_t *effects)
{
	uint64_t old = c->pvtl->hypercall;
	uint64_t next = (value & ~HYPERCALL_RSVDP) | (old & HYPERCALL_RSVDP);

	if (old & HV_HYPERCALL_MSR_LOCKED)
		return -EPERM;          /* locked until the partition is reset */
	if (!c->pvtl->guest_os_id)
		next &= ~HV_HYPERCALL_MSR_ENABLE;   /* needs a guest OS ID first: enable is ignored */
	if ((next & HV_HYPERCALL_MSR_ENABLE) && !gpa_page_valid(c, next))
		return -EPERM;
	if ((next ^ old) & (HV_HYPERCALL_MSR_ENABLE | ~0xfffull))
		*effects |= HV_EFFECT_HYPERCALL_PAGE;
	c->pvtl->hypercall = next;
	return 0;
}

int hv_msr_write(struct hv_msr_ctx *c, uint32_t msr, uint64_t value, uint32_t *effects)
{
	struct hv_synic *s = &c->vpvtl->synic;

	*effects = 0;
	switch (msr) {
	case HV_X64_MSR_GUEST_OS_ID:
		if (!has(c, HV_PRIV_ACCESS_HYPERCALL_MSRS))
			return -EPERM;
		c->pvtl->guest_os_id = value;
		if (!value && (c->pvtl->hypercall & HV_HYPERCALL_MSR_ENABLE) &&
		    !(c->pvtl->hypercall & HV_HYPERCALL_MSR_LOCKED)) {
			/* Clearing the guest OS ID disables the hypercall page, unless it is locked. */
			c->pvtl->hypercall &= ~HV_HYPERCALL_MSR_ENABLE;
			*effects |= HV_EFFECT_HYPERCALL_PAGE;
		}
		return 0;
	case HV_X64_MSR_HYPERCALL:
		if (!has(c, HV_PRIV_ACCESS_HYPERCALL_MSRS))
			return -EPERM;
		return write_hypercall(c, value, effects);
	case HV_X64_MSR_RESET:
		if (!has(c, HV_PRIV_ACCESS_RESET))
			return -EPERM;
		if (value & 1)
			*effects |= HV_EFFECT_RESET;
		return 0;
	case HV_X64_MSR_REFERENCE_TSC:
		if (!has(c, HV_PRIV_ACCESS_PARTITION_REF_TSC))
			return -EPERM;
		return write_gpa_msr(c, &c->pvtl->reference_tsc, value, HV_EFFECT_REFERENCE_TSC, effects);
	case HV_X64_MSR_VP_ASSIST_PAGE:
		return write_gpa_msr(c, &c->vpvtl->vp_assist, value, HV_EFFECT_VP_ASSIST, effects);
	case HV_X64_MSR_VP_INDEX:
	case HV_X64_MSR_TIME_REF_COUNT:
	case HV_X64_MSR_TSC_FREQUENCY:
	case HV_X64_MSR_APIC_FREQUENCY:
		return -EPERM;          /* read-only */
	case HV_X64_MSR_EOI:
		if (!has(c, HV_PRIV_ACCESS_INTR_CTRL_REGS))
			return -EPERM;
		*effects |= HV_EFFECT_EOI;
		return 0;
	case HV_X64_MSR_ICR:
		/* x2APIC layout: 7:0 vector, 10:8 delivery mode (fixed only), 19:18 shorthand, 63:32 dest */
		if (!has(c, HV_PRIV_ACCESS_INTR_CTRL_REGS) || (value & 0x700) || (value & 0xff) < 16)
			return -EPERM;
		c->vpvtl->icr = value;
		*effects |= HV_EFFECT_ICR;
		return 0;
	case HV_X64_MSR_TPR:
		if (!has(c, HV_PRIV_ACCESS_INTR_CTRL_REGS) || value > 0xff)
			return -EPERM;
		c->vpvtl->tpr = (uint8_t)value;
		*effects |= HV_EFFECT_TPR;
		return 0;
	}
	if (!has(c, HV_PRIV_ACCESS_SYNIC_REGS))
		return -EPERM;
	switch (msr) {
	case HV_X64_MSR_SCONTROL:
		s->scontrol = (value & 1) | (s->scontrol & ~1ull);
		*effects |= HV_EFFECT_SINT;
		return 0;
	case HV_X64_MSR_SVERSION:
		return -EPERM;
	case HV_X64_MSR_SIEFP:
		return write_gpa_msr(c, &s->siefp, value, HV_EFFECT_SIEFP, effects);
	case HV_X64_MSR_SIMP:
		return write_gpa_msr(c, &s->simp, value, HV_EFFECT_SIMP, effects);
	case HV_X64_MSR_EOM:
		c->vpvtl->eom_count++;
		*effects |= HV_EFFECT_EOM;
		return 0;
	default:
		if (msr >= HV_X64_MSR_SINT0 && msr <= HV_X64_MSR_SINT15) {
			uint64_t *sint = &s->sint[msr - HV_X64_MSR_SINT0];
			if (!(value & HV_SINT_MASKED) && (value & SINT_VECTOR_MASK) < SINT_MIN_VECTOR)
				return -EPERM;
			*sint = (value & SINT_WRITABLE) | (*sint & ~SINT_WRITABLE);
			*effects |= HV_EFFECT_SINT;
			return 0;
		}
		return -EPERM;
	}
}
