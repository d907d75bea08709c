/* SPDX-License-Identifier: MIT */
/* x86-64 system structures guests build for themselves: the IDT gate and the 64-bit TSS. */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include <stdint.h>

struct idt_gate {
	uint16_t offset0;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset1;
	uint32_t offset2;
	uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate");

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 0x68, "64-bit TSS");

#endif /* GUEST_X86_H */
