/* SPDX-License-Identifier: MIT */
/* Logger tests: levels filter, prefixes, and --trace lines that cost nothing when tracing is off. */
#include "vmm/log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* Run fn with stderr going to a temporary file; return what it printed. */
static const char *capture(void (*fn)(void))
{
	static char buf[4096];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}

static int evaluated;

static int side_effect(void)
{
	return ++evaluated;
}

static void trace_twice(void)
{
	vmm_log_set_trace(false);
	vmm_trace("hidden %d", side_effect());
	vmm_log_set_trace(true);
	vmm_trace("shown %d", side_effect());
	vmm_log_set_trace(false);
}

static void test_trace_only_when_on(void **state)
{
	const char *out;

	(void)state;
	evaluated = 0;
	out = capture(trace_twice);
	assert_string_equal(out, "trace: shown 1\n");
	assert_int_equal(evaluated, 1);             /* arguments of a hidden line are not evaluated */
	assert_false(vmm_log_trace_enabled());
}

static void log_levels(void)
{
	vmm_log_set_level(VMM_LOG_NOTICE);
	pr_err("e%d", 1);
	pr_warn("w%d", 2);
	pr_notice("n%d", 3);
	pr_info("i%d", 4);
	vmm_log_set_level(VMM_LOG_ERROR);
	pr_warn("w%d", 5);
	pr_err("e%d", 6);
	vmm_log_set_level(VMM_LOG_NOTICE);
}

static void test_levels_and_prefixes(void **state)
{
	(void)state;
	assert_string_equal(capture(log_levels), "hvrun: error: e1\nhvrun: warning: w2\nhvrun: n3\n"
						 "hvrun: error: e6\n");
	assert_int_equal(vmm_log_get_level(), VMM_LOG_NOTICE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trace_only_when_on),
		cmocka_unit_test(test_levels_and_prefixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
