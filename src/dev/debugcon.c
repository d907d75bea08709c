/* SPDX-License-Identifier: MIT */
/* Bochs-style debug console on port 0xE9: each byte written goes to the partition console. */
#include <errno.h>

#include "hvrun/abi.h"
#include "partition/partition.h"
#include "partition/services.h"
#include "vmm/msg.h"

static int debugcon_handle(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	struct dev_console *c = opaque;
	uint64_t data = vmm_msg_io_ext(exit->msg)->data;

	reply->action = VMM_ACT_RESUME;
	if (vmm_msg_is_write(exit->msg)) {
		for (unsigned i = 0; i < vmm_msg_io_size(exit->msg); i++)
			dev_console_putc(c, (uint8_t)(data >> (8 * i)));
	} else {
		reply->data = HVRUN_PORT_DEBUGCON;   /* reads return 0xE9: "the port is there" */
	}
	return 0;
}

static const struct vmm_service debugcon_service = {
	.name = "debugcon",
	.msg_type = HVMSG_X64_IO_PORT_INTERCEPT,
	.base = HVRUN_PORT_DEBUGCON,
	.size = 1,
	.handle = debugcon_handle,
};

static int debugcon_create(struct partition *p, void **state)
{
	*state = NULL;
	return part_register_services(p, &debugcon_service, 1, &p->console);
}

static void debugcon_destroy(struct partition *p, void *state)
{
	(void)state;
	part_unregister_services(p, &debugcon_service, 1, &p->console);
}

const struct part_module dev_debugcon_module = {
	.name = "debugcon",
	.create = debugcon_create,
	.destroy = debugcon_destroy,
};
