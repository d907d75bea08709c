/* SPDX-License-Identifier: MIT */
/* TLFS HV_MESSAGE and x64 intercept payload layouts, pinned byte for byte. */
#ifndef HV_MESSAGE_H
#define HV_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "hv/tlfs.h"

#define HV_MESSAGE_SIZE         256u
#define HV_MESSAGE_PAYLOAD_SIZE 240u
#define HV_MESSAGE_FLAG_PENDING 0x01u

struct hv_message_header {
	uint32_t message_type;
	uint8_t payload_size;
	uint8_t message_flags;
	uint16_t reserved;
	uint64_t sender;        /* OriginationId / port id */
};

struct hv_message {
	struct hv_message_header header;
	union {
		uint8_t bytes[HV_MESSAGE_PAYLOAD_SIZE];
		uint64_t qwords[HV_MESSAGE_PAYLOAD_SIZE / 8];
	} payload;
};

/* HV_X64_SEGMENT_REGISTER */
struct hv_x64_segment {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint16_t attributes;
};

/* HV_INITIAL_VP_CONTEXT (TLFS), as HvCallEnableVpVtl carries it. */
struct hv_table_register {
	uint16_t pad[3];
	uint16_t limit;
	uint64_t base;
};

struct hv_initial_vp_context {
	uint64_t rip, rsp, rflags;
	struct hv_x64_segment cs, ds, es, fs, gs, ss, tr, ldtr;
	struct hv_table_register idtr, gdtr;
	uint64_t efer, cr0, cr3, cr4, msr_cr_pat;
};
_Static_assert(sizeof(struct hv_table_register) == 16, "HV_X64_TABLE_REGISTER");
_Static_assert(sizeof(struct hv_initial_vp_context) == 0xE0, "HV_INITIAL_VP_CONTEXT");
_Static_assert(offsetof(struct hv_initial_vp_context, cs) == 0x18, "context cs");
_Static_assert(offsetof(struct hv_initial_vp_context, idtr) == 0x98, "context idtr");
_Static_assert(offsetof(struct hv_initial_vp_context, efer) == 0xB8, "context efer");

/* HV_X64_INTERCEPT_MESSAGE_HEADER */
struct hv_x64_intercept_header {
	uint32_t vp_index;
	uint8_t instruction_length;  /* 3:0 length (0 = not known), 7:4 CR8 */
	uint8_t access_type;         /* HV_INTERCEPT_ACCESS_* */
	uint16_t execution_state;    /* HV_EXEC_STATE_* */
	struct hv_x64_segment cs;
	uint64_t rip;
	uint64_t rflags;
};

/* HV_X64_IO_PORT_INTERCEPT_MESSAGE; access_info: 2:0 size, 3 string, 4 rep. */
struct hv_x64_io_port_intercept {
	struct hv_x64_intercept_header header;
	uint16_t port;
	uint8_t access_info;
	uint8_t instruction_byte_count;
	uint32_t reserved;
	uint64_t rax;
	uint8_t instruction_bytes[16];
	struct hv_x64_segment ds;
	struct hv_x64_segment es;
	uint64_t rcx;
	uint64_t rsi;
	uint64_t rdi;
};
#define HV_IO_ACCESS_SIZE_MASK 0x07u
#define HV_IO_ACCESS_STRING    0x08u
#define HV_IO_ACCESS_REP       0x10u

/* HV_X64_MEMORY_INTERCEPT_MESSAGE (UnmappedGpa and GpaIntercept). */
struct hv_x64_memory_intercept {
	struct hv_x64_intercept_header header;
	uint32_t cache_type;
	uint8_t instruction_byte_count;
	uint8_t access_info;         /* 0 GvaValid, 1 GvaGpaValid, 2 HypercallOutputPending */
	uint8_t tpr_priority;
	uint8_t reserved;
	uint64_t gva;
	uint64_t gpa;
	uint8_t instruction_bytes[16];
};
#define HV_MEM_ACCESS_GVA_VALID     0x01u
#define HV_MEM_ACCESS_GVA_GPA_VALID 0x02u

/* HV_X64_MSR_INTERCEPT_MESSAGE */
struct hv_x64_msr_intercept {
	struct hv_x64_intercept_header header;
	uint32_t msr;
	uint32_t reserved;
	uint64_t rdx;
	uint64_t rax;
};

/* HV_X64_CPUID_INTERCEPT_MESSAGE */
struct hv_x64_cpuid_intercept {
	struct hv_x64_intercept_header header;
	uint64_t rax, rcx, rdx, rbx;
	uint64_t default_rax, default_rcx, default_rdx, default_rbx;
};

/* HV_X64_EXCEPTION_INTERCEPT_MESSAGE; exception_info: 0 error code valid, 1 software. */
struct hv_x64_exception_intercept {
	struct hv_x64_intercept_header header;
	uint16_t vector;
	uint8_t exception_info;
	uint8_t instruction_byte_count;
	uint32_t error_code;
	uint64_t exception_parameter;
	uint64_t reserved;
	uint8_t instruction_bytes[16];
	struct hv_x64_segment ds;
	struct hv_x64_segment ss;
	uint64_t gpr[16];            /* RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15 */
};

/* HV_X64_HYPERCALL_INTERCEPT_MESSAGE */
struct hv_x64_hypercall_intercept {
	struct hv_x64_intercept_header header;
	uint64_t rax, rbx, rcx, rdx, r8, rsi, rdi;
	uint64_t xmm[6][2];
	uint32_t flags;              /* bit0 IsIsolated */
	uint32_t reserved[3];
};

/* Header-only intercepts: Halt, UnrecoverableException, InvalidVpRegisterValue, UnsupportedFeature. */
struct hv_x64_plain_intercept {
	struct hv_x64_intercept_header header;
};

#define HV_ASSERT_LAYOUT(type, size) _Static_assert(sizeof(type) == (size), #type " size")
#define HV_ASSERT_OFFSET(type, field, off) \
	_Static_assert(offsetof(type, field) == (off), #type "." #field " offset")

HV_ASSERT_LAYOUT(struct hv_message_header, 16);
HV_ASSERT_LAYOUT(struct hv_message, 256);
HV_ASSERT_OFFSET(struct hv_message_header, payload_size, 4);
HV_ASSERT_OFFSET(struct hv_message_header, message_flags, 5);
HV_ASSERT_OFFSET(struct hv_message_header, sender, 8);
HV_ASSERT_LAYOUT(struct hv_x64_segment, 16);
HV_ASSERT_LAYOUT(struct hv_x64_intercept_header, 0x28);
HV_ASSERT_OFFSET(struct hv_x64_intercept_header, instruction_length, 4);
HV_ASSERT_OFFSET(struct hv_x64_intercept_header, access_type, 5);
HV_ASSERT_OFFSET(struct hv_x64_intercept_header, execution_state, 6);
HV_ASSERT_OFFSET(struct hv_x64_intercept_header, cs, 8);
HV_ASSERT_OFFSET(struct hv_x64_intercept_header, rip, 0x18);
HV_ASSERT_OFFSET(struct hv_x64_intercept_header, rflags, 0x20);
HV_ASSERT_LAYOUT(struct hv_x64_io_port_intercept, 0x80);
HV_ASSERT_OFFSET(struct hv_x64_io_port_intercept, port, 0x28);
HV_ASSERT_OFFSET(struct hv_x64_io_port_intercept, rax, 0x30);
HV_ASSERT_OFFSET(struct hv_x64_io_port_intercept, ds, 0x48);
HV_ASSERT_OFFSET(struct hv_x64_io_port_intercept, rcx, 0x68);
HV_ASSERT_OFFSET(struct hv_x64_io_port_intercept, rdi, 0x78);
HV_ASSERT_LAYOUT(struct hv_x64_memory_intercept, 0x50);
HV_ASSERT_OFFSET(struct hv_x64_memory_intercept, gva, 0x30);
HV_ASSERT_OFFSET(struct hv_x64_memory_intercept, gpa, 0x38);
HV_ASSERT_OFFSET(struct hv_x64_memory_intercept, instruction_bytes, 0x40);
HV_ASSERT_LAYOUT(struct hv_x64_msr_intercept, 0x40);
HV_ASSERT_OFFSET(struct hv_x64_msr_intercept, msr, 0x28);
HV_ASSERT_OFFSET(struct hv_x64_msr_intercept, rdx, 0x30);
HV_ASSERT_OFFSET(struct hv_x64_msr_intercept, rax, 0x38);
HV_ASSERT_LAYOUT(struct hv_x64_cpuid_intercept, 0x68);
HV_ASSERT_LAYOUT(struct hv_x64_exception_intercept, 0xF0);
HV_ASSERT_OFFSET(struct hv_x64_exception_intercept, error_code, 0x2C);
HV_ASSERT_OFFSET(struct hv_x64_exception_intercept, gpr, 0x70);
HV_ASSERT_LAYOUT(struct hv_x64_hypercall_intercept, 0xD0);
HV_ASSERT_OFFSET(struct hv_x64_hypercall_intercept, rcx, 0x38);
HV_ASSERT_OFFSET(struct hv_x64_hypercall_intercept, xmm, 0x60);
HV_ASSERT_OFFSET(struct hv_x64_hypercall_intercept, flags, 0xC0);

#endif /* HV_MESSAGE_H */
