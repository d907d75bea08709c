/* SPDX-License-Identifier: MIT */
/* Polled 16550 and 0xE9 output. Every byte costs one or two port exits, so keep output short. */
#include "console.h"

#include "hvrun/abi.h"

#include "io.h"

#define UART_THR   0
#define UART_LSR   5
#define LSR_THRE   0x20
/* A UART whose THRE never rises is broken; give up on the byte rather than hang the guest. */
#define THRE_SPINS 1000

static enum console_kind console_kind = CONSOLE_UART;

enum console_kind console_select(enum console_kind kind)
{
	enum console_kind old = console_kind;

	console_kind = kind;
	return old;
}

static void uart_putc(char c)
{
	for (int i = 0; i < THRE_SPINS; i++) {
		if (inb(HVRUN_PORT_UART0 + UART_LSR) & LSR_THRE)
			break;
	}
	outb(HVRUN_PORT_UART0 + UART_THR, (uint8_t)c);
}

void console_putc(char c)
{
	switch (console_kind) {
	case CONSOLE_UART:
		uart_putc(c);
		break;
	case CONSOLE_DEBUGCON:
		outb(HVRUN_PORT_DEBUGCON, (uint8_t)c);
		break;
	case CONSOLE_NONE:
		break;
	}
}

void console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		console_putc(s[i]);
}

void console_puts(const char *s)
{
	while (*s)
		console_putc(*s++);
}
