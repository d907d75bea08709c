/* SPDX-License-Identifier: MIT */
/* Names and one-line descriptions of TLFS messages, for --trace and stop reports. */
#include "vmm/msg.h"

#include <inttypes.h>
#include <stdio.h>

const char *vmm_msg_type_name(uint32_t type)
{
	switch (type) {
	case HVMSG_NONE: return "None";
	case HVMSG_UNMAPPED_GPA: return "UnmappedGpa";
	case HVMSG_GPA_INTERCEPT: return "GpaIntercept";
	case HVMSG_TIMER_EXPIRED: return "TimerExpired";
	case HVMSG_INVALID_VP_REGISTER_VALUE: return "InvalidVpRegisterValue";
	case HVMSG_UNRECOVERABLE_EXCEPTION: return "UnrecoverableException";
	case HVMSG_UNSUPPORTED_FEATURE: return "UnsupportedFeature";
	case HVMSG_HYPERCALL_INTERCEPT: return "HypercallIntercept";
	case HVMSG_X64_IO_PORT_INTERCEPT: return "X64IoPortIntercept";
	case HVMSG_X64_MSR_INTERCEPT: return "X64MsrIntercept";
	case HVMSG_X64_CPUID_INTERCEPT: return "X64CpuidIntercept";
	case HVMSG_X64_EXCEPTION_INTERCEPT: return "X64ExceptionIntercept";
	case HVMSG_X64_APIC_EOI: return "X64ApicEoi";
	case HVMSG_X64_REGISTER_INTERCEPT: return "X64RegisterIntercept";
	case HVMSG_X64_HALT: return "X64Halt";
	case HVMSG_X64_INTERRUPTION_DELIVERABLE: return "X64InterruptionDeliverable";
	default: return "Unknown";
	}
}

void vmm_msg_describe(const struct hv_message *m, char *buf, size_t len)
{
	const struct hv_x64_intercept_header *h = vmm_msg_intercept(m);
	const char *name = vmm_msg_type_name(m->header.message_type);
	const char *rw = h->access_type == HV_INTERCEPT_ACCESS_WRITE ? "write" :
			 h->access_type == HV_INTERCEPT_ACCESS_EXECUTE ? "exec" : "read";

	switch (m->header.message_type) {
	case HVMSG_X64_IO_PORT_INTERCEPT: {
		const struct hv_x64_io_port_intercept *io = vmm_msg_io(m);
		snprintf(buf, len, "%s port=%#x %s size=%u data=%#" PRIx64 " rip=%#" PRIx64,
			 name, io->port, h->access_type == HV_INTERCEPT_ACCESS_WRITE ? "out" : "in",
			 io->access_info & HV_IO_ACCESS_SIZE_MASK,
			 h->access_type == HV_INTERCEPT_ACCESS_WRITE ? vmm_msg_io_ext(m)->data : 0,
			 h->rip);
		break;
	}
	case HVMSG_UNMAPPED_GPA:
	case HVMSG_GPA_INTERCEPT: {
		const struct hv_x64_memory_intercept *mem = vmm_msg_mem(m);
		snprintf(buf, len, "%s gpa=%#" PRIx64 " %s size=%u rip=%#" PRIx64, name, mem->gpa, rw,
			 vmm_msg_mem_ext(m)->size, h->rip);
		break;
	}
	case HVMSG_X64_MSR_INTERCEPT: {
		const struct hv_x64_msr_intercept *msr = vmm_msg_msr(m);
		if (h->access_type == HV_INTERCEPT_ACCESS_WRITE)
			snprintf(buf, len, "%s msr=%#x wrmsr value=%#" PRIx64, name, msr->msr,
				 (msr->rdx << 32) | (msr->rax & 0xffffffffu));
		else
			snprintf(buf, len, "%s msr=%#x rdmsr", name, msr->msr);
		break;
	}
	case HVMSG_HYPERCALL_INTERCEPT: {
		const struct hv_x64_hypercall_intercept *hc = vmm_msg_hypercall(m);
		snprintf(buf, len, "%s code=%#" PRIx64 " control=%#" PRIx64 " rdx=%#" PRIx64
			 " r8=%#" PRIx64, name, (uint64_t)(hc->rcx & HV_HYPERCALL_CODE_MASK), hc->rcx, hc->rdx, hc->r8);
		break;
	}
	case HVMSG_X64_EXCEPTION_INTERCEPT: {
		const struct hv_x64_exception_intercept *ex = vmm_msg_exception(m);
		snprintf(buf, len, "%s vector=%u error=%#x rip=%#" PRIx64, name, ex->vector,
			 ex->error_code, h->rip);
		break;
	}
	case HVMSG_UNRECOVERABLE_EXCEPTION:
	case HVMSG_INVALID_VP_REGISTER_VALUE:
	case HVMSG_UNSUPPORTED_FEATURE:
		snprintf(buf, len, "%s kvm_exit=%u suberror=%u rip=%#" PRIx64, name,
			 vmm_msg_exit_ext(m)->kvm_exit_reason, vmm_msg_exit_ext(m)->suberror, h->rip);
		break;
	default:
		snprintf(buf, len, "%s rip=%#" PRIx64, name, h->rip);
		break;
	}
}
