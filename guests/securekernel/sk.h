/* SPDX-License-Identifier: MIT */
/* The secure kernel's internal interfaces: logging, CPU set-up, hypervisor calls, trustlet, services. */
#ifndef SK_SK_H
#define SK_SK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/message.h"
#include "hv/tlfs.h"
#include "hvrun/abi.h"
#include "hvrun/loader.h"
#include "hvrun/securekernel.h"

#define SK_PAGE_SIZE 4096ull
#define SK_PAGE_MASK (SK_PAGE_SIZE - 1)

/* The block size this build insists on (a test build expects a wrong one on purpose). */
#ifndef SK_EXPECT_BLOCK_SIZE
#define SK_EXPECT_BLOCK_SIZE sizeof(struct hvrun_loader_block)
#endif

/* Our GUEST_OS_ID (open-source encoding: bit 63, OS type 0x68 'h', OS id 1 = secure kernel). */
#define SK_GUEST_OS_ID ((1ull << 63) | (0x68ull << 56) | (1ull << 48) | (1ull << 16) | 1ull)

/* Selectors of the secure kernel's own GDT (cpu.c). */
#define SK_SEL_KCODE 0x08
#define SK_SEL_KDATA 0x10
#define SK_SEL_TSS   0x18
#define SK_SEL_UCODE 0x2b       /* index 5, RPL 3 */
#define SK_SEL_UDATA 0x33       /* index 6, RPL 3 */
#define SK_VEC_TRUSTLET 0x80    /* the trustlet's only way back to CPL0: int $0x80 (DPL 3 gate) */

/* The trustlet reads VTL0 RAM through a user, read-only, no-execute alias at this address. */
#define SK_VTL0_WINDOW 0x8000000000ull

/* ---- main.c: log lines and the way out ---- */
void sk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn, format(printf, 1, 2))) void sk_fail(const char *fmt, ...);
uint64_t sk_us(uint64_t tsc_delta);
extern const struct hvrun_loader_block *sk_lb;

/* ---- VTL0's registers (shared GPRs) as they were when VTL1 was entered (entry.S) ---- */
struct sk_vtl0_regs {
	uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};
extern struct sk_vtl0_regs sk_vtl0;
extern uint64_t sk_vtl0_cr2;          /* CR2 is shared too: a fault in VTL1 must not change VTL0's */
/* Load sk_vtl0 into the shared registers and VtlReturn; returns at VTL1's next entry. */
void sk_vtl_return(void);
extern uint64_t sk_hc_vtl_return;     /* hypercall page + VTL return offset */
extern uint64_t sk_hc_hypercall;      /* hypercall page + 0 */

/* ---- cpu.c: GDT/TSS/IDT, page tables, the trustlet's CPL3 world ---- */
void *sk_alloc_pages(unsigned n);     /* zeroed private pages after the image (loader's vtl1_free) */
void sk_cpu_init(void);               /* own GDT, TSS (RSP0), IDT */
void sk_paging_init(uint64_t vtl0_ram_end);
uint64_t sk_pml4_gpa(void);
void sk_map_kernel_exec(uint64_t gpa);
/* Catch #GP from one wrmsr: 0 on success, the vector otherwise. */
int sk_wrmsr_checked(uint32_t msr, uint64_t value);

/* ---- trustlet.c: the hashing, at CPL3 (or CPL0 if the trustlet is unavailable) ---- */
enum tl_op {
	TL_OP_SELFTEST = 1,     /* known-answer tests: result 0 = pass, else 1 + index of the first failure */
	TL_OP_HMAC,             /* HMAC-SHA256(key, src[0..len)) -> out */
	TL_OP_HMAC_VERIFY,      /* result 1 when HMAC(key, src) == mac[] (constant time) */
	TL_OP_HVCI_CHECK,       /* SHA-256 of the page at src -> out; result 1 + allow-list index, 0 none */
	TL_OP_MEASURE,          /* SHA-256 of src[0..len) (the shared read-only image) -> out */
};

struct tl_request {
	uint32_t op;
	uint32_t reserved;
	uint64_t src;           /* VA the trustlet may read (SK_VTL0_WINDOW + GPA for VTL0 data) */
	uint64_t len;
	uint64_t aux;           /* HMAC_VERIFY: VA of the 32-byte MAC to check */
	uint8_t out[32];
	uint64_t result;
	uint64_t fail_detail;   /* SELFTEST: the name index of the failed test */
};

struct tl_state {
	uint8_t key[HVRUN_SECRET_SIZE];
	bool key_set;
	uint32_t allow_count;
	uint8_t allow[HVRUN_LOADER_ALLOW_MAX][HVRUN_SHA256_SIZE];
	struct tl_request req;
};
extern struct tl_state tl_state;      /* in the trustlet's own pages (.data.user) */
uint64_t tl_main(struct tl_request *req);
const char *tl_selftest_name(uint64_t index);
unsigned tl_selftest_count(void);

/* Run one request in the trustlet. Falls back to CPL0 for good if the trustlet faults. */
uint64_t sk_trustlet_call(struct tl_request *req);
extern bool sk_trustlet_ok;           /* requests run at CPL3 */
extern uint64_t sk_trustlet_tsc;      /* TSC ticks spent in the trustlet (round trips included) */
extern uint64_t sk_trustlet_calls;

/* ---- hv.c: hypervisor interface from VTL1 ---- */
struct sk_hv_reg {
	uint64_t low, high;
};
void sk_hv_init_pages(void);          /* hypercall page, VP assist page, hypercall I/O pages */
uint16_t sk_get_vp_register(uint32_t name, struct sk_hv_reg *out);
uint16_t sk_set_vp_register(uint32_t name, uint64_t value);
uint16_t sk_modify_protection(uint32_t map_flags, const uint64_t *gpfns, unsigned count);
extern volatile uint8_t *sk_assist;   /* VP assist page */
extern volatile struct hv_message *sk_simp;
extern uint64_t sk_hcpage_gpa, sk_assist_gpa, sk_simp_gpa;

#define HV_VTL_ENTRY_VTL_CALL      1u
#define HV_VTL_ENTRY_INTERRUPT     2u
#define HV_VTL_ENTRY_INTERCEPT     3u

/* ---- services.c: validation, the VTL0-facing services, the intercept log ---- */
void sk_services_init(void);          /* memory map, protected ranges */
bool sk_protect_kernel_code(unsigned *pages);
/* SHA-256 of the secure kernel's code and read-only data, hashed by the trustlet now. */
bool sk_measure(uint8_t digest[32], uint64_t *len);
void sk_handle_vtl_call(void);        /* request in sk_vtl0; results to the assist page / sk_vtl0 */
void sk_handle_intercept(bool from_assist_page);
extern uint32_t sk_status;            /* SK_STATUS_* */
extern uint64_t sk_vtl0_ram_end;

#endif /* SK_SK_H */
