/* SPDX-License-Identifier: MIT */
/*
 * Pure translation of a KVM exit (struct kvm_run + sync regs) into TLFS intercept messages: the
 * message depends only on the kvm_run contents and the context (a segment memo only saves work).
 */
#ifndef VMM_DECODE_H
#define VMM_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "hv/message.h"

/*
 * A VP's segments rarely change between exits: the last KVM segment seen in each of the three
 * positions every port exit carries (CS, DS, ES) and its TLFS form, so that a repeat costs one
 * comparison instead of packing eight attribute fields. The answer never depends on it.
 */
enum { VMM_SEG_MEMO_CS, VMM_SEG_MEMO_DS, VMM_SEG_MEMO_ES, VMM_SEG_MEMO_COUNT };

struct vmm_segment_memo {            /* zero-initialised is valid */
	struct kvm_segment raw[VMM_SEG_MEMO_COUNT];
	struct hv_x64_segment packed[VMM_SEG_MEMO_COUNT];
};

struct vmm_decode_ctx {
	uint32_t vp_index;
	uint8_t vtl;
	uint64_t sender;          /* header.sender: hvrun puts the partition id here */
	/*
	 * Optional: classify an MMIO exit's GPA. Returns true when the GPA is backed by guest memory
	 * that the accessing VTL may not use (a GpaIntercept), false when nothing is mapped there
	 * (UnmappedGpa). NULL means every MMIO exit is UnmappedGpa.
	 */
	int (*gpa_is_protected)(void *opaque, uint64_t gpa);
	void *opaque;
	struct vmm_segment_memo *memo;   /* optional; owned by the VP's thread */
};

/* How many messages the exit in `run` turns into (elements of a string port access, else 1). */
uint32_t vmm_decode_count(const struct kvm_run *run);

/*
 * Build message `index` (< vmm_decode_count) of the exit. `run` must hold sync regs (REGS and
 * SREGS valid). Returns 0, or -EINVAL when the kvm_run contents are inconsistent (data area
 * outside the `run_size` bytes mapped).
 */
int vmm_decode_exit(const struct kvm_run *run, size_t run_size, const struct vmm_decode_ctx *ctx,
		    uint32_t index, struct hv_message *msg);

/* The TLFS segment attribute word for a KVM segment. */
uint16_t vmm_segment_attributes(const struct kvm_segment *seg);
/* The TLFS execution-state word (CPL, PE, AM, LMA, VTL, ...) for the given state. */
uint16_t vmm_execution_state(const struct kvm_regs *regs, const struct kvm_sregs *sregs, uint8_t vtl);

#endif /* VMM_DECODE_H */
