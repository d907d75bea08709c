/* SPDX-License-Identifier: MIT */
/* Guest console output: bytes are gathered into lines so each line is one write. */
#include "dev/console.h"

#include <errno.h>
#include <string.h>

int dev_console_init(struct dev_console *c, FILE *out, const char *prefix)
{
	memset(c, 0, sizeof(*c));
	c->out = out;
	if (prefix)
		snprintf(c->prefix, sizeof(c->prefix), "%s", prefix);
	return pthread_mutex_init(&c->lock, NULL) ? -ENOMEM : 0;
}

static void flush_locked(struct dev_console *c, int newline)
{
	if (!c->len && !newline)
		return;
	if (c->out) {
		fprintf(c->out, "%s%.*s%s", c->prefix, (int)c->len, c->line, newline ? "\n" : "");
		fflush(c->out);
	}
	c->len = 0;
}

void dev_console_putc(struct dev_console *c, uint8_t ch)
{
	pthread_mutex_lock(&c->lock);
	c->bytes++;
	if (ch == '\n') {
		flush_locked(c, 1);
	} else if (ch != '\r') {
		c->line[c->len++] = (char)ch;
		if (c->len == sizeof(c->line))
			flush_locked(c, 0);
	}
	pthread_mutex_unlock(&c->lock);
}

void dev_console_flush(struct dev_console *c)
{
	pthread_mutex_lock(&c->lock);
	flush_locked(c, c->len != 0);
	pthread_mutex_unlock(&c->lock);
}

void dev_console_fini(struct dev_console *c)
{
	dev_console_flush(c);
	pthread_mutex_destroy(&c->lock);
}
