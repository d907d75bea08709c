/* SPDX-License-Identifier: MIT */
/* Unit tests for the synthetic MSR rules: read-back, reserved bits, read-only, #GP cases, effects and privileges. */
#include "hv/hv.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define RAM_SIZE   0x1000000ull                 /* 16 MiB: GPFNs 0x0..0xfff */
#define LAST_GPFN  ((RAM_SIZE >> 12) - 1)
#define OS_ID      0x8100000000000000ull        /* Linux, as the TLFS encodes it */
#define TSC_HZ     2500000000ull
#define APIC_HZ    200000000ull
#define REF_TIME   0x123456789ull
#define VP_INDEX   3u
#define EFFECTS_GARBAGE 0xdeadbeefu

struct fx {
	struct hv_partition_vtl pvtl;
	struct hv_vp_vtl vpvtl;
	struct hv_features features;
	struct hv_msr_ctx c;
};

static void fx_init(struct fx *f, bool vsm)
{
	memset(f, 0, sizeof(*f));
	hv_partition_vtl_reset(&f->pvtl);
	hv_vp_vtl_reset(&f->vpvtl);
	hv_features_get(&f->features, vsm);
	f->c = (struct hv_msr_ctx){
		.pvtl = &f->pvtl, .vpvtl = &f->vpvtl, .features = &f->features,
		.vp_index = VP_INDEX, .ram_size = RAM_SIZE, .tsc_hz = TSC_HZ, .apic_hz = APIC_HZ,
		.ref_time = REF_TIME,
	};
}

static uint64_t rd(struct fx *f, uint32_t msr)
{
	uint64_t v = 0xfeedfacecafebeefull;

	assert_int_equal(hv_msr_read(&f->c, msr, &v), 0);
	return v;
}

/* A successful write; returns the effects it reported. */
static uint32_t wr(struct fx *f, uint32_t msr, uint64_t value)
{
	uint32_t effects = EFFECTS_GARBAGE;

	assert_int_equal(hv_msr_write(&f->c, msr, value, &effects), 0);
	return effects;
}

static int wr_err(struct fx *f, uint32_t msr, uint64_t value)
{
	uint32_t effects = 0;

	return hv_msr_write(&f->c, msr, value, &effects);
}

static int rd_err(struct fx *f, uint32_t msr)
{
	uint64_t v;

	return hv_msr_read(&f->c, msr, &v);
}

/* ---- reset values ---- */

static void test_reset_values(void **state)
{
	struct hv_vp_vtl v;
	struct hv_partition_vtl p;

	(void)state;
	memset(&v, 0xa5, sizeof(v));
	hv_vp_vtl_reset(&v);
	assert_int_equal(v.vp_assist, 0);
	assert_int_equal(v.synic.scontrol, 0);
	assert_int_equal(v.synic.siefp, 0);
	assert_int_equal(v.synic.simp, 0);
	assert_int_equal(v.synic.sirbp, 0);
	assert_int_equal(v.eom_count, 0);
	for (unsigned i = 0; i < HV_SINT_COUNT; i++)
		assert_int_equal(v.synic.sint[i], 0x10000);

	memset(&p, 0xa5, sizeof(p));
	hv_partition_vtl_reset(&p);
	assert_int_equal(p.guest_os_id, 0);
	assert_int_equal(p.hypercall, 0);
	assert_int_equal(p.reference_tsc, 0);
}

/* ---- GUEST_OS_ID ---- */

static void test_guest_os_id_readback(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	assert_int_equal(rd(&f, HV_X64_MSR_GUEST_OS_ID), 0);
	assert_int_equal(wr(&f, HV_X64_MSR_GUEST_OS_ID, OS_ID), 0);
	assert_int_equal(rd(&f, HV_X64_MSR_GUEST_OS_ID), OS_ID);
	assert_int_equal(f.pvtl.guest_os_id, OS_ID);
	/* every bit is kept */
	assert_int_equal(wr(&f, HV_X64_MSR_GUEST_OS_ID, ~0ull), 0);
	assert_int_equal(rd(&f, HV_X64_MSR_GUEST_OS_ID), ~0ull);
	/* zeroing with the hypercall page disabled has no effect to carry out */
	assert_int_equal(wr(&f, HV_X64_MSR_GUEST_OS_ID, 0), 0);
	assert_int_equal(rd(&f, HV_X64_MSR_GUEST_OS_ID), 0);
}

static void test_guest_os_id_zero_disables_hypercall_page(void **state)
{
	struct fx f;
	uint64_t hc = (0x123ull << 12) | HV_HYPERCALL_MSR_ENABLE;

	(void)state;
	fx_init(&f, false);
	wr(&f, HV_X64_MSR_GUEST_OS_ID, OS_ID);
	assert_int_equal(wr(&f, HV_X64_MSR_HYPERCALL, hc), HV_EFFECT_HYPERCALL_PAGE);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), hc);

	/* a non-zero -> non-zero change keeps the page */
	assert_int_equal(wr(&f, HV_X64_MSR_GUEST_OS_ID, OS_ID + 1), 0);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), hc);

	assert_int_equal(wr(&f, HV_X64_MSR_GUEST_OS_ID, 0), HV_EFFECT_HYPERCALL_PAGE);
	/* enable cleared, the GPFN is kept */
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), hc & ~HV_HYPERCALL_MSR_ENABLE);
	assert_int_equal(rd(&f, HV_X64_MSR_GUEST_OS_ID), 0);
}

/* ---- HYPERCALL ---- */

static void test_hypercall_enable_needs_guest_os_id(void **state)
{
	struct fx f;
	uint64_t gpa = 0x200ull << 12;

	(void)state;
	fx_init(&f, false);
	/* enable ignored while the guest OS ID is 0; the GPFN is still stored */
	assert_int_equal(wr(&f, HV_X64_MSR_HYPERCALL, gpa | HV_HYPERCALL_MSR_ENABLE), HV_EFFECT_HYPERCALL_PAGE);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), gpa);
	/* same value again: enable still ignored, nothing changed, no effect */
	assert_int_equal(wr(&f, HV_X64_MSR_HYPERCALL, gpa | HV_HYPERCALL_MSR_ENABLE), 0);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), gpa);

	wr(&f, HV_X64_MSR_GUEST_OS_ID, OS_ID);
	assert_int_equal(wr(&f, HV_X64_MSR_HYPERCALL, gpa | HV_HYPERCALL_MSR_ENABLE), HV_EFFECT_HYPERCALL_PAGE);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), gpa | HV_HYPERCALL_MSR_ENABLE);
}

static void test_hypercall_gpfn_readback_and_effects(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	wr(&f, HV_X64_MSR_GUEST_OS_ID, OS_ID);
	assert_int_equal(wr(&f, HV_X64_MSR_HYPERCALL, (LAST_GPFN << 12) | 1), HV_EFFECT_HYPERCALL_PAGE);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), (LAST_GPFN << 12) | 1);
	/* rewriting the same value: no effect */
	assert_int_equal(wr(&f, HV_X64_MSR_HYPERCALL, (LAST_GPFN << 12) | 1), 0);
	/* moving: effect */
	assert_int_equal(wr(&f, HV_X64_MSR_HYPERCALL, (0x10ull << 12) | 1), HV_EFFECT_HYPERCALL_PAGE);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), (0x10ull << 12) | 1);
	/* disabling: effect */
	assert_int_equal(wr(&f, HV_X64_MSR_HYPERCALL, 0x10ull << 12), HV_EFFECT_HYPERCALL_PAGE);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), 0x10ull << 12);
	/* changing only reserved bits is no change at all */
	assert_int_equal(wr(&f, HV_X64_MSR_HYPERCALL, (0x10ull << 12) | 0xffc), 0);
}

static void test_hypercall_reserved_bits_preserved(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	wr(&f, HV_X64_MSR_GUEST_OS_ID, OS_ID);
	/* bits 11:2 are RsvdP: writing ones reads back the old value (0) */
	wr(&f, HV_X64_MSR_HYPERCALL, (0x42ull << 12) | 0xffc | 1);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), (0x42ull << 12) | 1);
	/* a non-zero old reserved value survives a write of zeros there */
	f.pvtl.hypercall = (0x42ull << 12) | 0x554 | 1;
	wr(&f, HV_X64_MSR_HYPERCALL, (0x43ull << 12) | 0xaa8 | 1);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), (0x43ull << 12) | 0x554 | 1);
}

static void test_hypercall_locked(void **state)
{
	struct fx f;
	uint64_t locked = (0x80ull << 12) | HV_HYPERCALL_MSR_LOCKED | HV_HYPERCALL_MSR_ENABLE;

	(void)state;
	fx_init(&f, false);
	wr(&f, HV_X64_MSR_GUEST_OS_ID, OS_ID);
	assert_int_equal(wr(&f, HV_X64_MSR_HYPERCALL, locked), HV_EFFECT_HYPERCALL_PAGE);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), locked);
	/* any further write #GPs and leaves the value alone */
	assert_int_equal(wr_err(&f, HV_X64_MSR_HYPERCALL, 0), -EPERM);
	assert_int_equal(wr_err(&f, HV_X64_MSR_HYPERCALL, (0x81ull << 12) | 3), -EPERM);
	assert_int_equal(wr_err(&f, HV_X64_MSR_HYPERCALL, locked), -EPERM);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), locked);

	/* locking an already enabled page changes neither enable nor GPFN: no effect */
	fx_init(&f, false);
	wr(&f, HV_X64_MSR_GUEST_OS_ID, OS_ID);
	assert_int_equal(wr(&f, HV_X64_MSR_HYPERCALL, locked & ~HV_HYPERCALL_MSR_LOCKED), HV_EFFECT_HYPERCALL_PAGE);
	assert_int_equal(wr(&f, HV_X64_MSR_HYPERCALL, locked), 0);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), locked);
	assert_int_equal(wr_err(&f, HV_X64_MSR_HYPERCALL, 0), -EPERM);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), locked);
}

static void test_hypercall_gpfn_outside_ram(void **state)
{
	struct fx f;
	uint64_t good = (0x10ull << 12) | 1;

	(void)state;
	fx_init(&f, false);
	wr(&f, HV_X64_MSR_GUEST_OS_ID, OS_ID);
	wr(&f, HV_X64_MSR_HYPERCALL, good);
	assert_int_equal(wr_err(&f, HV_X64_MSR_HYPERCALL, (RAM_SIZE) | 1), -EPERM);
	assert_int_equal(wr_err(&f, HV_X64_MSR_HYPERCALL, (0xfffffffffffffull << 12) | 1), -EPERM);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), good);
	/* the last page of RAM is fine */
	wr(&f, HV_X64_MSR_HYPERCALL, (LAST_GPFN << 12) | 1);
	assert_int_equal(rd(&f, HV_X64_MSR_HYPERCALL), (LAST_GPFN << 12) | 1);
}

/* ---- read-only MSRs ---- */

static void test_vp_index(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	assert_int_equal(rd(&f, HV_X64_MSR_VP_INDEX), VP_INDEX);
	f.c.vp_index = 0;
	assert_int_equal(rd(&f, HV_X64_MSR_VP_INDEX), 0);
	assert_int_equal(wr_err(&f, HV_X64_MSR_VP_INDEX, 0), -EPERM);
	assert_int_equal(wr_err(&f, HV_X64_MSR_VP_INDEX, 7), -EPERM);
}

static void test_time_ref_count(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	assert_int_equal(rd(&f, HV_X64_MSR_TIME_REF_COUNT), REF_TIME);
	f.c.ref_time = 0;
	assert_int_equal(rd(&f, HV_X64_MSR_TIME_REF_COUNT), 0);
	assert_int_equal(wr_err(&f, HV_X64_MSR_TIME_REF_COUNT, 0), -EPERM);
	assert_int_equal(wr_err(&f, HV_X64_MSR_TIME_REF_COUNT, 12345), -EPERM);
}

static void test_frequencies(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	assert_int_equal(rd(&f, HV_X64_MSR_TSC_FREQUENCY), TSC_HZ);
	assert_int_equal(rd(&f, HV_X64_MSR_APIC_FREQUENCY), APIC_HZ);
	assert_int_equal(wr_err(&f, HV_X64_MSR_TSC_FREQUENCY, TSC_HZ), -EPERM);
	assert_int_equal(wr_err(&f, HV_X64_MSR_APIC_FREQUENCY, APIC_HZ), -EPERM);
	assert_int_equal(rd(&f, HV_X64_MSR_TSC_FREQUENCY), TSC_HZ);
	/* an unknown TSC rate cannot be reported: #GP rather than 0 */
	f.c.tsc_hz = 0;
	assert_int_equal(rd_err(&f, HV_X64_MSR_TSC_FREQUENCY), -EPERM);
	assert_int_equal(rd(&f, HV_X64_MSR_APIC_FREQUENCY), APIC_HZ);
}

/* ---- REFERENCE_TSC ---- */

static void test_reference_tsc(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	assert_int_equal(rd(&f, HV_X64_MSR_REFERENCE_TSC), 0);
	/* enable does not need the guest OS ID */
	assert_int_equal(wr(&f, HV_X64_MSR_REFERENCE_TSC, (0x33ull << 12) | 1), HV_EFFECT_REFERENCE_TSC);
	assert_int_equal(rd(&f, HV_X64_MSR_REFERENCE_TSC), (0x33ull << 12) | 1);
	assert_int_equal(wr(&f, HV_X64_MSR_REFERENCE_TSC, (0x33ull << 12) | 1), 0);
	/* 11:1 RsvdP */
	assert_int_equal(wr(&f, HV_X64_MSR_REFERENCE_TSC, (0x33ull << 12) | 0xffe | 1), 0);
	assert_int_equal(rd(&f, HV_X64_MSR_REFERENCE_TSC), (0x33ull << 12) | 1);
	f.pvtl.reference_tsc = (0x33ull << 12) | 0x2aa | 1;
	wr(&f, HV_X64_MSR_REFERENCE_TSC, (0x34ull << 12) | 1);
	assert_int_equal(rd(&f, HV_X64_MSR_REFERENCE_TSC), (0x34ull << 12) | 0x2aa | 1);
	/* outside RAM with enable: #GP, unchanged */
	assert_int_equal(wr_err(&f, HV_X64_MSR_REFERENCE_TSC, RAM_SIZE | 1), -EPERM);
	assert_int_equal(rd(&f, HV_X64_MSR_REFERENCE_TSC), (0x34ull << 12) | 0x2aa | 1);
	/* disabling: effect; a disabled page may name any GPFN */
	assert_int_equal(wr(&f, HV_X64_MSR_REFERENCE_TSC, 0x34ull << 12), HV_EFFECT_REFERENCE_TSC);
	assert_int_equal(rd(&f, HV_X64_MSR_REFERENCE_TSC), (0x34ull << 12) | 0x2aa);
	assert_int_equal(wr(&f, HV_X64_MSR_REFERENCE_TSC, RAM_SIZE), HV_EFFECT_REFERENCE_TSC);
	assert_int_equal(rd(&f, HV_X64_MSR_REFERENCE_TSC), RAM_SIZE | 0x2aa);
}

/* ---- VP_ASSIST_PAGE ---- */

static void test_vp_assist_page(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	assert_int_equal(rd(&f, HV_X64_MSR_VP_ASSIST_PAGE), 0);
	assert_int_equal(wr(&f, HV_X64_MSR_VP_ASSIST_PAGE, (0x77ull << 12) | 1), HV_EFFECT_VP_ASSIST);
	assert_int_equal(rd(&f, HV_X64_MSR_VP_ASSIST_PAGE), (0x77ull << 12) | 1);
	assert_int_equal(f.vpvtl.vp_assist, (0x77ull << 12) | 1);
	assert_int_equal(wr(&f, HV_X64_MSR_VP_ASSIST_PAGE, (0x77ull << 12) | 0xffe | 1), 0);
	assert_int_equal(rd(&f, HV_X64_MSR_VP_ASSIST_PAGE), (0x77ull << 12) | 1);
	assert_int_equal(wr_err(&f, HV_X64_MSR_VP_ASSIST_PAGE, (LAST_GPFN + 1) << 12 | 1), -EPERM);
	assert_int_equal(rd(&f, HV_X64_MSR_VP_ASSIST_PAGE), (0x77ull << 12) | 1);
	assert_int_equal(wr(&f, HV_X64_MSR_VP_ASSIST_PAGE, 0), HV_EFFECT_VP_ASSIST);
	assert_int_equal(rd(&f, HV_X64_MSR_VP_ASSIST_PAGE), 0);
}

/* ---- RESET ---- */

static void test_reset_msr(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	assert_int_equal(rd(&f, HV_X64_MSR_RESET), 0);
	assert_int_equal(wr(&f, HV_X64_MSR_RESET, 0), 0);
	assert_int_equal(wr(&f, HV_X64_MSR_RESET, 1), HV_EFFECT_RESET);
	assert_int_equal(wr(&f, HV_X64_MSR_RESET, 2), 0);
	assert_int_equal(rd(&f, HV_X64_MSR_RESET), 0);
}

/* ---- SynIC ---- */

static void test_scontrol(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	assert_int_equal(rd(&f, HV_X64_MSR_SCONTROL), 0);
	/* SCONTROL changes whether pending SINTs may interrupt: the service rechecks them */
	assert_int_equal(wr(&f, HV_X64_MSR_SCONTROL, 1), HV_EFFECT_SINT);
	assert_int_equal(rd(&f, HV_X64_MSR_SCONTROL), 1);
	/* 63:1 reserved: only bit 0 is writable */
	wr(&f, HV_X64_MSR_SCONTROL, ~0ull & ~1ull);
	assert_int_equal(rd(&f, HV_X64_MSR_SCONTROL), 0);
	wr(&f, HV_X64_MSR_SCONTROL, ~0ull);
	assert_int_equal(rd(&f, HV_X64_MSR_SCONTROL), 1);
}

static void test_sversion(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	assert_int_equal(rd(&f, HV_X64_MSR_SVERSION), 1);
	assert_int_equal(wr_err(&f, HV_X64_MSR_SVERSION, 1), -EPERM);
	assert_int_equal(wr_err(&f, HV_X64_MSR_SVERSION, 2), -EPERM);
	assert_int_equal(rd(&f, HV_X64_MSR_SVERSION), 1);
}

/* reg_off: where the register lives inside struct fx */
static void check_synic_page_msr(uint32_t msr, uint32_t effect, size_t reg_off)
{
	struct fx f;
	uint64_t *reg = (uint64_t *)((uint8_t *)&f + reg_off);

	fx_init(&f, false);
	assert_int_equal(rd(&f, msr), 0);
	assert_int_equal(wr(&f, msr, (0x99ull << 12) | 1), effect);
	assert_int_equal(rd(&f, msr), (0x99ull << 12) | 1);
	assert_int_equal(*reg, (0x99ull << 12) | 1);
	assert_int_equal(wr(&f, msr, (0x99ull << 12) | 1), 0);
	/* 11:1 RsvdP */
	assert_int_equal(wr(&f, msr, (0x99ull << 12) | 0xffe | 1), 0);
	assert_int_equal(rd(&f, msr), (0x99ull << 12) | 1);
	/* beyond RAM with enable: #GP and unchanged */
	assert_int_equal(wr_err(&f, msr, RAM_SIZE | 1), -EPERM);
	assert_int_equal(rd(&f, msr), (0x99ull << 12) | 1);
	/* moving and disabling report the effect */
	assert_int_equal(wr(&f, msr, (0x9aull << 12) | 1), effect);
	assert_int_equal(wr(&f, msr, 0x9aull << 12), effect);
	assert_int_equal(rd(&f, msr), 0x9aull << 12);
}

static void test_siefp_simp(void **state)
{
	(void)state;
	check_synic_page_msr(HV_X64_MSR_SIEFP, HV_EFFECT_SIEFP, offsetof(struct fx, vpvtl.synic.siefp));
	check_synic_page_msr(HV_X64_MSR_SIMP, HV_EFFECT_SIMP, offsetof(struct fx, vpvtl.synic.simp));
}

static void test_eom(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	assert_int_equal(rd(&f, HV_X64_MSR_EOM), 0);
	assert_int_equal(wr(&f, HV_X64_MSR_EOM, 0), HV_EFFECT_EOM);
	assert_int_equal(f.vpvtl.eom_count, 1);
	assert_int_equal(wr(&f, HV_X64_MSR_EOM, 0x1234), HV_EFFECT_EOM);
	assert_int_equal(f.vpvtl.eom_count, 2);
	assert_int_equal(rd(&f, HV_X64_MSR_EOM), 0);
}

static void test_sint_rules(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	for (uint32_t i = 0; i < HV_SINT_COUNT; i++) {
		uint32_t msr = HV_X64_MSR_SINT0 + i;
		uint64_t before;

		assert_int_equal(rd(&f, msr), 0x10000);
		/* unmasked vector below 16: #GP, unchanged */
		for (uint64_t vec = 0; vec < 16; vec++) {
			assert_int_equal(wr_err(&f, msr, vec), -EPERM);
			assert_int_equal(wr_err(&f, msr, vec | HV_SINT_AUTO_EOI), -EPERM);
		}
		assert_int_equal(rd(&f, msr), 0x10000);
		/* masked, vector below 16: accepted */
		assert_int_equal(wr(&f, msr, HV_SINT_MASKED | 5), HV_EFFECT_SINT);
		assert_int_equal(rd(&f, msr), HV_SINT_MASKED | 5);
		/* vector >= 16 unmasked, one per SINT so a wrong index shows */
		assert_int_equal(wr(&f, msr, 0x20 + i), HV_EFFECT_SINT);
		assert_int_equal(rd(&f, msr), 0x20 + i);
		assert_int_equal(wr(&f, msr, 16), HV_EFFECT_SINT);
		assert_int_equal(rd(&f, msr), 16);
		assert_int_equal(wr(&f, msr, 0xff | HV_SINT_AUTO_EOI), HV_EFFECT_SINT);
		assert_int_equal(rd(&f, msr), 0xff | HV_SINT_AUTO_EOI);
		/* polling (18) is not offered, and bits above are reserved: not writable */
		before = rd(&f, msr);
		assert_int_equal(wr(&f, msr, (0x30 + i) | HV_SINT_POLLING | (0xffffull << 48) | 0xff00ull), HV_EFFECT_SINT);
		assert_int_equal(rd(&f, msr), 0x30 + i);
		assert_int_not_equal(before, 0x30 + i);
		wr(&f, msr, (0x40 + i) | HV_SINT_MASKED);
	}
	/* each SINT kept its own value */
	for (uint32_t i = 0; i < HV_SINT_COUNT; i++) {
		assert_int_equal(rd(&f, HV_X64_MSR_SINT0 + i), (0x40 + i) | HV_SINT_MASKED);
		assert_int_equal(f.vpvtl.synic.sint[i], (0x40 + i) | HV_SINT_MASKED);
	}
	/* an unmasked low vector #GPs even when bit 16 was set before */
	assert_int_equal(wr_err(&f, HV_X64_MSR_SINT15, 3), -EPERM);
	assert_int_equal(rd(&f, HV_X64_MSR_SINT15), (0x40 + 15) | HV_SINT_MASKED);
}

/* SINT and SCONTROL writes report only HV_EFFECT_SINT (pending SINTs are rechecked). */
static void test_sint_writes_report_no_effect(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	assert_int_equal(wr(&f, HV_X64_MSR_SINT0 + 2, 0x50), HV_EFFECT_SINT);
	assert_int_equal(wr(&f, HV_X64_MSR_SCONTROL, 1), HV_EFFECT_SINT);
}

/* EOI (write-only), ICR and TPR: the interrupt controller registers behind AccessIntrCtrlRegs. */
static void test_interrupt_msrs(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	assert_true(f.features.priv_eax & HV_PRIV_ACCESS_INTR_CTRL_REGS);
	assert_int_equal(rd_err(&f, HV_X64_MSR_EOI), -EPERM);
	assert_int_equal(wr(&f, HV_X64_MSR_EOI, 0), HV_EFFECT_EOI);
	assert_int_equal(wr(&f, HV_X64_MSR_ICR, 0x100000030ull), HV_EFFECT_ICR);
	assert_int_equal(rd(&f, HV_X64_MSR_ICR), 0x100000030ull);
	assert_int_equal(wr_err(&f, HV_X64_MSR_ICR, 0x10000000full), -EPERM);   /* vector < 16 */
	assert_int_equal(wr_err(&f, HV_X64_MSR_ICR, 0x430), -EPERM);            /* not fixed delivery */
	assert_int_equal(rd(&f, HV_X64_MSR_ICR), 0x100000030ull);
	assert_int_equal(wr(&f, HV_X64_MSR_TPR, 0x40), HV_EFFECT_TPR);
	assert_int_equal(rd(&f, HV_X64_MSR_TPR), 0x40);
	assert_int_equal(wr_err(&f, HV_X64_MSR_TPR, 0x100), -EPERM);
	f.features.priv_eax &= ~HV_PRIV_ACCESS_INTR_CTRL_REGS;
	assert_int_equal(wr_err(&f, HV_X64_MSR_EOI, 0), -EPERM);
	assert_int_equal(rd_err(&f, HV_X64_MSR_TPR), -EPERM);
}

/* ---- unknown MSRs ---- */

static void test_unknown_msrs(void **state)
{
	static const uint32_t unknown[] = {
		0x40000004, 0x40000005, 0x4000000f, HV_X64_MSR_VP_RUNTIME, 0x40000011, 0x40000024,
		0x40000074, HV_X64_MSR_SIRBP,
		0x40000086, 0x4000008f, 0x400000a0, HV_X64_MSR_STIMER0_CONFIG, 0x400000b1, 0x400000b7,
		HV_X64_MSR_GUEST_IDLE, 0x400000ff, HV_X64_MSR_CRASH_P0, HV_X64_MSR_CRASH_CTL, 0x400001ff,
		0x3fffffff, 0x40000200, 0x10,
	};
	struct fx f;

	(void)state;
	fx_init(&f, true);
	wr(&f, HV_X64_MSR_SCONTROL, 1);
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		struct fx before;
		uint64_t v = 0x5555;

		memcpy(&before, &f, sizeof(f));
		assert_int_equal(hv_msr_read(&f.c, unknown[i], &v), -EPERM);
		assert_int_equal(wr_err(&f, unknown[i], 0), -EPERM);
		assert_int_equal(wr_err(&f, unknown[i], 0x1001), -EPERM);
		/* nothing changed */
		assert_memory_equal(&before.pvtl, &f.pvtl, sizeof(f.pvtl));
		assert_memory_equal(&before.vpvtl, &f.vpvtl, sizeof(f.vpvtl));
	}
}

/* ---- privileges ---- */

struct gated {
	uint32_t msr;
	uint32_t priv_eax;          /* the privilege that grants it */
	bool writable;
	uint64_t value;             /* a valid value to write */
};

static const struct gated gated_msrs[] = {
	{ HV_X64_MSR_GUEST_OS_ID, HV_PRIV_ACCESS_HYPERCALL_MSRS, true, OS_ID },
	{ HV_X64_MSR_HYPERCALL, HV_PRIV_ACCESS_HYPERCALL_MSRS, true, 0x5000 },
	{ HV_X64_MSR_VP_INDEX, HV_PRIV_ACCESS_VP_INDEX, false, 0 },
	{ HV_X64_MSR_RESET, HV_PRIV_ACCESS_RESET, true, 0 },
	{ HV_X64_MSR_TIME_REF_COUNT, HV_PRIV_ACCESS_PARTITION_REF_COUNT, false, 0 },
	{ HV_X64_MSR_REFERENCE_TSC, HV_PRIV_ACCESS_PARTITION_REF_TSC, true, 0x6001 },
	{ HV_X64_MSR_TSC_FREQUENCY, HV_PRIV_ACCESS_FREQUENCY_REGS, false, 0 },
	{ HV_X64_MSR_APIC_FREQUENCY, HV_PRIV_ACCESS_FREQUENCY_REGS, false, 0 },
	{ HV_X64_MSR_SCONTROL, HV_PRIV_ACCESS_SYNIC_REGS, true, 1 },
	{ HV_X64_MSR_SVERSION, HV_PRIV_ACCESS_SYNIC_REGS, false, 0 },
	{ HV_X64_MSR_SIEFP, HV_PRIV_ACCESS_SYNIC_REGS, true, 0x7001 },
	{ HV_X64_MSR_SIMP, HV_PRIV_ACCESS_SYNIC_REGS, true, 0x8001 },
	{ HV_X64_MSR_EOM, HV_PRIV_ACCESS_SYNIC_REGS, true, 0 },
	{ HV_X64_MSR_SINT0, HV_PRIV_ACCESS_SYNIC_REGS, true, 0x30 },
	{ HV_X64_MSR_SINT0 + 7, HV_PRIV_ACCESS_SYNIC_REGS, true, 0x31 },
	{ HV_X64_MSR_SINT15, HV_PRIV_ACCESS_SYNIC_REGS, true, 0x32 },
};

static void test_privilege_gating(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(gated_msrs) / sizeof(gated_msrs[0]); i++) {
		const struct gated *g = &gated_msrs[i];
		struct fx f, before;
		uint64_t v = 0x1234;

		/* with everything hvrun advertises, the MSR works */
		fx_init(&f, false);
		assert_int_equal(hv_msr_read(&f.c, g->msr, &v), 0);
		if (g->writable)
			assert_int_equal(wr_err(&f, g->msr, g->value), 0);

		/* without its privilege bit (everything else kept), #GP on both read and write */
		fx_init(&f, false);
		f.features.priv_eax &= ~g->priv_eax;
		memcpy(&before, &f, sizeof(f));
		assert_int_equal(hv_msr_read(&f.c, g->msr, &v), -EPERM);
		assert_int_equal(wr_err(&f, g->msr, g->value), -EPERM);
		assert_memory_equal(&before.pvtl, &f.pvtl, sizeof(f.pvtl));
		assert_memory_equal(&before.vpvtl, &f.vpvtl, sizeof(f.vpvtl));

		/* no privileges at all */
		fx_init(&f, false);
		f.features.priv_eax = 0;
		assert_int_equal(hv_msr_read(&f.c, g->msr, &v), -EPERM);
		assert_int_equal(wr_err(&f, g->msr, g->value), -EPERM);
	}
}

static void test_no_synic_privilege(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false);
	f.features.priv_eax &= ~HV_PRIV_ACCESS_SYNIC_REGS;
	for (uint32_t i = 0; i < HV_SINT_COUNT; i++) {
		assert_int_equal(rd_err(&f, HV_X64_MSR_SINT0 + i), -EPERM);
		assert_int_equal(wr_err(&f, HV_X64_MSR_SINT0 + i, 0x40), -EPERM);
		assert_int_equal(f.vpvtl.synic.sint[i], 0x10000);
	}
	assert_int_equal(rd_err(&f, HV_X64_MSR_SCONTROL), -EPERM);
	assert_int_equal(wr_err(&f, HV_X64_MSR_SCONTROL, 1), -EPERM);
	assert_int_equal(f.vpvtl.synic.scontrol, 0);
	assert_int_equal(wr_err(&f, HV_X64_MSR_EOM, 0), -EPERM);
	assert_int_equal(f.vpvtl.eom_count, 0);
	/* the other MSRs are unaffected */
	assert_int_equal(rd(&f, HV_X64_MSR_VP_INDEX), VP_INDEX);
	wr(&f, HV_X64_MSR_GUEST_OS_ID, OS_ID);
}

/* ---- hv_features_get: advertise exactly what is implemented ---- */

static void test_features_vsm(void **state)
{
	struct hv_features a, b;

	(void)state;
	memset(&a, 0xff, sizeof(a));
	memset(&b, 0xff, sizeof(b));
	hv_features_get(&a, false);
	hv_features_get(&b, true);
	assert_false(a.priv_ebx & HV_PRIV_ACCESS_VSM);
	assert_true(b.priv_ebx & HV_PRIV_ACCESS_VSM);
	/* TLFS vsm.md: VSM needs AccessVsm, AccessVpRegisters and AccessSynicRegs together */
	assert_true(b.priv_ebx & HV_PRIV_ACCESS_VP_REGISTERS);
	assert_true(b.priv_eax & HV_PRIV_ACCESS_SYNIC_REGS);
	/* VSM changes nothing else */
	assert_int_equal(a.priv_eax, b.priv_eax);
	assert_int_equal(a.priv_ebx | HV_PRIV_ACCESS_VSM, b.priv_ebx);
	assert_int_equal(a.ecx, b.ecx);
	assert_int_equal(a.edx, b.edx);
	assert_int_equal(a.recommendations, b.recommendations);
	/* XMM fast hypercalls are not offered (the engine takes RDX/R8 only) */
	assert_false(a.edx & (HV_FEATURE_XMM_HYPERCALL_INPUT | HV_FEATURE_XMM_HYPERCALL_OUTPUT));
	/* frequency MSRs are implemented: privilege and feature flag agree */
	assert_true(a.priv_eax & HV_PRIV_ACCESS_FREQUENCY_REGS);
	assert_true(a.edx & HV_FEATURE_FREQUENCY_MSRS);
	/* crash MSRs are not implemented */
	assert_false(a.edx & HV_FEATURE_GUEST_CRASH_MSRS);
}

/* Each privilege bit in 0x40000003.EAX and the MSRs it grants access to. */
struct priv_msrs {
	uint32_t bit;
	uint32_t msrs[4];
	unsigned n;
};

static const struct priv_msrs priv_map[] = {
	{ HV_PRIV_ACCESS_VP_RUNTIME, { HV_X64_MSR_VP_RUNTIME }, 1 },
	{ HV_PRIV_ACCESS_PARTITION_REF_COUNT, { HV_X64_MSR_TIME_REF_COUNT }, 1 },
	{ HV_PRIV_ACCESS_SYNIC_REGS, { HV_X64_MSR_SCONTROL, HV_X64_MSR_SVERSION, HV_X64_MSR_SIMP,
				       HV_X64_MSR_SINT0 }, 4 },
	{ HV_PRIV_ACCESS_SYNTHETIC_TIMERS, { HV_X64_MSR_STIMER0_CONFIG, 0x400000b1 }, 2 },
	/* EOI is write-only: covered by test_interrupt_msrs */
	{ HV_PRIV_ACCESS_INTR_CTRL_REGS, { HV_X64_MSR_ICR, HV_X64_MSR_TPR }, 2 },
	{ HV_PRIV_ACCESS_HYPERCALL_MSRS, { HV_X64_MSR_GUEST_OS_ID, HV_X64_MSR_HYPERCALL }, 2 },
	{ HV_PRIV_ACCESS_VP_INDEX, { HV_X64_MSR_VP_INDEX }, 1 },
	{ HV_PRIV_ACCESS_RESET, { HV_X64_MSR_RESET }, 1 },
	{ HV_PRIV_ACCESS_PARTITION_REF_TSC, { HV_X64_MSR_REFERENCE_TSC }, 1 },
	{ HV_PRIV_ACCESS_GUEST_IDLE, { HV_X64_MSR_GUEST_IDLE }, 1 },
	{ HV_PRIV_ACCESS_FREQUENCY_REGS, { HV_X64_MSR_TSC_FREQUENCY, HV_X64_MSR_APIC_FREQUENCY }, 2 },
};

static void check_advertised_exactly(bool vsm)
{
	struct fx f;
	uint32_t covered = 0;

	fx_init(&f, vsm);
	for (size_t i = 0; i < sizeof(priv_map) / sizeof(priv_map[0]); i++) {
		const struct priv_msrs *p = &priv_map[i];
		bool advertised = f.features.priv_eax & p->bit;

		covered |= p->bit;
		for (unsigned j = 0; j < p->n; j++) {
			uint64_t v;
			int ret = hv_msr_read(&f.c, p->msrs[j], &v);

			/* advertised -> readable; not advertised -> #GP */
			if (advertised)
				assert_int_equal(ret, 0);
			else
				assert_int_equal(ret, -EPERM);
		}
	}
	/* no privilege bit is advertised that the table above does not account for */
	assert_int_equal(f.features.priv_eax & ~covered, 0);
	/* EBX: only what the hypercall service implements: Get/SetVpRegisters, PostMessage,
	 * SignalEvent, StartVirtualProcessor, and AccessVsm */
	assert_int_equal(f.features.priv_ebx & ~(HV_PRIV_ACCESS_VP_REGISTERS | HV_PRIV_ACCESS_VSM |
						  HV_PRIV_POST_MESSAGES | HV_PRIV_SIGNAL_EVENTS |
						  HV_PRIV_START_VIRTUAL_PROCESSOR), 0);
}

static void test_features_advertise_exactly_what_is_implemented(void **state)
{
	(void)state;
	check_advertised_exactly(false);
	check_advertised_exactly(true);
}

/* ---- misc ---- */

static void test_write_clears_effects(void **state)
{
	struct fx f;
	uint32_t effects = EFFECTS_GARBAGE;

	(void)state;
	fx_init(&f, false);
	/* a failed write must not leave stale effects behind for the caller */
	assert_int_equal(hv_msr_write(&f.c, HV_X64_MSR_VP_INDEX, 1, &effects), -EPERM);
	assert_int_equal(effects, 0);
	effects = EFFECTS_GARBAGE;
	assert_int_equal(hv_msr_write(&f.c, HV_X64_MSR_GUEST_OS_ID, OS_ID, &effects), 0);
	assert_int_equal(effects, 0);
}

static void test_read_failure_zeroes_value(void **state)
{
	struct fx f;
	uint64_t v = 0x1111;

	(void)state;
	fx_init(&f, false);
	assert_int_equal(hv_msr_read(&f.c, 0x40000004, &v), -EPERM);
	assert_int_equal(v, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_values),
		cmocka_unit_test(test_guest_os_id_readback),
		cmocka_unit_test(test_guest_os_id_zero_disables_hypercall_page),
		cmocka_unit_test(test_hypercall_enable_needs_guest_os_id),
		cmocka_unit_test(test_hypercall_gpfn_readback_and_effects),
		cmocka_unit_test(test_hypercall_reserved_bits_preserved),
		cmocka_unit_test(test_hypercall_locked),
		cmocka_unit_test(test_hypercall_gpfn_outside_ram),
		cmocka_unit_test(test_vp_index),
		cmocka_unit_test(test_time_ref_count),
		cmocka_unit_test(test_frequencies),
		cmocka_unit_test(test_reference_tsc),
		cmocka_unit_test(test_vp_assist_page),
		cmocka_unit_test(test_reset_msr),
		cmocka_unit_test(test_scontrol),
		cmocka_unit_test(test_sversion),
		cmocka_unit_test(test_siefp_simp),
		cmocka_unit_test(test_eom),
		cmocka_unit_test(test_sint_rules),
		cmocka_unit_test(test_sint_writes_report_no_effect),
		cmocka_unit_test(test_interrupt_msrs),
		cmocka_unit_test(test_unknown_msrs),
		cmocka_unit_test(test_privilege_gating),
		cmocka_unit_test(test_no_synic_privilege),
		cmocka_unit_test(test_features_vsm),
		cmocka_unit_test(test_features_advertise_exactly_what_is_implemented),
		cmocka_unit_test(test_write_clears_effects),
		cmocka_unit_test(test_read_failure_zeroes_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
