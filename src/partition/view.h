/* SPDX-License-Identifier: MIT */
/*
 * A VTL's view of partition memory: RAM with per-page protections, hvrun-owned overlay pages
 * and private regions, turned into the fewest KVM memory slots (merged runs) and kept in sync.
 */
#ifndef PART_VIEW_H
#define PART_VIEW_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "partition/mem.h"

/* HV_MAP_GPA_FLAGS bits that a view records; KVM enforces R and W (see docs/vsm.md). */
#define PART_PROT_R    0x1u
#define PART_PROT_W    0x2u
#define PART_PROT_KX   0x4u
#define PART_PROT_UX   0x8u
#define PART_PROT_ALL  0xFu

#define PART_PAGE_SIZE 4096ull
#define PART_VIEW_MAX_OVERLAYS 64
#define PART_VIEW_MAX_REGIONS  4

struct vmm_vm;

struct part_overlay {
	uint64_t gpa;            /* page-aligned, inside RAM */
	void *hva;               /* hvrun's 4 KiB page; also the overlay's identity */
	bool writable;           /* guest writes allowed (SynIC pages) or dropped (code pages) */
};

struct part_region {
	uint64_t gpa;
	uint64_t size;
	void *hva;
};

struct part_slot {
	uint64_t gpa;
	uint64_t size;
	void *hva;
	uint32_t flags;          /* KVM_MEM_READONLY or 0 */
};

enum part_gpa_kind {
	PART_GPA_UNMAPPED,       /* nothing there: MMIO */
	PART_GPA_RAM,
	PART_GPA_OVERLAY,
	PART_GPA_REGION,         /* private memory of this view (VTL1) */
};

struct part_view {
	const struct part_mem *ram;
	uint8_t *prot;                       /* per RAM page, PART_PROT_* */
	uint64_t npages;
	struct part_overlay overlays[PART_VIEW_MAX_OVERLAYS];
	unsigned noverlays;
	struct part_region regions[PART_VIEW_MAX_REGIONS];
	unsigned nregions;
	struct part_slot *slots;             /* what KVM holds now */
	uint32_t *slot_ids;
	unsigned nslots;
	unsigned max_slots;
	struct vmm_vm *vm;                   /* NULL: plan only (tests) */
	/*
	 * Called around a commit that deletes slots (begin = true, then false): KVM has no atomic
	 * slot replacement, so other vCPUs must be out of the guest while memory is briefly absent.
	 */
	void (*quiesce)(void *ctx, bool begin);
	void *quiesce_ctx;
	pthread_mutex_t lock;
	/*
	 * Bumped (under lock) by every change that can alter what part_view_access answers:
	 * protections, overlays, regions. Starts at 1, so a zeroed part_view_tlb never matches.
	 */
	uint64_t generation;
	uint64_t commits;                    /* statistics for benchmarks */
	uint64_t slot_ioctls;
};

int part_view_init(struct part_view *v, const struct part_mem *ram, struct vmm_vm *vm, unsigned max_slots);
void part_view_fini(struct part_view *v);

/* Place (or move) the overlay identified by hva at gpa. -EINVAL if gpa is not a RAM page. */
int part_view_set_overlay(struct part_view *v, void *hva, uint64_t gpa, bool writable);
/* Remove the overlay identified by hva (no-op if absent). */
void part_view_clear_overlay(struct part_view *v, void *hva);
/* Add private memory [gpa, gpa+size) backed by hva; must not overlap RAM or another region. */
int part_view_add_region(struct part_view *v, uint64_t gpa, uint64_t size, void *hva);
/* Set the protection of RAM pages [gpfn, gpfn + count). -EINVAL outside RAM. */
int part_view_protect(struct part_view *v, uint64_t gpfn, uint64_t count, uint8_t prot);
uint8_t part_view_prot(const struct part_view *v, uint64_t gpa);

/*
 * Compute the slot list for the current state: pages in GPA order, overlays replacing RAM pages,
 * no slot for no-access pages, read-only slots for pages without W, adjacent pages with equal
 * flags and contiguous host memory merged. Returns the count, or -ENOSPC if more than max.
 */
int part_view_plan(const struct part_view *v, struct part_slot *out, unsigned max);
/* Plan and apply the difference to KVM (delete changed slots, then create new ones). */
int part_view_commit(struct part_view *v);

enum part_gpa_kind part_view_classify(const struct part_view *v, uint64_t gpa, uint8_t *prot);

/*
 * Host pointer for hvrun to access [gpa, gpa+len) on behalf of this view's VTL: only RAM or
 * private regions, never overlays, and only where the VTL itself may read (or write).
 * -EINVAL: not memory of this view; -EACCES: a protection forbids it.
 */
int part_view_access(struct part_view *v, uint64_t gpa, uint64_t len, bool write, void **hva);

/*
 * One VP's last translations in one view, so that a repeated access (a hypercall's input and
 * output pages, the VP assist page on every VTL switch) skips the view's lock. An entry holds
 * for the view generation it was made in; any change to the view makes every entry stale.
 * Owned by one VP thread: no locking of its own. Zero-initialised means empty.
 */
#define PART_VIEW_TLB_ENTRIES 8

struct part_view_tlb {
	struct {
		uint64_t generation;
		uint64_t page;       /* GPA of the 4 KiB page */
		uint8_t *hva;        /* host address of that page */
		bool writable;
	} e[PART_VIEW_TLB_ENTRIES];  /* indexed by page number modulo the size */
	uint64_t hits, misses;       /* statistics for tests and benchmarks */
};

/*
 * part_view_access through a VP's cache (tlb may be NULL). The answer is the one
 * part_view_access would give at the moment the view's generation is read: a change made
 * concurrently by another thread orders before or after the access, as with the lock.
 */
int part_view_access_cached(struct part_view *v, struct part_view_tlb *tlb, uint64_t gpa, uint64_t len,
			    bool write, void **hva);

#endif /* PART_VIEW_H */
