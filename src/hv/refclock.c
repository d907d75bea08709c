/* SPDX-License-Identifier: MIT */
/* Reference time arithmetic: the MSR and the TSC page use the same scale and offset, so they agree. */
#include "hv/refclock.h"

#include <errno.h>
#include <string.h>

#define REF_HZ 10000000ull       /* 100 ns units */

int hv_refclock_init(struct hv_refclock *clk, uint64_t tsc_hz, uint64_t guest_tsc_start)
{
	unsigned __int128 scale;

	memset(clk, 0, sizeof(*clk));
	if (tsc_hz <= REF_HZ)
		return -EINVAL;          /* at 10 MHz and below the scale needs more than 64 bits */
	scale = ((unsigned __int128)REF_HZ << 64) / tsc_hz;
	clk->tsc_hz = tsc_hz;
	clk->scale = (uint64_t)scale;
	clk->tsc_start = guest_tsc_start;
	clk->offset = -(int64_t)(uint64_t)(((unsigned __int128)guest_tsc_start * clk->scale) >> 64);
	return 0;
}

uint64_t hv_refclock_time(const struct hv_refclock *clk, uint64_t guest_tsc)
{
	uint64_t scaled = (uint64_t)(((unsigned __int128)guest_tsc * clk->scale) >> 64);

	return scaled + (uint64_t)clk->offset;
}

void hv_refclock_fill_page(const struct hv_refclock *clk, struct hv_reference_tsc_page *page)
{
	uint32_t seq = page->tsc_sequence + 1;

	if (seq == 0 || seq == 0xffffffffu)
		seq = 1;
	/* Invalidate first so a reader in the middle of the update retries or falls back to the MSR. */
	page->tsc_sequence = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	page->tsc_scale = clk->scale;
	page->tsc_offset = clk->offset;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	page->tsc_sequence = seq;
}
