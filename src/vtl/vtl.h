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

/* HV_VP_VTL_CONTROL inside the VP assist page. */
#define HV_VP_ASSIST_ENTRY_REASON   0x08u
#define HV_VP_ASSIST_VINA_STATUS    0x0Cu
#define HV_VP_ASSIST_RETURN_RAX     0x10u
#define HV_VP_ASSIST_RETURN_RCX     0x18u
#define HV_VP_ASSIST_INTERCEPT_MSG  0x70u

#define HV_VTL_ENTRY_RESERVED  0u
#define HV_VTL_ENTRY_VTL_CALL  1u
#define HV_VTL_ENTRY_INTERRUPT 2u
#define HV_VTL_ENTRY_INTERCEPT 3u

/* HvRegisterVsmPartitionConfig bits hvrun implements. */
#define HV_VSM_CONFIG_ENABLE_VTL_PROTECTION   (1ull << 0)
#define HV_VSM_CONFIG_DEFAULT_MASK_SHIFT      1
#define HV_VSM_CONFIG_DEFAULT_MASK            (0xfull << 1)
#define HV_VSM_CONFIG_ZERO_MEMORY_ON_RESET    (1ull << 5)
#define HV_VSM_CONFIG_DENY_LOWER_VTL_STARTUP  (1ull << 6)
#define HV_VSM_CONFIG_INTERCEPT_PAGE          (1ull << 12)
#define HV_VSM_CONFIG_SUPPORTED \
	(HV_VSM_CONFIG_ENABLE_VTL_PROTECTION | HV_VSM_CONFIG_DEFAULT_MASK | \
	 HV_VSM_CONFIG_ZERO_MEMORY_ON_RESET | HV_VSM_CONFIG_DENY_LOWER_VTL_STARTUP | \
	 HV_VSM_CONFIG_INTERCEPT_PAGE)

/* VSM register names (reached through HvCallGet/SetVpRegisters). */
#define HV_REG_PENDING_EVENT0          0x00010004u
#define HV_REG_VSM_CODE_PAGE_OFFSETS   0x000D0002u
#define HV_REG_VSM_VP_STATUS           0x000D0003u
#define HV_REG_VSM_PARTITION_STATUS    0x000D0004u
#define HV_REG_VSM_CAPABILITIES        0x000D0006u
#define HV_REG_VSM_PARTITION_CONFIG    0x000D0007u

/* VsmCapabilities (Microsoft's code bit order): 27 intercept page available. */
#define HV_VSM_CAP_INTERCEPT_PAGE (1ull << 27)

/* HV_MAP_GPA_FLAGS that ModifyVtlProtectionMask accepts. */
#define HV_MAP_GPA_READABLE   0x1u
#define HV_MAP_GPA_WRITABLE   0x2u
#define HV_MAP_GPA_KX         0x4u
#define HV_MAP_GPA_UX         0x8u
#define HV_MAP_GPA_SUPPORTED  0xfu

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
