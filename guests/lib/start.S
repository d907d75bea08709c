/* SPDX-License-Identifier: MIT */
/*
 * Guest entry point. hvrun starts us in 64-bit long mode at CPL0 with IF=0, RSP = 0x20000 and
 * RDI = the boot info GPA (docs/guest-abi.md). We keep hvrun's stack, record the entry registers,
 * call guest_main(bi) and write its return value to the debug-exit port.
 */
#define HVRUN_PORT_DEBUG_EXIT 0xf4

	.section .text.start, "ax", @progbits
	.globl _start
	.type _start, @function
_start:
	/* Snapshot the entry state before touching anything (tests check the boot contract). */
	movq %rax, guest_entry_regs + 0x00(%rip)
	movq %rbx, guest_entry_regs + 0x08(%rip)
	movq %rcx, guest_entry_regs + 0x10(%rip)
	movq %rdx, guest_entry_regs + 0x18(%rip)
	movq %rsi, guest_entry_regs + 0x20(%rip)
	movq %rdi, guest_entry_regs + 0x28(%rip)
	movq %rbp, guest_entry_regs + 0x30(%rip)
	movq %rsp, guest_entry_regs + 0x38(%rip)
	movq %r8,  guest_entry_regs + 0x40(%rip)
	movq %r9,  guest_entry_regs + 0x48(%rip)
	movq %r10, guest_entry_regs + 0x50(%rip)
	movq %r11, guest_entry_regs + 0x58(%rip)
	movq %r12, guest_entry_regs + 0x60(%rip)
	movq %r13, guest_entry_regs + 0x68(%rip)
	movq %r14, guest_entry_regs + 0x70(%rip)
	movq %r15, guest_entry_regs + 0x78(%rip)
	pushfq
	popq guest_entry_regs + 0x80(%rip)

	movq %rdi, boot_info(%rip)
	xorl %ebp, %ebp                 /* end of the frame-pointer chain */
	andq $-16, %rsp                 /* ABI alignment at the call (0x20000 already is) */
	call guest_main                 /* RDI still holds the boot info pointer */

	outb %al, $HVRUN_PORT_DEBUG_EXIT
1:	cli
	hlt
	jmp 1b
	.size _start, . - _start

	.section .bss
	.balign 8
	.globl guest_entry_regs
	.type guest_entry_regs, @object
guest_entry_regs:
	.skip 0x88
	.size guest_entry_regs, . - guest_entry_regs

	.globl boot_info
	.type boot_info, @object
boot_info:
	.skip 8
	.size boot_info, . - boot_info

	.section .note.GNU-stack, "", @progbits
