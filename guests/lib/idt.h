/* SPDX-License-Identifier: MIT */
/*
 * A 64-bit IDT for guests, and catch_exception().
 *
 * hvrun boots guests with no IDT (IDTR limit 0): any exception then escalates to a triple fault.
 * idt_install() loads a 256-entry IDT whose vectors 0..31 are present interrupt gates (selector
 * 0x08, type 0x8E, IST 0) into common stubs; vectors 32..255 stay not-present until
 * idt_set_handler() installs them. An exception nobody handles prints the frame and exits with
 * GUEST_EXIT_PANIC.
 *
 * Never raise exceptions with `int n`/`int3` at CPL0: hvrun's platform cannot emulate them. Use
 * real faults (ud2 -> #UD, a non-canonical load -> #GP, ...).
 */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

#include <stdbool.h>
#include <stdint.h>

#define EXC_DE  0    /* divide error */
#define EXC_DB  1
#define EXC_NMI 2
#define EXC_BP  3
#define EXC_OF  4
#define EXC_BR  5
#define EXC_UD  6    /* invalid opcode */
#define EXC_NM  7
#define EXC_DF  8    /* double fault (error code 0) */
#define EXC_TS  10
#define EXC_NP  11
#define EXC_SS  12
#define EXC_GP  13   /* general protection */
#define EXC_PF  14   /* page fault: CR2 holds the address */
#define EXC_MF  16
#define EXC_AC  17
#define EXC_MC  18
#define EXC_XM  19
#define EXC_VE  20
#define EXC_CP  21

/* What the entry stubs leave on the stack, lowest address first (entry.S). */
struct exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector;
	uint64_t error_code;     /* 0 for vectors without one */
	/* Pushed by the CPU. */
	uint64_t rip, cs, rflags, rsp, ss;
};

/* What catch_exception() records about the exception it caught. */
struct exc_info {
	int vector;              /* -1: no exception */
	bool has_error_code;     /* the CPU pushed an error code for this vector */
	uint64_t error_code;
	uint64_t rip;            /* of the faulting instruction (faults) or the next one (traps) */
	uint64_t rsp;
	uint64_t rflags;
	uint64_t cr2;            /* #PF only: the faulting linear address; 0 otherwise */
};

/* Loads the IDT (vectors 0..31 present). Idempotent; catch_exception() calls it if needed. */
void idt_install(void);

/*
 * A C handler for one vector (0..255), run before catch_exception() is consulted. Return true to
 * resume at frame->rip with the (possibly edited) frame, via iretq; false to decline. For vectors
 * >= 32 this also makes the gate present. NULL removes the handler (the gate stays present).
 */
typedef bool (*exc_handler_t)(struct exc_frame *frame);
void idt_set_handler(unsigned vector, exc_handler_t handler);

/*
 * Runs fn(arg). If an exception (vector 0..31) is raised inside it and no idt_set_handler()
 * handler takes it, fn is abandoned: the exception is recorded in *info (when info is not NULL)
 * and catch_exception returns its vector. Returns -1 if fn returned normally. Nests. Callee-saved
 * registers, RSP and RFLAGS are restored as at the call; memory fn changed stays changed.
 */
int catch_exception(void (*fn)(void *), void *arg, struct exc_info *info);

/* "#UD", "#GP", ... or "vector" for the reserved/unnamed ones. */
const char *exception_name(unsigned vector);
bool exception_has_error_code(unsigned vector);

#endif /* GUEST_IDT_H */
