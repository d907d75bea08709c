/* SPDX-License-Identifier: MIT */
/* The boot contract: hvrun's reserved area (GDT, TSS, page tables, boot info, stack) and initial VP state. */
#ifndef PART_BOOT_H
#define PART_BOOT_H

#include <stdint.h>

#include <linux/kvm.h>

#include "partition/mem.h"

struct part_boot_params {
	uint64_t entry;
	uint64_t image_base;
	uint64_t image_end;
	uint64_t tsc_hz;
	uint32_t vp_index;
	const char *cmdline;     /* may be NULL */
};

/* Writes GDT, TSS, identity-map page tables and the boot information block into RAM. */
int part_boot_write(struct part_mem *mem, const struct part_boot_params *params);

/*
 * Fills the initial 64-bit state: long mode, CPL0, flat segments, IF=0, paging on,
 * RSP = HVRUN_STACK_TOP, RDI = boot info GPA. `sregs` should hold the vCPU's reset state.
 */
void part_boot_regs(const struct part_boot_params *params, struct kvm_regs *regs,
		    struct kvm_sregs *sregs);

/* 64-bit code, data and TSS descriptors as KVM segments (also used for VTL initial contexts). */
void part_boot_flat_segments(struct kvm_sregs *sregs);

/*
 * The same reserved layout (GDT/TSS, identity-map page tables) at `base` inside mem: the loader
 * builds VTL1's copy at the start of its private memory. The tables still map the low 4 GiB.
 */
int part_boot_write_tables(struct part_mem *mem, uint64_t base);
void part_boot_flat_segments_at(struct kvm_sregs *sregs, uint64_t base);
/* Long mode, paging on with the tables at base (CR0/CR3/CR4/EFER and flat segments). */
void part_boot_long_mode(struct kvm_sregs *sregs, uint64_t base);

#endif /* PART_BOOT_H */
