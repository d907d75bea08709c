/* SPDX-License-Identifier: MIT */
/*
 * vsmtest's VTL1: a tiny "secure kernel". Its code and data live in their own page-aligned
 * sections (.vtl1.text, .vtl1.data: vsmtest.ld), which it makes no-access to VTL0 at start-up;
 * its stack, hypercall page, VP assist page, SIM page and hypercall parameter pages live in
 * VTL1's private memory at HVRUN_VTL1_BASE, which VTL0's VM does not map at all.
 *
 * vsm.S's dispatcher calls vtl1_handle() on every entry with the shared registers it saved.
 * An entry is a VtlCall (serve RDI's service) or an intercept (record the GpaIntercept message
 * for VTL0's checks and give VTL0 its RAX/RCX back). The first VtlCall is the start-up.
 *
 * VTL1 reports through the mailbox in ordinary RAM; VTL0 does every report(). VTL1 uses no
 * runtime code but memcpy (the compiler's), so a fault here prints through the shared IDT.
 */
#include "guest.h"
#include "idt.h"
#include "vsm.h"

#define VTL1_TEXT __attribute__((section(".vtl1.text")))
#define VTL1_DATA __attribute__((section(".vtl1.data")))

/* Open-source OS ID (bit 63), OS type 0x7F, a version that tells VTL1's ID from VTL0's. */
#define VTL1_GUEST_OS_ID  (1ull << 63 | 0x7Full << 56 | 0x5631ull << 16 | 1)
#define SINT0_VECTOR      0x30u
#define X86_GP_VECTOR     13u

static bool initialized VTL1_DATA;
static uint64_t config VTL1_DATA;        /* VsmPartitionConfig as VTL1 last set it */
static uint64_t call_tramp VTL1_DATA = VTL1_HCPAGE_GPA + 0x10;   /* VTL1's VtlCall trampoline */

#define V1_ENV { .page = VTL1_HCPAGE_GPA, .in = VTL1_HC_IN_GPA, .out = VTL1_HC_OUT_GPA }

ALWAYS_INLINE void set_return(uint64_t rax, uint64_t rcx)
{
	*(volatile uint64_t *)(VTL1_ASSIST_GPA + HV_VP_ASSIST_RETURN_RAX) = rax;
	*(volatile uint64_t *)(VTL1_ASSIST_GPA + HV_VP_ASSIST_RETURN_RCX) = rcx;
}

/* Start-up: the Hyper-V interface in private memory, VSM protection, VTL0's test pages. */
VTL1_TEXT static uint64_t init(uint64_t ro_gpa, uint64_t na_gpa)
{
	struct hv_env e = V1_ENV;
	uint64_t off, first, npages, *in = (uint64_t *)VTL1_HC_IN_GPA, r;

	wrmsr(HV_X64_MSR_GUEST_OS_ID, VTL1_GUEST_OS_ID);
	wrmsr(HV_X64_MSR_HYPERCALL, VTL1_HCPAGE_GPA | 1);
	mailbox.init_hcpage_msr = rdmsr(HV_X64_MSR_HYPERCALL);
	mailbox.init_hcpage_byte0 = *(volatile uint8_t *)VTL1_HCPAGE_GPA;
	wrmsr(HV_X64_MSR_VP_ASSIST_PAGE, VTL1_ASSIST_GPA | 1);
	mailbox.init_assist_msr = rdmsr(HV_X64_MSR_VP_ASSIST_PAGE);
	wrmsr(HV_X64_MSR_SIMP, VTL1_SIMP_GPA | 1);
	mailbox.init_simp_msr = rdmsr(HV_X64_MSR_SIMP);
	wrmsr(HV_X64_MSR_SCONTROL, 1);
	mailbox.init_scontrol_msr = rdmsr(HV_X64_MSR_SCONTROL);
	wrmsr(HV_X64_MSR_SINT0, SINT0_VECTOR);     /* unmasked; VTL1 runs with IF = 0 anyway */
	*(volatile uint64_t *)VTL1_CANARY_GPA = VTL1_CANARY;
	mailbox.init_canary = *(volatile uint64_t *)VTL1_CANARY_GPA;
	if (!(mailbox.init_hcpage_msr & 1))
		return 1;                           /* no hypercall page: nothing else can work */

	mailbox.init_code_offsets_status = hv_get_reg(&e, 0, HV_REG_VSM_CODE_PAGE_OFFSETS, &off, NULL);
	mailbox.init_code_offsets = off;
	if (!mailbox.init_code_offsets_status) {
		call_tramp = VTL1_HCPAGE_GPA + (off & 0xfff);
		vtl1_return_tramp = VTL1_HCPAGE_GPA + ((off >> 12) & 0xfff);
	}

	config = VSM_CONFIG_ENABLE_VTL_PROTECTION | VSM_CONFIG_DEFAULT_MASK_ALL;
	mailbox.init_config_status = hv_set_reg(&e, 0, HV_REG_VSM_PARTITION_CONFIG, config, 0);
	mailbox.init_config_get_status = hv_get_reg(&e, 0, HV_REG_VSM_PARTITION_CONFIG,
						    &mailbox.init_config, NULL);

	mailbox.init_protect_ro_status = hv_protect(&e, ro_gpa / PAGE_SIZE, HV_MAP_GPA_READABLE,
						    &mailbox.init_protect_ro_reps);
	mailbox.init_protect_na_status = hv_protect(&e, na_gpa / PAGE_SIZE, HV_MAP_GPA_NONE,
						    &mailbox.init_protect_na_reps);

	/* VTL1's own code and data: out of VTL0's reach, in one rep call. */
	first = (uint64_t)(uintptr_t)__vtl1_start / PAGE_SIZE;
	npages = ((uint64_t)(uintptr_t)__vtl1_end - (uint64_t)(uintptr_t)__vtl1_start) / PAGE_SIZE;
	in[0] = HV_PARTITION_ID_SELF;
	in[1] = HV_MAP_GPA_NONE;
	for (uint64_t i = 0; i < npages; i++)
		in[2 + i] = first + i;
	r = hv_call(VTL1_HCPAGE_GPA, HVCALL_MODIFY_VTL_PROTECTION_MASK | HC_REP(npages), VTL1_HC_IN_GPA, 0);
	mailbox.init_protect_self_status = (uint16_t)r;

	initialized = true;
	return 0;
}

/* A GpaIntercept (or anything else hvrun queued for VTL1): record it for VTL0. */
VTL1_TEXT static uint64_t intercept(struct vtl1_frame *f)
{
	struct hv_env e = V1_ENV;
	struct hv_message *slot = (struct hv_message *)VTL1_SIMP_GPA;       /* SINT0 */
	struct hv_message *ipage = (struct hv_message *)(VTL1_ASSIST_GPA + HV_VP_ASSIST_INTERCEPT_MSG);
	volatile uint32_t *slot_type = &slot->header.message_type;
	uint32_t action = mailbox.intercept_action;
	unsigned n = 0;

	mailbox.intercepts++;
	if (config & VSM_CONFIG_INTERCEPT_PAGE) {
		mailbox.intercept_source = 2;
		if (*(volatile uint32_t *)&ipage->header.message_type != HVMSG_NONE) {
			mailbox.msg_flags[0] = ipage->header.message_flags;
			memcpy(&mailbox.msgs[0], ipage, sizeof(*ipage));
			*(volatile uint32_t *)&ipage->header.message_type = HVMSG_NONE;
			n = 1;
		}
	} else {
		mailbox.intercept_source = 1;
		while (n < MAILBOX_MSGS && *slot_type != HVMSG_NONE) {
			uint8_t flags = slot->header.message_flags;

			mailbox.msg_flags[n] = flags;
			memcpy(&mailbox.msgs[n], slot, sizeof(*slot));
			n++;
			if (action == ACT_KEEP_SLOT)
				break;                  /* leave it full: the next message has to queue */
			/* TLFS consumer protocol: free the slot, then EOM if more is queued. */
			*slot_type = HVMSG_NONE;
			__asm__ volatile("" : : : "memory");
			if (flags & HV_MESSAGE_FLAG_PENDING)
				wrmsr(HV_X64_MSR_EOM, 0);
		}
	}
	mailbox.msg_count = n;
	mailbox.slot_type_after = *slot_type;
	if (action == ACT_INJECT_GP) {
		/* HvRegisterPendingEvent0: pending, exception, deliver error code, vector 13. */
		uint64_t ev = 1 | 1ull << 8 | (uint64_t)X86_GP_VECTOR << 16 | (uint64_t)GP_ERROR_CODE << 32;
		mailbox.inject_status = hv_set_reg(&e, HV_INPUT_VTL_USE_TARGET | 0, HV_REG_PENDING_EVENT0, ev, 0);
	}
	if (action == ACT_READ_REGS)
		mailbox.regs_status = hv_get_reg(&e, HV_INPUT_VTL_USE_TARGET | 0, HV_REG_RIP, &mailbox.vtl0_rip,
						 NULL);
	mailbox.intercept_action = ACT_NONE;
	/* VTL0 was stopped at an arbitrary instruction: it gets its own RAX and RCX back. */
	set_return(f->rax, f->rcx);
	return 0;
}

/* VtlCall from VTL1: there is no VTL2 (#UD). */
VTL1_TEXT static void vtl_call_up(void *arg)
{
	(void)arg;
	__asm__ volatile("xorl %%ecx, %%ecx; call *%0" : : "r"(call_tramp) : "rax", "rcx", "memory", "cc");
}

/* VtlReturn with a reserved control input bit (#UD): bit 1. */
VTL1_TEXT static void vtl_return_reserved(void *arg)
{
	(void)arg;
	__asm__ volatile("movl $2, %%ecx; call *%0" : : "r"(vtl1_return_tramp) : "rax", "rcx", "memory", "cc");
}

/* A write to VTL1's own hypercall page, an overlay in its private memory (#GP). */
VTL1_TEXT static void write_hcpage(void *arg)
{
	(void)arg;
	*(volatile uint8_t *)VTL1_HCPAGE_GPA = 0x90;
}

/*
 * The faults VTL1 itself must get, caught with the runtime's catch_exception (VTL0 is not inside
 * one while it waits in a VtlCall): RAX = VtlCall vector | VtlReturn-reserved vector << 8 |
 * hypercall-page write vector << 16 (0xff: no fault), RCX = the page's first byte afterwards.
 */
VTL1_TEXT static void vtl1_faults(uint64_t *rax, uint64_t *rcx)
{
	struct exc_info info;
	uint8_t v[3];

	v[0] = (uint8_t)catch_exception(vtl_call_up, NULL, &info);
	v[1] = (uint8_t)catch_exception(vtl_return_reserved, NULL, &info);
	v[2] = (uint8_t)catch_exception(write_hcpage, NULL, &info);
	*rax = v[0] | (uint64_t)v[1] << 8 | (uint64_t)v[2] << 16 | (info.error_code & 0xffff) << 24;
	*rcx = *(volatile uint8_t *)VTL1_HCPAGE_GPA;
}

/* A VtlCall: RDI = service, RSI/RDX = arguments. Returns the VtlReturn control input. */
VTL1_TEXT static uint64_t service(struct vtl1_frame *f)
{
	struct hv_env e = V1_ENV;
	uint64_t rax = 0, rcx = 0, v;
	uint16_t st;

	switch (f->rdi) {
	case SVC_INIT:
		rax = initialized ? 2 : init(f->rsi, f->rdx);
		break;
	case SVC_NOP:
		break;
	case SVC_ECHO:
		rax = f->rsi ^ ECHO_KEY_RAX;
		rcx = f->rdx ^ ECHO_KEY_RCX;
		break;
	case SVC_FAST:
		/* A fast return must not load these; RDX (shared) carries the answer instead. */
		set_return(FAST_POISON, FAST_POISON);
		f->rdx = f->rsi ^ ECHO_KEY_RDX;
		return 1;
	case SVC_GET_VTL0_REGS:
		st = hv_get_reg(&e, HV_INPUT_VTL_USE_TARGET | 0, HV_REG_RSP, &mailbox.vtl0_rsp, NULL);
		if (!st)
			st = hv_get_reg(&e, HV_INPUT_VTL_USE_TARGET | 0, HV_REG_CR3, &mailbox.vtl0_cr3, NULL);
		if (!st)
			st = hv_get_reg(&e, HV_INPUT_VTL_USE_TARGET | 0, HV_REG_RIP, &mailbox.vtl0_rip, NULL);
		mailbox.regs_status = st;
		rax = st;
		break;
	case SVC_SET_VTL0_RIP:
		rax = hv_set_reg(&e, HV_INPUT_VTL_USE_TARGET | 0, HV_REG_RIP, f->rsi, 0);
		break;
	case SVC_READ_CANARY:
		rax = *(volatile uint64_t *)VTL1_CANARY_GPA;
		break;
	case SVC_VSM_REGS:
		mailbox.vsm_status[0] = hv_get_reg(&e, 0, HV_REG_VSM_VP_STATUS, &mailbox.vtl1_vp_status, NULL);
		mailbox.vsm_status[1] = hv_get_reg(&e, 0, HV_REG_VSM_PARTITION_STATUS,
						   &mailbox.vtl1_partition_status, NULL);
		mailbox.vsm_status[2] = hv_get_reg(&e, 0, HV_REG_VSM_CAPABILITIES,
						   &mailbox.vtl1_capabilities, NULL);
		break;
	case SVC_CLEAR_PROTECTION:
		rax = hv_set_reg(&e, 0, HV_REG_VSM_PARTITION_CONFIG,
				 config & ~VSM_CONFIG_ENABLE_VTL_PROTECTION, 0);
		if (!rax)
			config &= ~VSM_CONFIG_ENABLE_VTL_PROTECTION;
		break;
	case SVC_STATS:
		rax = vtl1_initial_entries;
		rcx = vtl1_resumes;
		mailbox.stack_top = vtl1_stack_top;
		mailbox.resume_rsp = vtl1_resume_rsp;
		break;
	case SVC_INTERCEPT_PAGE:
		v = f->rsi ? config | VSM_CONFIG_INTERCEPT_PAGE : config & ~VSM_CONFIG_INTERCEPT_PAGE;
		rax = hv_set_reg(&e, 0, HV_REG_VSM_PARTITION_CONFIG, v, 0);
		if (!rax)
			config = v;
		break;
	case SVC_PROTECT:
		rax = hv_protect(&e, f->rsi, (uint32_t)f->rdx, NULL);
		break;
	case SVC_PEEK:
		rax = *(volatile uint64_t *)(uintptr_t)f->rsi;
		break;
	case SVC_VTL1_FAULTS:
		vtl1_faults(&rax, &rcx);
		break;
	default:
		rax = ~0ull;
		break;
	}
	set_return(rax, rcx);
	return 0;
}

VTL1_TEXT uint64_t vtl1_handle(struct vtl1_frame *f)
{
	volatile uint32_t *reason_p = (volatile uint32_t *)(VTL1_ASSIST_GPA + HV_VP_ASSIST_ENTRY_REASON);
	uint32_t reason;

	mailbox.entries++;
	if (!initialized) {
		reason = ENTRY_REASON_VTL_CALL;     /* no VP assist page yet: only a VtlCall gets here */
	} else {
		reason = *reason_p;
		*reason_p = 0;                      /* so a stale reason cannot pass for a fresh one */
	}
	mailbox.last_reason = reason;
	if (reason == ENTRY_REASON_INTERCEPT) {
		mailbox.entries_intercept++;
		return intercept(f);
	}
	if (reason != ENTRY_REASON_VTL_CALL) {
		mailbox.entries_other++;
		set_return(f->rax, f->rcx);
		return 0;
	}
	mailbox.entries_call++;
	mailbox.reason_during_call = reason;
	return service(f);
}
