/* SPDX-License-Identifier: MIT */
/*
 * Interrupt/exception entry stubs and setjmp/longjmp.
 *
 * One 16-byte stub per vector (idt_stubs + 16 * vector). Each pushes a dummy error code when the
 * CPU pushes none, then the vector number, and jumps to exc_common, which saves the general
 * registers as a struct exc_frame (idt.h) and calls exc_dispatch(frame). If exc_dispatch returns,
 * the registers are reloaded from the frame and iretq resumes at frame->rip.
 */

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERRCODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
			(v) == 29 || (v) == 30)

	.section .text, "ax", @progbits

	.balign 16
	.globl idt_stubs
	.type idt_stubs, @function
idt_stubs:
	vec = 0
	.rept 256
	.balign 16
0:
	.if HAS_ERRCODE(vec)
	.else
	pushq $0                        /* no error code from the CPU: keep the frame uniform */
	.endif
	pushq $vec
	.byte 0xe9                      /* jmp rel32 exc_common, spelled out: a fixed size */
	.long exc_common - (. + 4)      /* lets the .if below check the stub's length */
	.if . - 0b > 16
	.error "an IDT stub outgrew its 16 bytes"
	.endif
	vec = vec + 1
	.endr
	.size idt_stubs, . - idt_stubs

	.type exc_common, @function
exc_common:
	cld
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rbx
	pushq %rbp
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi                 /* struct exc_frame * */
	movq %rsp, %rbx                 /* callee-saved: survives the call */
	andq $-16, %rsp
	call exc_dispatch
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rbp
	popq %rbx
	popq %rdx
	popq %rcx
	popq %rax
	addq $16, %rsp                  /* vector and error code */
	iretq
	.size exc_common, . - exc_common

/* int setjmp(jmp_buf env): env in %rdi. Layout: struct guest_jmp_buf in setjmp.h. */
	.globl setjmp
	.type setjmp, @function
setjmp:
	movq %rbx, 0x00(%rdi)
	movq %rbp, 0x08(%rdi)
	movq %r12, 0x10(%rdi)
	movq %r13, 0x18(%rdi)
	movq %r14, 0x20(%rdi)
	movq %r15, 0x28(%rdi)
	leaq 8(%rsp), %rdx              /* RSP once we have returned */
	movq %rdx, 0x30(%rdi)
	movq (%rsp), %rdx               /* return address */
	movq %rdx, 0x38(%rdi)
	pushfq
	popq 0x40(%rdi)
	xorl %eax, %eax
	ret
	.size setjmp, . - setjmp

/* void longjmp(jmp_buf env, int val): makes setjmp return val (1 if val is 0). */
	.globl longjmp
	.type longjmp, @function
longjmp:
	movl %esi, %eax
	testl %eax, %eax
	jnz 1f
	incl %eax
1:	movq 0x00(%rdi), %rbx
	movq 0x08(%rdi), %rbp
	movq 0x10(%rdi), %r12
	movq 0x18(%rdi), %r13
	movq 0x20(%rdi), %r14
	movq 0x28(%rdi), %r15
	movq 0x30(%rdi), %rsp
	pushq 0x40(%rdi)                /* below the restored RSP: free (no red zone) */
	popfq
	jmp *0x38(%rdi)
	.size longjmp, . - longjmp

	.section .note.GNU-stack, "", @progbits
