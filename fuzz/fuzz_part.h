/* SPDX-License-Identifier: MIT */
/*
 * A partition for the fuzz targets, built without KVM the way tests/unit/test_devices.c builds
 * one, but complete enough for every service: RAM and VTL1 private memory (malloc'd, exact
 * sizes), VTL0's view and optionally VTL1's (vm == NULL: slot changes stay in the bookkeeping),
 * one or two VPs whose vCPUs are /dev/null descriptors (every vCPU ioctl fails with ENOTTY, as a
 * vCPU that KVM refuses would) with fabricated kvm_run areas, the full service list, and a
 * SynIC "fabric" whose connections 1 and 2 lead back into the same partition.
 *
 * It depends on struct partition's layout (src/partition/partition.h): when that changes, this
 * file is the one to adapt.
 */
#ifndef FUZZ_PART_H
#define FUZZ_PART_H

#include <stdbool.h>
#include <stdint.h>

#include "partition/config.h"
#include "partition/partition.h"

#define FUZZ_RAM_SIZE   (2ull << 20)      /* HVRUN_MEM_MIN */
#define FUZZ_VTL1_SIZE  (256ull << 10)
#define FUZZ_RUN_SIZE   12288u            /* what KVM_GET_VCPU_MMAP_SIZE says on x86 */
#define FUZZ_MAX_VPS    2u

struct fuzz_part {
	struct partition *p;
	struct vmm_kvm kvm;              /* fd -1: creating a VM or reading CPUID fails */
	uint8_t *ram, *vtl1;
	struct kvm_run *run[FUZZ_MAX_VPS][HV_MAX_VTL];
	FILE *console;
	struct part_fabric fabric;
	struct partition *fabric_parts[1];
	struct part_connection conn[2];
};

struct fuzz_part_opts {
	unsigned nvps;                   /* 1 or 2 */
	bool vtl1;                       /* VTL1 enabled for the partition (its VM and view) */
	bool vtl1_vcpu;                  /* ... and VP0 has a VTL1 vCPU (VtlCall works) */
	bool hypercall_page;             /* guest OS ID set and hypercall page enabled in each VTL */
	bool protection;                 /* VTL1 turned VTL protection on (default mask RWX) */
};

int fuzz_part_init(struct fuzz_part *fp, const struct fuzz_part_opts *o);
void fuzz_part_fini(struct fuzz_part *fp);

/* State a VTL0 caller must never be able to change. */
struct fuzz_vtl1_state {
	uint8_t vtl1_mem[FUZZ_VTL1_SIZE];
	uint8_t prot0[FUZZ_RAM_SIZE / 4096];
	uint64_t vsm_config[HV_MAX_VTL];
	struct hv_partition_vtl hv1;
	struct hv_vp_vtl vp_hv1[FUZZ_MAX_VPS];
};

void fuzz_vtl1_save(const struct fuzz_part *fp, struct fuzz_vtl1_state *s);
/*
 * Aborts if VTL1's memory, VTL0's protections, the VSM configuration or VTL1's synthetic state
 * changed since fuzz_vtl1_save(). With skip_assist, VTL1's enabled VP assist pages are left out:
 * a VTL0 *exit* may legitimately write the intercept message there (docs/vsm.md, Intercepts).
 */
void fuzz_vtl1_check(const struct fuzz_part *fp, struct fuzz_vtl1_state *s, bool skip_assist);

/* A flat 64-bit CPL0 register state in run (as hvrun boots a guest). */
void fuzz_run_reset(struct kvm_run *run);

#endif /* FUZZ_PART_H */
