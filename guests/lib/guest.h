/* SPDX-License-Identifier: MIT */
/*
 * The guest runtime's entry contract and process-like helpers. Include this one header to get the
 * whole runtime: boot info, I/O helpers, console, printf, string functions and report().
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvrun/abi.h"

#include "console.h"
#include "io.h"
#include "printf.h"
#include "report.h"
#include "string.h"

#define GUEST_NORETURN __attribute__((noreturn))
#define GUEST_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Every guest defines this. start.S calls it on hvrun's stack with the boot info hvrun passed in
 * RDI, and exits through port 0xF4 with the return value (only its low 8 bits reach hvrun).
 */
int guest_main(const struct hvrun_boot_info *bi);

/* The boot info pointer and the registers as hvrun left them at the entry point (start.S). */
struct guest_entry_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rflags;
};
extern const struct hvrun_boot_info *boot_info;
extern struct guest_entry_regs guest_entry_regs;

/* Linker-script symbols: the loaded image is [__image_start, __image_end). */
extern char __image_start[], __image_end[];
extern char __text_start[], __text_end[];
extern char __bss_start[], __bss_end[];

/* Status written to port 0xF4 by panic() and for an exception nobody catches. */
#define GUEST_EXIT_PANIC 3

/* Writes status & 0xff to the debug-exit port: hvrun ends the run with exactly that status. */
GUEST_NORETURN void exit(int status);

/*
 * Sorts v[0..n) in place (insertion sort: small arrays of timings) and returns the median, the
 * mean of the two middle elements when n is even; 0 when n is 0.
 */
uint64_t median_u64(uint64_t *v, unsigned n);

/* Prints "PANIC: <message>" and exits with GUEST_EXIT_PANIC. */
GUEST_NORETURN GUEST_PRINTF(1, 2) void panic(const char *fmt, ...);

#define assert(cond)                                                                      \
	do {                                                                              \
		if (!(cond))                                                              \
			panic("%s:%d: %s: assertion '%s' failed", __FILE__, __LINE__,   \
			      __func__, #cond);                                           \
	} while (0)

#endif /* GUEST_GUEST_H */
