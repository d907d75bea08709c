/* SPDX-License-Identifier: MIT */
/* Unit tests for guest RAM: GPA range checks, host pointer translation, size parsing and allocation. */
#include "partition/mem.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#define RAM_SIZE 0x10000ull

static uint8_t ram_buf[RAM_SIZE];

/* ---- part_mem_contains / part_mem_ptr, base 0 ---- */

static void test_contains_base0_boundaries(void **state)
{
	struct part_mem mem;

	(void)state;
	part_mem_wrap(&mem, ram_buf, 0, RAM_SIZE);
	assert_ptr_equal(mem.host, ram_buf);
	assert_int_equal(mem.gpa_base, 0);
	assert_int_equal(mem.size, RAM_SIZE);
	assert_false(mem.owned);

	/* first byte, last byte, the whole of RAM */
	assert_true(part_mem_contains(&mem, 0, 1));
	assert_true(part_mem_contains(&mem, RAM_SIZE - 1, 1));
	assert_true(part_mem_contains(&mem, 0, RAM_SIZE));
	assert_true(part_mem_contains(&mem, 0x100, RAM_SIZE - 0x100));
	/* one past the end, and ranges that cross the end */
	assert_false(part_mem_contains(&mem, RAM_SIZE, 1));
	assert_false(part_mem_contains(&mem, RAM_SIZE - 1, 2));
	assert_false(part_mem_contains(&mem, 0, RAM_SIZE + 1));
	assert_false(part_mem_contains(&mem, 0x100, RAM_SIZE - 0xff));
	/* len 0 is never inside, even at a valid address */
	assert_false(part_mem_contains(&mem, 0, 0));
	assert_false(part_mem_contains(&mem, 0x80, 0));
	assert_false(part_mem_contains(&mem, RAM_SIZE, 0));
}

static void test_contains_overflow(void **state)
{
	struct part_mem mem;

	(void)state;
	part_mem_wrap(&mem, ram_buf, 0, RAM_SIZE);
	/* gpa + len wraps around to a small in-RAM value: must not be accepted */
	assert_false(part_mem_contains(&mem, UINT64_MAX, 1));
	assert_false(part_mem_contains(&mem, UINT64_MAX, 2));
	assert_false(part_mem_contains(&mem, UINT64_MAX - 0xfff, 0x2000));
	assert_false(part_mem_contains(&mem, 0x10, UINT64_MAX));
	assert_false(part_mem_contains(&mem, 1, UINT64_MAX));
	assert_false(part_mem_contains(&mem, 0, UINT64_MAX));
	assert_null(part_mem_ptr(&mem, UINT64_MAX, 2));
	assert_null(part_mem_ptr(&mem, 0x10, UINT64_MAX));
	assert_null(part_mem_ptr(&mem, UINT64_MAX - 0xfff, 0x2000));

	/* RAM reaching the very top of the address space */
	part_mem_wrap(&mem, ram_buf, UINT64_MAX - RAM_SIZE + 1, RAM_SIZE);
	assert_true(part_mem_contains(&mem, UINT64_MAX, 1));
	assert_ptr_equal(part_mem_ptr(&mem, UINT64_MAX, 1), ram_buf + RAM_SIZE - 1);
	assert_false(part_mem_contains(&mem, UINT64_MAX, 2));
	assert_false(part_mem_contains(&mem, UINT64_MAX - RAM_SIZE, 1));
}

static void test_ptr_base0(void **state)
{
	struct part_mem mem;

	(void)state;
	part_mem_wrap(&mem, ram_buf, 0, RAM_SIZE);
	assert_ptr_equal(part_mem_ptr(&mem, 0, 1), ram_buf);
	assert_ptr_equal(part_mem_ptr(&mem, 0x1234, 8), ram_buf + 0x1234);
	assert_ptr_equal(part_mem_ptr(&mem, RAM_SIZE - 1, 1), ram_buf + RAM_SIZE - 1);
	assert_ptr_equal(part_mem_ptr(&mem, 0, RAM_SIZE), ram_buf);
	assert_null(part_mem_ptr(&mem, RAM_SIZE, 1));
	assert_null(part_mem_ptr(&mem, RAM_SIZE - 1, 2));
	assert_null(part_mem_ptr(&mem, 0, 0));
	assert_null(part_mem_ptr(&mem, 0x1000, 0));
}

static void test_nonzero_base(void **state)
{
	const uint64_t base = 0x100000;
	struct part_mem mem;

	(void)state;
	part_mem_wrap(&mem, ram_buf, base, RAM_SIZE);
	/* below the base: not inside, even when the range would reach into RAM */
	assert_false(part_mem_contains(&mem, 0, 1));
	assert_false(part_mem_contains(&mem, base - 1, 1));
	assert_false(part_mem_contains(&mem, base - 1, 2));
	assert_false(part_mem_contains(&mem, base - 0x1000, 0x2000));
	assert_null(part_mem_ptr(&mem, base - 1, 2));
	/* offsets (gpa - base) that are inside a zero-based RAM of the same size must not pass */
	assert_false(part_mem_contains(&mem, 0x10, 1));
	/* first byte, last byte, one past the end */
	assert_true(part_mem_contains(&mem, base, 1));
	assert_ptr_equal(part_mem_ptr(&mem, base, 1), ram_buf);
	assert_true(part_mem_contains(&mem, base + RAM_SIZE - 1, 1));
	assert_ptr_equal(part_mem_ptr(&mem, base + RAM_SIZE - 1, 1), ram_buf + RAM_SIZE - 1);
	assert_ptr_equal(part_mem_ptr(&mem, base + 0x40, 0x10), ram_buf + 0x40);
	assert_true(part_mem_contains(&mem, base, RAM_SIZE));
	assert_false(part_mem_contains(&mem, base + RAM_SIZE, 1));
	assert_false(part_mem_contains(&mem, base, RAM_SIZE + 1));
	assert_false(part_mem_contains(&mem, base, 0));
	assert_null(part_mem_ptr(&mem, base + RAM_SIZE, 1));
	assert_false(part_mem_contains(&mem, UINT64_MAX, 1));
	assert_false(part_mem_contains(&mem, base + 1, UINT64_MAX));
}

static void test_no_host_mapping(void **state)
{
	struct part_mem mem;

	(void)state;
	memset(&mem, 0, sizeof(mem));
	mem.size = RAM_SIZE;          /* a size but no mapping: nothing is inside */
	assert_false(part_mem_contains(&mem, 0, 1));
	assert_null(part_mem_ptr(&mem, 0, 1));
}

/* ---- part_parse_size ---- */

static void expect_size(const char *s, uint64_t want)
{
	uint64_t v = 0xdeadbeefull;

	if (part_parse_size(s, &v) != 0)
		fail_msg("part_parse_size(\"%s\") failed", s);
	if (v != want)
		fail_msg("part_parse_size(\"%s\") = %#llx, want %#llx", s,
			 (unsigned long long)v, (unsigned long long)want);
}

static void expect_bad_size(const char *s)
{
	uint64_t v = 0xdeadbeefull;
	int ret = part_parse_size(s, &v);

	if (ret != -EINVAL)
		fail_msg("part_parse_size(\"%s\") = %d, want -EINVAL", s ? s : "(null)", ret);
	if (v != 0xdeadbeefull)
		fail_msg("part_parse_size(\"%s\") wrote the output on failure", s ? s : "(null)");
}

static void test_parse_size_plain_and_hex(void **state)
{
	(void)state;
	expect_size("0", 0);
	expect_size("1", 1);
	expect_size("1048576", 1048576);
	expect_size("4096", 4096);
	expect_size("0x1000", 0x1000);
	expect_size("0X2000", 0x2000);
	expect_size("18446744073709551615", UINT64_MAX);
}

static void test_parse_size_suffixes(void **state)
{
	(void)state;
	expect_size("4096K", 4096ull << 10);
	expect_size("4k", 4ull << 10);
	expect_size("64M", 64ull << 20);
	expect_size("64m", 64ull << 20);
	expect_size("1G", 1ull << 30);
	expect_size("3g", 3ull << 30);
	expect_size("0x10M", 16ull << 20);
	/* the binary-unit spellings the parser accepts */
	expect_size("2KiB", 2ull << 10);
	expect_size("64MiB", 64ull << 20);
	expect_size("1GiB", 1ull << 30);
	expect_size("64MB", 64ull << 20);
	expect_size("8KB", 8ull << 10);
	/* largest value that still fits after the shift */
	expect_size("17179869183G", 17179869183ull << 30);
}

static void test_parse_size_junk(void **state)
{
	(void)state;
	expect_bad_size(NULL);
	expect_bad_size("");
	expect_bad_size("M");
	expect_bad_size("abc");
	expect_bad_size("12abc");
	expect_bad_size("64X");
	expect_bad_size("64T");
	expect_bad_size("64MM");
	expect_bad_size("64M ");
	expect_bad_size(" 64M");
	expect_bad_size("64 M");
	expect_bad_size("1.5G");
	expect_bad_size("64MiBx");
	expect_bad_size("64B");       /* a bare B is not a unit */
	expect_bad_size("0x");
	expect_bad_size("-1");
	expect_bad_size("-64M");
	expect_bad_size("+64M");
}

static void test_parse_size_overflow(void **state)
{
	(void)state;
	expect_bad_size("99999999999G");
	expect_bad_size("17179869184G");          /* 2^34 G = 2^64 */
	expect_bad_size("18014398509481984K");    /* 2^54 K = 2^64 */
	expect_bad_size("18446744073709551616");  /* 2^64 */
	expect_bad_size("99999999999999999999999");
	expect_bad_size("0x10000000000000000");
}

/* ---- part_mem_alloc / part_mem_free ---- */

static void test_alloc_rejects_bad_args(void **state)
{
	struct part_mem mem;

	(void)state;
	memset(&mem, 0x5a, sizeof(mem));
	assert_int_equal(part_mem_alloc(&mem, 0, 0), -EINVAL);
	assert_null(mem.host);
	assert_int_equal(mem.size, 0);
	assert_int_equal(part_mem_alloc(&mem, 0, 0x1001), -EINVAL);
	assert_null(mem.host);
	assert_int_equal(part_mem_alloc(&mem, 0, 0x800), -EINVAL);
	assert_null(mem.host);
	assert_int_equal(part_mem_alloc(&mem, 0x800, 0x1000), -EINVAL);
	assert_null(mem.host);
	assert_int_equal(part_mem_alloc(&mem, 1, 8ull << 20), -EINVAL);
	assert_null(mem.host);
	/* base + size wraps the address space */
	assert_int_equal(part_mem_alloc(&mem, UINT64_MAX - 0xfff, 0x2000), -EINVAL);
	assert_null(mem.host);
	/* freeing a never-allocated (zeroed) mem is harmless */
	part_mem_free(&mem);
	assert_null(mem.host);
}

static void test_alloc_free_8m(void **state)
{
	const uint64_t size = 8ull << 20;
	struct part_mem mem;
	uint8_t *p;

	(void)state;
	assert_int_equal(part_mem_alloc(&mem, 0, size), 0);
	assert_non_null(mem.host);
	assert_int_equal(mem.gpa_base, 0);
	assert_int_equal(mem.size, size);
	assert_true(mem.owned);
	/* anonymous memory starts zeroed and every byte is writable */
	p = part_mem_ptr(&mem, 0, 1);
	assert_ptr_equal(p, mem.host);
	assert_int_equal(p[0], 0);
	p[0] = 0x11;
	p = part_mem_ptr(&mem, size - 1, 1);
	assert_ptr_equal(p, mem.host + size - 1);
	assert_int_equal(p[0], 0);
	p[0] = 0x22;
	p = part_mem_ptr(&mem, size / 2, 8);
	memset(p, 0x33, 8);
	assert_int_equal(mem.host[0], 0x11);
	assert_int_equal(mem.host[size - 1], 0x22);
	assert_int_equal(mem.host[size / 2 + 7], 0x33);
	assert_null(part_mem_ptr(&mem, size, 1));
	part_mem_free(&mem);
	assert_null(mem.host);
	assert_int_equal(mem.size, 0);
	assert_false(mem.owned);
	/* a second free after the first is a no-op */
	part_mem_free(&mem);
	assert_null(mem.host);
}

static void test_alloc_nonzero_base(void **state)
{
	const uint64_t base = 0x100000000ull;
	struct part_mem mem;

	(void)state;
	assert_int_equal(part_mem_alloc(&mem, base, 0x4000), 0);
	assert_int_equal(mem.gpa_base, base);
	assert_ptr_equal(part_mem_ptr(&mem, base + 0x3fff, 1), mem.host + 0x3fff);
	assert_null(part_mem_ptr(&mem, 0, 1));
	assert_null(part_mem_ptr(&mem, base + 0x4000, 1));
	part_mem_free(&mem);
	assert_null(mem.host);
}

static void test_free_wrapped_leaves_buffer(void **state)
{
	const size_t len = 4 * 4096;
	struct part_mem mem;
	uint8_t *buf;

	(void)state;
	/* a page-aligned caller mapping, so a wrong munmap would succeed and the writes below fault */
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(buf != MAP_FAILED);
	buf[0] = 0x77;
	part_mem_wrap(&mem, buf, 0, len);
	part_mem_free(&mem);        /* not owned: must not unmap the caller's buffer */
	assert_null(mem.host);
	assert_int_equal(buf[0], 0x77);
	buf[len - 1] = 0x78;
	assert_int_equal(buf[len - 1], 0x78);
	assert_int_equal(munmap(buf, len), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contains_base0_boundaries),
		cmocka_unit_test(test_contains_overflow),
		cmocka_unit_test(test_ptr_base0),
		cmocka_unit_test(test_nonzero_base),
		cmocka_unit_test(test_no_host_mapping),
		cmocka_unit_test(test_parse_size_plain_and_hex),
		cmocka_unit_test(test_parse_size_suffixes),
		cmocka_unit_test(test_parse_size_junk),
		cmocka_unit_test(test_parse_size_overflow),
		cmocka_unit_test(test_alloc_rejects_bad_args),
		cmocka_unit_test(test_alloc_free_8m),
		cmocka_unit_test(test_alloc_nonzero_base),
		cmocka_unit_test(test_free_wrapped_leaves_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
