/* SPDX-License-Identifier: MIT */
/*
 * SynIC hypercalls between VPs and partitions: HvCallPostMessage, HvCallSignalEvent, and
 * HvCallStartVirtualProcessor (secondary VPs start from an HV_INITIAL_VP_CONTEXT, as on Hyper-V).
 */
#include "hypercall/calls.h"

#include <errno.h>
#include <string.h>

#include "hv/hv.h"
#include "partition/config.h"
#include "partition/partition.h"
#include "vmm/log.h"
#include "vtl/vtl.h"

/* HV_INPUT_POST_MESSAGE */
struct hc_post_message {
	uint32_t connection_id;
	uint32_t reserved;
	uint32_t message_type;
	uint32_t payload_size;
	uint8_t payload[HV_MESSAGE_PAYLOAD_SIZE];
};
_Static_assert(sizeof(struct hc_post_message) == 256, "HV_INPUT_POST_MESSAGE");

/* HV_INPUT_SIGNAL_EVENT */
struct hc_signal_event {
	uint32_t connection_id;
	uint16_t flag_number;
	uint16_t reserved;
};
_Static_assert(sizeof(struct hc_signal_event) == 8, "HV_INPUT_SIGNAL_EVENT");

/* The connection `id` this partition may use, and where it leads; -ENOTCONN if none. */
static int find_connection(struct partition *p, uint32_t id, struct partition **to,
			   const struct part_connection **conn)
{
	const struct part_fabric *f = p->cfg.fabric;

	if (!f)
		return -ENOTCONN;
	for (unsigned i = 0; i < f->nconn; i++) {
		const struct part_connection *c = &f->conn[i];
		if (c->id != id || c->from >= f->nparts || f->parts[c->from] != p)
			continue;
		if (c->to >= f->nparts || !f->parts[c->to])
			return -ENOTCONN;
		*to = f->parts[c->to];
		*conn = c;
		return 0;
	}
	return -ENOTCONN;
}

static int post_message(struct hc_args *a)
{
	struct hc_env *env = a->env;
	const struct part_connection *conn;
	struct hc_post_message in;
	struct hv_message msg;
	struct partition *to;
	struct part_vp *target;
	int ret;

	memcpy(&in, a->in, sizeof(in));
	if (!(env->p->hv.features.priv_ebx & HV_PRIV_POST_MESSAGES))
		return -EACCES;
	if (in.reserved || (in.message_type & HVMSG_HYPERVISOR_MASK) || in.message_type == HVMSG_NONE ||
	    in.payload_size > HV_MESSAGE_PAYLOAD_SIZE)
		return -EINVAL;
	ret = find_connection(env->p, in.connection_id, &to, &conn);
	if (ret)
		return ret;
	target = part_vp_get(to, conn->vp, NULL);
	if (!target)
		return -ECHILD;
	memset(&msg, 0, sizeof(msg));
	msg.header.message_type = in.message_type;
	msg.header.payload_size = (uint8_t)in.payload_size;
	msg.header.sender = in.connection_id;     /* the port the message arrives on */
	memcpy(msg.payload.bytes, in.payload, in.payload_size);
	ret = hv_synic_post(to, target, 0, conn->sint, &msg);
	if (ret == -EPROTO)
		return -EPROTO;          /* the receiver has no SIM page: INVALID_SYNIC_STATE */
	if (ret == -ENOBUFS)
		return -ENOBUFS;         /* slot and queue full: INSUFFICIENT_BUFFERS */
	return ret < 0 ? ret : 0;
}

const struct hc_call hc_call_post_message = {
	.code = HVCALL_POST_MESSAGE,
	.name = "HvCallPostMessage",
	.in_size = sizeof(struct hc_post_message),
	.fn = post_message,
};

static int signal_event(struct hc_args *a)
{
	struct hc_env *env = a->env;
	const struct part_connection *conn;
	struct hc_signal_event in;
	struct partition *to;
	struct part_vp *target;
	int ret;

	memcpy(&in, a->in, sizeof(in));
	if (!(env->p->hv.features.priv_ebx & HV_PRIV_SIGNAL_EVENTS))
		return -EACCES;
	if (in.reserved)
		return -EINVAL;
	ret = find_connection(env->p, in.connection_id, &to, &conn);
	if (ret)
		return ret;
	/* FlagNumber is relative to the connection's base flag and must stay inside the array. */
	if ((unsigned)conn->flag_base + in.flag_number >= 2048)
		return -EINVAL;
	target = part_vp_get(to, conn->vp, NULL);
	if (!target)
		return -ECHILD;
	ret = hv_synic_signal(to, target, 0, conn->sint, conn->flag_base + in.flag_number);
	return ret < 0 ? ret : 0;
}

const struct hc_call hc_call_signal_event = {
	.code = HVCALL_SIGNAL_EVENT,
	.name = "HvCallSignalEvent",
	.in_size = sizeof(struct hc_signal_event),
	.fn = signal_event,
};

/* Input: u64 PartitionId, u32 VpIndex, u8 TargetVtl, 3 reserved, HV_INITIAL_VP_CONTEXT. */
static int start_virtual_processor(struct hc_args *a)
{
	struct hc_env *env = a->env;
	struct hv_initial_vp_context ctx;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint64_t partition_id;
	uint32_t vp_index;
	int ret;

	memcpy(&partition_id, a->in, 8);
	memcpy(&vp_index, a->in + 8, 4);
	memcpy(&ctx, a->in + 16, sizeof(ctx));
	if (!(env->p->hv.features.priv_ebx & HV_PRIV_START_VIRTUAL_PROCESSOR))
		return -EACCES;
	if (partition_id != HV_PARTITION_ID_SELF && partition_id != env->p->id)
		return -ESRCH;
	if (a->in[13] || a->in[14] || a->in[15])
		return -EINVAL;
	if (a->in[12] != 0)
		return -EINVAL;          /* secondary VPs start in VTL0 (VTL1 uses HvCallEnableVpVtl) */
	if (vp_index >= env->p->nvps)
		return -ECHILD;
	vtl_context_to_kvm(&ctx, &regs, &sregs);
	ret = part_vp_start(env->p, vp_index, &regs, &sregs, ctx.msr_cr_pat);
	if (ret == 0)
		vmm_trace("vp%u HvCallStartVirtualProcessor: VP %u starts at RIP %#llx", env->exit->vp->index,
			  vp_index, (unsigned long long)ctx.rip);
	return ret;
}

const struct hc_call hc_call_start_virtual_processor = {
	.code = HVCALL_START_VIRTUAL_PROCESSOR,
	.name = "HvCallStartVirtualProcessor",
	.in_size = 16 + sizeof(struct hv_initial_vp_context),
	.fn = start_virtual_processor,
};
