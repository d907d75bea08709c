/* SPDX-License-Identifier: MIT */
/* Pure helpers over TLFS messages: type names, payload accessors and one-line descriptions. */
#ifndef VMM_MSG_H
#define VMM_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "hv/message.h"
#include "hvrun/abi.h"

const char *vmm_msg_type_name(uint32_t type);

/* Typed views of the payload; the caller checks header.message_type first. */
static inline const struct hv_x64_intercept_header *vmm_msg_intercept(const struct hv_message *m)
{
	return (const struct hv_x64_intercept_header *)m->payload.bytes;
}
static inline const struct hv_x64_io_port_intercept *vmm_msg_io(const struct hv_message *m)
{
	return (const struct hv_x64_io_port_intercept *)m->payload.bytes;
}
static inline const struct hvrun_io_ext *vmm_msg_io_ext(const struct hv_message *m)
{
	return (const struct hvrun_io_ext *)(m->payload.bytes + sizeof(struct hv_x64_io_port_intercept));
}
static inline const struct hv_x64_memory_intercept *vmm_msg_mem(const struct hv_message *m)
{
	return (const struct hv_x64_memory_intercept *)m->payload.bytes;
}
static inline const struct hvrun_mem_ext *vmm_msg_mem_ext(const struct hv_message *m)
{
	return (const struct hvrun_mem_ext *)(m->payload.bytes + sizeof(struct hv_x64_memory_intercept));
}
static inline const struct hv_x64_msr_intercept *vmm_msg_msr(const struct hv_message *m)
{
	return (const struct hv_x64_msr_intercept *)m->payload.bytes;
}
static inline const struct hv_x64_hypercall_intercept *vmm_msg_hypercall(const struct hv_message *m)
{
	return (const struct hv_x64_hypercall_intercept *)m->payload.bytes;
}
static inline const struct hv_x64_exception_intercept *vmm_msg_exception(const struct hv_message *m)
{
	return (const struct hv_x64_exception_intercept *)m->payload.bytes;
}
static inline const struct hvrun_exit_ext *vmm_msg_exit_ext(const struct hv_message *m)
{
	return (const struct hvrun_exit_ext *)(m->payload.bytes + sizeof(struct hv_x64_intercept_header));
}

/* Port/MMIO access size in bytes from the TLFS access info (1, 2 or 4). */
static inline unsigned vmm_msg_io_size(const struct hv_message *m)
{
	return vmm_msg_io(m)->access_info & HV_IO_ACCESS_SIZE_MASK;
}
static inline int vmm_msg_is_write(const struct hv_message *m)
{
	return vmm_msg_intercept(m)->access_type == HV_INTERCEPT_ACCESS_WRITE;
}

/* "X64IoPortIntercept port=0x3f8 out size=1 data=0x48": the key fields, for --trace and reports. */
void vmm_msg_describe(const struct hv_message *m, char *buf, size_t len);

#endif /* VMM_MSG_H */
