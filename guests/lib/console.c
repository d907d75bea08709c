/* SPDX-License-Identifier: MIT */
/* Polled 16550 and 0xE9 output. Every byte costs a port exit, so keep output short. */
#include "console.h"

#include "hvrun/abi.h"

#include "io.h"

#define UART_THR   0
#define UART_IIR_FCR 2
#define UART_LSR   5
#define LSR_THRE   0x20
#define FCR_FIFO_ON 0x07   /* enable, clear both FIFOs */
#define IIR_FIFO_ON 0xC0
#define UART_FIFO   16     /* a 16550A's transmit FIFO: THRE means all 16 bytes are free */
/* A UART whose THRE never rises is broken; give up on the byte rather than hang the guest. */
#define THRE_SPINS 1000

static enum console_kind console_kind = CONSOLE_UART;

enum console_kind console_select(enum console_kind kind)
{
	enum console_kind old = console_kind;

	console_kind = kind;
	return old;
}

static void uart_wait_thre(void)
{
	for (int i = 0; i < THRE_SPINS; i++) {
		if (inb(HVRUN_PORT_UART0 + UART_LSR) & LSR_THRE)
			break;
	}
}

/*
 * Bytes per THRE: 16 once the FIFO is on (checked in IIR, as a 16550A driver does), else 1 (a
 * 16450). Writing a burst per THRE halves the exits of text output: one LSR poll per 16 bytes
 * instead of one per byte. VPs racing here compute the same answer.
 */
static size_t uart_burst(void)
{
	static size_t burst;

	if (!burst) {
		outb(HVRUN_PORT_UART0 + UART_IIR_FCR, FCR_FIFO_ON);
		burst = (inb(HVRUN_PORT_UART0 + UART_IIR_FCR) & IIR_FIFO_ON) == IIR_FIFO_ON ? UART_FIFO : 1;
	}
	return burst;
}

static void uart_write(const char *s, size_t len)
{
	size_t burst = uart_burst();

	while (len) {
		size_t n = len < burst ? len : burst;

		uart_wait_thre();
		outsb(HVRUN_PORT_UART0 + UART_THR, s, n);
		s += n;
		len -= n;
	}
}

void console_write(const char *s, size_t len)
{
	switch (console_kind) {
	case CONSOLE_UART:
		uart_write(s, len);
		break;
	case CONSOLE_DEBUGCON:
		if (len)
			outsb(HVRUN_PORT_DEBUGCON, s, len);
		break;
	case CONSOLE_NONE:
		break;
	}
}

void console_putc(char c)
{
	console_write(&c, 1);
}

void console_puts(const char *s)
{
	size_t len = 0;

	while (s[len])
		len++;
	console_write(s, len);
}
