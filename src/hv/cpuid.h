/* SPDX-License-Identifier: MIT */
/* Builds the CPUID table a partition sees: KVM's supported leaves plus the Hyper-V leaves. */
#ifndef HV_CPUID_H
#define HV_CPUID_H

#include <stdint.h>

#include <linux/kvm.h>

#include "hv/hv.h"

#define HV_CPUID_MAX_VPS 64u

struct hv_cpuid_config {
	const char *vendor_id;           /* NULL: "Microsoft Hv"; at most 12 characters */
	const struct hv_features *features;
	uint32_t max_vps;
	uint32_t max_lps;
};

/* Version reported in 0x40000002 (hvrun's own). */
#define HV_HVRUN_BUILD 1u
#define HV_HVRUN_MAJOR 0u
#define HV_HVRUN_MINOR 1u

/*
 * *out = base without any hypervisor leaves (0x40000000-0x4fffffff), with CPUID.1:ECX[31] set
 * and the Hyper-V leaves 0x40000000-0x40000006 added. The caller frees *out.
 */
int hv_cpuid_build(const struct kvm_cpuid2 *base, const struct hv_cpuid_config *cfg,
		   struct kvm_cpuid2 **out);
/* The entry for (function, index 0) in a table, or NULL. */
const struct kvm_cpuid_entry2 *hv_cpuid_find(const struct kvm_cpuid2 *c, uint32_t function);

#endif /* HV_CPUID_H */
