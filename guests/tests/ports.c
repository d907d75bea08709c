/* SPDX-License-Identifier: MIT */
/*
 * Port and MMIO behaviour hvrun promises (docs/guest-abi.md): the 16550 register file at 0x3F8,
 * the 0xE9 debug console's read-back, all-ones reads from unclaimed ports and unmapped GPAs, and
 * writes to them being ignored.
 */
#include "guest.h"

#define COM1        HVRUN_PORT_UART0
#define UART_DLL    0   /* DLAB=1 */
#define UART_IER    1
#define UART_DLM    1   /* DLAB=1 */
#define UART_IIR    2
#define UART_LCR    3
#define UART_MCR    4
#define UART_LSR    5
#define UART_SCR    7
#define LCR_DLAB    0x80
#define LSR_THRE    0x20
#define LSR_TEMT    0x40

#define UNCLAIMED_PORT 0x1230u           /* nothing decodes it */
#define UNMAPPED_GPA   0xD0000000ull     /* in the MMIO hole, identity-mapped, no device */

static void test_uart(void)
{
	uint8_t lcr, dll, dlm, ier;

	report_prefix_push("uart");

	outb(COM1 + UART_SCR, 0x5a);
	uint8_t scr1 = inb(COM1 + UART_SCR);
	outb(COM1 + UART_SCR, 0xa5);
	uint8_t scr2 = inb(COM1 + UART_SCR);
	report(scr1 == 0x5a && scr2 == 0xa5, "scratch register read-back (%#x, %#x)", scr1, scr2);

	/*
	 * Divisor latch. While DLAB is set, THR is the divisor's low byte: print nothing until the
	 * LCR is restored, so keep the results in locals.
	 */
	lcr = inb(COM1 + UART_LCR);
	outb(COM1 + UART_LCR, lcr | LCR_DLAB);
	uint8_t lcr_dlab = inb(COM1 + UART_LCR);
	uint8_t old_dll = inb(COM1 + UART_DLL), old_dlm = inb(COM1 + UART_DLM);
	outb(COM1 + UART_DLL, 0x0c);           /* 9600 baud */
	outb(COM1 + UART_DLM, 0x00);
	dll = inb(COM1 + UART_DLL);
	dlm = inb(COM1 + UART_DLM);
	outb(COM1 + UART_DLL, 0x34);
	outb(COM1 + UART_DLM, 0x12);
	uint16_t div = (uint16_t)(inb(COM1 + UART_DLL) | inb(COM1 + UART_DLM) << 8);
	outb(COM1 + UART_DLL, old_dll);
	outb(COM1 + UART_DLM, old_dlm);
	outb(COM1 + UART_LCR, lcr & (uint8_t)~LCR_DLAB);
	uint8_t lcr_after = inb(COM1 + UART_LCR);

	report(lcr_dlab == (lcr | LCR_DLAB), "LCR read-back with DLAB set (%#x)", lcr_dlab);
	report(dll == 0x0c && dlm == 0x00 && div == 0x1234,
	       "divisor latch read-back (DLL %#x DLM %#x, %#x)", dll, dlm, div);
	report(lcr_after == (lcr & (uint8_t)~LCR_DLAB), "LCR read-back after clearing DLAB (%#x)",
	       lcr_after);

	/* With DLAB clear, offset 1 is IER again, not DLM. */
	outb(COM1 + UART_IER, 0x05);
	ier = inb(COM1 + UART_IER);
	outb(COM1 + UART_IER, 0x00);
	uint8_t ier0 = inb(COM1 + UART_IER);
	report(ier == 0x05 && ier0 == 0x00, "IER read-back (%#x, %#x)", ier, ier0);

	uint8_t iir = inb(COM1 + UART_IIR);
	report(iir & 0x01, "IIR: no interrupt pending with IER 0 (%#x)", iir);

	outb(COM1 + UART_LCR, 0x1b);           /* 8 bits, 2 stop bits, even parity */
	uint8_t lcr2 = inb(COM1 + UART_LCR);
	outb(COM1 + UART_LCR, lcr & (uint8_t)~LCR_DLAB);
	report(lcr2 == 0x1b, "LCR read-back (%#x)", lcr2);

	uint8_t mcr = inb(COM1 + UART_MCR);
	outb(COM1 + UART_MCR, 0x0b);           /* DTR, RTS, OUT2; not loopback */
	uint8_t mcr2 = inb(COM1 + UART_MCR);
	outb(COM1 + UART_MCR, mcr);
	report(mcr2 == 0x0b, "MCR read-back (%#x)", mcr2);

	uint8_t lsr = inb(COM1 + UART_LSR);
	report(lsr == (LSR_THRE | LSR_TEMT), "LSR is THRE|TEMT, no data or errors (%#x)", lsr);

	report_prefix_pop();
}

static void test_debugcon(void)
{
	report_prefix_push("debugcon");
	uint8_t v = inb(HVRUN_PORT_DEBUGCON);
	report(v == 0xE9, "port 0xE9 reads 0xE9 (%#x)", v);

	enum console_kind old = console_select(CONSOLE_DEBUGCON);
	printf("ports: this line went to port 0xE9\n");
	console_select(old);
	report_prefix_pop();
}

static void test_unclaimed_port(void)
{
	report_prefix_push("unclaimed port");
	uint8_t b = inb(UNCLAIMED_PORT);
	uint16_t w = inw(UNCLAIMED_PORT);
	uint32_t l = inl(UNCLAIMED_PORT);
	report(b == 0xff, "8-bit in reads 0xff (%#x)", b);
	report(w == 0xffff, "16-bit in reads 0xffff (%#x)", w);
	report(l == 0xffffffffu, "32-bit in reads 0xffffffff (%#x)", l);

	outb(UNCLAIMED_PORT, 0x12);
	outw(UNCLAIMED_PORT, 0x3456);
	outl(UNCLAIMED_PORT, 0x789abcdeu);
	b = inb(UNCLAIMED_PORT);
	w = inw(UNCLAIMED_PORT);
	l = inl(UNCLAIMED_PORT);
	report(b == 0xff && w == 0xffff && l == 0xffffffffu,
	       "writes are ignored (%#x %#x %#x)", b, w, l);
	report_prefix_pop();
}

static void test_unmapped_mmio(void)
{
	report_prefix_push("unmapped mmio");
	uint8_t b = readb(UNMAPPED_GPA);
	uint16_t w = readw(UNMAPPED_GPA);
	uint32_t l = readl(UNMAPPED_GPA);
	uint64_t q = readq(UNMAPPED_GPA);
	report(b == 0xff, "8-bit read at %#llx is 0xff (%#x)", UNMAPPED_GPA, b);
	report(w == 0xffff, "16-bit read is 0xffff (%#x)", w);
	report(l == 0xffffffffu, "32-bit read is 0xffffffff (%#x)", l);
	report(q == ~0ull, "64-bit read is all ones (%#lx)", q);

	writel(UNMAPPED_GPA, 0x12345678u);
	writeq(UNMAPPED_GPA + 8, 0);
	l = readl(UNMAPPED_GPA);
	q = readq(UNMAPPED_GPA + 8);
	report(l == 0xffffffffu && q == ~0ull, "writes are ignored (%#x %#lx)", l, q);
	report_prefix_pop();
}

int guest_main(const struct hvrun_boot_info *bi)
{
	(void)bi;
	report_prefix_push("ports");
	test_uart();
	test_debugcon();
	test_unclaimed_port();
	test_unmapped_mmio();
	report_prefix_pop();
	return report_summary();
}
