/* SPDX-License-Identifier: MIT */
/* Debug-exit port 0xF4: a write of V stops the partition with exit status V & 0xff, unchanged. */
#include "hvrun/abi.h"
#include "partition/partition.h"
#include "partition/services.h"
#include "vmm/msg.h"

static int debugexit_handle(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	(void)opaque;
	if (!vmm_msg_is_write(exit->msg)) {
		reply->action = VMM_ACT_RESUME;
		reply->data = 0;
		return 0;
	}
	reply->action = VMM_ACT_STOP;
	reply->status = (int)(vmm_msg_io_ext(exit->msg)->data & 0xff);
	reply->reason = "guest wrote to the debug-exit port";
	return 0;
}

static const struct vmm_service debugexit_service = {
	.name = "debugexit",
	.msg_type = HVMSG_X64_IO_PORT_INTERCEPT,
	.base = HVRUN_PORT_DEBUG_EXIT,
	.size = 1,
	.handle = debugexit_handle,
};

static int debugexit_create(struct partition *p, void **state)
{
	*state = NULL;
	return part_register_services(p, &debugexit_service, 1, p);
}

static void debugexit_destroy(struct partition *p, void *state)
{
	(void)state;
	part_unregister_services(p, &debugexit_service, 1, p);
}

const struct part_module dev_debugexit_module = {
	.name = "debugexit",
	.create = debugexit_create,
	.destroy = debugexit_destroy,
};
