/* SPDX-License-Identifier: MIT */
/* Unit tests for hvrun's command-line parser: every option, its validation, and re-entrancy. */
#include "cli.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hvrun/abi.h"

/* Results of the last parse. */
static struct hvrun_options opts;
static char err[512];
static char *out_buf;
static size_t out_len;

static int teardown_group(void **state)
{
	(void)state;
	free(out_buf);
	out_buf = NULL;
	return 0;
}

static enum cli_result run_parse(int argc, char **argv)
{
	enum cli_result r;
	FILE *out;

	free(out_buf);
	out_buf = NULL;
	out_len = 0;
	out = open_memstream(&out_buf, &out_len);
	assert_non_null(out);
	memset(err, 0, sizeof(err));
	memset(&opts, 0x5a, sizeof(opts));   /* the parser must initialise every field */
	r = cli_parse(argc, argv, &opts, out, err, sizeof(err));
	assert_int_equal(fclose(out), 0);
	return r;
}

#define N_ARGS(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

/* Parse "hvrun ARGS..." and return the result. */
#define PARSE(...) ({                                                   \
	char *argv_[] = { "hvrun", __VA_ARGS__, NULL };                 \
	run_parse(N_ARGS(argv_), argv_);                                \
})
#define PARSE0() ({                                                     \
	char *argv_[] = { "hvrun", NULL };                              \
	run_parse(1, argv_);                                            \
})

/* Failure helpers report the caller's file and line (cmocka's _fail). */
#define FAIL_AT(file, line, ...) do { print_error("ERROR: " __VA_ARGS__); print_error("\n"); \
	_fail(file, line); } while (0)

static void check_err_contains(const char *needle, const char *file, int line)
{
	if (!strstr(err, needle))
		FAIL_AT(file, line, "error '%s' does not mention '%s'", err, needle);
	if (strchr(err, '\n'))
		FAIL_AT(file, line, "error '%s' is not one line", err);
}
#define assert_err_contains(needle) check_err_contains((needle), __FILE__, __LINE__)

static void check_usage(enum cli_result r, const char *needle, const char *file, int line)
{
	if (r != CLI_USAGE)
		FAIL_AT(file, line, "expected CLI_USAGE, got %d (err '%s')", r, err);
	check_err_contains(needle, file, line);
	if (out_len != 0)      /* errors go to err, never to out */
		FAIL_AT(file, line, "an error printed to out: '%s'", out_buf);
}
#define assert_usage(r, needle) check_usage((r), (needle), __FILE__, __LINE__)

static void check_run(enum cli_result r, const char *file, int line)
{
	if (r != CLI_RUN)
		FAIL_AT(file, line, "expected CLI_RUN, got %d (err '%s')", r, err);
	if (out_len != 0)
		FAIL_AT(file, line, "a successful parse printed to out: '%s'", out_buf);
}
#define assert_run(r) check_run((r), __FILE__, __LINE__)

static void check_mem(const char *arg, uint64_t want, const char *file, int line)
{
	char *argv[] = { "hvrun", "-m", (char *)arg, "img", NULL };

	check_run(run_parse(4, argv), file, line);
	if (opts.mem_size != want)
		FAIL_AT(file, line, "-m %s: mem_size %#llx, want %#llx", arg,
			(unsigned long long)opts.mem_size, (unsigned long long)want);
}
#define assert_mem(arg, want) check_mem((arg), (want), __FILE__, __LINE__)

static void check_timeout(const char *arg, double want, const char *file, int line)
{
	char *argv[] = { "hvrun", "--timeout", (char *)arg, "img", NULL };

	check_run(run_parse(4, argv), file, line);
	if (opts.timeout != want)
		FAIL_AT(file, line, "--timeout %s: %g, want %g", arg, opts.timeout, want);
}
#define assert_timeout(arg, want) check_timeout((arg), (want), __FILE__, __LINE__)

/* ---- defaults ---- */

static void test_defaults(void **state)
{
	(void)state;
	assert_run(PARSE("guest.elf"));
	assert_string_equal(opts.image, "guest.elf");
	assert_int_equal(opts.mem_size, 64ull << 20);
	assert_int_equal(opts.mem_size, HVRUN_MEM_DEFAULT);
	assert_true(opts.timeout == 0.0);
	assert_false(opts.trace);
	assert_int_equal(opts.verbosity, 0);
	assert_null(opts.cmdline);
	assert_null(opts.hv_vendor_id);
}

/* ---- -m / --memory ---- */

static void test_memory_valid(void **state)
{
	(void)state;
	assert_run(PARSE("-m", "128M", "img"));
	assert_int_equal(opts.mem_size, 128ull << 20);
	assert_string_equal(opts.image, "img");
	assert_run(PARSE("--memory=1G", "img"));
	assert_int_equal(opts.mem_size, 1ull << 30);
	assert_run(PARSE("--memory", "4096K", "img"));
	assert_int_equal(opts.mem_size, 4ull << 20);
	assert_run(PARSE("-m256M", "img"));
	assert_int_equal(opts.mem_size, 256ull << 20);
	assert_mem("2M", HVRUN_MEM_MIN);
	assert_mem("3G", HVRUN_MEM_MAX);
	assert_mem("2101248", 2101248);       /* 2M + 4K, plain bytes */
	/* the last -m wins */
	assert_run(PARSE("-m", "8M", "-m", "16M", "img"));
	assert_int_equal(opts.mem_size, 16ull << 20);
}

static void test_memory_bad_suffix(void **state)
{
	(void)state;
	assert_usage(PARSE("-m", "64X", "img"), "64X");
	assert_err_contains("invalid memory size");
	assert_usage(PARSE("--memory=lots", "img"), "lots");
	assert_usage(PARSE("-m", "", "img"), "memory");
	assert_usage(PARSE("-m", "-1", "img"), "-1");
}

static void test_memory_too_small(void **state)
{
	(void)state;
	assert_usage(PARSE("-m", "1M", "img"), "1M");
	assert_err_contains("2M..3G");
	assert_usage(PARSE("-m", "2093056", "img"), "2M..3G");   /* 2M - 4K */
	assert_usage(PARSE("-m", "0", "img"), "2M..3G");
}

static void test_memory_too_big(void **state)
{
	(void)state;
	assert_usage(PARSE("-m", "4G", "img"), "4G");
	assert_err_contains("2M..3G");
	assert_usage(PARSE("--memory=3076M", "img"), "2M..3G");  /* 3G + 4M */
	assert_usage(PARSE("-m", "99999999999G", "img"), "99999999999G");
}

static void test_memory_not_4k_multiple(void **state)
{
	(void)state;
	assert_usage(PARSE("-m", "2097153", "img"), "multiple of 4K");
	assert_err_contains("2097153");
	assert_usage(PARSE("-m", "0x200800", "img"), "multiple of 4K");
}

/* ---- --timeout ---- */

static void test_timeout_valid(void **state)
{
	(void)state;
	assert_timeout("2.5", 2.5);
	assert_timeout("10s", 10);
	assert_timeout("1m", 60);
	assert_timeout("1h", 3600);
	assert_timeout("1d", 86400);
	assert_timeout("0.5m", 30);
	assert_timeout("0", 0);
	assert_run(PARSE("--timeout=3", "img"));
	assert_true(opts.timeout == 3.0);
}

static void test_timeout_invalid(void **state)
{
	(void)state;
	assert_usage(PARSE("--timeout", "garbage", "img"), "garbage");
	assert_err_contains("invalid timeout");
	assert_usage(PARSE("--timeout", "-1", "img"), "invalid timeout");
	assert_usage(PARSE("--timeout", "-0.5s", "img"), "invalid timeout");
	assert_usage(PARSE("--timeout", "5x", "img"), "invalid timeout");
	assert_usage(PARSE("--timeout", "5ss", "img"), "invalid timeout");
	assert_usage(PARSE("--timeout", "", "img"), "invalid timeout");
	assert_usage(PARSE("--timeout", "inf", "img"), "invalid timeout");
	assert_usage(PARSE("--timeout", "nan", "img"), "invalid timeout");
}

static void test_parse_duration(void **state)
{
	double v;

	(void)state;
	v = -1;
	assert_int_equal(cli_parse_duration("2.5", &v), 0);
	assert_true(v == 2.5);
	assert_int_equal(cli_parse_duration("10s", &v), 0);
	assert_true(v == 10);
	assert_int_equal(cli_parse_duration("1m", &v), 0);
	assert_true(v == 60);
	assert_int_equal(cli_parse_duration("2h", &v), 0);
	assert_true(v == 7200);
	assert_int_equal(cli_parse_duration("1.5d", &v), 0);
	assert_true(v == 129600);

	v = 42;
	assert_int_equal(cli_parse_duration(NULL, &v), -EINVAL);
	assert_int_equal(cli_parse_duration("", &v), -EINVAL);
	assert_int_equal(cli_parse_duration("garbage", &v), -EINVAL);
	assert_int_equal(cli_parse_duration("-1", &v), -EINVAL);
	assert_int_equal(cli_parse_duration("1w", &v), -EINVAL);
	assert_int_equal(cli_parse_duration("1S", &v), -EINVAL);
	assert_int_equal(cli_parse_duration("1mm", &v), -EINVAL);
	assert_int_equal(cli_parse_duration("s", &v), -EINVAL);
	assert_int_equal(cli_parse_duration("inf", &v), -EINVAL);
	assert_int_equal(cli_parse_duration("1e999", &v), -EINVAL);
	assert_int_equal(cli_parse_duration("1e10", &v), -ERANGE);
	assert_int_equal(cli_parse_duration("20000d", &v), -ERANGE);
	assert_true(v == 42);    /* untouched on failure */
}

/* ---- flags ---- */

static void test_trace(void **state)
{
	(void)state;
	assert_run(PARSE("--trace", "img"));
	assert_true(opts.trace);
	assert_int_equal(opts.verbosity, 0);
	assert_run(PARSE("img"));
	assert_false(opts.trace);
}

static void test_verbosity(void **state)
{
	(void)state;
	assert_run(PARSE("-v", "img"));
	assert_int_equal(opts.verbosity, 1);
	assert_run(PARSE("-v", "-v", "img"));
	assert_int_equal(opts.verbosity, 2);
	assert_run(PARSE("-vv", "img"));
	assert_int_equal(opts.verbosity, 2);
	assert_run(PARSE("--verbose", "-v", "--verbose", "img"));
	assert_int_equal(opts.verbosity, 3);
	assert_run(PARSE("-q", "img"));
	assert_int_equal(opts.verbosity, -1);
	assert_run(PARSE("--quiet", "img"));
	assert_int_equal(opts.verbosity, -1);
	assert_run(PARSE("-v", "-v", "-q", "img"));
	assert_int_equal(opts.verbosity, -1);
	assert_run(PARSE("-q", "-v", "img"));
	assert_int_equal(opts.verbosity, 1);
}

/* ---- --cmdline / --hv-vendor-id ---- */

static void test_cmdline(void **state)
{
	static char longest[HVRUN_CMDLINE_MAX];         /* 1023 characters: fits */
	static char too_long[HVRUN_CMDLINE_MAX + 1];    /* 1024 characters: does not */

	(void)state;
	assert_run(PARSE("--cmdline", "console=ttyS0 debug", "img"));
	assert_string_equal(opts.cmdline, "console=ttyS0 debug");
	assert_run(PARSE("--cmdline=", "img"));
	assert_string_equal(opts.cmdline, "");

	memset(longest, 'a', sizeof(longest) - 1);
	assert_run(PARSE("--cmdline", longest, "img"));
	assert_ptr_equal(opts.cmdline, longest);

	memset(too_long, 'b', sizeof(too_long) - 1);
	assert_int_equal(strlen(too_long), 1024);
	assert_usage(PARSE("--cmdline", too_long, "img"), "command line longer than 1023");
}

static void test_hv_vendor_id(void **state)
{
	(void)state;
	assert_run(PARSE("--hv-vendor-id", "Microsoft Hv", "img"));    /* exactly 12 */
	assert_string_equal(opts.hv_vendor_id, "Microsoft Hv");
	assert_run(PARSE("--hv-vendor-id=hvrun", "img"));
	assert_string_equal(opts.hv_vendor_id, "hvrun");
	assert_usage(PARSE("--hv-vendor-id", "Microsoft Hv!", "img"), "longer than 12");
	assert_err_contains("Microsoft Hv!");
	assert_usage(PARSE("--hv-vendor-id", "0123456789abcdefghij", "img"), "12");
}

/* ---- --version / --help ---- */

static void test_version(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--version"), CLI_DONE);
	assert_non_null(out_buf);
	assert_string_equal(out_buf, "hvrun 0.1.0\n");
	assert_string_equal(err, "");
	/* wins over an IMAGE and other options before it */
	assert_int_equal(PARSE("-v", "--version", "img"), CLI_DONE);
	assert_non_null(strstr(out_buf, "hvrun 0.1.0"));
}

static void test_help(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--help"), CLI_DONE);
	assert_non_null(out_buf);
	assert_true(strncmp(out_buf, "Usage: hvrun", 12) == 0);
	assert_non_null(strstr(out_buf, "--memory"));
	assert_non_null(strstr(out_buf, "--timeout"));
	assert_non_null(strstr(out_buf, "--hv-vendor-id"));
	assert_string_equal(err, "");
	assert_int_equal(PARSE("-h"), CLI_DONE);
	assert_non_null(strstr(out_buf, "Usage: hvrun"));

	/* cli_usage on its own prints the same text */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	cli_usage(f);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, out_buf);
	free(buf);
}

/* ---- errors ---- */

static void test_unknown_option(void **state)
{
	(void)state;
	assert_usage(PARSE("--bogus", "img"), "unknown option");
	assert_err_contains("--bogus");
	assert_usage(PARSE("-x", "img"), "unknown option");
	assert_err_contains("-x");
	assert_usage(PARSE("-vZ", "img"), "-Z");
	/* a no-argument long option given an argument */
	assert_usage(PARSE("--trace=yes", "img"), "--trace");
}

static void test_missing_argument(void **state)
{
	(void)state;
	assert_usage(PARSE("-m"), "-m");
	assert_err_contains("argument");
	assert_usage(PARSE("--memory"), "--memory");
	assert_err_contains("argument");
	assert_usage(PARSE("img", "--timeout"), "--timeout");   /* options may follow IMAGE */
	assert_err_contains("argument");
	assert_usage(PARSE("--timeout"), "--timeout");
	assert_err_contains("argument");
	assert_usage(PARSE("--cmdline"), "--cmdline");
	assert_err_contains("argument");
}

static void test_no_image(void **state)
{
	(void)state;
	assert_usage(PARSE0(), "no IMAGE");
	assert_usage(PARSE("-v", "--trace"), "no IMAGE");
	assert_usage(PARSE("-m", "img"), "invalid memory size 'img'");   /* -m takes the IMAGE */
	assert_usage(PARSE("--"), "no IMAGE");
}

static void test_several_images(void **state)
{
	(void)state;
	assert_run(PARSE("a.elf", "b.elf"));
	assert_int_equal(opts.nimages, 2);
	assert_string_equal(opts.images[0], "a.elf");
	assert_string_equal(opts.images[1], "b.elf");
	assert_string_equal(opts.image, "a.elf");
	assert_run(PARSE("a.elf", "b.elf", "c.elf"));
	assert_int_equal(opts.nimages, 3);
	assert_string_equal(opts.images[2], "c.elf");
}

static void test_options_anywhere(void **state)
{
	(void)state;
	/* getopt permutes: options after an IMAGE still apply to every partition */
	assert_run(PARSE("img", "-v"));
	assert_int_equal(opts.nimages, 1);
	assert_int_equal(opts.verbosity, 1);
	assert_run(PARSE("-q", "img", "--memory=1G", "img2"));
	assert_int_equal(opts.mem_size, 1ull << 30);
	assert_int_equal(opts.nimages, 2);
	/* "--" ends the options, so an IMAGE may start with '-' */
	assert_run(PARSE("-v", "--", "-weird.elf"));
	assert_string_equal(opts.image, "-weird.elf");
	assert_int_equal(opts.verbosity, 1);
}

static void test_smp_and_config(void **state)
{
	(void)state;
	assert_run(PARSE("img"));
	assert_int_equal(opts.smp, 1);
	assert_run(PARSE("--smp", "4", "img"));
	assert_int_equal(opts.smp, 4);
	assert_usage(PARSE("--smp", "0", "img"), "--smp");
	assert_usage(PARSE("--smp", "17", "img"), "--smp");
	assert_usage(PARSE("--smp", "2x", "img"), "--smp");
	assert_run(PARSE("--config", "p.ini"));
	assert_string_equal(opts.config, "p.ini");
	assert_int_equal(opts.nimages, 0);
	assert_usage(PARSE("--config", "p.ini", "img"), "not both");
}

static void test_all_options(void **state)
{
	(void)state;
	assert_run(PARSE("-m", "32M", "--timeout", "1.5m", "--trace", "-v", "--cmdline", "a b",
			 "--hv-vendor-id", "HvRunHvRunHv", "k.elf"));
	assert_int_equal(opts.mem_size, 32ull << 20);
	assert_true(opts.timeout == 90);
	assert_true(opts.trace);
	assert_int_equal(opts.verbosity, 1);
	assert_string_equal(opts.cmdline, "a b");
	assert_string_equal(opts.hv_vendor_id, "HvRunHvRunHv");
	assert_string_equal(opts.image, "k.elf");
}

static void test_error_message_truncated(void **state)
{
	char small[8];
	char *argv[] = { "hvrun", "--bogus-option-with-a-long-name", "img", NULL };
	struct hvrun_options o;

	(void)state;
	memset(small, 'Z', sizeof(small));
	assert_int_equal(cli_parse(3, argv, &o, stdout, small, 6), CLI_USAGE);
	assert_int_equal(strnlen(small, 6), 5);
	assert_int_equal(small[6], 'Z');
	assert_int_equal(small[7], 'Z');
}

static void test_reentrant(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_run(PARSE("-v", "-v", "-m", "128M", "one.elf"));
		assert_int_equal(opts.verbosity, 2);
		assert_int_equal(opts.mem_size, 128ull << 20);
		assert_string_equal(opts.image, "one.elf");

		/* stops in the middle of an option cluster: the next parse must not resume there */
		assert_usage(PARSE("-vxv", "img"), "-x");

		assert_run(PARSE("two.elf"));
		assert_int_equal(opts.verbosity, 0);
		assert_int_equal(opts.mem_size, HVRUN_MEM_DEFAULT);
		assert_string_equal(opts.image, "two.elf");

		assert_usage(PARSE("-m", "1M", "x"), "2M..3G");

		assert_run(PARSE("-q", "--timeout", "5", "three.elf"));
		assert_int_equal(opts.verbosity, -1);
		assert_true(opts.timeout == 5);
		assert_string_equal(opts.image, "three.elf");

		assert_int_equal(PARSE("--version"), CLI_DONE);

		/* shorter argv than the previous parse: optind must start over, not past the end */
		assert_run(PARSE("a"));
		assert_string_equal(opts.image, "a");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_memory_valid),
		cmocka_unit_test(test_memory_bad_suffix),
		cmocka_unit_test(test_memory_too_small),
		cmocka_unit_test(test_memory_too_big),
		cmocka_unit_test(test_memory_not_4k_multiple),
		cmocka_unit_test(test_timeout_valid),
		cmocka_unit_test(test_timeout_invalid),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_verbosity),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_hv_vendor_id),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_unknown_option),
		cmocka_unit_test(test_missing_argument),
		cmocka_unit_test(test_no_image),
		cmocka_unit_test(test_several_images),
		cmocka_unit_test(test_smp_and_config),
		cmocka_unit_test(test_options_anywhere),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_error_message_truncated),
		cmocka_unit_test(test_reentrant),
	};

	return cmocka_run_group_tests(tests, NULL, teardown_group);
}
