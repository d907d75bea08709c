/* SPDX-License-Identifier: MIT */
/*
 * The guest's string functions. This header deliberately shadows the C library's <string.h>
 * (guests build with -nostdinc): GCC may emit calls to memset/memcpy/memmove/memcmp by itself.
 */
#ifndef GUEST_STRING_H
#define GUEST_STRING_H

#include <stddef.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *__restrict dst, const void *__restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

/* Is word one of the space-separated words of the command line (at most max bytes of it)? */
int cmdline_has_word(const char *cmdline, size_t max, const char *word);

#endif /* GUEST_STRING_H */
