/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the synthetic MSR rules (hv_msr_read / hv_msr_write in src/hv/msr.c) as sequences
 * of reads and writes from a guest, under fuzzed privileges, RAM size and private memory.
 *
 * Input: a 16-byte context header, then 12-byte operations {op, selector, index16, value64}.
 * Invariants checked after every operation (the TLFS rules hvrun documents in docs/msrs.md):
 *   - results are 0 or -EPERM (#GP); a read or a refused write changes nothing and has no effect;
 *   - only known effect bits; RESET only from a RESET write with bit 0;
 *   - an enabled GPA-page MSR (hypercall, reference TSC, VP assist, SIMP, SIEFP) names a page of
 *     RAM or of the private memory; an unmasked SINT has a vector >= 16;
 *   - an enabled, unlocked hypercall page implies a non-zero guest OS ID; once locked, the
 *     HYPERCALL MSR never changes again;
 *   - an MSR whose privilege is not advertised always raises #GP.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/hv.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t known[] = {
	HV_X64_MSR_GUEST_OS_ID, HV_X64_MSR_HYPERCALL, HV_X64_MSR_VP_INDEX, HV_X64_MSR_RESET,
	HV_X64_MSR_VP_RUNTIME, HV_X64_MSR_TIME_REF_COUNT, HV_X64_MSR_REFERENCE_TSC,
	HV_X64_MSR_TSC_FREQUENCY, HV_X64_MSR_APIC_FREQUENCY, HV_X64_MSR_EOI, HV_X64_MSR_ICR,
	HV_X64_MSR_TPR, HV_X64_MSR_VP_ASSIST_PAGE, HV_X64_MSR_SCONTROL, HV_X64_MSR_SVERSION,
	HV_X64_MSR_SIEFP, HV_X64_MSR_SIMP, HV_X64_MSR_EOM, HV_X64_MSR_SIRBP, HV_X64_MSR_SINT0,
	HV_X64_MSR_SINT0 + 1, HV_X64_MSR_SINT0 + 7, HV_X64_MSR_SINT15, HV_X64_MSR_SINT15 + 1,
	HV_X64_MSR_STIMER0_CONFIG, HV_X64_MSR_GUEST_IDLE, HV_X64_MSR_CRASH_P0, HV_X64_MSR_CRASH_CTL,
	HV_SYNTHETIC_MSR_FIRST + HV_SYNTHETIC_MSR_COUNT - 1, 0x40000004u, 0x3fffffffu, 0x40000200u,
};

#define ALL_EFFECTS (HV_EFFECT_HYPERCALL_PAGE | HV_EFFECT_REFERENCE_TSC | HV_EFFECT_SIMP | \
		     HV_EFFECT_SIEFP | HV_EFFECT_EOM | HV_EFFECT_RESET | HV_EFFECT_VP_ASSIST | \
		     HV_EFFECT_EOI | HV_EFFECT_ICR | HV_EFFECT_TPR | HV_EFFECT_SINT)

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static int page_valid(const struct hv_msr_ctx *c, uint64_t msr_value)
{
	uint64_t gpfn = msr_value >> 12, first = c->private_base >> 12;

	return gpfn < (c->ram_size >> 12) || (gpfn >= first && gpfn - first < (c->private_size >> 12));
}

static void check_state(const struct hv_msr_ctx *c)
{
	const struct hv_partition_vtl *pv = c->pvtl;
	const struct hv_vp_vtl *vv = c->vpvtl;

	if (pv->hypercall & HV_HYPERCALL_MSR_ENABLE)
		CHECK(page_valid(c, pv->hypercall));
	if ((pv->hypercall & HV_HYPERCALL_MSR_ENABLE) && !(pv->hypercall & HV_HYPERCALL_MSR_LOCKED))
		CHECK(pv->guest_os_id != 0);
	if (pv->reference_tsc & 1)
		CHECK(page_valid(c, pv->reference_tsc));
	if (vv->vp_assist & 1)
		CHECK(page_valid(c, vv->vp_assist));
	if (vv->synic.simp & 1)
		CHECK(page_valid(c, vv->synic.simp));
	if (vv->synic.siefp & 1)
		CHECK(page_valid(c, vv->synic.siefp));
	for (unsigned i = 0; i < HV_SINT_COUNT; i++)
		if (!(vv->synic.sint[i] & HV_SINT_MASKED))
			CHECK((vv->synic.sint[i] & 0xff) >= 16);
}

/* Which privilege (CPUID 0x40000003.EAX bit) an MSR needs; 0 if none. */
static uint32_t needed_priv(uint32_t msr)
{
	switch (msr) {
	case HV_X64_MSR_GUEST_OS_ID:
	case HV_X64_MSR_HYPERCALL: return HV_PRIV_ACCESS_HYPERCALL_MSRS;
	case HV_X64_MSR_VP_INDEX: return HV_PRIV_ACCESS_VP_INDEX;
	case HV_X64_MSR_RESET: return HV_PRIV_ACCESS_RESET;
	case HV_X64_MSR_TIME_REF_COUNT: return HV_PRIV_ACCESS_PARTITION_REF_COUNT;
	case HV_X64_MSR_REFERENCE_TSC: return HV_PRIV_ACCESS_PARTITION_REF_TSC;
	case HV_X64_MSR_TSC_FREQUENCY:
	case HV_X64_MSR_APIC_FREQUENCY: return HV_PRIV_ACCESS_FREQUENCY_REGS;
	case HV_X64_MSR_VP_ASSIST_PAGE: return 0;
	case HV_X64_MSR_EOI:
	case HV_X64_MSR_ICR:
	case HV_X64_MSR_TPR: return HV_PRIV_ACCESS_INTR_CTRL_REGS;
	default:
		if (msr >= HV_X64_MSR_SCONTROL && msr <= HV_X64_MSR_SINT15)
			return HV_PRIV_ACCESS_SYNIC_REGS;
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv_partition_vtl pv;
	struct hv_vp_vtl vv;
	struct hv_features f;
	struct hv_msr_ctx c;
	bool locked = false;
	uint64_t locked_value = 0;

	if (size < 16)
		return 0;
	hv_features_get(&f, data[0] & 1);
	if (data[0] & 2)                       /* drop some privileges (bits 15:0 of CPUID 0x40000003.EAX) */
		f.priv_eax &= ~(uint32_t)(data[1] | data[2] << 8);
	hv_partition_vtl_reset(&pv);
	hv_vp_vtl_reset(&vv);
	c = (struct hv_msr_ctx){
		.pvtl = &pv, .vpvtl = &vv, .features = &f,
		.vp_index = data[3],
		.ram_size = (uint64_t)(data[4] | data[5] << 8) << 12,
		.private_base = data[6] & 1 ? 0xC0000000ull : 0,
		.private_size = data[6] & 1 ? (uint64_t)(data[7] + 1) << 12 : 0,
		.tsc_hz = data[6] & 2 ? 0 : 2500000000ull,
		.apic_hz = data[6] & 4 ? 200000000ull : 0,
		.ref_time = get64(data + 8),
	};
	data += 16;
	size -= 16;

	for (; size >= 12; data += 12, size -= 12) {
		uint8_t op = data[0], sel = data[1];
		uint16_t idx = (uint16_t)(data[2] | data[3] << 8);
		uint64_t value = get64(data + 4), got = 0xdead;
		uint32_t msr = sel < 0x80 ? known[sel % (sizeof(known) / sizeof(known[0]))] :
			       sel < 0xf0 ? HV_SYNTHETIC_MSR_FIRST + (idx & 0x1ff) : (uint32_t)idx << 16 | sel;
		struct hv_partition_vtl pv_before = pv;
		struct hv_vp_vtl vv_before = vv;
		uint32_t effects = 0xffffffffu;
		int ret;

		if (op & 1) {
			ret = hv_msr_write(&c, msr, value, &effects);
			CHECK(ret == 0 || ret == -EPERM);
			if (ret) {
				CHECK(effects == 0);
				CHECK(!memcmp(&pv, &pv_before, sizeof(pv)) && !memcmp(&vv, &vv_before, sizeof(vv)));
			} else {
				CHECK(!(effects & ~ALL_EFFECTS));
				if (effects & HV_EFFECT_RESET)
					CHECK(msr == HV_X64_MSR_RESET && (value & 1));
				if (msr == HV_X64_MSR_GUEST_OS_ID)
					CHECK(pv.guest_os_id == value);
				if (msr == HV_X64_MSR_SCONTROL)
					CHECK((vv.synic.scontrol & 1) == (value & 1));
			}
			if (msr == HV_X64_MSR_HYPERCALL && locked)
				CHECK(ret == -EPERM);
		} else {
			ret = hv_msr_read(&c, msr, &got);
			CHECK(ret == 0 || ret == -EPERM);
			CHECK(!memcmp(&pv, &pv_before, sizeof(pv)) && !memcmp(&vv, &vv_before, sizeof(vv)));
			if (ret)
				CHECK(got == 0);
			else if (msr == HV_X64_MSR_VP_INDEX)
				CHECK(got == c.vp_index);
			else if (msr == HV_X64_MSR_HYPERCALL)
				CHECK(got == pv.hypercall);
			else if (msr == HV_X64_MSR_TIME_REF_COUNT)
				CHECK(got == c.ref_time);
		}
		if (needed_priv(msr) && (f.priv_eax & needed_priv(msr)) != needed_priv(msr))
			CHECK(ret == -EPERM);
		if (msr < HV_SYNTHETIC_MSR_FIRST || msr >= HV_SYNTHETIC_MSR_FIRST + HV_SYNTHETIC_MSR_COUNT)
			CHECK(ret == -EPERM);
		if (locked)
			CHECK(pv.hypercall == locked_value);
		if (pv.hypercall & HV_HYPERCALL_MSR_LOCKED) {
			locked = true;
			locked_value = pv.hypercall;
		}
		check_state(&c);
	}
	return 0;
}
