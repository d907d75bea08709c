/* SPDX-License-Identifier: MIT */
/* Guest console output: the 16550 UART at 0x3F8 (polled) by default, or the 0xE9 debug port. */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <stddef.h>

enum console_kind {
	CONSOLE_UART = 0,    /* COM1 at 0x3F8, FIFO on: wait for LSR.THRE, write up to 16 bytes (the default) */
	CONSOLE_DEBUGCON,    /* port 0xE9: one `out` per byte */
	CONSOLE_NONE,        /* discard output */
};

/* Selects where putc/puts/printf write; returns the previous choice. */
enum console_kind console_select(enum console_kind kind);

/* Writes bytes as they are: no "\n" -> "\r\n" translation (hvrun's console drops '\r'). */
void console_putc(char c);
void console_write(const char *s, size_t len);

/* Writes a string with no newline added (unlike the hosted puts). */
void console_puts(const char *s);

#define putc(c) console_putc(c)
#define puts(s) console_puts(s)

#endif /* GUEST_CONSOLE_H */
