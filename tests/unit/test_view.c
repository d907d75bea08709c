/* SPDX-License-Identifier: MIT */
/* Unit tests for memory views without KVM: slot planning, overlays, regions, classification, access and commit diffs. */
#include "partition/view.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvm.h>

#include <cmocka.h>

#include "partition/mem.h"

#define P        PART_PAGE_SIZE
#define NPAGES   64u
#define RAM      (NPAGES * P)
#define MAXSLOTS 32u
#define RO       KVM_MEM_READONLY
#define REGION_GPA  0x100000ull
#define REGION_SIZE (4 * P)

struct vfx {
	uint8_t *buf;
	uint8_t *ov1, *ov2;
	uint8_t *region, *region2;
	struct part_mem ram;
	struct part_view v;
};

static int setup(void **state)
{
	struct vfx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->buf = aligned_alloc(P, RAM);
	f->ov1 = aligned_alloc(P, P);
	f->ov2 = aligned_alloc(P, P);
	f->region = aligned_alloc(P, REGION_SIZE);
	f->region2 = aligned_alloc(P, REGION_SIZE);
	assert_true(f->buf && f->ov1 && f->ov2 && f->region && f->region2);
	memset(f->buf, 0, RAM);
	part_mem_wrap(&f->ram, f->buf, 0, RAM);
	assert_int_equal(part_view_init(&f->v, &f->ram, NULL, MAXSLOTS), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct vfx *f = *state;

	part_view_fini(&f->v);
	free(f->buf);
	free(f->ov1);
	free(f->ov2);
	free(f->region);
	free(f->region2);
	free(f);
	return 0;
}

struct exp {
	uint64_t gpa;
	uint64_t size;
	void *hva;
	uint32_t flags;
};

static void expect_plan(const struct part_view *v, const struct exp *e, unsigned n)
{
	struct part_slot s[NPAGES + 8];
	int got = part_view_plan(v, s, NPAGES + 8);

	if (got != (int)n) {
		for (int i = 0; i < got; i++)
			print_message("slot %d: gpa %#llx size %#llx flags %u\n", i, (unsigned long long)s[i].gpa,
				      (unsigned long long)s[i].size, s[i].flags);
		fail_msg("%d slots, expected %u", got, n);
	}
	for (unsigned i = 0; i < n; i++) {
		if (s[i].gpa != e[i].gpa || s[i].size != e[i].size || s[i].hva != e[i].hva ||
		    s[i].flags != e[i].flags)
			fail_msg("slot %u: gpa %#llx size %#llx hva %p flags %u; expected %#llx %#llx %p %u", i,
				 (unsigned long long)s[i].gpa, (unsigned long long)s[i].size, s[i].hva, s[i].flags,
				 (unsigned long long)e[i].gpa, (unsigned long long)e[i].size, e[i].hva, e[i].flags);
	}
}

#define EXPECT(v, ...) do { \
	const struct exp e_[] = { __VA_ARGS__ }; \
	expect_plan((v), e_, sizeof(e_) / sizeof(e_[0])); \
} while (0)

/* ---- init and the initial plan ---- */

static void test_init(void **state)
{
	struct vfx *f = *state;
	struct part_mem bad;
	struct part_view v;

	assert_int_equal(f->v.npages, NPAGES);
	for (uint64_t pfn = 0; pfn < NPAGES; pfn++)
		assert_int_equal(part_view_prot(&f->v, pfn * P), PART_PROT_ALL);
	assert_int_equal(part_view_prot(&f->v, RAM), 0);
	/* one slot covering RAM: 64 pages merged */
	EXPECT(&f->v, { 0, RAM, f->buf, 0 });

	part_mem_wrap(&bad, f->buf, P, RAM - P);
	assert_int_equal(part_view_init(&v, &bad, NULL, 8), -EINVAL);
	part_mem_wrap(&bad, f->buf, 0, RAM - 1);
	assert_int_equal(part_view_init(&v, &bad, NULL, 8), -EINVAL);
	part_mem_wrap(&bad, NULL, 0, RAM);
	assert_int_equal(part_view_init(&v, &bad, NULL, 8), -EINVAL);
	assert_int_equal(part_view_init(&v, &f->ram, NULL, 0), -EINVAL);
}

/* ---- protections ---- */

static void test_protect_read_only_page(void **state)
{
	struct vfx *f = *state;

	assert_int_equal(part_view_protect(&f->v, 10, 1, PART_PROT_R | PART_PROT_KX), 0);
	assert_int_equal(part_view_prot(&f->v, 10 * P), PART_PROT_R | PART_PROT_KX);
	assert_int_equal(part_view_prot(&f->v, 10 * P + 0xfff), PART_PROT_R | PART_PROT_KX);
	assert_int_equal(part_view_prot(&f->v, 9 * P), PART_PROT_ALL);
	EXPECT(&f->v,
	       { 0, 10 * P, f->buf, 0 },
	       { 10 * P, P, f->buf + 10 * P, RO },
	       { 11 * P, RAM - 11 * P, f->buf + 11 * P, 0 });
	/* restoring merges back into one slot */
	assert_int_equal(part_view_protect(&f->v, 10, 1, PART_PROT_ALL), 0);
	EXPECT(&f->v, { 0, RAM, f->buf, 0 });
}

static void test_protect_no_access_is_a_hole(void **state)
{
	struct vfx *f = *state;

	assert_int_equal(part_view_protect(&f->v, 10, 1, 0), 0);
	EXPECT(&f->v,
	       { 0, 10 * P, f->buf, 0 },
	       { 11 * P, RAM - 11 * P, f->buf + 11 * P, 0 });
	/* the first and the last page */
	assert_int_equal(part_view_protect(&f->v, 0, 1, 0), 0);
	assert_int_equal(part_view_protect(&f->v, NPAGES - 1, 1, 0), 0);
	EXPECT(&f->v,
	       { P, 9 * P, f->buf + P, 0 },
	       { 11 * P, RAM - 12 * P, f->buf + 11 * P, 0 });
	assert_int_equal(part_view_protect(&f->v, 0, NPAGES, PART_PROT_ALL), 0);
	EXPECT(&f->v, { 0, RAM, f->buf, 0 });
}

static void test_protect_merges_equal_neighbours(void **state)
{
	struct vfx *f = *state;

	/* three separate calls, one run */
	assert_int_equal(part_view_protect(&f->v, 10, 1, PART_PROT_R), 0);
	assert_int_equal(part_view_protect(&f->v, 12, 1, PART_PROT_R), 0);
	EXPECT(&f->v,
	       { 0, 10 * P, f->buf, 0 },
	       { 10 * P, P, f->buf + 10 * P, RO },
	       { 11 * P, P, f->buf + 11 * P, 0 },
	       { 12 * P, P, f->buf + 12 * P, RO },
	       { 13 * P, RAM - 13 * P, f->buf + 13 * P, 0 });
	assert_int_equal(part_view_protect(&f->v, 11, 1, PART_PROT_R | PART_PROT_UX), 0);
	EXPECT(&f->v,
	       { 0, 10 * P, f->buf, 0 },
	       { 10 * P, 3 * P, f->buf + 10 * P, RO },
	       { 13 * P, RAM - 13 * P, f->buf + 13 * P, 0 });
	/* execute bits alone do not split a slot: KVM enforces R and W only */
	assert_int_equal(part_view_protect(&f->v, 20, 1, PART_PROT_R | PART_PROT_W), 0);
	EXPECT(&f->v,
	       { 0, 10 * P, f->buf, 0 },
	       { 10 * P, 3 * P, f->buf + 10 * P, RO },
	       { 13 * P, RAM - 13 * P, f->buf + 13 * P, 0 });
	assert_int_equal(part_view_protect(&f->v, 10, 3, PART_PROT_ALL), 0);
	EXPECT(&f->v, { 0, RAM, f->buf, 0 });
}

static void test_protect_bad_arguments(void **state)
{
	struct vfx *f = *state;

	assert_int_equal(part_view_protect(&f->v, NPAGES, 1, 0), -EINVAL);
	assert_int_equal(part_view_protect(&f->v, NPAGES - 1, 2, 0), -EINVAL);
	assert_int_equal(part_view_protect(&f->v, 1, UINT64_MAX, 0), -EINVAL);
	assert_int_equal(part_view_protect(&f->v, UINT64_MAX, 2, 0), -EINVAL);
	assert_int_equal(part_view_protect(&f->v, 0, 0, 0), -EINVAL);
	assert_int_equal(part_view_protect(&f->v, 0, 1, 0x10), -EINVAL);
	/* nothing changed */
	for (uint64_t pfn = 0; pfn < NPAGES; pfn++)
		assert_int_equal(part_view_prot(&f->v, pfn * P), PART_PROT_ALL);
	/* the whole of RAM is in range */
	assert_int_equal(part_view_protect(&f->v, 0, NPAGES, PART_PROT_R), 0);
	EXPECT(&f->v, { 0, RAM, f->buf, RO });
}

/* ---- overlays ---- */

static void test_overlay_replaces_ram_page(void **state)
{
	struct vfx *f = *state;

	assert_int_equal(part_view_set_overlay(&f->v, f->ov1, 5 * P, false), 0);
	EXPECT(&f->v,
	       { 0, 5 * P, f->buf, 0 },
	       { 5 * P, P, f->ov1, RO },
	       { 6 * P, RAM - 6 * P, f->buf + 6 * P, 0 });
	/* a writable overlay: RW, still its own slot (different host memory) */
	assert_int_equal(part_view_set_overlay(&f->v, f->ov1, 5 * P, true), 0);
	EXPECT(&f->v,
	       { 0, 5 * P, f->buf, 0 },
	       { 5 * P, P, f->ov1, 0 },
	       { 6 * P, RAM - 6 * P, f->buf + 6 * P, 0 });
	/* an overlay shows even where the RAM page is no-access */
	assert_int_equal(part_view_protect(&f->v, 5, 1, 0), 0);
	EXPECT(&f->v,
	       { 0, 5 * P, f->buf, 0 },
	       { 5 * P, P, f->ov1, 0 },
	       { 6 * P, RAM - 6 * P, f->buf + 6 * P, 0 });
}

static void test_overlay_conflicts_move_clear(void **state)
{
	struct vfx *f = *state;

	assert_int_equal(part_view_set_overlay(&f->v, f->ov1, 5 * P, false), 0);
	/* a second overlay at the same GPA is refused; the first stays */
	assert_int_equal(part_view_set_overlay(&f->v, f->ov2, 5 * P, true), -EBUSY);
	assert_int_equal(f->v.noverlays, 1);
	EXPECT(&f->v,
	       { 0, 5 * P, f->buf, 0 },
	       { 5 * P, P, f->ov1, RO },
	       { 6 * P, RAM - 6 * P, f->buf + 6 * P, 0 });
	/* bad GPAs */
	assert_int_equal(part_view_set_overlay(&f->v, f->ov2, 5 * P + 8, false), -EINVAL);
	assert_int_equal(part_view_set_overlay(&f->v, f->ov2, RAM, false), -EINVAL);
	assert_int_equal(part_view_set_overlay(&f->v, f->ov2, REGION_GPA, false), -EINVAL);
	assert_int_equal(part_view_set_overlay(&f->v, NULL, 7 * P, false), -EINVAL);
	assert_int_equal(f->v.noverlays, 1);

	/* moving: the old page is RAM again */
	assert_int_equal(part_view_set_overlay(&f->v, f->ov1, 20 * P, false), 0);
	assert_int_equal(f->v.noverlays, 1);
	EXPECT(&f->v,
	       { 0, 20 * P, f->buf, 0 },
	       { 20 * P, P, f->ov1, RO },
	       { 21 * P, RAM - 21 * P, f->buf + 21 * P, 0 });
	/* now ov2 may take 5 */
	assert_int_equal(part_view_set_overlay(&f->v, f->ov2, 5 * P, true), 0);
	EXPECT(&f->v,
	       { 0, 5 * P, f->buf, 0 },
	       { 5 * P, P, f->ov2, 0 },
	       { 6 * P, 14 * P, f->buf + 6 * P, 0 },
	       { 20 * P, P, f->ov1, RO },
	       { 21 * P, RAM - 21 * P, f->buf + 21 * P, 0 });
	/* clearing, twice (the second is a no-op) */
	part_view_clear_overlay(&f->v, f->ov1);
	part_view_clear_overlay(&f->v, f->ov1);
	assert_int_equal(f->v.noverlays, 1);
	EXPECT(&f->v,
	       { 0, 5 * P, f->buf, 0 },
	       { 5 * P, P, f->ov2, 0 },
	       { 6 * P, RAM - 6 * P, f->buf + 6 * P, 0 });
	part_view_clear_overlay(&f->v, f->ov2);
	assert_int_equal(f->v.noverlays, 0);
	EXPECT(&f->v, { 0, RAM, f->buf, 0 });
}

/* ---- regions ---- */

static void test_regions(void **state)
{
	struct vfx *f = *state;

	assert_int_equal(part_view_add_region(&f->v, REGION_GPA, REGION_SIZE, f->region), 0);
	EXPECT(&f->v,
	       { 0, RAM, f->buf, 0 },
	       { REGION_GPA, REGION_SIZE, f->region, 0 });
	/* overlapping RAM */
	assert_int_equal(part_view_add_region(&f->v, RAM - P, 2 * P, f->region2), -EINVAL);
	assert_int_equal(part_view_add_region(&f->v, 0, P, f->region2), -EINVAL);
	/* overlapping the region, from either side or inside */
	assert_int_equal(part_view_add_region(&f->v, REGION_GPA - P, 2 * P, f->region2), -EEXIST);
	assert_int_equal(part_view_add_region(&f->v, REGION_GPA + REGION_SIZE - P, 2 * P, f->region2), -EEXIST);
	assert_int_equal(part_view_add_region(&f->v, REGION_GPA + P, P, f->region2), -EEXIST);
	assert_int_equal(part_view_add_region(&f->v, REGION_GPA - P, REGION_SIZE + 2 * P, f->region2), -EEXIST);
	/* malformed */
	assert_int_equal(part_view_add_region(&f->v, 0x200000, 0, f->region2), -EINVAL);
	assert_int_equal(part_view_add_region(&f->v, 0x200008, P, f->region2), -EINVAL);
	assert_int_equal(part_view_add_region(&f->v, 0x200000, P + 1, f->region2), -EINVAL);
	assert_int_equal(part_view_add_region(&f->v, 0x200000, P, NULL), -EINVAL);
	assert_int_equal(part_view_add_region(&f->v, UINT64_MAX - P + 1, 2 * P, f->region2), -EINVAL);
	assert_int_equal(f->v.nregions, 1);
	/* adjacent is fine */
	assert_int_equal(part_view_add_region(&f->v, REGION_GPA + REGION_SIZE, REGION_SIZE, f->region2), 0);
	EXPECT(&f->v,
	       { 0, RAM, f->buf, 0 },
	       { REGION_GPA, REGION_SIZE, f->region, 0 },
	       { REGION_GPA + REGION_SIZE, REGION_SIZE, f->region2, 0 });
}

/* ---- planning limits ---- */

static void test_plan_enospc(void **state)
{
	struct vfx *f = *state;
	struct part_slot s[NPAGES];

	for (unsigned pfn = 0; pfn < NPAGES; pfn += 2)
		assert_int_equal(part_view_protect(&f->v, pfn, 1, PART_PROT_R), 0);
	assert_int_equal(part_view_plan(&f->v, s, NPAGES), NPAGES);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_int_equal(s[i].gpa, i * P);
		assert_int_equal(s[i].size, P);
		assert_int_equal(s[i].flags, (i % 2) ? 0 : RO);
	}
	assert_int_equal(part_view_plan(&f->v, s, 4), -ENOSPC);
	assert_int_equal(part_view_plan(&f->v, s, NPAGES - 1), -ENOSPC);

	/* exactly enough, and one short, with a region counted in */
	assert_int_equal(part_view_protect(&f->v, 0, NPAGES, PART_PROT_ALL), 0);
	assert_int_equal(part_view_protect(&f->v, 10, 1, PART_PROT_R), 0);
	assert_int_equal(part_view_plan(&f->v, s, 3), 3);
	assert_int_equal(part_view_plan(&f->v, s, 2), -ENOSPC);
	assert_int_equal(part_view_add_region(&f->v, REGION_GPA, REGION_SIZE, f->region), 0);
	assert_int_equal(part_view_plan(&f->v, s, 4), 4);
	assert_int_equal(part_view_plan(&f->v, s, 3), -ENOSPC);
}

/* ---- classify ---- */

static void test_classify(void **state)
{
	struct vfx *f = *state;
	uint8_t prot = 0xee;

	assert_int_equal(part_view_protect(&f->v, 3, 1, PART_PROT_R | PART_PROT_KX), 0);
	assert_int_equal(part_view_protect(&f->v, 4, 1, 0), 0);
	assert_int_equal(part_view_set_overlay(&f->v, f->ov1, 6 * P, false), 0);
	assert_int_equal(part_view_set_overlay(&f->v, f->ov2, 7 * P, true), 0);
	assert_int_equal(part_view_add_region(&f->v, REGION_GPA, REGION_SIZE, f->region), 0);

	assert_int_equal(part_view_classify(&f->v, 0, &prot), PART_GPA_RAM);
	assert_int_equal(prot, PART_PROT_ALL);
	assert_int_equal(part_view_classify(&f->v, 3 * P + 0x123, &prot), PART_GPA_RAM);
	assert_int_equal(prot, PART_PROT_R | PART_PROT_KX);
	assert_int_equal(part_view_classify(&f->v, 4 * P, &prot), PART_GPA_RAM);
	assert_int_equal(prot, 0);
	assert_int_equal(part_view_classify(&f->v, 6 * P + 0xff8, &prot), PART_GPA_OVERLAY);
	assert_int_equal(prot, PART_PROT_R);
	assert_int_equal(part_view_classify(&f->v, 7 * P, &prot), PART_GPA_OVERLAY);
	assert_int_equal(prot, PART_PROT_R | PART_PROT_W);
	assert_int_equal(part_view_classify(&f->v, RAM - 1, &prot), PART_GPA_RAM);
	assert_int_equal(prot, PART_PROT_ALL);
	prot = 0xee;
	assert_int_equal(part_view_classify(&f->v, RAM, &prot), PART_GPA_UNMAPPED);
	assert_int_equal(prot, 0);
	assert_int_equal(part_view_classify(&f->v, REGION_GPA - 1, &prot), PART_GPA_UNMAPPED);
	assert_int_equal(part_view_classify(&f->v, REGION_GPA, &prot), PART_GPA_REGION);
	assert_int_equal(prot, PART_PROT_ALL);
	assert_int_equal(part_view_classify(&f->v, REGION_GPA + REGION_SIZE - 1, &prot), PART_GPA_REGION);
	prot = 0xee;
	assert_int_equal(part_view_classify(&f->v, REGION_GPA + REGION_SIZE, &prot), PART_GPA_UNMAPPED);
	assert_int_equal(prot, 0);
	assert_int_equal(part_view_classify(&f->v, UINT64_MAX, NULL), PART_GPA_UNMAPPED);
}

/* ---- access ---- */

static void test_access(void **state)
{
	struct vfx *f = *state;
	void *hva = (void *)1;

	assert_int_equal(part_view_protect(&f->v, 3, 1, PART_PROT_R | PART_PROT_KX), 0);
	assert_int_equal(part_view_protect(&f->v, 4, 1, 0), 0);
	assert_int_equal(part_view_set_overlay(&f->v, f->ov1, 6 * P, true), 0);
	assert_int_equal(part_view_add_region(&f->v, REGION_GPA, REGION_SIZE, f->region), 0);

	/* plain RAM */
	assert_int_equal(part_view_access(&f->v, 0x10, 8, false, &hva), 0);
	assert_ptr_equal(hva, f->buf + 0x10);
	assert_int_equal(part_view_access(&f->v, 2 * P - 8, 16, true, &hva), 0);
	assert_ptr_equal(hva, f->buf + 2 * P - 8);
	/* read-only page: read yes, write no */
	assert_int_equal(part_view_access(&f->v, 3 * P + 8, 8, false, &hva), 0);
	assert_ptr_equal(hva, f->buf + 3 * P + 8);
	hva = (void *)1;
	assert_int_equal(part_view_access(&f->v, 3 * P + 8, 8, true, &hva), -EACCES);
	assert_null(hva);
	/* a write spanning RW page 2 and RO page 3 */
	assert_int_equal(part_view_access(&f->v, 3 * P - 8, 16, true, &hva), -EACCES);
	assert_int_equal(part_view_access(&f->v, 3 * P - 8, 16, false, &hva), 0);
	/* no-access page, and a read running into it */
	assert_int_equal(part_view_access(&f->v, 4 * P, 8, false, &hva), -EACCES);
	assert_int_equal(part_view_access(&f->v, 4 * P - 8, 16, false, &hva), -EACCES);
	/* overlays are hvrun's pages, not guest memory, even writable ones */
	assert_int_equal(part_view_access(&f->v, 6 * P, 8, false, &hva), -EACCES);
	assert_int_equal(part_view_access(&f->v, 6 * P - 8, 16, false, &hva), -EACCES);
	assert_int_equal(part_view_access(&f->v, 5 * P, 2 * P, false, &hva), -EACCES);
	/* private region */
	assert_int_equal(part_view_access(&f->v, REGION_GPA + P + 16, 32, true, &hva), 0);
	assert_ptr_equal(hva, f->region + P + 16);
	assert_int_equal(part_view_access(&f->v, REGION_GPA, REGION_SIZE, false, &hva), 0);
	assert_int_equal(part_view_access(&f->v, REGION_GPA + REGION_SIZE - 8, 16, false, &hva), -EINVAL);
	/* beyond everything, across the end of RAM, degenerate lengths */
	hva = (void *)1;
	assert_int_equal(part_view_access(&f->v, RAM, 8, false, &hva), -EINVAL);
	assert_null(hva);
	assert_int_equal(part_view_access(&f->v, RAM - 8, 16, false, &hva), -EINVAL);
	assert_int_equal(part_view_access(&f->v, 0x80000000ull, 8, false, &hva), -EINVAL);
	assert_int_equal(part_view_access(&f->v, 0, 0, false, &hva), -EINVAL);
	assert_int_equal(part_view_access(&f->v, UINT64_MAX - 3, 8, false, &hva), -EINVAL);
	assert_int_equal(part_view_access(&f->v, 8, UINT64_MAX, false, &hva), -EINVAL);
	assert_int_equal(part_view_access(&f->v, REGION_GPA, UINT64_MAX, false, &hva), -EINVAL);
}

/* A VP's translation cache answers as the locked lookup would, and forgets on every change. */
static void test_access_cached_hits_and_invalidation(void **state)
{
	struct vfx *f = *state;
	struct part_view_tlb tlb = { 0 };
	void *hva = NULL;

	assert_int_equal(part_view_access_cached(&f->v, &tlb, 5 * P + 8, 16, true, &hva), 0);
	assert_ptr_equal(hva, f->buf + 5 * P + 8);
	assert_int_equal(tlb.misses, 1);
	assert_int_equal(part_view_access_cached(&f->v, &tlb, 5 * P + 64, 8, false, &hva), 0);
	assert_ptr_equal(hva, f->buf + 5 * P + 64);
	assert_int_equal(tlb.hits, 1);

	/* read-only: a cached writable entry must not let the write through */
	assert_int_equal(part_view_protect(&f->v, 5, 1, PART_PROT_R), 0);
	hva = (void *)1;
	assert_int_equal(part_view_access_cached(&f->v, &tlb, 5 * P + 8, 8, true, &hva), -EACCES);
	assert_null(hva);
	assert_int_equal(part_view_access_cached(&f->v, &tlb, 5 * P + 8, 8, false, &hva), 0);
	/* an entry made for a read of a read-only page does not serve a write either */
	assert_int_equal(part_view_access_cached(&f->v, &tlb, 5 * P + 8, 8, true, &hva), -EACCES);

	/* no access, then an overlay on a page that was cached */
	assert_int_equal(part_view_protect(&f->v, 5, 1, 0), 0);
	assert_int_equal(part_view_access_cached(&f->v, &tlb, 5 * P, 8, false, &hva), -EACCES);
	assert_int_equal(part_view_access_cached(&f->v, &tlb, 7 * P, 8, false, &hva), 0);
	assert_int_equal(part_view_set_overlay(&f->v, f->ov1, 7 * P, true), 0);
	assert_int_equal(part_view_access_cached(&f->v, &tlb, 7 * P, 8, false, &hva), -EACCES);
	part_view_clear_overlay(&f->v, f->ov1);
	assert_int_equal(part_view_access_cached(&f->v, &tlb, 7 * P, 8, false, &hva), 0);
	assert_ptr_equal(hva, f->buf + 7 * P);

	/* ranges across a page boundary are never cached, and are still checked page by page */
	assert_int_equal(part_view_protect(&f->v, 9, 1, PART_PROT_R), 0);
	uint64_t misses = tlb.misses, hits = tlb.hits;
	assert_int_equal(part_view_access_cached(&f->v, &tlb, 9 * P - 8, 16, true, &hva), -EACCES);
	assert_int_equal(part_view_access_cached(&f->v, &tlb, 9 * P - 8, 16, false, &hva), 0);
	assert_int_equal(part_view_access_cached(&f->v, &tlb, 9 * P - 8, 16, false, &hva), 0);
	assert_int_equal(tlb.misses, misses);
	assert_int_equal(tlb.hits, hits);

	/* a region added later: its pages become reachable, and are cached like RAM */
	assert_int_equal(part_view_access_cached(&f->v, &tlb, REGION_GPA + 8, 8, true, &hva), -EINVAL);
	assert_int_equal(part_view_add_region(&f->v, REGION_GPA, REGION_SIZE, f->region), 0);
	assert_int_equal(part_view_access_cached(&f->v, &tlb, REGION_GPA + 8, 8, true, &hva), 0);
	assert_int_equal(part_view_access_cached(&f->v, &tlb, REGION_GPA + 16, 8, true, &hva), 0);
	assert_ptr_equal(hva, f->region + 16);
}

/* Random changes and accesses: the cached answer always equals the locked one. */
static void test_access_cached_matches_uncached(void **state)
{
	struct vfx *f = *state;
	struct part_view_tlb tlb = { 0 };
	uint64_t x = 0x9e3779b97f4a7c15ull;

	assert_int_equal(part_view_add_region(&f->v, REGION_GPA, REGION_SIZE, f->region), 0);
	for (int step = 0; step < 20000; step++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		unsigned op = x % 64, page = (unsigned)(x >> 8) % 12;
		if (op == 0) {
			assert_int_equal(part_view_protect(&f->v, page, 1, (uint8_t)((x >> 20) & PART_PROT_ALL)), 0);
		} else if (op == 1) {
			(void)part_view_set_overlay(&f->v, (x >> 20) & 1 ? f->ov1 : f->ov2, page * P, true);
		} else if (op == 2) {
			part_view_clear_overlay(&f->v, (x >> 20) & 1 ? f->ov1 : f->ov2);
		} else {
			uint64_t base = (x >> 30) & 1 ? REGION_GPA : 0;
			uint64_t gpa = base + page * P + ((x >> 32) % (P / 8)) * 8;
			uint64_t len = 8 + ((x >> 44) % 4) * 8;
			bool write = (x >> 50) & 1;
			void *a = (void *)1, *b = (void *)2;
			int ra = part_view_access(&f->v, gpa, len, write, &a);
			int rb = part_view_access_cached(&f->v, &tlb, gpa, len, write, &b);

			if (ra != rb || a != b)
				fail_msg("step %d: %s %#llx+%llu: locked %d %p, cached %d %p", step, write ? "write" : "read",
					 (unsigned long long)gpa, (unsigned long long)len, ra, a, rb, b);
		}
	}
	assert_true(tlb.hits > 1000);
}

/* ---- commit (vm == NULL): slot bookkeeping and the number of KVM calls ---- */

static void assert_committed_matches_plan(const struct part_view *v)
{
	struct part_slot s[MAXSLOTS];
	int n = part_view_plan(v, s, MAXSLOTS);

	assert_int_equal(v->nslots, n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(v->slots[i].gpa, s[i].gpa);
		assert_int_equal(v->slots[i].size, s[i].size);
		assert_ptr_equal(v->slots[i].hva, s[i].hva);
		assert_int_equal(v->slots[i].flags, s[i].flags);
		assert_true(v->slot_ids[i] < MAXSLOTS);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(v->slot_ids[i], v->slot_ids[j]);
	}
}

static void test_commit_diff(void **state)
{
	struct vfx *f = *state;
	struct part_view *v = &f->v;
	uint64_t before;

	assert_int_equal(v->nslots, 0);
	assert_int_equal(part_view_commit(v), 0);
	assert_int_equal(v->nslots, 1);
	assert_int_equal(v->slot_ioctls, 1);          /* one create */
	assert_int_equal(v->commits, 1);
	assert_committed_matches_plan(v);

	/* nothing changed: nothing to do */
	assert_int_equal(part_view_commit(v), 0);
	assert_int_equal(v->slot_ioctls, 1);
	assert_int_equal(v->commits, 2);

	/* split [0,64) into [0,10) RW, [10] RO, [11,64) RW: 1 delete + 3 creates */
	assert_int_equal(part_view_protect(v, 10, 1, PART_PROT_R), 0);
	assert_int_equal(part_view_commit(v), 0);
	assert_int_equal(v->nslots, 3);
	assert_int_equal(v->slot_ioctls, 1 + 4);
	assert_committed_matches_plan(v);
	assert_int_equal(part_view_commit(v), 0);
	assert_int_equal(v->slot_ioctls, 5);

	/* page 10 no-access: [0,10) and [11,64) survive, only the RO slot goes: 1 delete */
	before = v->slot_ioctls;
	assert_int_equal(part_view_protect(v, 10, 1, 0), 0);
	assert_int_equal(part_view_commit(v), 0);
	assert_int_equal(v->nslots, 2);
	assert_int_equal(v->slot_ioctls - before, 1);
	assert_committed_matches_plan(v);

	/* page 10 RO again: 1 create */
	before = v->slot_ioctls;
	assert_int_equal(part_view_protect(v, 10, 1, PART_PROT_R), 0);
	assert_int_equal(part_view_commit(v), 0);
	assert_int_equal(v->nslots, 3);
	assert_int_equal(v->slot_ioctls - before, 1);
	assert_committed_matches_plan(v);

	/* page 30 RO: [11,64) replaced by [11,30) [30] [31,64): 1 delete + 3 creates */
	before = v->slot_ioctls;
	assert_int_equal(part_view_protect(v, 30, 1, PART_PROT_R), 0);
	assert_int_equal(part_view_commit(v), 0);
	assert_int_equal(v->nslots, 5);
	assert_int_equal(v->slot_ioctls - before, 4);
	assert_committed_matches_plan(v);

	/* an overlay at page 50: [31,64) -> [31,50) [50] [51,64): 1 delete + 3 creates */
	before = v->slot_ioctls;
	assert_int_equal(part_view_set_overlay(v, f->ov1, 50 * P, false), 0);
	assert_int_equal(part_view_commit(v), 0);
	assert_int_equal(v->nslots, 7);
	assert_int_equal(v->slot_ioctls - before, 4);
	assert_committed_matches_plan(v);

	/* a region: 1 create */
	before = v->slot_ioctls;
	assert_int_equal(part_view_add_region(v, REGION_GPA, REGION_SIZE, f->region), 0);
	assert_int_equal(part_view_commit(v), 0);
	assert_int_equal(v->nslots, 8);
	assert_int_equal(v->slot_ioctls - before, 1);
	assert_committed_matches_plan(v);

	/* everything back to plain RAM: 7 RAM slots deleted, 1 created; the region stays */
	before = v->slot_ioctls;
	part_view_clear_overlay(v, f->ov1);
	assert_int_equal(part_view_protect(v, 0, NPAGES, PART_PROT_ALL), 0);
	assert_int_equal(part_view_commit(v), 0);
	assert_int_equal(v->nslots, 2);
	assert_int_equal(v->slot_ioctls - before, 8);
	assert_committed_matches_plan(v);
	assert_int_equal(part_view_commit(v), 0);
	assert_int_equal(v->slot_ioctls - before, 8);
}

/*
 * A plan that does not fit fails before any KVM call: KVM still holds the old slots, so the
 * bookkeeping of what KVM holds must stay as it was (else the next commit can neither delete
 * the old slots nor reuse their ids).
 */
static void test_commit_enospc_keeps_state(void **state)
{
	struct vfx *f = *state;
	struct part_view *v = &f->v;
	struct part_slot saved[3];
	uint64_t ioctls;

	assert_int_equal(part_view_protect(v, 10, 1, PART_PROT_R), 0);
	assert_int_equal(part_view_commit(v), 0);
	assert_int_equal(v->nslots, 3);
	memcpy(saved, v->slots, sizeof(saved));
	ioctls = v->slot_ioctls;

	for (unsigned pfn = 0; pfn < NPAGES; pfn += 2)
		assert_int_equal(part_view_protect(v, pfn, 1, PART_PROT_R), 0);
	assert_int_equal(part_view_commit(v), -ENOSPC);
	assert_int_equal(v->slot_ioctls, ioctls);
	assert_int_equal(v->nslots, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(v->slots[i].gpa, saved[i].gpa);
		assert_int_equal(v->slots[i].size, saved[i].size);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protect_read_only_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protect_no_access_is_a_hole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protect_merges_equal_neighbours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protect_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlay_replaces_ram_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlay_conflicts_move_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_classify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_cached_hits_and_invalidation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_cached_matches_uncached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_diff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_enospc_keeps_state, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
