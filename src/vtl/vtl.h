/* SPDX-License-Identifier: MIT */
/*
 * Virtual Secure Mode on plain KVM: enabling VTL1 (a KVM VM of its own per VTL), VTL call and
 * return, VTL protections enforced through memory slots, secure intercepts delivered to VTL1,
 * and the VSM registers. Everything is reached through the router (hypercalls, GpaIntercept).
 */
#ifndef VTL_VTL_H
#define VTL_VTL_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "hv/message.h"
#include "hypercall/hc.h"
#include "vmm/router.h"

struct partition;

/* HvRegisterVsmPartitionConfig bits hvrun implements (the bits: hv/tlfs.h). */
#define HV_VSM_CONFIG_SUPPORTED \
	(HV_VSM_CONFIG_ENABLE_VTL_PROTECTION | HV_VSM_CONFIG_DEFAULT_MASK | \
	 HV_VSM_CONFIG_ZERO_MEMORY_ON_RESET | HV_VSM_CONFIG_DENY_LOWER_VTL_STARTUP | \
	 HV_VSM_CONFIG_INTERCEPT_PAGE)

/* HV_MAP_GPA_FLAGS that ModifyVtlProtectionMask accepts (the flags: hv/tlfs.h). */
#define HV_MAP_GPA_SUPPORTED  (HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE | HV_MAP_GPA_KX | HV_MAP_GPA_UX)

/* An HV_INITIAL_VP_CONTEXT as KVM register state (also HvCallStartVirtualProcessor's). */
void vtl_context_to_kvm(const struct hv_initial_vp_context *c, struct kvm_regs *regs, struct kvm_sregs *sregs);

/* HvCallEnablePartitionVtl: the partition gets VTL `target` (its KVM VM). The loader uses it too. */
int vtl_enable_partition(struct partition *p, uint8_t caller_vtl, uint64_t partition_id,
			 uint8_t target_vtl, uint8_t flags);
/* HvCallEnableVpVtl: the VP gets a vCPU in VTL `target` at the initial context. */
int vtl_enable_vp(struct partition *p, uint8_t caller_vtl, uint32_t caller_vp, uint64_t partition_id,
		  uint32_t vp_index, uint8_t target_vtl, const struct hv_initial_vp_context *ctx);
/* Set the protection of VTL0 pages (the rules of HvCallModifyVtlProtectionMask). *done = pages set. */
int vtl_modify_protection(struct partition *p, uint8_t caller_vtl, uint64_t partition_id, uint32_t flags,
			  uint8_t input_vtl, const uint64_t *gpfns, unsigned count, unsigned *done);

/* VtlCall / VtlReturn from the hypercall page (the hypercall service routes them here). */
int vtl_call_or_return(struct partition *p, const struct vmm_exit *exit, uint16_t code,
		       struct vmm_reply *reply);

struct part_vp;
/* Make `vtl` the VP's active VTL after this exit, with `entry_reason` in its VP assist page. */
int vtl_enter(struct partition *p, struct part_vp *pvp, uint8_t vtl, uint32_t entry_reason);

/* VSM registers for Get/SetVpRegisters by `pvp`: -ENOENT if `name` is not one of them. */
int vtl_register_get(struct partition *p, struct part_vp *pvp, uint8_t caller_vtl, uint8_t target_vtl,
		     uint32_t name, uint64_t *low, uint64_t *high);
int vtl_register_set(struct partition *p, struct part_vp *pvp, uint8_t caller_vtl, uint8_t target_vtl,
		     uint32_t name, uint64_t low, uint64_t high);

/* Check an HV_MAP_GPA_FLAGS value and turn it into the view's protection bits (pure). */
int vtl_map_flags_to_prot(uint32_t flags, uint8_t *prot);

extern const struct hc_call hc_call_modify_vtl_protection_mask;
extern const struct hc_call hc_call_enable_partition_vtl;
extern const struct hc_call hc_call_enable_vp_vtl;

#endif /* VTL_VTL_H */
