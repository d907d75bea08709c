/* SPDX-License-Identifier: MIT */
/*
 * Hyper-V helpers shared by the multi-VP and SynIC test guests (smp.c, synic.c): the hypercall
 * page, slow and fast hypercalls, HV_INITIAL_VP_CONTEXT built from the running VP's state,
 * a spinlock for output from several VPs, TSC deadlines for bounded waits, and interrupt-flag
 * helpers. Everything is static inline: each guest is one translation unit plus the runtime.
 */
#ifndef GUESTS_TESTS_HVGUEST_H
#define GUESTS_TESTS_HVGUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "guest.h"
#include "hypercall.h"
#include "idt.h"
#include "vpcontext.h"
#include "hv/message.h"
#include "hv/tlfs.h"

#define HVG_PAGE_SIZE 4096u
/* Open-source OS ID (bit 63), OS type 0x7F, a build number of our own. */
#define HVG_GUEST_OS_ID (1ull << 63 | 0x7Full << 56 | 0x53594eull << 16 | 1)

static inline uint16_t hv_status(uint64_t result)
{
	return (uint16_t)result;
}

static inline unsigned hv_reps(uint64_t result)
{
	return (unsigned)((result >> HV_HYPERCALL_RESULT_REPS_SHIFT) & 0xfff);
}

/* GPA of the hypercall page once hv_enable_hypercalls() ran (partition-wide). */
extern uint64_t hvg_hcpage;

/* A slow hypercall through the page: RCX control, RDX input GPA, R8 output GPA; RAX result. */
static inline uint64_t hv_call(uint64_t control, uint64_t in, uint64_t out)
{
	return hv_page_call(hvg_hcpage, control, in, out);
}

/* A fast hypercall: 16 bytes of input in RDX:R8. */
static inline uint64_t hv_call_fast(uint64_t control, uint64_t rdx, uint64_t r8v)
{
	return hv_call(control | HV_HYPERCALL_FAST_BIT, rdx, r8v);
}

static inline uint64_t hv_rep(unsigned count)
{
	return (uint64_t)count << HV_HYPERCALL_REP_COUNT_SHIFT;
}

/*
 * The TLFS set-up sequence: check the interface, write GUEST_OS_ID if zero, enable the page at
 * `page` unless another VP already did (the MSR is partition-wide). False if there is no Hyper-V.
 */
static inline bool hv_enable_hypercalls(void *page)
{
	uint64_t v;

	if (!(cpuid(1).ecx & (1u << 31)) || cpuid(0x40000001).eax != 0x31237648u)
		return false;
	if (!rdmsr(HV_X64_MSR_GUEST_OS_ID))
		wrmsr(HV_X64_MSR_GUEST_OS_ID, HVG_GUEST_OS_ID);
	v = rdmsr(HV_X64_MSR_HYPERCALL);
	if (!(v & HV_HYPERCALL_MSR_ENABLE)) {
		v = (uint64_t)(uintptr_t)page | HV_HYPERCALL_MSR_ENABLE;
		wrmsr(HV_X64_MSR_HYPERCALL, v);
		v = rdmsr(HV_X64_MSR_HYPERCALL);
	}
	hvg_hcpage = v & ~0xfffull;
	return (v & HV_HYPERCALL_MSR_ENABLE) != 0;
}

/* ---- HV_INITIAL_VP_CONTEXT ---------------------------------------------------------------- */

/* struct hv_initial_vp_context: hv/message.h (shared with hvrun). */

/* HvCallStartVirtualProcessor input: u64 PartitionId, u32 VpIndex, u8 TargetVtl, 3 rsvd, ctx. */
struct hv_start_vp_input {
	uint64_t partition_id;
	uint32_t vp_index;
	uint8_t target_vtl;
	uint8_t reserved[3];
	struct hv_initial_vp_context ctx;
};
_Static_assert(sizeof(struct hv_start_vp_input) == 16 + 0xE0, "HvCallStartVirtualProcessor input");

/* The running VP's state (segments, tables, control registers), starting at rip with rsp. */
static inline void hvg_build_context(struct hv_initial_vp_context *c, uint64_t rip, uint64_t rsp)
{
	vpctx_capture(c, rip, rsp);
}

/* ---- Concurrency ---------------------------------------------------------------------------- */

struct hvg_lock {
	volatile uint32_t held;
};

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

static inline void mfence(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

static inline void hvg_lock(struct hvg_lock *l)
{
	while (__atomic_exchange_n(&l->held, 1u, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->held, __ATOMIC_RELAXED))
			cpu_relax();
}

static inline void hvg_unlock(struct hvg_lock *l)
{
	__atomic_store_n(&l->held, 0u, __ATOMIC_RELEASE);
}

static inline bool irqs_enabled(void)
{
	return (read_rflags() & (1u << 9)) != 0;
}

/* IF=1 and halt until an interrupt arrives (sti's shadow covers hlt: no wakeup is lost). */
static inline void sti_hlt(void)
{
	__asm__ volatile("sti; hlt" ::: "memory");
}

/* ---- Time ----------------------------------------------------------------------------------- */

/* TSC ticks per second: the boot info's, or a guess when hvrun does not know it. */
static inline uint64_t hvg_tsc_hz(void)
{
	return boot_info && boot_info->tsc_hz ? boot_info->tsc_hz : 2000000000ull;
}

static inline uint64_t hvg_deadline_ms(uint64_t ms)
{
	return rdtsc() + hvg_tsc_hz() / 1000 * ms;
}

static inline bool hvg_expired(uint64_t deadline)
{
	return (int64_t)(rdtsc() - deadline) >= 0;
}

static inline uint64_t hvg_tsc_to_ns(uint64_t ticks)
{
	return ticks * 1000000000ull / hvg_tsc_hz();
}

/* A port write nobody claims (hvrun ignores it): the cheapest full exit, for scale. */
#define HVG_UNCLAIMED_PORT 0x80u

static inline uint64_t hvg_pio_median(unsigned samples)
{
	uint64_t t[64];

	if (samples > 64)
		samples = 64;
	for (unsigned i = 0; i < samples; i++) {
		uint64_t t0 = rdtsc();
		outb(HVG_UNCLAIMED_PORT, 0);
		t[i] = rdtsc() - t0;
	}
	return median_u64(t, samples);
}

/* ---- Command line --------------------------------------------------------------------------- */

/* The value of `key=` in the boot command line (up to a space) into buf; false if absent. */
static inline bool hvg_cmdline_value(const char *key, char *buf, size_t len)
{
	const char *c = boot_info ? boot_info->cmdline : "";
	size_t kl = strlen(key);

	while (*c) {
		while (*c == ' ')
			c++;
		if (!strncmp(c, key, kl) && c[kl] == '=') {
			size_t n = 0;
			c += kl + 1;
			while (c[n] && c[n] != ' ' && n + 1 < len) {
				buf[n] = c[n];
				n++;
			}
			buf[n] = 0;
			return true;
		}
		while (*c && *c != ' ')
			c++;
	}
	return false;
}

static inline bool hvg_cmdline_has(const char *word)
{
	return boot_info && cmdline_has_word(boot_info->cmdline, sizeof(boot_info->cmdline), word);
}

static inline unsigned hvg_parse_uint(const char *s)
{
	unsigned v = 0;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (unsigned)(*s++ - '0');
	return v;
}

#endif /* GUESTS_TESTS_HVGUEST_H */
