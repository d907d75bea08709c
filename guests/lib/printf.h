/* SPDX-License-Identifier: MIT */
/*
 * A printf subset for guests. Conversions: %d %i %u %x %X %o %c %s %p %%. Flags: '-' '0' '+' ' '
 * '#'. Width and precision as digits or '*'. Length modifiers: hh h l ll z j t. No floating point.
 */
#ifndef GUEST_PRINTF_H
#define GUEST_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

/* Like C99: returns the length the whole output would have, and NUL-terminates when size > 0. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Write to the selected console (console_select()); return the number of bytes written. */
int vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* GUEST_PRINTF_H */
