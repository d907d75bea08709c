/* SPDX-License-Identifier: MIT */
/* Defaults for what no device claims: ports and MMIO float (reads all ones, writes dropped), MSRs #GP. */
#include "hvrun/abi.h"
#include "partition/partition.h"
#include "partition/services.h"
#include "vmm/log.h"
#include "vmm/msg.h"

#define X86_GP_VECTOR 13

static uint64_t all_ones(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static int unclaimed_io(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	(void)opaque;
	reply->action = VMM_ACT_RESUME;
	reply->data = vmm_msg_is_write(exit->msg) ? 0 : all_ones(vmm_msg_io_size(exit->msg));
	reply->reason = "unclaimed port";
	return 0;
}

static int unclaimed_mmio(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	(void)opaque;
	reply->action = VMM_ACT_RESUME;
	reply->data = vmm_msg_is_write(exit->msg) ? 0 : all_ones(vmm_msg_mem_ext(exit->msg)->size);
	reply->reason = "unmapped GPA";
	return 0;
}

static int unclaimed_msr(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	(void)opaque;
	(void)exit;
	reply->action = VMM_ACT_INJECT;
	reply->vector = X86_GP_VECTOR;
	reply->error_code_valid = true;
	reply->error_code = 0;
	reply->reason = "unknown MSR: #GP";
	return 0;
}

static const struct vmm_service unclaimed_services[] = {
	{ .name = "unclaimed-io", .msg_type = HVMSG_X64_IO_PORT_INTERCEPT, .handle = unclaimed_io },
	{ .name = "unclaimed-mmio", .msg_type = HVMSG_UNMAPPED_GPA, .handle = unclaimed_mmio },
	{ .name = "unclaimed-msr", .msg_type = HVMSG_X64_MSR_INTERCEPT, .handle = unclaimed_msr },
};
#define N_UNCLAIMED (sizeof(unclaimed_services) / sizeof(unclaimed_services[0]))

static int unclaimed_create(struct partition *p, void **state)
{
	*state = NULL;
	return part_register_services(p, unclaimed_services, N_UNCLAIMED, p);
}

static void unclaimed_destroy(struct partition *p, void *state)
{
	(void)state;
	part_unregister_services(p, unclaimed_services, N_UNCLAIMED, p);
}

const struct part_module dev_unclaimed_module = {
	.name = "unclaimed",
	.create = unclaimed_create,
	.destroy = unclaimed_destroy,
};
