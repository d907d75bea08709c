/* SPDX-License-Identifier: MIT */
/* HLT: with interrupts disabled nothing can wake the VP, so the partition stops with status 0. */
#include "partition/partition.h"
#include "partition/services.h"
#include "vmm/exitcode.h"
#include "vmm/msg.h"

#define X86_RFLAGS_IF (1ull << 9)

static int halt_handle(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	(void)opaque;
	if (vmm_msg_intercept(exit->msg)->rflags & X86_RFLAGS_IF) {
		/* No interrupt source exists yet: the VP continues after the hlt (a spurious wake-up). */
		reply->action = VMM_ACT_RESUME;
		reply->reason = "hlt with IF=1: resumed";
		return 0;
	}
	reply->action = VMM_ACT_STOP;
	reply->status = HVRUN_EXIT_OK;
	reply->reason = "hlt with interrupts disabled";
	return 0;
}

static const struct vmm_service halt_service = {
	.name = "halt",
	.msg_type = HVMSG_X64_HALT,
	.handle = halt_handle,
};

static int halt_create(struct partition *p, void **state)
{
	*state = NULL;
	return part_register_services(p, &halt_service, 1, p);
}

static void halt_destroy(struct partition *p, void *state)
{
	(void)state;
	part_unregister_services(p, &halt_service, 1, p);
}

const struct part_module part_halt_module = {
	.name = "halt",
	.create = halt_create,
	.destroy = halt_destroy,
};
