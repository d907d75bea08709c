/* SPDX-License-Identifier: MIT */
/* The partition reference clock: TIME_REF_COUNT and the reference TSC page, from one formula. */
#ifndef HV_REFCLOCK_H
#define HV_REFCLOCK_H

#include <stdint.h>

/* HV_REFERENCE_TSC_PAGE (TLFS): the first 24 bytes the guest reads. */
struct hv_reference_tsc_page {
	volatile uint32_t tsc_sequence;
	uint32_t reserved1;
	volatile uint64_t tsc_scale;
	volatile int64_t tsc_offset;
};
_Static_assert(sizeof(struct hv_reference_tsc_page) == 24, "reference TSC page header");

struct hv_refclock {
	uint64_t tsc_hz;
	uint64_t scale;          /* (10^7 << 64) / tsc_hz */
	int64_t offset;          /* makes the reference time 0 at guest TSC tsc_start */
	uint64_t tsc_start;      /* guest TSC when the partition started */
};

/* -EINVAL if tsc_hz is 10 MHz or less (the scale would not fit in 64 bits). */
int hv_refclock_init(struct hv_refclock *clk, uint64_t tsc_hz, uint64_t guest_tsc_start);
/* ((tsc * scale) >> 64) + offset: 100 ns units since the partition started. */
uint64_t hv_refclock_time(const struct hv_refclock *clk, uint64_t guest_tsc);
/* Publish scale/offset with a new non-zero sequence number (seq 0 means "use the MSR"). */
void hv_refclock_fill_page(const struct hv_refclock *clk, struct hv_reference_tsc_page *page);

#endif /* HV_REFCLOCK_H */
