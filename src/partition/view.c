/* SPDX-License-Identifier: MIT */
/* Memory views: protection/overlay bookkeeping, slot planning (pure) and the KVM slot diff. */
#include "partition/view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvm.h>

#include "vmm/kvm.h"
#include "vmm/log.h"

int part_view_init(struct part_view *v, const struct part_mem *ram, struct vmm_vm *vm, unsigned max_slots)
{
	memset(v, 0, sizeof(*v));
	if (!ram->host || ram->gpa_base != 0 || (ram->size & (PART_PAGE_SIZE - 1)) || max_slots == 0)
		return -EINVAL;
	v->ram = ram;
	v->vm = vm;
	v->npages = ram->size / PART_PAGE_SIZE;
	v->max_slots = max_slots;
	v->prot = malloc(v->npages);
	v->slots = calloc(max_slots, sizeof(*v->slots));
	v->slot_ids = calloc(max_slots, sizeof(*v->slot_ids));
	if (!v->prot || !v->slots || !v->slot_ids || pthread_mutex_init(&v->lock, NULL)) {
		free(v->prot);
		free(v->slots);
		free(v->slot_ids);
		memset(v, 0, sizeof(*v));
		return -ENOMEM;
	}
	memset(v->prot, PART_PROT_ALL, v->npages);
	v->generation = 1;
	return 0;
}

/* Under v->lock: every cached translation of this view is stale from now on. */
static void bump(struct part_view *v)
{
	__atomic_store_n(&v->generation, v->generation + 1, __ATOMIC_RELEASE);
}

void part_view_fini(struct part_view *v)
{
	if (!v->ram)
		return;
	pthread_mutex_destroy(&v->lock);
	free(v->prot);
	free(v->slots);
	free(v->slot_ids);
	memset(v, 0, sizeof(*v));
}

static bool ram_page(const struct part_view *v, uint64_t gpa)
{
	return !(gpa & (PART_PAGE_SIZE - 1)) && gpa / PART_PAGE_SIZE < v->npages;
}

/* The private region holding gpa, or NULL. */
static const struct part_region *region_at(const struct part_view *v, uint64_t gpa)
{
	for (unsigned i = 0; i < v->nregions; i++)
		if (gpa >= v->regions[i].gpa && gpa - v->regions[i].gpa < v->regions[i].size)
			return &v->regions[i];
	return NULL;
}

int part_view_set_overlay(struct part_view *v, void *hva, uint64_t gpa, bool writable)
{
	int ret = 0;

	if (!hva || (gpa & (PART_PAGE_SIZE - 1)))
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	/* RAM, or the view's private memory: VTL1 keeps its hypercall and SynIC pages there. */
	if (!ram_page(v, gpa) && !region_at(v, gpa)) {
		ret = -EINVAL;
		goto out;
	}
	for (unsigned i = 0; i < v->noverlays; i++) {
		if (v->overlays[i].hva == hva)
			continue;
		if (v->overlays[i].gpa == gpa) {
			ret = -EBUSY;       /* two overlays at one GPA: the later one would hide the first */
			goto out;
		}
	}
	for (unsigned i = 0; i < v->noverlays; i++) {
		if (v->overlays[i].hva == hva) {
			v->overlays[i].gpa = gpa;
			v->overlays[i].writable = writable;
			goto out;
		}
	}
	if (v->noverlays == PART_VIEW_MAX_OVERLAYS) {
		ret = -ENOSPC;
		goto out;
	}
	v->overlays[v->noverlays++] = (struct part_overlay){ .gpa = gpa, .hva = hva, .writable = writable };
out:
	if (!ret)
		bump(v);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

void part_view_clear_overlay(struct part_view *v, void *hva)
{
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < v->noverlays; i++) {
		if (v->overlays[i].hva == hva) {
			v->overlays[i] = v->overlays[--v->noverlays];
			bump(v);
			break;
		}
	}
	pthread_mutex_unlock(&v->lock);
}

int part_view_add_region(struct part_view *v, uint64_t gpa, uint64_t size, void *hva)
{
	int ret = 0;

	if (!hva || !size || (gpa | size) & (PART_PAGE_SIZE - 1) || gpa + size < gpa ||
	    gpa < v->ram->size)
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < v->nregions; i++) {
		const struct part_region *r = &v->regions[i];
		if (gpa < r->gpa + r->size && r->gpa < gpa + size) {
			ret = -EEXIST;
			goto out;
		}
	}
	if (v->nregions == PART_VIEW_MAX_REGIONS) {
		ret = -ENOSPC;
		goto out;
	}
	/* Sorted by GPA: the plan walks regions in order and promises slots in GPA order. */
	unsigned at = v->nregions++;
	for (; at > 0 && v->regions[at - 1].gpa > gpa; at--)
		v->regions[at] = v->regions[at - 1];
	v->regions[at] = (struct part_region){ .gpa = gpa, .size = size, .hva = hva };
	bump(v);
out:
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int part_view_protect(struct part_view *v, uint64_t gpfn, uint64_t count, uint8_t prot)
{
	if (count == 0 || gpfn >= v->npages || count > v->npages - gpfn || (prot & ~PART_PROT_ALL))
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	memset(v->prot + gpfn, prot, count);
	bump(v);
	pthread_mutex_unlock(&v->lock);
	return 0;
}

uint8_t part_view_prot(const struct part_view *v, uint64_t gpa)
{
	uint64_t pfn = gpa / PART_PAGE_SIZE;

	return pfn < v->npages ? v->prot[pfn] : 0;
}

static const struct part_overlay *overlay_at(const struct part_view *v, uint64_t page_gpa)
{
	for (unsigned i = 0; i < v->noverlays; i++)
		if (v->overlays[i].gpa == page_gpa)
			return &v->overlays[i];
	return NULL;
}

/*
 * Append or extend: the page joins the previous slot when `merge` is allowed, flags match and
 * memory is contiguous.
 */
static int emit(struct part_slot *out, unsigned max, unsigned *n, uint64_t gpa, uint64_t size,
		void *hva, uint32_t flags, bool merge)
{
	if (*n && merge) {
		struct part_slot *last = &out[*n - 1];
		if (last->flags == flags && last->gpa + last->size == gpa &&
		    (uint8_t *)last->hva + last->size == (uint8_t *)hva) {
			last->size += size;
			return 0;
		}
	}
	if (*n == max)
		return -ENOSPC;
	out[(*n)++] = (struct part_slot){ .gpa = gpa, .size = size, .hva = hva, .flags = flags };
	return 0;
}

/* First page at or after `from` (and before `limit`) whose protection differs from prot[from]. */
static uint64_t run_end(const uint8_t *prot, uint64_t from, uint64_t limit)
{
	const uint8_t p = prot[from];
	const uint64_t pattern = 0x0101010101010101ull * p;
	uint64_t i = from + 1;

	/* A byte at a time to an 8-byte boundary, then a word at a time: commits plan every page. */
	for (; i < limit && (i & 7); i++)
		if (prot[i] != p)
			return i;
	for (; limit - i >= 8; i += 8) {
		uint64_t w;

		memcpy(&w, prot + i, sizeof(w));
		if (w != pattern)
			break;
	}
	for (; i < limit && prot[i] == p; i++)
		;
	return i;
}

/* The view's overlays in GPA order (at most PART_VIEW_MAX_OVERLAYS; GPAs are unique). */
static unsigned sorted_overlays(const struct part_view *v, const struct part_overlay **out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < v->noverlays; i++) {
		unsigned j = n++;

		for (; j > 0 && out[j - 1]->gpa > v->overlays[i].gpa; j--)
			out[j] = out[j - 1];
		out[j] = &v->overlays[i];
	}
	return n;
}

/* A span of pages the plan walks: RAM (with protections) or a private region (prot NULL: RW). */
struct plan_span {
	uint64_t gpa;
	uint64_t npages;
	uint8_t *hva;
	const uint8_t *prot;
	bool merge_first;        /* may the span's first page join the slot before it? */
};

/*
 * Emit one span in runs: an overlay inside it replaces its page; between overlays, runs of equal
 * protection become one slot each (none for no-access runs). *ov walks the sorted overlays, which
 * the caller's spans visit in GPA order.
 */
static int plan_span(const struct plan_span *sp, const struct part_overlay *const *ovs, unsigned nov,
		     unsigned *ov, struct part_slot *out, unsigned max, unsigned *n)
{
	uint64_t end_gpa = sp->gpa + sp->npages * PART_PAGE_SIZE;
	uint64_t pfn = 0;
	int ret;

	while (*ov < nov && ovs[*ov]->gpa < sp->gpa)
		(*ov)++;       /* cannot happen (overlays lie in RAM or a region); stay in order anyway */
	while (pfn < sp->npages) {
		uint64_t gpa = sp->gpa + pfn * PART_PAGE_SIZE;
		bool merge = pfn != 0 || sp->merge_first;
		uint64_t next_ov = *ov < nov && ovs[*ov]->gpa < end_gpa ?
				   (ovs[*ov]->gpa - sp->gpa) / PART_PAGE_SIZE : sp->npages;

		if (pfn == next_ov) {
			const struct part_overlay *o = ovs[(*ov)++];

			ret = emit(out, max, n, gpa, PART_PAGE_SIZE, o->hva,
				   o->writable ? 0 : KVM_MEM_READONLY, merge);
			pfn++;
		} else if (sp->prot) {
			uint8_t p = sp->prot[pfn];
			uint64_t end = run_end(sp->prot, pfn, next_ov);

			ret = !(p & PART_PROT_R) ? 0 :
			      emit(out, max, n, gpa, (end - pfn) * PART_PAGE_SIZE, sp->hva + pfn * PART_PAGE_SIZE,
				   (p & PART_PROT_W) ? 0 : KVM_MEM_READONLY, merge);
			pfn = end;
		} else {
			ret = emit(out, max, n, gpa, (next_ov - pfn) * PART_PAGE_SIZE,
				   sp->hva + pfn * PART_PAGE_SIZE, 0, merge);
			pfn = next_ov;
		}
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * RAM, then the private regions (kept sorted, all above RAM). A region starts a slot of its own
 * even when its host memory happens to follow RAM's.
 */
static int plan_locked(const struct part_view *v, struct part_slot *out, unsigned max)
{
	const struct part_overlay *ovs[PART_VIEW_MAX_OVERLAYS];
	unsigned nov = sorted_overlays(v, ovs), ov = 0, n = 0;
	struct plan_span ram = { .gpa = 0, .npages = v->npages, .hva = v->ram->host, .prot = v->prot,
				 .merge_first = true };
	int ret = plan_span(&ram, ovs, nov, &ov, out, max, &n);

	for (unsigned i = 0; !ret && i < v->nregions; i++) {
		const struct part_region *r = &v->regions[i];
		struct plan_span sp = { .gpa = r->gpa, .npages = r->size / PART_PAGE_SIZE, .hva = r->hva };

		ret = plan_span(&sp, ovs, nov, &ov, out, max, &n);
	}
	return ret ? ret : (int)n;
}

int part_view_plan(const struct part_view *v, struct part_slot *out, unsigned max)
{
	int ret;

	pthread_mutex_lock((pthread_mutex_t *)&v->lock);
	ret = plan_locked(v, out, max);
	pthread_mutex_unlock((pthread_mutex_t *)&v->lock);
	return ret;
}

static bool slot_equal(const struct part_slot *a, const struct part_slot *b)
{
	return a->gpa == b->gpa && a->size == b->size && a->hva == b->hva && a->flags == b->flags;
}

static int set_slot(struct part_view *v, uint32_t id, const struct part_slot *s, bool remove)
{
	v->slot_ioctls++;
	if (!v->vm)
		return 0;
	return vmm_vm_set_memory(v->vm, id, s->flags, s->gpa, remove ? 0 : s->size, s->hva);
}

int part_view_commit(struct part_view *v)
{
	struct part_slot *plan = calloc(v->max_slots, sizeof(*plan));
	uint32_t *ids = calloc(v->max_slots, sizeof(*ids));
	uint8_t *used = calloc(v->max_slots, 1);
	bool *kept_new = calloc(v->max_slots, sizeof(bool));
	bool quiesced = false;
	int n, ret = 0;

	if (!plan || !ids || !used || !kept_new) {
		ret = -ENOMEM;
		goto out_free;
	}
	pthread_mutex_lock(&v->lock);
	n = plan_locked(v, plan, v->max_slots);
	if (n < 0) {
		/* Nothing was sent to KVM: the slots it holds are still the ones recorded. */
		pthread_mutex_unlock(&v->lock);
		ret = n;
		goto out_free;
	}
	/* Old slots that survive unchanged keep their ids; the rest are deleted first (no overlap). */
	for (unsigned i = 0; i < v->nslots; i++) {
		bool keep = false;
		if (!quiesced) {
			bool gone = true;
			for (int j = 0; j < n && gone; j++)
				gone = !slot_equal(&v->slots[i], &plan[j]);
			if (gone && v->quiesce) {
				v->quiesce(v->quiesce_ctx, true);
				quiesced = true;
			}
		}
		for (int j = 0; j < n; j++) {
			if (!kept_new[j] && slot_equal(&v->slots[i], &plan[j])) {
				kept_new[j] = true;
				ids[j] = v->slot_ids[i];
				used[v->slot_ids[i]] = 1;
				keep = true;
				break;
			}
		}
		if (!keep) {
			ret = set_slot(v, v->slot_ids[i], &v->slots[i], true);
			if (ret)
				goto out;
		}
	}
	for (int j = 0; j < n; j++) {
		if (kept_new[j])
			continue;
		uint32_t id = 0;
		while (used[id])
			id++;
		used[id] = 1;
		ids[j] = id;
		ret = set_slot(v, id, &plan[j], false);
		if (ret)
			goto out;
	}
	memcpy(v->slots, plan, (size_t)n * sizeof(*plan));
	memcpy(v->slot_ids, ids, (size_t)n * sizeof(*ids));
	v->nslots = (unsigned)n;
	v->commits++;
out:
	if (quiesced)
		v->quiesce(v->quiesce_ctx, false);
	if (ret) {
		/* KVM and the bookkeeping disagree now: forget every slot so nothing stale is trusted. */
		pr_err("memory view update failed (%d); the partition's memory map is unusable", ret);
		v->nslots = 0;
	}
	pthread_mutex_unlock(&v->lock);
out_free:
	free(plan);
	free(ids);
	free(used);
	free(kept_new);
	return ret;
}

enum part_gpa_kind part_view_classify(const struct part_view *v, uint64_t gpa, uint8_t *prot)
{
	uint64_t page = gpa & ~(PART_PAGE_SIZE - 1);
	enum part_gpa_kind kind = PART_GPA_UNMAPPED;
	uint8_t p = 0;

	pthread_mutex_lock((pthread_mutex_t *)&v->lock);
	if (gpa / PART_PAGE_SIZE < v->npages) {
		const struct part_overlay *ov = overlay_at(v, page);
		if (ov) {
			kind = PART_GPA_OVERLAY;
			p = PART_PROT_R | (ov->writable ? PART_PROT_W : 0);
		} else {
			kind = PART_GPA_RAM;
			p = v->prot[gpa / PART_PAGE_SIZE];
		}
	} else if (region_at(v, gpa)) {
		const struct part_overlay *ov = overlay_at(v, page);
		if (ov) {
			kind = PART_GPA_OVERLAY;
			p = PART_PROT_R | (ov->writable ? PART_PROT_W : 0);
		} else {
			kind = PART_GPA_REGION;
			p = PART_PROT_ALL;
		}
	}
	pthread_mutex_unlock((pthread_mutex_t *)&v->lock);
	if (prot)
		*prot = p;
	return kind;
}

/*
 * Under v->lock. *writable says whether the single page holding [gpa, gpa + len) may also be
 * written by the view's VTL (only meaningful for a one-page range that succeeded).
 */
static int access_locked(const struct part_view *v, uint64_t gpa, uint64_t len, bool write, void **hva,
			 bool *writable)
{
	uint8_t need = PART_PROT_R | (write ? PART_PROT_W : 0);

	if (part_mem_contains(v->ram, gpa, len)) {
		for (uint64_t pg = gpa & ~(PART_PAGE_SIZE - 1); pg < gpa + len; pg += PART_PAGE_SIZE) {
			if (overlay_at(v, pg))
				return -EACCES;      /* hvrun's own pages are not guest memory */
			if ((v->prot[pg / PART_PAGE_SIZE] & need) != need)
				return -EACCES;
			*writable = v->prot[pg / PART_PAGE_SIZE] & PART_PROT_W;
		}
		*hva = v->ram->host + gpa;
		return 0;
	}
	for (unsigned i = 0; i < v->nregions; i++) {
		const struct part_region *r = &v->regions[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa)) {
			for (uint64_t pg = gpa & ~(PART_PAGE_SIZE - 1); pg < gpa + len; pg += PART_PAGE_SIZE)
				if (overlay_at(v, pg))
					return -EACCES;  /* as in RAM: an overlay hides the page */
			*writable = true;
			*hva = (uint8_t *)r->hva + (gpa - r->gpa);
			return 0;
		}
	}
	return -EINVAL;
}

int part_view_access(struct part_view *v, uint64_t gpa, uint64_t len, bool write, void **hva)
{
	return part_view_access_cached(v, NULL, gpa, len, write, hva);
}

/* A miss: the locked lookup, remembered in the VP's cache when it covers one page. */
static __attribute__((noinline)) int access_miss(struct part_view *v, struct part_view_tlb *tlb, uint64_t gpa,
						 uint64_t len, bool write, void **hva, unsigned slot)
{
	uint64_t page = gpa & ~(PART_PAGE_SIZE - 1);
	bool writable = false;
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = access_locked(v, gpa, len, write, hva, &writable);
	if (!ret && tlb) {
		tlb->misses++;
		tlb->e[slot].generation = v->generation;
		tlb->e[slot].page = page;
		tlb->e[slot].hva = (uint8_t *)*hva - (gpa - page);
		tlb->e[slot].writable = writable;
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int part_view_access_cached(struct part_view *v, struct part_view_tlb *tlb, uint64_t gpa, uint64_t len,
			    bool write, void **hva)
{
	uint64_t page = gpa & ~(PART_PAGE_SIZE - 1);
	/* Direct-mapped by page number: a hit costs one comparison of three words. */
	unsigned slot = (unsigned)(page / PART_PAGE_SIZE) % PART_VIEW_TLB_ENTRIES;

	*hva = NULL;
	if (len == 0 || gpa + len < gpa)
		return -EINVAL;
	/* Only ranges inside one page are cached (hypercall lists and VP assist pages are). */
	if (((gpa + len - 1) & ~(PART_PAGE_SIZE - 1)) != page)
		tlb = NULL;
	if (tlb && tlb->e[slot].page == page && (!write || tlb->e[slot].writable) &&
	    tlb->e[slot].generation == __atomic_load_n(&v->generation, __ATOMIC_ACQUIRE)) {
		tlb->hits++;
		*hva = tlb->e[slot].hva + (gpa - page);
		return 0;
	}
	return access_miss(v, tlb, gpa, len, write, hva, slot);
}
