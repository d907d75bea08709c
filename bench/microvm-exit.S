/* SPDX-License-Identifier: MIT */
/*
 * The trivial guest bench/run.py boots under QEMU -machine microvm for the start-up comparison:
 * a PVH entry point (the XEN_ELFNOTE_PHYS32_ENTRY note QEMU's -kernel loader looks for) that
 * writes 0 to isa-debug-exit at port 0xF4 at once. QEMU then exits with status (0 << 1) | 1 = 1.
 * It does less than the canary (no output), which can only favour QEMU.
 */
	.section .note.pvh, "a", @note
	.balign 4
	.long 4                         /* namesz: "Xen\0" */
	.long 8                         /* descsz: a 64-bit ELF carries an 8-byte entry address */
	.long 18                        /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad pvh_start
	.balign 4

	.text
	.code32                         /* PVH: 32-bit protected mode, paging off */
	.globl pvh_start
pvh_start:
	xorl %eax, %eax
	outb %al, $0xf4
1:	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits
