/* SPDX-License-Identifier: MIT */
/* Unit tests for the reference clock: scale, offset, the TSC-page formula and the page sequence number. */
#include "hv/refclock.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define REF_HZ 10000000ull

static const uint64_t rates[] = {
	10000001ull, 19200000ull, 100000000ull, 1000000000ull, 1866000000ull, 2500000000ull,
	2999999999ull, 3700000000ull, 5000000000ull, 100000000000ull,
};

/* The guest's side of the TLFS formula, written out independently. */
static uint64_t guest_formula(uint64_t tsc, uint64_t scale, int64_t offset)
{
	return (uint64_t)(((unsigned __int128)tsc * scale) >> 64) + (uint64_t)offset;
}

/* |a - b| as unsigned, for values that are close */
static uint64_t diff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

static void test_scale(void **state)
{
	struct hv_refclock clk;

	(void)state;
	assert_int_equal(hv_refclock_init(&clk, 1000000000ull, 0), 0);
	/* 1 GHz: 100 ticks per unit, scale = 2^64 / 100 */
	assert_int_equal(clk.scale, (uint64_t)(((unsigned __int128)1 << 64) / 100));
	assert_int_equal(clk.tsc_hz, 1000000000ull);
	assert_true(diff(hv_refclock_time(&clk, 1000000000ull), REF_HZ) <= 1);
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		assert_int_equal(hv_refclock_init(&clk, rates[i], 0), 0);
		assert_int_equal(clk.scale, (uint64_t)(((unsigned __int128)REF_HZ << 64) / rates[i]));
		assert_int_equal(clk.offset, 0);
	}
}

static void test_zero_at_start_and_one_second(void **state)
{
	static const uint64_t starts[] = { 0, 1, 12345, 0x123456789abcull, 1ull << 50 };

	(void)state;
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		for (size_t j = 0; j < sizeof(starts) / sizeof(starts[0]); j++) {
			struct hv_refclock clk;
			uint64_t t;

			assert_int_equal(hv_refclock_init(&clk, rates[i], starts[j]), 0);
			assert_int_equal(clk.tsc_start, starts[j]);
			assert_int_equal(hv_refclock_time(&clk, starts[j]), 0);
			t = hv_refclock_time(&clk, starts[j] + rates[i]);
			if (diff(t, REF_HZ) > 1)
				fail_msg("%llu Hz from %llu: 1 s = %llu units", (unsigned long long)rates[i],
					 (unsigned long long)starts[j], (unsigned long long)t);
			/* 10 minutes */
			t = hv_refclock_time(&clk, starts[j] + 600 * rates[i]);
			assert_true(diff(t, 600 * REF_HZ) <= 1);
		}
	}
}

static void test_monotonic_sweep(void **state)
{
	struct hv_refclock clk;
	uint64_t prev = 0, tsc = 0x1000;

	(void)state;
	assert_int_equal(hv_refclock_init(&clk, 2900000000ull, 0x1000), 0);
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t t = hv_refclock_time(&clk, tsc);

		if (t < prev)
			fail_msg("time went back at tsc %llu: %llu < %llu", (unsigned long long)tsc,
				 (unsigned long long)t, (unsigned long long)prev);
		prev = t;
		tsc += 1 + (i % 7) * 37 + (i % 1000 == 0 ? 1000000007ull : 0);
	}
	assert_true(prev > 0);
	/* fine steps: one tick never moves time by more than one unit */
	prev = hv_refclock_time(&clk, 0x1000 + 5000000000ull);
	for (uint64_t k = 1; k < 100000; k++) {
		uint64_t t = hv_refclock_time(&clk, 0x1000 + 5000000000ull + k);
		assert_true(t >= prev && t - prev <= 1);
		prev = t;
	}
}

static void test_large_tsc(void **state)
{
	static const uint64_t starts[] = { (1ull << 63) - 1000000000000ull, (1ull << 63), UINT64_MAX - 100000000000ull };

	(void)state;
	for (size_t j = 0; j < sizeof(starts) / sizeof(starts[0]); j++) {
		struct hv_refclock clk;
		uint64_t hz = 3000000000ull;

		assert_int_equal(hv_refclock_init(&clk, hz, starts[j]), 0);
		assert_int_equal(hv_refclock_time(&clk, starts[j]), 0);
		assert_true(diff(hv_refclock_time(&clk, starts[j] + hz), REF_HZ) <= 1);
		assert_true(diff(hv_refclock_time(&clk, starts[j] + 30 * hz), 30 * REF_HZ) <= 1);
		/* monotonic across the big values too */
		assert_true(hv_refclock_time(&clk, starts[j] + 2 * hz) > hv_refclock_time(&clk, starts[j] + hz));
	}
}

static void test_slow_rates_rejected(void **state)
{
	struct hv_refclock clk;

	(void)state;
	assert_int_equal(hv_refclock_init(&clk, 0, 0), -EINVAL);
	assert_int_equal(hv_refclock_init(&clk, 1, 0), -EINVAL);
	assert_int_equal(hv_refclock_init(&clk, 1000000, 0), -EINVAL);
	assert_int_equal(hv_refclock_init(&clk, REF_HZ - 1, 0), -EINVAL);
	assert_int_equal(hv_refclock_init(&clk, REF_HZ + 1, 0), 0);
}

/*
 * At exactly 10 MHz the scale is (10^7 << 64) / 10^7 = 2^64, which does not fit the 64-bit
 * TscScale field: the rate must be refused, or else time would have to be right anyway.
 */
static void test_10mhz_boundary(void **state)
{
	struct hv_refclock clk;
	int ret;

	(void)state;
	ret = hv_refclock_init(&clk, REF_HZ, 0);
	if (ret == 0)
		assert_int_equal(hv_refclock_time(&clk, REF_HZ), REF_HZ);
	else
		assert_int_equal(ret, -EINVAL);
}

static void test_page_formula_matches(void **state)
{
	static const uint64_t starts[] = { 0, 987654321ull, (1ull << 62) + 3 };

	(void)state;
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		for (size_t j = 0; j < sizeof(starts) / sizeof(starts[0]); j++) {
			struct hv_refclock clk;
			struct hv_reference_tsc_page page;
			uint64_t scale = (uint64_t)(((unsigned __int128)REF_HZ << 64) / rates[i]);
			int64_t offset = -(int64_t)(uint64_t)(((unsigned __int128)starts[j] * scale) >> 64);

			memset(&page, 0, sizeof(page));
			assert_int_equal(hv_refclock_init(&clk, rates[i], starts[j]), 0);
			hv_refclock_fill_page(&clk, &page);
			assert_int_equal(page.tsc_scale, scale);
			assert_int_equal(page.tsc_offset, offset);
			for (uint64_t k = 0; k < 5; k++) {
				uint64_t tsc = starts[j] + k * 123456789ull * (i + 1);
				uint64_t g = guest_formula(tsc, page.tsc_scale, page.tsc_offset);

				/* the guest's page and the MSR agree exactly */
				assert_int_equal(g, hv_refclock_time(&clk, tsc));
			}
		}
	}
}

static void test_page_layout(void **state)
{
	(void)state;
	assert_int_equal(offsetof(struct hv_reference_tsc_page, tsc_sequence), 0);
	assert_int_equal(offsetof(struct hv_reference_tsc_page, tsc_scale), 8);
	assert_int_equal(offsetof(struct hv_reference_tsc_page, tsc_offset), 16);
}

static void test_page_sequence(void **state)
{
	static const uint32_t starts[] = { 0, 1, 2, 0x7fffffff, 0xfffffffd, 0xfffffffe, 0xffffffff };
	struct hv_refclock clk;
	struct hv_reference_tsc_page page;

	(void)state;
	assert_int_equal(hv_refclock_init(&clk, 2000000000ull, 77), 0);
	memset(&page, 0, sizeof(page));
	/* a fresh (zeroed) page becomes valid */
	hv_refclock_fill_page(&clk, &page);
	assert_int_not_equal(page.tsc_sequence, 0);
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		uint32_t prev = starts[i];

		page.tsc_sequence = prev;
		for (unsigned k = 0; k < 4; k++) {
			hv_refclock_fill_page(&clk, &page);
			if (page.tsc_sequence == 0 || page.tsc_sequence == prev)
				fail_msg("sequence %#x -> %#x", prev, page.tsc_sequence);
			prev = page.tsc_sequence;
		}
	}
	/* in the ordinary case it counts up by one */
	page.tsc_sequence = 41;
	hv_refclock_fill_page(&clk, &page);
	assert_int_equal(page.tsc_sequence, 42);
	assert_int_equal(page.reserved1, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_zero_at_start_and_one_second),
		cmocka_unit_test(test_monotonic_sweep),
		cmocka_unit_test(test_large_tsc),
		cmocka_unit_test(test_slow_rates_rejected),
		cmocka_unit_test(test_10mhz_boundary),
		cmocka_unit_test(test_page_formula_matches),
		cmocka_unit_test(test_page_layout),
		cmocka_unit_test(test_page_sequence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
