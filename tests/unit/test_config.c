/* SPDX-License-Identifier: MIT */
/* INI configuration tests: partitions, connections, defaults, and every error naming its line. */
#include "partition/config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

static struct part_config_set set;
static char why[256];

static void test_full_file(void **state)
{
	static const char text[] =
		"# two partitions that talk\n"
		"[partition ping]\n"
		"image = a.elf\n"
		"memory = 32M\n"
		"smp = 2\n"
		"secure-kernel = none\n"
		"\n"
		"[partition pong]\n"
		"  image=b.elf  \n"
		"cmdline = x=1 y=2\n"
		"secure-kernel = default\n"
		"; a connection\n"
		"[connection 7]\n"
		"from = ping\n"
		"to = pong\n"
		"sint = 3\n"
		"flag = 10\n";

	(void)state;
	assert_int_equal(part_config_parse(text, "sk.elf", &set, why, sizeof(why)), 0);
	assert_int_equal(set.count, 2);
	assert_string_equal(set.part[0].name, "ping");
	assert_string_equal(set.part[0].image_path, "a.elf");
	assert_int_equal(set.part[0].mem_size, 32ull << 20);
	assert_int_equal(set.part[0].vp_count, 2);
	assert_null(set.part[0].secure_kernel);
	assert_string_equal(set.part[1].image_path, "b.elf");
	assert_string_equal(set.part[1].cmdline, "x=1 y=2");
	assert_string_equal(set.part[1].secure_kernel, "sk.elf");
	assert_int_equal(set.part[1].vp_count, 1);
	assert_int_equal(set.nconn, 1);
	assert_int_equal(set.conn[0].id, 7);
	assert_int_equal(set.conn[0].from, 0);
	assert_int_equal(set.conn[0].to, 1);
	assert_int_equal(set.conn[0].sint, 3);
	assert_int_equal(set.conn[0].flag_base, 10);
	assert_int_equal(set.conn[0].vp, 0);
}

static void expect_error(const char *text, const char *needle)
{
	assert_int_equal(part_config_parse(text, "sk.elf", &set, why, sizeof(why)), -EINVAL);
	if (!strstr(why, needle))
		fail_msg("error '%s' does not mention '%s'", why, needle);
}

static void test_errors_name_the_line(void **state)
{
	(void)state;
	expect_error("", "no [partition");
	expect_error("image = a\n", "line 1: key outside a section");
	expect_error("[partition a]\nimage = x\n[partition a]\nimage = y\n", "line 3: partition 'a' defined twice");
	expect_error("[partition a]\n", "has no image");
	expect_error("[partition a]\nimage = x\nmemory = lots\n", "line 3: invalid memory size");
	expect_error("[partition a]\nimage = x\nsmp = 0\n", "line 3: invalid smp");
	expect_error("[partition a]\nimage = x\nsmp = 99\n", "invalid smp");
	expect_error("[partition a]\nimage = x\ncolour = blue\n", "unknown partition key 'colour'");
	expect_error("[partition a]\nimage x\n", "line 2: expected key = value");
	expect_error("[partition a\n", "malformed section header");
	expect_error("[widget a]\n", "unknown section [widget a]");
	expect_error("[partition]\n", "unknown section");
	expect_error("[partition a]\nimage=x\n[connection 0]\n", "bad connection id");
	expect_error("[partition a]\nimage=x\n[connection 1]\nfrom=a\nto=b\n", "unknown partition 'b'");
	expect_error("[partition a]\nimage=x\n[connection 1]\nfrom=a\nto=a\nsint=16\n", "invalid sint");
	expect_error("[partition a]\nimage=x\n[connection 1]\nfrom=a\nto=a\nvp=1\n", "has no VP 1");
	expect_error("[partition a]\nimage=x\n[connection 1]\nfrom=a\nto=a\n[connection 1]\n",
		     "connection 1 defined twice");
}

static void test_default_secure_kernel_needed(void **state)
{
	(void)state;
	assert_int_equal(part_config_parse("[partition a]\nimage=x\nsecure-kernel=default\n", NULL,
					   &set, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "no default secure kernel"));
	assert_int_equal(part_config_parse("[partition a]\nimage=x\n", NULL, &set, why, sizeof(why)), 0);
	assert_null(set.part[0].secure_kernel);
}

static void test_load_missing_file(void **state)
{
	(void)state;
	assert_int_equal(part_config_load("/nonexistent/hvrun.ini", NULL, &set, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "cannot open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_default_secure_kernel_needed),
		cmocka_unit_test(test_load_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
