/* SPDX-License-Identifier: MIT */
/* Small hypercalls: HvCallNotifyLongSpinWait and HvCallGetVpIndexFromApicId. */
#include "hypercall/calls.h"

#include <errno.h>
#include <string.h>

#include "partition/partition.h"
#include "vmm/log.h"

int hc_resolve_partition(const struct hc_env *env, uint64_t partition_id)
{
	if (partition_id == HV_PARTITION_ID_SELF || partition_id == env->p->id)
		return 0;
	return -ESRCH;
}

int hc_resolve_vtl(const struct hc_env *env, uint8_t input_vtl, uint8_t *vtl)
{
	uint8_t target;

	if (input_vtl & HV_INPUT_VTL_RESERVED)
		return -EINVAL;
	if (!(input_vtl & HV_INPUT_VTL_USE_TARGET)) {
		if (input_vtl & HV_INPUT_VTL_TARGET_MASK)
			return -EINVAL;
		*vtl = env->vtl;
		return 0;
	}
	target = input_vtl & HV_INPUT_VTL_TARGET_MASK;
	if (target >= HV_MAX_VTL)
		return -EINVAL;
	if (target > env->vtl)
		return -EACCES;          /* a lower VTL never reaches a higher VTL's state */
	if (!part_vtl_enabled(env->p, target))
		return -ENOTRECOVERABLE;
	*vtl = target;
	return 0;
}

/* Input: u32 SpinCount, u32 reserved. A notification only: hvrun counts it per VP. */
static int notify_long_spin_wait(struct hc_args *a)
{
	struct hc_env *env = a->env;
	uint32_t spins;

	struct part_vp *pvp = part_vp_of(env->exit->vp);

	memcpy(&spins, a->in, sizeof(spins));
	pvp->spin_waits++;
	vmm_trace("vp%u HvCallNotifyLongSpinWait spin_count=%u (notification %llu on this VP)",
		  pvp->vp.index, spins, (unsigned long long)pvp->spin_waits);
	return 0;
}

const struct hc_call hc_call_notify_long_spin_wait = {
	.code = HVCALL_NOTIFY_LONG_SPIN_WAIT,
	.name = "HvCallNotifyLongSpinWait",
	.in_size = 8,
	.fn = notify_long_spin_wait,
};

/* Input: u64 PartitionId, HV_INPUT_VTL, 7 reserved; rep u32 ApicId -> rep u32 VpIndex. */
static int get_vp_index_from_apic_id(struct hc_args *a)
{
	struct hc_env *env = a->env;
	uint64_t partition_id;
	uint8_t vtl;
	int ret;

	memcpy(&partition_id, a->in, 8);
	ret = hc_resolve_partition(env, partition_id);
	if (ret)
		return ret;
	ret = hc_resolve_vtl(env, a->in[8], &vtl);
	if (ret)
		return ret;
	for (; a->reps_done < a->ctl->rep_count; a->reps_done++) {
		uint32_t apic, index;
		memcpy(&apic, a->in + 16 + 4u * a->reps_done, 4);
		ret = part_vp_index_from_apic_id(env->p, apic, &index);
		if (ret)
			return ret;
		memcpy(a->out + 4u * a->reps_done, &index, 4);
	}
	return 0;
}

const struct hc_call hc_call_get_vp_index_from_apic_id = {
	.code = HVCALL_GET_VP_INDEX_FROM_APIC_ID,
	.name = "HvCallGetVpIndexFromApicId",
	.rep = true,
	.in_size = 16,
	.rep_in_size = 4,
	.rep_out_size = 4,
	.fn = get_vp_index_from_apic_id,
};
