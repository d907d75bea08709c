/* SPDX-License-Identifier: MIT */
/* setjmp/longjmp for guests (entry.S). longjmp also restores RFLAGS (IF, DF, ...). */
#ifndef GUEST_SETJMP_H
#define GUEST_SETJMP_H

#include <stdint.h>

struct guest_jmp_buf {
	uint64_t rbx, rbp, r12, r13, r14, r15;
	uint64_t rsp;        /* RSP after setjmp returns */
	uint64_t rip;        /* setjmp's return address */
	uint64_t rflags;
};
typedef struct guest_jmp_buf jmp_buf[1];

int setjmp(jmp_buf env) __attribute__((returns_twice));
void longjmp(jmp_buf env, int val) __attribute__((noreturn));

#endif /* GUEST_SETJMP_H */
