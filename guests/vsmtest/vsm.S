/* SPDX-License-Identifier: MIT */
/*
 * vsmtest's assembly: VTL0's VtlCall wrappers and the accessors whose RIP the intercept checks
 * look for, and VTL1's entry point and dispatcher loop.
 *
 * The general-purpose registers except RSP are shared by the VTLs: a VtlCall hands VTL0's
 * values to VTL1 and VtlReturn hands VTL1's back (RAX and RCX from the VP assist page on a
 * normal return). So each side keeps what it needs on its own stack (RSP, RIP and RFLAGS are
 * private per VTL), and VTL1 saves every shared register on entry and restores it on return.
 */

	.section .text, "ax", @progbits

/*
 * uint64_t vtl0_call(uint64_t svc, uint64_t a1, uint64_t a2, struct vtl_regs *out)
 * VtlCall with RDI = svc, RSI = a1, RDX = a2, RCX = 0. Records every general-purpose register as
 * VTL0 got it back in *out (struct vtl_regs in vsm.h, never NULL) and returns RAX.
 */
	.globl vtl0_call
	.type vtl0_call, @function
vtl0_call:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rcx                      /* out */
	leaq -8(%rsp), %rax             /* RSP in the trampoline, once the call below has pushed */
	movq %rax, vtl0_rsp_at_call(%rip)
	xorl %ecx, %ecx                 /* control input */
	call *vtl_call_tramp(%rip)
	pushq %rax
	movq 8(%rsp), %rax              /* out */
	movq %rcx, 0x08(%rax)
	movq %rdx, 0x10(%rax)
	movq %rbx, 0x18(%rax)
	movq %rsi, 0x20(%rax)
	movq %rdi, 0x28(%rax)
	movq %rbp, 0x30(%rax)
	movq %r8,  0x38(%rax)
	movq %r9,  0x40(%rax)
	movq %r10, 0x48(%rax)
	movq %r11, 0x50(%rax)
	movq %r12, 0x58(%rax)
	movq %r13, 0x60(%rax)
	movq %r14, 0x68(%rax)
	movq %r15, 0x70(%rax)
	popq 0x00(%rax)                 /* RAX as the VtlCall returned it */
	movq 0x00(%rax), %rax
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
	.size vtl0_call, . - vtl0_call

/*
 * int vtl0_call_redirect(uint64_t svc): VtlCall asking VTL1 (service svc) to move VTL0's RIP to
 * vtl0_redirect_target. Returns 1 when VTL0 resumed there, 0 when the call returned normally.
 */
	.globl vtl0_call_redirect
	.type vtl0_call_redirect, @function
vtl0_call_redirect:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	leaq vtl0_redirect_target(%rip), %rsi
	leaq -8(%rsp), %rax
	movq %rax, vtl0_rsp_at_call(%rip)
	xorl %ecx, %ecx
	call *vtl_call_tramp(%rip)
	xorl %eax, %eax                 /* back at the VtlCall's return: RIP was not moved */
	jmp 1f
	.globl vtl0_redirect_target
vtl0_redirect_target:
	addq $8, %rsp                   /* the trampoline's return address: its ret never ran */
	movl $1, %eax
1:	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
	.size vtl0_call_redirect, . - vtl0_call_redirect

/* void vtl0_vtl_return(void): HvCallVtlReturn from VTL0 (must raise #UD). */
	.globl vtl0_vtl_return
	.type vtl0_vtl_return, @function
vtl0_vtl_return:
	xorl %ecx, %ecx
	call *vtl_return_tramp(%rip)
	ret
	.size vtl0_vtl_return, . - vtl0_vtl_return

/* One access each, so an intercept's RIP can be matched against [function, function_end). */
	.globl vtl0_write64, vtl0_write64_end
	.type vtl0_write64, @function
vtl0_write64:
	movq %rsi, (%rdi)
	ret
vtl0_write64_end:
	.size vtl0_write64, . - vtl0_write64

	.globl vtl0_read64, vtl0_read64_end
	.type vtl0_read64, @function
vtl0_read64:
	movabsq $0x5a5a5a5a5a5a5a5a, %rax   /* a marker: shows a read whose result was lost */
	movq (%rdi), %rax
	ret
vtl0_read64_end:
	.size vtl0_read64, . - vtl0_read64

/*
 * int vtl0_intercept_keeps_regs(uint64_t gpa): loads a pattern into every general-purpose
 * register but RSP, writes to gpa (a page VTL1 protected: intercepted) and returns 0 when every
 * register still holds its pattern afterwards, 1 otherwise.
 */
	.globl vtl0_intercept_keeps_regs
	.type vtl0_intercept_keeps_regs, @function
vtl0_intercept_keeps_regs:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi
	movq $0x10000001, %rax
	movq $0x10000002, %rcx
	movq $0x10000003, %rdx
	movq $0x10000004, %rbx
	movq $0x10000005, %rsi
	movq $0x10000006, %rbp
	movq $0x10000008, %r8
	movq $0x10000009, %r9
	movq $0x1000000a, %r10
	movq $0x1000000b, %r11
	movq $0x1000000c, %r12
	movq $0x1000000d, %r13
	movq $0x1000000e, %r14
	movq $0x1000000f, %r15
	movq %rsi, (%rdi)
	cmpq $0x10000001, %rax
	jne 1f
	cmpq $0x10000002, %rcx
	jne 1f
	cmpq $0x10000003, %rdx
	jne 1f
	cmpq $0x10000004, %rbx
	jne 1f
	cmpq $0x10000005, %rsi
	jne 1f
	cmpq $0x10000006, %rbp
	jne 1f
	cmpq (%rsp), %rdi
	jne 1f
	cmpq $0x10000008, %r8
	jne 1f
	cmpq $0x10000009, %r9
	jne 1f
	cmpq $0x1000000a, %r10
	jne 1f
	cmpq $0x1000000b, %r11
	jne 1f
	cmpq $0x1000000c, %r12
	jne 1f
	cmpq $0x1000000d, %r13
	jne 1f
	cmpq $0x1000000e, %r14
	jne 1f
	cmpq $0x1000000f, %r15
	jne 1f
	xorl %eax, %eax
	jmp 2f
1:	movl $1, %eax
2:	popq %rdi
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
	.size vtl0_intercept_keeps_regs, . - vtl0_intercept_keeps_regs

	.section .bss
	.balign 8
	.globl vtl_call_tramp, vtl_return_tramp, vtl0_rsp_at_call
vtl_call_tramp:
	.skip 8
vtl_return_tramp:
	.skip 8
vtl0_rsp_at_call:
	.skip 8

/*
 * VTL1. HvCallEnableVpVtl starts it at vtl1_entry with RSP = the top of its private stack, on
 * the first VtlCall. Every later entry (VtlCall or intercept) resumes after the VtlReturn at the
 * bottom of the loop, with VTL0's general-purpose registers and VTL1's own RSP.
 */
	.section .vtl1.text, "ax", @progbits
	.globl vtl1_entry
	.type vtl1_entry, @function
vtl1_entry:
	movq %rsp, vtl1_stack_top(%rip)
	incq vtl1_initial_entries(%rip)
	jmp 2f
1:	incq vtl1_resumes(%rip)
	movq %rsp, vtl1_resume_rsp(%rip)
2:	pushq %rax                      /* struct vtl1_frame, highest field first */
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
	cld
	movq %rsp, %rdi                 /* struct vtl1_frame * */
	movq %rsp, %rbx                 /* callee-saved: survives the call */
	andq $-16, %rsp
	call vtl1_handle                /* returns the VtlReturn control input */
	movq %rbx, %rsp
	movq %rax, 0x68(%rsp)           /* frame.rcx: popped into RCX below */
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
	call *vtl1_return_tramp(%rip)   /* VtlReturn: "returns" on the next entry into VTL1 */
	jmp 1b
	.size vtl1_entry, . - vtl1_entry

	.section .vtl1.data, "aw", @progbits
	.balign 8
	.globl vtl1_return_tramp, vtl1_initial_entries, vtl1_resumes, vtl1_stack_top, vtl1_resume_rsp
vtl1_return_tramp:
	.quad 0xC0001030                /* VTL1_HCPAGE_GPA + 0x30; init reads the real offset */
vtl1_initial_entries:
	.quad 0
vtl1_resumes:
	.quad 0
vtl1_stack_top:
	.quad 0
vtl1_resume_rsp:
	.quad 0

	.section .note.GNU-stack, "", @progbits
