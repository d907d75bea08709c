/* SPDX-License-Identifier: MIT */
/* VTL1's own Hyper-V interface: hypercall page, VP assist page, SynIC message page and hypercalls. */
#include "sk.h"

#include "hypercall.h"
#include "io.h"
#include "string.h"

uint64_t sk_hc_hypercall, sk_hc_vtl_return;
uint64_t sk_hcpage_gpa, sk_assist_gpa, sk_simp_gpa;
volatile uint8_t *sk_assist;
volatile struct hv_message *sk_simp;
static uint8_t *hc_in, *hc_out;

/* A slow hypercall through VTL1's hypercall page: RCX control, RDX input GPA, R8 output GPA. */
static uint64_t hypercall(uint64_t control, uint64_t in_gpa, uint64_t out_gpa)
{
	return hv_page_call(sk_hc_hypercall, control, in_gpa, out_gpa);
}

void sk_hv_init_pages(void)
{
	uint8_t *page = sk_alloc_pages(1);
	uint64_t v;
	int vec;

	/* The hypercall page is an overlay: hvrun maps its own page over this GPA in VTL1's view. */
	sk_hcpage_gpa = (uintptr_t)page;
	sk_map_kernel_exec(sk_hcpage_gpa);
	hc_in = sk_alloc_pages(1);
	hc_out = sk_alloc_pages(1);
	vec = sk_wrmsr_checked(HV_X64_MSR_GUEST_OS_ID, SK_GUEST_OS_ID);
	if (!vec)
		vec = sk_wrmsr_checked(HV_X64_MSR_HYPERCALL, sk_hcpage_gpa | HV_HYPERCALL_MSR_ENABLE);
	if (vec)
		sk_fail("hypervisor refused VTL1's hypercall page at GPA %#lx (#GP): it must accept VTL1 "
			"private memory", sk_hcpage_gpa);
	v = rdmsr(HV_X64_MSR_HYPERCALL);
	if (!(v & HV_HYPERCALL_MSR_ENABLE) || (v & ~0xfffull) != sk_hcpage_gpa)
		sk_fail("hypercall MSR reads %#lx after enabling it at %#lx", v, sk_hcpage_gpa);
	/* Our own overlay: mov %cs,%eax opens every trampoline. */
	if (page[0] != 0x8c || page[1] != 0xc8)
		sk_fail("no hypercall page visible at %#lx (first bytes %02x %02x)", sk_hcpage_gpa, page[0],
			page[1]);
	sk_hc_hypercall = sk_hcpage_gpa;
	sk_log("guest OS ID %#lx, hypercall page at GPA %#lx (VTL1's own overlay)",
	       rdmsr(HV_X64_MSR_GUEST_OS_ID), sk_hcpage_gpa);

	sk_assist = sk_alloc_pages(1);
	sk_assist_gpa = (uintptr_t)sk_assist;
	if (sk_wrmsr_checked(HV_X64_MSR_VP_ASSIST_PAGE, sk_assist_gpa | 1))
		sk_fail("hypervisor refused VTL1's VP assist page at GPA %#lx (#GP)", sk_assist_gpa);
	sk_log("VP assist page at GPA %#lx (VP %u, VTL1 private)", sk_assist_gpa,
	       (unsigned)rdmsr(HV_X64_MSR_VP_INDEX));
}

uint16_t sk_get_vp_register(uint32_t name, struct sk_hv_reg *out)
{
	uint64_t r;

	memset(hc_in, 0, 32);
	*(uint64_t *)hc_in = HV_PARTITION_ID_SELF;
	*(uint32_t *)(hc_in + 8) = HV_VP_INDEX_SELF;
	*(uint32_t *)(hc_in + 16) = name;
	r = hypercall(hv_rep_control(HVCALL_GET_VP_REGISTERS, 1), (uintptr_t)hc_in, (uintptr_t)hc_out);
	memcpy(out, hc_out, sizeof(*out));
	return (uint16_t)r;
}

uint16_t sk_set_vp_register(uint32_t name, uint64_t value)
{
	memset(hc_in, 0, 48);
	*(uint64_t *)hc_in = HV_PARTITION_ID_SELF;
	*(uint32_t *)(hc_in + 8) = HV_VP_INDEX_SELF;
	*(uint32_t *)(hc_in + 16) = name;
	*(uint64_t *)(hc_in + 32) = value;
	return (uint16_t)hypercall(hv_rep_control(HVCALL_SET_VP_REGISTERS, 1), (uintptr_t)hc_in, 0);
}

/* HvCallModifyVtlProtectionMask for VTL0's pages; at most 510 page numbers fit in one call. */
uint16_t sk_modify_protection(uint32_t map_flags, const uint64_t *gpfns, unsigned count)
{
	const unsigned per_call = (SK_PAGE_SIZE - 16) / 8;

	while (count) {
		unsigned n = count < per_call ? count : per_call;
		uint64_t r;

		*(uint64_t *)hc_in = HV_PARTITION_ID_SELF;
		*(uint32_t *)(hc_in + 8) = map_flags;
		hc_in[12] = 0;                         /* HV_INPUT_VTL: our own VTL's protections */
		hc_in[13] = hc_in[14] = hc_in[15] = 0;
		memcpy(hc_in + 16, gpfns, n * 8u);
		r = hypercall(hv_rep_control(HVCALL_MODIFY_VTL_PROTECTION_MASK, n), (uintptr_t)hc_in, 0);
		if ((uint16_t)r)
			return (uint16_t)r;
		gpfns += n;
		count -= n;
	}
	return HV_STATUS_SUCCESS;
}
