/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: a VTL's memory view (src/partition/view.c) with vm == NULL, driven by sequences of
 * part_view_* operations: overlays placed, moved and cleared, private regions, protections,
 * plans, commits, classification and hvrun's own accesses on the VTL's behalf.
 *
 * Input: a 4-byte header {RAM pages - 1 (16 bit), max slots - 1, flags}, then 8-byte operations.
 * After every commit the slots KVM would hold are checked against a page-by-page model:
 *   - sorted by GPA, never overlapping, whole pages, inside RAM or a private region;
 *   - merged: no two adjacent slots that could be one (same flags, contiguous host memory, and
 *     the second one not the start of a region);
 *   - exactly the model: every RAM page with R (or an overlay) is mapped, read-only unless W
 *     (or a writable overlay), to the overlay's page or to the RAM page; region pages likewise;
 *   - idempotent: a second commit sends nothing to KVM and keeps the same slots;
 *   - a commit that does not fit (-ENOSPC) leaves the recorded slots as they were.
 * part_view_access and part_view_classify are checked against the same model, and
 * part_view_access_cached (one translation cache kept across the whole input) against
 * part_view_access.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvm.h>

#include "partition/view.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

#define NPOOL 8                    /* overlay pages the input can place */
#define REGION_BASE 0xC0000000ull  /* where private regions go (VTL1's memory) */
#define REGION_MAX_PAGES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t pool[NPOOL][PART_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t region_mem[4][REGION_MAX_PAGES * PART_PAGE_SIZE] __attribute__((aligned(4096)));

/* What one page should look like in KVM's memory map (hva NULL: not mapped). */
struct page_model {
	void *hva;
	uint32_t flags;
};

static const struct part_overlay *model_overlay(const struct part_view *v, uint64_t gpa)
{
	for (unsigned i = 0; i < v->noverlays; i++)
		if (v->overlays[i].gpa == gpa)
			return &v->overlays[i];
	return NULL;
}

static const struct part_region *model_region(const struct part_view *v, uint64_t gpa)
{
	for (unsigned i = 0; i < v->nregions; i++)
		if (gpa >= v->regions[i].gpa && gpa - v->regions[i].gpa < v->regions[i].size)
			return &v->regions[i];
	return NULL;
}

static struct page_model model_page(const struct part_view *v, uint64_t gpa)
{
	const struct part_overlay *ov = model_overlay(v, gpa);
	const struct part_region *r;

	if (ov)
		return (struct page_model){ ov->hva, ov->writable ? 0 : KVM_MEM_READONLY };
	if (gpa / PART_PAGE_SIZE < v->npages) {
		uint8_t p = v->prot[gpa / PART_PAGE_SIZE];
		if (!(p & PART_PROT_R))
			return (struct page_model){ NULL, 0 };
		return (struct page_model){ v->ram->host + gpa, p & PART_PROT_W ? 0 : KVM_MEM_READONLY };
	}
	r = model_region(v, gpa);
	if (r)
		return (struct page_model){ (uint8_t *)r->hva + (gpa - r->gpa), 0 };
	return (struct page_model){ NULL, 0 };
}

static void check_slots(const struct part_view *v, const struct part_slot *s, unsigned n, unsigned max)
{
	uint64_t mapped = 0;

	CHECK(n <= max);
	for (unsigned i = 0; i < n; i++) {
		CHECK(s[i].size && !(s[i].size & (PART_PAGE_SIZE - 1)) && !(s[i].gpa & (PART_PAGE_SIZE - 1)));
		CHECK(s[i].gpa + s[i].size > s[i].gpa);
		CHECK(s[i].flags == 0 || s[i].flags == KVM_MEM_READONLY);
		/* Sorted by GPA, so no overlap (regions too: fuzz/corpus/view/regress-regions-out-of-order). */
		if (i)
			CHECK(s[i - 1].gpa + s[i - 1].size <= s[i].gpa);
		if (i) {
			bool region_start = false;
			for (unsigned r = 0; r < v->nregions; r++)
				region_start |= v->regions[r].gpa == s[i].gpa;
			if (!region_start)                                              /* merged */
				CHECK(!(s[i - 1].gpa + s[i - 1].size == s[i].gpa && s[i - 1].flags == s[i].flags &&
					(uint8_t *)s[i - 1].hva + s[i - 1].size == (uint8_t *)s[i].hva));
		}
		/* Inside RAM, or inside one region. */
		if (s[i].gpa < v->ram->size) {
			CHECK(s[i].gpa + s[i].size <= v->ram->size);
		} else {
			const struct part_region *r = model_region(v, s[i].gpa);
			CHECK(r && s[i].gpa + s[i].size <= r->gpa + r->size);
		}
		/* Every page of the slot is what the model says. */
		for (uint64_t off = 0; off < s[i].size; off += PART_PAGE_SIZE) {
			struct page_model m = model_page(v, s[i].gpa + off);
			CHECK(m.hva == (uint8_t *)s[i].hva + off && m.flags == s[i].flags);
		}
		mapped += s[i].size / PART_PAGE_SIZE;
	}
	/* And every page the model maps is in a slot (count: the slots hold no extra pages). */
	uint64_t want = 0;
	for (uint64_t pfn = 0; pfn < v->npages; pfn++)
		want += model_page(v, pfn * PART_PAGE_SIZE).hva != NULL;
	for (unsigned r = 0; r < v->nregions; r++)
		want += v->regions[r].size / PART_PAGE_SIZE;
	CHECK(mapped == want);
}

static uint64_t pick_gpa(const struct part_view *v, uint8_t sel, uint16_t x)
{
	switch (sel & 7) {
	case 0: case 1: case 2:
		return (uint64_t)(x % (v->npages + 2)) * PART_PAGE_SIZE;                  /* RAM page, or just past */
	case 3:
		return REGION_BASE + (uint64_t)(x % (REGION_MAX_PAGES * 4 + 4)) * PART_PAGE_SIZE;
	case 4:
		return (uint64_t)x * PART_PAGE_SIZE + (x & 0xfff);                        /* unaligned */
	case 5:
		return v->ram->size - PART_PAGE_SIZE + (x & 0xfff);                       /* last RAM page */
	case 6:
		return ~0ull - (x & 0xffff);                                              /* wraps */
	default:
		return (uint64_t)x << 20;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct part_slot plan[1024], before[1024];
	struct part_view v;
	struct part_view_tlb tlb = { 0 };
	struct part_mem ram;
	uint8_t *host;
	uint64_t npages;
	unsigned max_slots;
	int ret;

	if (size < 4)
		return 0;
	npages = 1 + ((data[0] | data[1] << 8) & 0x3ff);
	max_slots = 1 + data[2] % 96;
	/*
	 * One buffer for every input (fresh multi-MiB blocks cost page faults each time); RAM sits at
	 * its end, so ASan's redzone right after it still catches an access past RAM.
	 */
	static uint8_t *ram_buf;
	if (!ram_buf && !(ram_buf = malloc(1024 * PART_PAGE_SIZE)))
		abort();
	host = ram_buf + (1024 - npages) * PART_PAGE_SIZE;
	part_mem_wrap(&ram, host, 0, npages * PART_PAGE_SIZE);
	CHECK(part_view_init(&v, &ram, NULL, max_slots) == 0);
	data += 4;
	size -= 4;

	for (; size >= 8; data += 8, size -= 8) {
		uint8_t op = data[0], a = data[1];
		uint16_t x = (uint16_t)(data[2] | data[3] << 8), y = (uint16_t)(data[4] | data[5] << 8);
		uint16_t z = (uint16_t)(data[6] | data[7] << 8);
		uint64_t gpa = pick_gpa(&v, a, x);

		switch (op % 9) {
		case 0: {           /* place or move an overlay */
			void *hva = pool[y % NPOOL];
			unsigned n0 = v.noverlays;
			ret = part_view_set_overlay(&v, hva, gpa, z & 1);
			if (ret == 0) {
				CHECK(model_overlay(&v, gpa) && model_overlay(&v, gpa)->hva == hva);
				CHECK(gpa / PART_PAGE_SIZE < v.npages || model_region(&v, gpa));
			} else {
				CHECK(v.noverlays == n0);
			}
			/* Never two overlays at one GPA, nor one overlay twice. */
			for (unsigned i = 0; i < v.noverlays; i++)
				for (unsigned j = 0; j < i; j++)
					CHECK(v.overlays[i].gpa != v.overlays[j].gpa && v.overlays[i].hva != v.overlays[j].hva);
			break;
		}
		case 1:
			part_view_clear_overlay(&v, pool[y % NPOOL]);
			for (unsigned i = 0; i < v.noverlays; i++)
				CHECK(v.overlays[i].hva != pool[y % NPOOL]);
			break;
		case 2: {           /* a private region */
			unsigned r = y % 4;
			uint64_t pages = 1 + z % REGION_MAX_PAGES;
			uint64_t rgpa = (a & 8) ? gpa : REGION_BASE + (uint64_t)r * REGION_MAX_PAGES * PART_PAGE_SIZE;
			ret = part_view_add_region(&v, rgpa, pages * PART_PAGE_SIZE, region_mem[r]);
			if (!ret)
				CHECK(rgpa >= ram.size && !(rgpa & 0xfff));
			for (unsigned i = 0; i < v.nregions; i++)
				for (unsigned j = 0; j < i; j++)
					CHECK(v.regions[i].gpa >= v.regions[j].gpa + v.regions[j].size ||
					      v.regions[j].gpa >= v.regions[i].gpa + v.regions[i].size);
			break;
		}
		case 3: {           /* protect a run of pages */
			uint64_t gpfn = (a & 0x80) ? (uint64_t)x : x % (v.npages + 1);
			uint64_t count = (a & 0x40) ? (uint64_t)y << 8 : y % 64;
			uint8_t prot = z & 0x1f;
			ret = part_view_protect(&v, gpfn, count, prot);
			if (!ret) {
				CHECK(count && gpfn + count <= v.npages && !(prot & ~PART_PROT_ALL));
				for (uint64_t i = 0; i < count; i++)
					CHECK(v.prot[gpfn + i] == prot);
			}
			break;
		}
		case 4:
		case 5: {           /* commit: the slots match the model; again: nothing changes */
			unsigned n0 = v.nslots;
			memcpy(before, v.slots, n0 * sizeof(*before));
			ret = part_view_commit(&v);
			if (ret) {
				CHECK(ret == -ENOSPC);
				CHECK(v.nslots == n0 && !memcmp(before, v.slots, n0 * sizeof(*before)));
				CHECK(part_view_plan(&v, plan, max_slots) == -ENOSPC);
				break;
			}
			check_slots(&v, v.slots, v.nslots, v.max_slots);
			uint64_t ioctls = v.slot_ioctls;
			unsigned n1 = v.nslots;
			memcpy(before, v.slots, n1 * sizeof(*before));
			CHECK(part_view_commit(&v) == 0);
			CHECK(v.slot_ioctls == ioctls && v.nslots == n1 && !memcmp(before, v.slots, n1 * sizeof(*before)));
			/* Slot ids are unique and below the maximum. */
			for (unsigned i = 0; i < v.nslots; i++) {
				CHECK(v.slot_ids[i] < v.max_slots);
				for (unsigned j = 0; j < i; j++)
					CHECK(v.slot_ids[i] != v.slot_ids[j]);
			}
			break;
		}
		case 6: {           /* plan into a buffer of any size */
			unsigned m = 1 + y % 1024;
			ret = part_view_plan(&v, plan, m);
			if (ret >= 0)
				check_slots(&v, plan, (unsigned)ret, m);
			else
				CHECK(ret == -ENOSPC);
			break;
		}
		case 7: {           /* classify */
			uint8_t prot = 0xee;
			enum part_gpa_kind k = part_view_classify(&v, gpa, &prot);
			uint64_t page = gpa & ~(PART_PAGE_SIZE - 1);
			if (model_overlay(&v, page) && (page / PART_PAGE_SIZE < v.npages || model_region(&v, page)))
				CHECK(k == PART_GPA_OVERLAY);
			else if (gpa / PART_PAGE_SIZE < v.npages)
				CHECK(k == PART_GPA_RAM && prot == v.prot[gpa / PART_PAGE_SIZE]);
			else if (model_region(&v, gpa))
				CHECK(k == PART_GPA_REGION);
			else
				CHECK(k == PART_GPA_UNMAPPED && prot == 0);
			break;
		}
		default: {          /* hvrun accessing memory on the VTL's behalf */
			uint64_t len = (a & 0x40) ? (uint64_t)z << 4 : z % 64;
			bool write = a & 0x20;
			void *hva = (void *)1, *cached = (void *)2;
			ret = part_view_access(&v, gpa, len, write, &hva);
			/* The cache answers exactly as the locked lookup, whatever changed since. */
			CHECK(part_view_access_cached(&v, &tlb, gpa, len, write, &cached) == ret && cached == hva);
			if (ret) {
				CHECK(ret == -EINVAL || ret == -EACCES);
				CHECK(hva == NULL);
				break;
			}
			CHECK(len && gpa + len > gpa);
			/* Every page touched is plain memory (no overlay) the VTL may access that way. */
			for (uint64_t pg = gpa & ~(PART_PAGE_SIZE - 1); pg < gpa + len; pg += PART_PAGE_SIZE) {
				CHECK(!model_overlay(&v, pg));
				if (pg / PART_PAGE_SIZE < v.npages) {
					uint8_t need = PART_PROT_R | (write ? PART_PROT_W : 0);
					CHECK((v.prot[pg / PART_PAGE_SIZE] & need) == need);
				}
			}
			if (gpa + len <= ram.size) {
				CHECK(hva == host + gpa);
			} else {
				const struct part_region *r = model_region(&v, gpa);
				CHECK(r && gpa + len <= r->gpa + r->size && hva == (uint8_t *)r->hva + (gpa - r->gpa));
			}
			((volatile uint8_t *)hva)[0] = 0x5a;          /* ASan: both ends are really there */
			((volatile uint8_t *)hva)[len - 1] = 0x5a;
			break;
		}
		}
	}
	part_view_fini(&v);
	return 0;
}
