/* SPDX-License-Identifier: MIT */
/* Pure translation of a KVM exit (struct kvm_run + sync regs) into TLFS intercept messages. */
#ifndef VMM_DECODE_H
#define VMM_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "hv/message.h"

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
