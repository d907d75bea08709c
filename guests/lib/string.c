/* SPDX-License-Identifier: MIT */
/*
 * Freestanding string functions. Ring-0 guest code is emulated one instruction at a time, so the
 * bulk operations use `rep stosb`/`rep movsb`: one instruction for the emulator to decode instead
 * of a loop of several per byte. Written in asm also keeps GCC from turning them into calls to
 * themselves (loop-distribution recognises memset/memcpy loops).
 */
#include "string.h"

#include <stdint.h>

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

void *memcpy(void *__restrict dst, const void *__restrict src, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	/* Overlap with dst above src: copy backwards. */
	d += n - 1;
	s += n - 1;
	__asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (size_t i = 0; i < n; i++) {
		if (p[i] != q[i])
			return p[i] < q[i] ? -1 : 1;
	}
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	}
	return 0;
}

int cmdline_has_word(const char *cmdline, size_t max, const char *word)
{
	size_t wl = strlen(word), i = 0;

	while (i < max && cmdline[i]) {
		size_t start;

		while (i < max && cmdline[i] == ' ')
			i++;
		start = i;
		while (i < max && cmdline[i] && cmdline[i] != ' ')
			i++;
		if (i - start == wl && !strncmp(cmdline + start, word, wl))
			return 1;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}
