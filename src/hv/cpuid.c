/* SPDX-License-Identifier: MIT */
/* The Hyper-V CPUID leaves, advertising exactly what hvrun implements (docs/cpuid.md). */
#include "hv/cpuid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hv/tlfs.h"

#define CPUID_HYPERVISOR_BIT (1u << 31)
#define HV_LEAF_COUNT 7u
#define HV_SPIN_RETRIES 0x1000u

const struct kvm_cpuid_entry2 *hv_cpuid_find(const struct kvm_cpuid2 *c, uint32_t function)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == function && c->entries[i].index == 0)
			return &c->entries[i];
	return NULL;
}

static void put_leaf(struct kvm_cpuid2 *c, uint32_t fn, uint32_t a, uint32_t b, uint32_t cx, uint32_t d)
{
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){
		.function = fn, .index = 0, .flags = 0, .eax = a, .ebx = b, .ecx = cx, .edx = d,
	};
}

int hv_cpuid_build(const struct kvm_cpuid2 *base, const struct hv_cpuid_config *cfg,
		   struct kvm_cpuid2 **out)
{
	char vendor[12] = { 0 };
	const char *vid = cfg->vendor_id ? cfg->vendor_id : "Microsoft Hv";
	const struct hv_features *f = cfg->features;
	struct kvm_cpuid2 *c;
	uint32_t sig[3];

	if (!base || !f || strlen(vid) > sizeof(vendor) || base->nent > 4096)
		return -EINVAL;
	memcpy(vendor, vid, strlen(vid));
	memcpy(sig, vendor, sizeof(sig));

	c = calloc(1, sizeof(*c) + (base->nent + HV_LEAF_COUNT) * sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	for (uint32_t i = 0; i < base->nent; i++) {
		struct kvm_cpuid_entry2 e = base->entries[i];
		if (e.function >= 0x40000000u && e.function <= 0x4fffffffu)
			continue;       /* KVM's own paravirt leaves: hvrun is a Hyper-V, not a KVM */
		if (e.function == 1)
			e.ecx |= CPUID_HYPERVISOR_BIT;
		c->entries[c->nent++] = e;
	}
	put_leaf(c, HV_CPUID_VENDOR_AND_MAX, HV_CPUID_MAX_LEAF, sig[0], sig[1], sig[2]);
	put_leaf(c, HV_CPUID_INTERFACE, HV_CPUID_INTERFACE_HV1, 0, 0, 0);
	put_leaf(c, HV_CPUID_VERSION, HV_HVRUN_BUILD, HV_HVRUN_MAJOR << 16 | HV_HVRUN_MINOR, 0, 0);
	put_leaf(c, HV_CPUID_FEATURES, f->priv_eax, f->priv_ebx, f->ecx, f->edx);
	put_leaf(c, HV_CPUID_ENLIGHTENMENT, f->recommendations, HV_SPIN_RETRIES, 0, 0);
	put_leaf(c, HV_CPUID_LIMITS, cfg->max_vps ? cfg->max_vps : HV_CPUID_MAX_VPS, cfg->max_lps, 0, 0);
	/* No hardware assists are in use on hvrun's software path: nothing to report. */
	put_leaf(c, HV_CPUID_HW_FEATURES, 0, 0, 0, 0);
	*out = c;
	return 0;
}
