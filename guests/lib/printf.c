/* SPDX-License-Identifier: MIT */
/* One formatter, two sinks: a bounded buffer (vsnprintf) or the console (vprintf). */
#include "printf.h"

#include <stdbool.h>
#include <stdint.h>

#include "console.h"

struct sink {
	char *buf;          /* NULL: write to the console, in chunks of `pending` */
	size_t size;
	size_t len;         /* bytes produced so far (may exceed size) */
	char pending[64];   /* console output not yet written; flushed before vprintf returns */
	size_t npending;
};

static void flush(struct sink *s)
{
	console_write(s->pending, s->npending);
	s->npending = 0;
}

static void emit(struct sink *s, char c)
{
	if (!s->buf) {
		s->pending[s->npending++] = c;
		if (s->npending == sizeof(s->pending))
			flush(s);
	} else if (s->len + 1 < s->size) {
		s->buf[s->len] = c;
	}
	s->len++;
}

static void emit_n(struct sink *s, char c, int n)
{
	while (n-- > 0)
		emit(s, c);
}

enum {
	F_LEFT = 1 << 0,    /* '-' */
	F_ZERO = 1 << 1,    /* '0' */
	F_PLUS = 1 << 2,    /* '+' */
	F_SPACE = 1 << 3,   /* ' ' */
	F_ALT = 1 << 4,     /* '#' */
	F_UPPER = 1 << 5,
	F_PTR = 1 << 6,     /* %p: always "0x", even for zero */
};

static void emit_str(struct sink *s, const char *str, int width, int prec, unsigned flags)
{
	int len = 0;

	if (!str)
		str = "(null)";
	while (str[len] && (prec < 0 || len < prec))
		len++;
	if (!(flags & F_LEFT))
		emit_n(s, ' ', width - len);
	for (int i = 0; i < len; i++)
		emit(s, str[i]);
	if (flags & F_LEFT)
		emit_n(s, ' ', width - len);
}

static void emit_num(struct sink *s, uint64_t v, bool neg, unsigned base, int width, int prec,
		     unsigned flags)
{
	const char *digits = (flags & F_UPPER) ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	char prefix[3];
	int n = 0, np = 0;

	if (neg)
		prefix[np++] = '-';
	else if (flags & F_PLUS)
		prefix[np++] = '+';
	else if (flags & F_SPACE)
		prefix[np++] = ' ';
	if (((flags & F_ALT) && base == 16 && v) || (flags & F_PTR)) {
		prefix[np++] = '0';
		prefix[np++] = (flags & F_UPPER) ? 'X' : 'x';
	}
	/* Precision 0 with value 0 prints no digits (C99). */
	while (v || (n == 0 && prec != 0)) {
		tmp[n++] = digits[v % base];
		v /= base;
	}
	if ((flags & F_ALT) && base == 8 && (n == 0 || tmp[n - 1] != '0') && prec <= n)
		prec = n + 1;

	int zeros = prec > n ? prec - n : 0;
	int pad = width - np - zeros - n;

	/* '0' pads with zeros after the sign/prefix; ignored with '-' or an explicit precision. */
	if ((flags & F_ZERO) && !(flags & F_LEFT) && prec < 0) {
		zeros += pad > 0 ? pad : 0;
		pad = 0;
	}
	if (!(flags & F_LEFT))
		emit_n(s, ' ', pad);
	for (int i = 0; i < np; i++)
		emit(s, prefix[i]);
	emit_n(s, '0', zeros);
	while (n)
		emit(s, tmp[--n]);
	if (flags & F_LEFT)
		emit_n(s, ' ', pad);
}

static int parse_int(const char **p)
{
	int v = 0;

	while (**p >= '0' && **p <= '9') {
		if (v < 100000)
			v = v * 10 + (**p - '0');
		(*p)++;
	}
	return v;
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			emit(s, *p);
			continue;
		}
		p++;

		unsigned flags = 0;
		for (;; p++) {
			if (*p == '-')
				flags |= F_LEFT;
			else if (*p == '0')
				flags |= F_ZERO;
			else if (*p == '+')
				flags |= F_PLUS;
			else if (*p == ' ')
				flags |= F_SPACE;
			else if (*p == '#')
				flags |= F_ALT;
			else
				break;
		}

		int width = 0;
		if (*p == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= F_LEFT;
				width = -width;
			}
			p++;
		} else {
			width = parse_int(&p);
		}

		int prec = -1;
		if (*p == '.') {
			p++;
			if (*p == '*') {
				prec = va_arg(ap, int);
				if (prec < 0)
					prec = -1;
				p++;
			} else {
				prec = parse_int(&p);
			}
		}

		/* Length in bytes of the integer argument; 0 means int. */
		int size = 0;
		switch (*p) {
		case 'h':
			size = (p[1] == 'h') ? 1 : 2;
			p += (p[1] == 'h') ? 2 : 1;
			break;
		case 'l':
			size = 8;
			p += (p[1] == 'l') ? 2 : 1;
			break;
		case 'z':
		case 'j':
		case 't':
			size = 8;
			p++;
			break;
		default:
			break;
		}

		uint64_t u;
		int64_t d;
		char c;
		switch (*p) {
		case 'd':
		case 'i':
			if (size == 8)
				d = va_arg(ap, int64_t);
			else
				d = va_arg(ap, int);
			if (size == 2)
				d = (int16_t)d;
			else if (size == 1)
				d = (int8_t)d;
			u = d < 0 ? -(uint64_t)d : (uint64_t)d;
			emit_num(s, u, d < 0, 10, width, prec, flags);
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			if (size == 8)
				u = va_arg(ap, uint64_t);
			else
				u = va_arg(ap, unsigned int);
			if (size == 2)
				u = (uint16_t)u;
			else if (size == 1)
				u = (uint8_t)u;
			flags &= ~(unsigned)(F_PLUS | F_SPACE);
			if (*p == 'X')
				flags |= F_UPPER;
			emit_num(s, u, false, *p == 'u' ? 10 : *p == 'o' ? 8 : 16, width, prec, flags);
			break;
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			emit_num(s, u, false, 16, width, prec, (flags & ~(unsigned)(F_PLUS | F_SPACE)) | F_PTR);
			break;
		case 'c':
			c = (char)va_arg(ap, int);
			if (!(flags & F_LEFT))
				emit_n(s, ' ', width - 1);
			emit(s, c);
			if (flags & F_LEFT)
				emit_n(s, ' ', width - 1);
			break;
		case 's':
			emit_str(s, va_arg(ap, const char *), width, prec, flags);
			break;
		case '%':
			emit(s, '%');
			break;
		case '\0':
			/* A lone '%' at the end: print it and stop. */
			emit(s, '%');
			return;
		default:
			/* Unknown conversion: print it verbatim so the mistake is visible. */
			emit(s, '%');
			emit(s, *p);
			break;
		}
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	static char dummy;
	struct sink s = { .buf = size ? buf : &dummy, .size = size, .len = 0 };

	format(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int vprintf(const char *fmt, va_list ap)
{
	struct sink s = { .buf = NULL, .size = 0, .len = 0, .npending = 0 };

	format(&s, fmt, ap);
	flush(&s);
	return (int)s.len;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}
