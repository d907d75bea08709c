/* SPDX-License-Identifier: MIT */
/* Console sink tests: lines, prefixes, carriage returns, long lines and flushing. */
#include "dev/console.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

struct sink {
	char *buf;
	size_t len;
	FILE *f;
	struct dev_console c;
};

static void sink_open(struct sink *s, const char *prefix)
{
	s->buf = NULL;
	s->len = 0;
	s->f = open_memstream(&s->buf, &s->len);
	assert_non_null(s->f);
	assert_int_equal(dev_console_init(&s->c, s->f, prefix), 0);
}

static void sink_close(struct sink *s)
{
	dev_console_fini(&s->c);
	fclose(s->f);
	free(s->buf);
}

static void put(struct sink *s, const char *str)
{
	while (*str)
		dev_console_putc(&s->c, (uint8_t)*str++);
}

static void test_lines_with_prefix(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, "[p1] ");
	put(&s, "hello\r\nworld");
	fflush(s.f);
	assert_string_equal(s.buf, "[p1] hello\n");      /* partial line held back */
	dev_console_flush(&s.c);
	fflush(s.f);
	assert_string_equal(s.buf, "[p1] hello\n[p1] world\n");
	assert_int_equal(s.c.bytes, 12);
	sink_close(&s);
}

static void test_no_prefix_and_empty_lines(void **state)
{
	struct sink s;

	(void)state;
	sink_open(&s, NULL);
	put(&s, "\n\na\n");
	dev_console_flush(&s.c);           /* nothing pending: no extra newline */
	fflush(s.f);
	assert_string_equal(s.buf, "\n\na\n");
	sink_close(&s);
}

static void test_long_line_is_split_not_lost(void **state)
{
	struct sink s;
	char big[DEV_CONSOLE_LINE * 2 + 10];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	sink_open(&s, NULL);
	put(&s, big);
	put(&s, "\n");
	fflush(s.f);
	assert_int_equal(strlen(s.buf), sizeof(big) - 1 + 1);
	assert_int_equal(s.buf[strlen(s.buf) - 1], '\n');
	sink_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_with_prefix),
		cmocka_unit_test(test_no_prefix_and_empty_lines),
		cmocka_unit_test(test_long_line_is_split_not_lost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
