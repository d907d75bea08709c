/* SPDX-License-Identifier: MIT */
/*
 * vsmtest: what VTL0 (vsmtest.c), VTL1 (vtl1.c) and the assembly (vsm.S) share: VTL1's memory
 * layout, the VtlCall service protocol, the mailbox in RAM, and hypercall helpers both VTLs
 * inline into their own code.
 *
 * Service protocol (VtlCall from VTL0): RDI = service number, RSI and RDX = arguments, RCX = 0
 * (the control input). VTL1 answers through its VP assist page (VtlReturnX64Rax/Rcx), which
 * hvrun loads into VTL0's RAX/RCX on a normal (non-fast) VtlReturn. Every other general-purpose
 * register comes back as VTL0 left it: VTL1's dispatcher saves them all on entry (they are
 * shared between the VTLs) and restores them before returning, also after an intercept.
 */
#ifndef VSMTEST_VSM_H
#define VSMTEST_VSM_H

#include <stddef.h>
#include <stdint.h>

#include "hypercall.h"
#include "hv/message.h"
#include "hv/tlfs.h"
#include "hvrun/abi.h"

#define PAGE_SIZE 4096ull

/* VTL1's private memory (a KVM slot only VTL1's VM has), as VTL1 lays it out. */
#define VTL1_MEM            HVRUN_VTL1_BASE
#define VTL1_CANARY_GPA     (VTL1_MEM + 0x0000)   /* a value VTL0 must neither see nor change */
#define VTL1_HCPAGE_GPA     (VTL1_MEM + 0x1000)   /* VTL1's hypercall page (an overlay) */
#define VTL1_ASSIST_GPA     (VTL1_MEM + 0x2000)   /* VTL1's VP assist page */
#define VTL1_SIMP_GPA       (VTL1_MEM + 0x3000)   /* VTL1's SynIC message page (an overlay) */
#define VTL1_HC_IN_GPA      (VTL1_MEM + 0x4000)   /* VTL1's hypercall input page */
#define VTL1_HC_OUT_GPA     (VTL1_MEM + 0x5000)   /* VTL1's hypercall output page */
#define VTL1_STACK_BASE     (VTL1_MEM + 0x10000)
#define VTL1_STACK_TOP      (VTL1_MEM + 0x20000)
#define VTL1_CANARY         0x5ec0de5ec0de0001ull

/* Services VTL1 offers through VtlCall (RDI). */
#define SVC_INIT            1   /* RSI = read-only test page, RDX = no-access test page (GPAs) */
#define SVC_NOP             2
#define SVC_ECHO            3   /* RAX = RSI ^ ECHO_KEY_RAX, RCX = RDX ^ ECHO_KEY_RCX */
#define SVC_FAST            4   /* fast return: RDX = RSI ^ ECHO_KEY_RDX; assist RAX/RCX poisoned */
#define SVC_GET_VTL0_REGS   5   /* VTL0's RSP, CR3, RIP into the mailbox; RAX = status */
#define SVC_SET_VTL0_RIP    6   /* RSI = new VTL0 RIP; RAX = status */
#define SVC_READ_CANARY     7   /* RAX = the canary in VTL1's private memory */
#define SVC_VSM_REGS        8   /* VTL1's view of the VSM registers into the mailbox */
#define SVC_CLEAR_PROTECTION 9  /* try to clear EnableVtlProtection; RAX = status */
#define SVC_STATS           10  /* RAX = entries at the initial RIP, RCX = resumes after VtlReturn */
#define SVC_INTERCEPT_PAGE  11  /* RSI = 1/0: set/clear VsmPartitionConfig.InterceptPage; RAX = status */
#define SVC_PROTECT         12  /* RSI = GPA page number, RDX = HV_MAP_GPA_FLAGS; RAX = status */
#define SVC_PEEK            13  /* RAX = the u64 at GPA RSI, as VTL1 sees it */
#define SVC_VTL1_FAULTS     14  /* VTL1's own #UD/#GP cases: RAX = vectors (see vtl1.c), RCX = byte */

#define ECHO_KEY_RAX        0x1111000011110000ull
#define ECHO_KEY_RCX        0x2222000022220000ull
#define ECHO_KEY_RDX        0x3333000033330000ull
#define FAST_POISON         0xdeadbeefdeadbeefull

/* What VTL1 does after recording an intercept (mailbox.intercept_action, set by VTL0). */
#define ACT_NONE            0
#define ACT_INJECT_GP       1   /* inject #GP(GP_ERROR_CODE) into VTL0 via HvRegisterPendingEvent0 */
#define ACT_KEEP_SLOT       2   /* leave the SIM slot full: the next message must queue */
#define ACT_READ_REGS       3   /* read VTL0's RIP with HvCallGetVpRegisters (mailbox.vtl0_rip) */
#define GP_ERROR_CODE       0xabc0u

/* HvRegisterVsmPartitionConfig bits the test uses. */
#define VSM_CONFIG_ENABLE_VTL_PROTECTION (1ull << 0)
#define VSM_CONFIG_DEFAULT_MASK_ALL      (0xfull << 1)
#define VSM_CONFIG_INTERCEPT_PAGE        (1ull << 12)

/* VP assist page (HV_VP_VTL_CONTROL and the intercept message). */
#define ENTRY_REASON_VTL_CALL  1u
#define ENTRY_REASON_INTERRUPT 2u
#define ENTRY_REASON_INTERCEPT 3u

/* HV_INITIAL_VP_CONTEXT (struct hv_initial_vp_context) is in hv/message.h, shared with hvrun. */

struct hv_enable_vp_vtl {
	uint64_t partition_id;
	uint32_t vp_index;
	uint8_t target_vtl;
	uint8_t reserved[3];
	struct hv_initial_vp_context ctx;
};
_Static_assert(sizeof(struct hv_enable_vp_vtl) == 16 + 0xE0, "HvCallEnableVpVtl input");

struct hv_vp_regs_header {
	uint64_t partition_id;
	uint32_t vp_index;
	uint8_t input_vtl;
	uint8_t reserved[3];
};

struct hv_register_assoc {
	uint32_t name;
	uint32_t reserved[3];
	uint64_t low, high;
};

/* The registers VTL1's dispatcher saved on entry, lowest address first (vsm.S). */
struct vtl1_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
};

/* VTL0's general-purpose registers right after a VtlCall came back (vsm.S). */
struct vtl_regs {
	uint64_t rax, rcx, rdx, rbx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
};

#define MAILBOX_MSGS 4

/* Ordinary RAM both VTLs use: VTL0 sets the intercept action, VTL1 reports what it saw. */
struct mailbox {
	/* VTL0 -> VTL1 */
	volatile uint32_t intercept_action;
	/* VTL1 -> VTL0: its start-up (SVC_INIT) */
	uint64_t init_hcpage_msr, init_assist_msr, init_simp_msr, init_scontrol_msr;
	uint16_t init_code_offsets_status;
	uint64_t init_code_offsets;
	uint8_t init_hcpage_byte0;        /* first byte of VTL1's hypercall page as VTL1 reads it */
	uint16_t init_config_status;
	uint16_t init_config_get_status;
	uint64_t init_config;
	uint16_t init_protect_ro_status, init_protect_na_status, init_protect_self_status;
	uint32_t init_protect_ro_reps, init_protect_na_reps;
	uint64_t init_canary;
	/* VTL1 -> VTL0: every entry */
	uint32_t entries;                 /* entries seen by vtl1_handle() */
	uint32_t entries_call, entries_intercept, entries_other;
	uint32_t last_reason;
	uint32_t reason_during_call;      /* entry reason VTL1 read while serving the last call */
	/* VTL1 -> VTL0: intercepts */
	uint32_t intercepts;              /* entries with reason 3 */
	uint32_t intercept_source;        /* 1 SIM page slot 0, 2 VP assist page */
	uint32_t msg_count;               /* messages read during the last intercept entry */
	uint8_t msg_flags[MAILBOX_MSGS];  /* their header flags as found */
	struct hv_message msgs[MAILBOX_MSGS];
	uint32_t slot_type_after;         /* SIM slot 0 type when VTL1 was done */
	uint16_t inject_status;
	/* VTL1 -> VTL0: services */
	uint16_t regs_status;
	uint64_t vtl0_rsp, vtl0_cr3, vtl0_rip;
	uint16_t vsm_status[3];
	uint64_t vtl1_vp_status, vtl1_partition_status, vtl1_capabilities;
	uint64_t stack_top, resume_rsp;   /* VTL1's RSP at its first entry and at its last resume */
};

extern struct mailbox mailbox;

/* vsm.S, VTL0 side. */
extern uint64_t vtl_call_tramp, vtl_return_tramp;    /* VTL0's trampolines (set by VTL0) */
extern uint64_t vtl0_rsp_at_call;                    /* RSP the trampoline runs with */
uint64_t vtl0_call(uint64_t svc, uint64_t a1, uint64_t a2, struct vtl_regs *out);
int vtl0_call_redirect(uint64_t svc);                /* 1: resumed at vtl0_redirect_target */
extern char vtl0_redirect_target[];
void vtl0_vtl_return(void);
void vtl0_write64(uint64_t gpa, uint64_t value);
uint64_t vtl0_read64(uint64_t gpa);
extern char vtl0_write64_end[], vtl0_read64_end[];
int vtl0_intercept_keeps_regs(uint64_t gpa);

/* vsm.S, VTL1 side. */
extern char vtl1_entry[];
extern uint64_t vtl1_return_tramp;                  /* VTL1's VtlReturn trampoline */
extern uint64_t vtl1_initial_entries, vtl1_resumes, vtl1_stack_top, vtl1_resume_rsp;
extern char __vtl1_start[], __vtl1_end[];

/* vtl1.c: called by the dispatcher with the saved registers; returns the VtlReturn control. */
uint64_t vtl1_handle(struct vtl1_frame *f);

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* A hypercall through the page at `page` (slow call: RDX input GPA, R8 output GPA). */
ALWAYS_INLINE uint64_t hv_call(uint64_t page, uint64_t control, uint64_t in, uint64_t out)
{
	return hv_page_call(page, control, in, out);
}

#define HC_REP(n) ((uint64_t)(n) << 32)

/* Where a VTL's hypercall page and parameter pages are. */
struct hv_env {
	uint64_t page, in, out;
};

/* HvCallGetVpRegisters for one register of the current VP; returns the HV_STATUS. */
ALWAYS_INLINE uint16_t hv_get_reg(const struct hv_env *e, uint8_t input_vtl, uint32_t name,
				  uint64_t *low, uint64_t *high)
{
	struct hv_vp_regs_header *h = (struct hv_vp_regs_header *)e->in;
	uint64_t *out = (uint64_t *)e->out;
	uint16_t st;

	h->partition_id = HV_PARTITION_ID_SELF;
	h->vp_index = HV_VP_INDEX_SELF;
	h->input_vtl = input_vtl;
	h->reserved[0] = h->reserved[1] = h->reserved[2] = 0;
	*(volatile uint32_t *)(e->in + sizeof(*h)) = name;
	st = (uint16_t)hv_call(e->page, HVCALL_GET_VP_REGISTERS | HC_REP(1), e->in, e->out);
	if (low)
		*low = st ? 0 : out[0];
	if (high)
		*high = st ? 0 : out[1];
	return st;
}

/* HvCallSetVpRegisters for one register of the current VP; returns the HV_STATUS. */
ALWAYS_INLINE uint16_t hv_set_reg(const struct hv_env *e, uint8_t input_vtl, uint32_t name,
				  uint64_t low, uint64_t high)
{
	struct hv_vp_regs_header *h = (struct hv_vp_regs_header *)e->in;
	struct hv_register_assoc *a = (struct hv_register_assoc *)(e->in + sizeof(*h));

	h->partition_id = HV_PARTITION_ID_SELF;
	h->vp_index = HV_VP_INDEX_SELF;
	h->input_vtl = input_vtl;
	h->reserved[0] = h->reserved[1] = h->reserved[2] = 0;
	a->name = name;
	a->reserved[0] = a->reserved[1] = a->reserved[2] = 0;
	a->low = low;
	a->high = high;
	return (uint16_t)hv_call(e->page, HVCALL_SET_VP_REGISTERS | HC_REP(1), e->in, 0);
}

/* HvCallModifyVtlProtectionMask for one page; *reps gets the reps completed. */
ALWAYS_INLINE uint16_t hv_protect(const struct hv_env *e, uint64_t gpfn, uint32_t flags, uint32_t *reps)
{
	uint64_t *in = (uint64_t *)e->in;
	uint64_t r;

	in[0] = HV_PARTITION_ID_SELF;
	in[1] = flags;                   /* MapFlags, InputVtl 0 (the caller's), reserved 0 */
	in[2] = gpfn;
	r = hv_call(e->page, HVCALL_MODIFY_VTL_PROTECTION_MASK | HC_REP(1), e->in, 0);
	if (reps)
		*reps = (uint32_t)(r >> 32) & 0xfff;
	return (uint16_t)r;
}

#endif /* VSMTEST_VSM_H */
