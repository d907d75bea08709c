/* SPDX-License-Identifier: MIT */
/*
 * Regression tests for what the fuzz targets found (fuzz/, docs/security.md#fuzzing). Each case
 * names its reproducer in fuzz/corpus/<target>/regress-* and rebuilds the same situation with
 * the plain API, so it runs in every build without libFuzzer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_run.h"
#include "hvrun/abi.h"
#include "partition/view.h"
#include "vmm/decode.h"
#include "vmm/router.h"
#include "vmm/vp.h"

/*
 * fuzz/corpus/exit/regress-io-data-offset-overlaps-run: a port exit whose data area starts
 * inside struct kvm_run itself. vmm_decode_exit accepted it (only the end of the area was
 * checked), and the IN reply that vp_apply_reply then wrote (0xff.. from an unclaimed port) landed
 * on exit_reason and the sync registers. KVM always puts the area at 4096; anything that overlaps
 * the structure is inconsistent and refused.
 */
static void test_io_data_area_inside_kvm_run_is_refused(void **state)
{
	struct kvm_run *run = fake_run_new();
	struct vmm_decode_ctx ctx = { 0 };
	struct hv_message m;

	(void)state;
	fake_run_io(run, 0x80, 0, 1, 4, 0);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx, 0, &m), 0);
	for (uint64_t off = 0; off < sizeof(*run); off += 97) {
		run->io.data_offset = off;
		assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx, 0, &m), -EINVAL);
	}
	run->io.data_offset = offsetof(struct kvm_run, exit_reason);
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx, 3, &m), -EINVAL);
	run->io.data_offset = sizeof(*run);               /* right after it: fine */
	assert_int_equal(vmm_decode_exit(run, FAKE_RUN_SIZE, &ctx, 3, &m), 0);
	free(run);
}

/*
 * fuzz/corpus/view/regress-regions-out-of-order: two private regions added in decreasing GPA
 * order. part_view_plan promises "pages in GPA order", but regions are planned in the order they
 * were added, so the higher region's slot comes first. KVM does not mind (hvrun adds a single
 * region per view today), but the contract and the fuzz target's "sorted" invariant were broken.
 * Fixed: part_view_add_region keeps regions sorted.
 */
static void test_view_plan_is_sorted_with_regions_added_out_of_order(void **state)
{
	static uint8_t ram_buf[16 * 4096] __attribute__((aligned(4096)));
	static uint8_t r0[2 * 4096] __attribute__((aligned(4096))), r1[3 * 4096] __attribute__((aligned(4096)));
	struct part_slot slots[8];
	struct part_view v;
	struct part_mem ram;
	int n;

	(void)state;
	part_mem_wrap(&ram, ram_buf, 0, sizeof(ram_buf));
	assert_int_equal(part_view_init(&v, &ram, NULL, 8), 0);
	assert_int_equal(part_view_add_region(&v, 0xC0040000, sizeof(r1), r1), 0);
	assert_int_equal(part_view_add_region(&v, 0xC0000000, sizeof(r0), r0), 0);
	n = part_view_plan(&v, slots, 8);
	assert_int_equal(n, 3);
	for (int i = 1; i < n; i++)
		assert_true(slots[i - 1].gpa + slots[i - 1].size <= slots[i].gpa);
	part_view_fini(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_data_area_inside_kvm_run_is_refused),
		cmocka_unit_test(test_view_plan_is_sorted_with_regions_added_out_of_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
