/* SPDX-License-Identifier: MIT */
/* Unrecoverable VP events (triple fault, invalid state, KVM internal errors) stop with a report. */
#include "partition/partition.h"
#include "partition/services.h"
#include "vmm/exitcode.h"
#include "vmm/msg.h"

static int fault_handle(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	const struct hvrun_exit_ext *ext = vmm_msg_exit_ext(exit->msg);

	(void)opaque;
	reply->action = VMM_ACT_STOP;
	switch (exit->msg->header.message_type) {
	case HVMSG_UNRECOVERABLE_EXCEPTION:
		reply->status = HVRUN_EXIT_TRIPLE_FAULT;
		reply->reason = "triple fault (KVM_EXIT_SHUTDOWN)";
		break;
	case HVMSG_INVALID_VP_REGISTER_VALUE:
		reply->status = HVRUN_EXIT_BAD_STATE;
		reply->reason = "invalid guest state: VM entry failed (KVM_EXIT_FAIL_ENTRY)";
		break;
	default:
		if (ext->kvm_exit_reason == KVM_EXIT_INTERNAL_ERROR) {
			reply->status = HVRUN_EXIT_KVM_INTERNAL;
			reply->reason = ext->suberror == KVM_INTERNAL_ERROR_EMULATION ?
				"KVM internal error: instruction emulation failed" : "KVM internal error";
		} else {
			reply->status = HVRUN_EXIT_UNHANDLED;
			reply->reason = "unhandled KVM exit";
		}
		break;
	}
	return 0;
}

static const struct vmm_service fault_services[] = {
	{ .name = "fault", .msg_type = HVMSG_UNRECOVERABLE_EXCEPTION, .handle = fault_handle },
	{ .name = "fault", .msg_type = HVMSG_INVALID_VP_REGISTER_VALUE, .handle = fault_handle },
	{ .name = "fault", .msg_type = HVMSG_UNSUPPORTED_FEATURE, .handle = fault_handle },
};
#define N_FAULT (sizeof(fault_services) / sizeof(fault_services[0]))

static int fault_create(struct partition *p, void **state)
{
	*state = NULL;
	return part_register_services(p, fault_services, N_FAULT, p);
}

static void fault_destroy(struct partition *p, void *state)
{
	(void)state;
	part_unregister_services(p, fault_services, N_FAULT, p);
}

const struct part_module part_fault_module = {
	.name = "fault",
	.create = fault_create,
	.destroy = fault_destroy,
};
