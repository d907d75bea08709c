/* SPDX-License-Identifier: MIT */
/* The hypercall page's x64 calling convention (TLFS): one inline call every guest shares. */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include <stdint.h>

#include "hv/tlfs.h"

/*
 * Call the hypercall page entry at `entry` (the page itself for a hypercall): RCX control,
 * RDX input GPA (or fast input), R8 output GPA (or fast input); the result comes back in RAX.
 * *control, *rdx and *r8 get the registers as they are after the call, so a test can check
 * that the trampoline preserved them, as the TLFS promises.
 */
static inline __attribute__((always_inline)) uint64_t hv_page_call_regs(uintptr_t entry, uint64_t *control,
									uint64_t *rdx, uint64_t *r8)
{
	register uint64_t r8r __asm__("r8") = *r8;
	uint64_t rax;

	__asm__ volatile("call *%[entry]"
			 : "=a"(rax), "+c"(*control), "+d"(*rdx), "+r"(r8r)
			 : [entry] "r"(entry)
			 : "memory", "cc");
	*r8 = r8r;
	return rax;
}

/* The same when only RAX matters. */
static inline __attribute__((always_inline)) uint64_t hv_page_call(uintptr_t entry, uint64_t control,
								   uint64_t rdx, uint64_t r8)
{
	return hv_page_call_regs(entry, &control, &rdx, &r8);
}

/* The control word of a rep call. */
static inline uint64_t hv_rep_control(uint16_t code, unsigned count)
{
	return code | (uint64_t)count << HV_HYPERCALL_REP_COUNT_SHIFT;
}

#endif /* GUEST_HYPERCALL_H */
