/* SPDX-License-Identifier: MIT */
/*
 * The secure kernel's entry point, its VtlReturn wrapper and the trustlet's way in and out.
 *
 * General-purpose registers (all but RSP) are shared between the VTLs. sk_vtl_return keeps VTL1's
 * callee-saved registers on VTL1's own stack, loads VTL0's registers from sk_vtl0 and returns to
 * VTL0; when VTL1 is entered again (VtlCall or intercept) the trampoline's `ret` lands here with
 * VTL0's registers live, and they are saved to sk_vtl0 before anything touches them.
 */
#define HVRUN_PORT_DEBUG_EXIT 0xf4
#define HVRUN_EXIT_SK_FAILURE 118
#define SEL_UCODE 0x2b
#define SEL_UDATA 0x33
#define SEL_KDATA 0x10

	.section .text.start, "ax", @progbits
	.globl _start
	.type _start, @function
_start:
	/* hvrun: CPL0, long mode, RSP = HVRUN_SK_STACK_TOP, RDI = loader block, IF = 0. */
	xorl %ebp, %ebp
	andq $-16, %rsp
	call sk_main                    /* does not return */
	movb $HVRUN_EXIT_SK_FAILURE, %al
	outb %al, $HVRUN_PORT_DEBUG_EXIT
1:	cli
	hlt
	jmp 1b
	.size _start, . - _start

	.section .text, "ax", @progbits

/* void sk_vtl_return(void) */
	.globl sk_vtl_return
	.type sk_vtl_return, @function
sk_vtl_return:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	leaq sk_vtl0(%rip), %rcx
	movq 0x10(%rcx), %rdx
	movq 0x18(%rcx), %rbx
	movq 0x20(%rcx), %rbp
	movq 0x28(%rcx), %rsi
	movq 0x30(%rcx), %rdi
	movq 0x38(%rcx), %r8
	movq 0x40(%rcx), %r9
	movq 0x48(%rcx), %r10
	movq 0x50(%rcx), %r11
	movq 0x58(%rcx), %r12
	movq 0x60(%rcx), %r13
	movq 0x68(%rcx), %r14
	movq 0x70(%rcx), %r15
	/* RCX = 0: a normal return, RAX/RCX of VTL0 come from the VP assist page. */
	xorl %ecx, %ecx
	call *sk_hc_vtl_return(%rip)
	/* VTL1 entered again: every shared register holds VTL0's value. */
	movq %rax, sk_vtl0 + 0x00(%rip)
	movq %rcx, sk_vtl0 + 0x08(%rip)
	movq %rdx, sk_vtl0 + 0x10(%rip)
	movq %rbx, sk_vtl0 + 0x18(%rip)
	movq %rbp, sk_vtl0 + 0x20(%rip)
	movq %rsi, sk_vtl0 + 0x28(%rip)
	movq %rdi, sk_vtl0 + 0x30(%rip)
	movq %r8,  sk_vtl0 + 0x38(%rip)
	movq %r9,  sk_vtl0 + 0x40(%rip)
	movq %r10, sk_vtl0 + 0x48(%rip)
	movq %r11, sk_vtl0 + 0x50(%rip)
	movq %r12, sk_vtl0 + 0x58(%rip)
	movq %r13, sk_vtl0 + 0x60(%rip)
	movq %r14, sk_vtl0 + 0x68(%rip)
	movq %r15, sk_vtl0 + 0x70(%rip)
	cld
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
	.size sk_vtl_return, . - sk_vtl_return

/*
 * void sk_user_enter(uint64_t rip, uint64_t rsp, void *arg): iretq to CPL3 at rip with RDI = arg.
 * Never returns: the trustlet comes back through int $0x80 (or a fault), and the handler
 * longjmps to the caller's setjmp. No kernel register value is handed to CPL3.
 */
	.globl sk_user_enter
	.type sk_user_enter, @function
sk_user_enter:
	pushq $SEL_UDATA
	pushq %rsi
	pushq $0x2                      /* RFLAGS: IF = 0, IOPL 0 */
	pushq $SEL_UCODE
	pushq %rdi
	movq %rdx, %rdi
	xorl %eax, %eax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %ebp, %ebp
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	xorl %r14d, %r14d
	xorl %r15d, %r15d
	iretq
	.size sk_user_enter, . - sk_user_enter

/* void sk_reload_kernel_ss(void): SS is null after an interrupt from CPL3; make it flat again. */
	.globl sk_reload_kernel_ss
	.type sk_reload_kernel_ss, @function
sk_reload_kernel_ss:
	movl $SEL_KDATA, %eax
	movl %eax, %ss
	ret
	.size sk_reload_kernel_ss, . - sk_reload_kernel_ss

/*
 * The trustlet's entry (CPL3). Only this section may contain `int`: it never runs at CPL0
 * (guests/tools/check-image.sh allows `int $0x80` in .user.text and nowhere else).
 */
	.section .user.text, "ax", @progbits
	.globl sk_user_start
	.type sk_user_start, @function
sk_user_start:
	call tl_main                    /* RDI = struct tl_request *; result in RAX */
	int $0x80
	ud2
	.size sk_user_start, . - sk_user_start

	.section .note.GNU-stack, "", @progbits
