/* SPDX-License-Identifier: MIT */
/* The hypercalls hvrun implements (one descriptor each) and the context their handlers run in. */
#ifndef HC_CALLS_H
#define HC_CALLS_H

#include <stdint.h>

#include "hypercall/hc.h"
#include "vmm/router.h"

struct partition;

/* What a handler may use: the partition, the calling VP's exit and state, the caller's VTL. */
struct hc_env {
	struct partition *p;
	const struct vmm_exit *exit;
	uint8_t vtl;
	struct vmm_reply *reply;     /* a handler may turn the reply into a stop (partition reset) */
};

/* Common input header of Get/SetVpRegisters (HV_INPUT_GET/SET_VP_REGISTERS). */
struct hc_vp_registers_header {
	uint64_t partition_id;
	uint32_t vp_index;
	uint8_t input_vtl;           /* HV_INPUT_VTL: 3:0 target VTL, 4 use target VTL, 7:5 reserved */
	uint8_t reserved[3];
};
_Static_assert(sizeof(struct hc_vp_registers_header) == 16, "Get/SetVpRegisters header");

/* HV_REGISTER_ASSOC, the rep element of SetVpRegisters. */
struct hc_register_assoc {
	uint32_t name;
	uint32_t reserved[3];
	struct hv_register_value value;
};
_Static_assert(sizeof(struct hc_register_assoc) == 32, "HV_REGISTER_ASSOC");

extern const struct hc_call hc_call_notify_long_spin_wait;
extern const struct hc_call hc_call_get_vp_index_from_apic_id;
extern const struct hc_call hc_call_get_vp_registers;
extern const struct hc_call hc_call_set_vp_registers;
extern const struct hc_call hc_call_post_message;
extern const struct hc_call hc_call_signal_event;
extern const struct hc_call hc_call_start_virtual_processor;

/*
 * Resolve the partition id (HV_PARTITION_ID_SELF or the caller's own id; -ESRCH otherwise) and an
 * HV_INPUT_VTL byte to the target VTL (-EINVAL reserved bits or no such VTL, -EACCES a VTL above
 * the caller's).
 */
int hc_resolve_partition(const struct hc_env *env, uint64_t partition_id);
int hc_resolve_vtl(const struct hc_env *env, uint8_t input_vtl, uint8_t *vtl);

/* Register access of Get/SetVpRegisters (vpregs.c): 0 or -errno as in hc.h. */
int hc_vp_register_get(struct hc_env *env, uint32_t vp_index, uint8_t vtl, uint32_t name,
		       struct hv_register_value *value);
int hc_vp_register_set(struct hc_env *env, uint32_t vp_index, uint8_t vtl, uint32_t name,
		       const struct hv_register_value *value);

#endif /* HC_CALLS_H */
