/* SPDX-License-Identifier: MIT */
/* A partition's console sink: line-buffered guest output to a stream, with an optional line prefix. */
#ifndef DEV_CONSOLE_H
#define DEV_CONSOLE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DEV_CONSOLE_LINE 512

struct dev_console {
	FILE *out;
	char prefix[48];
	char line[DEV_CONSOLE_LINE];
	size_t len;
	uint64_t bytes;              /* total bytes the guest wrote */
	pthread_mutex_t lock;
};

int dev_console_init(struct dev_console *c, FILE *out, const char *prefix);
void dev_console_fini(struct dev_console *c);
void dev_console_putc(struct dev_console *c, uint8_t ch);
void dev_console_flush(struct dev_console *c);

#endif /* DEV_CONSOLE_H */
