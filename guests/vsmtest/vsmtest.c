/* SPDX-License-Identifier: MIT */
/*
 * vsmtest: Virtual Secure Mode end to end, from inside the partition. One image holds both
 * VTLs: VTL0 (this file) enables VTL1 with HvCallEnablePartitionVtl/HvCallEnableVpVtl and
 * VtlCalls into it; VTL1 (vtl1.c, vsm.S) sets up its Hyper-V interface in its private memory,
 * protects two VTL0 test pages (one read-only, one no-access) and its own pages, and serves
 * VtlCalls and GpaIntercepts. VTL0 makes every report().
 *
 * What is checked: #UD for VtlCall before VTL1 exists and for VtlReturn from VTL0; the
 * enable calls and their VTL_ALREADY_ENABLED repeats; VTL1's private memory (all ones to VTL0,
 * writes lost); GpaIntercept messages for a write to the read-only page and a read of the
 * no-access page (GPA, access type, VTL, RIP), through the SIM page and through the VP assist
 * page, MessagePending/EOM; #GP injected into VTL0 with HvRegisterPendingEvent0; VTL0's
 * registers read and RIP written by VTL1; access rules of the VSM registers and of
 * ModifyVtlProtectionMask; hypercall parameter pages in protected memory; VtlReturnX64Rax/Rcx
 * on normal and fast returns; shared registers across calls and intercepts; VTL1's own faults
 * (VtlCall with no VTL2, reserved VtlReturn bits, a write to its hypercall page); lifting the
 * protections; VTL1's state across returns; entry reasons. Then timings (VtlCall round trip,
 * intercepted write, and a plain port exit for scale).
 *
 * Ring-0 code is emulated on this platform (~1 us per instruction): no big loops.
 */
#include "guest.h"
#include "idt.h"
#include "vpcontext.h"
#include "vsm.h"

/* Open-source OS ID (bit 63), OS type 0x7F, a version that tells VTL0's ID from VTL1's. */
#define VTL0_GUEST_OS_ID (1ull << 63 | 0x7Full << 56 | 0x5630ull << 16 | 1)
#define UNCLAIMED_PORT   0x80u
#define RO_PATTERN       0x0123456789abcdefull
#define NA_PATTERN       0xfedcba9876543210ull
#define TIMING_SAMPLES   20

struct mailbox mailbox;

static uint8_t hcpage0[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t hc_in[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t hc_out[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t ro_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));   /* VTL1 makes it R */
static uint8_t na_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));   /* VTL1 makes it none */

static struct hv_env env0;
static struct vtl_regs vr;              /* registers as the last VtlCall left them */
static unsigned calls_made;             /* VtlCalls that reached VTL1 */
static unsigned intercepts_made;        /* accesses VTL1 refused */

#define RO_GPA ((uint64_t)(uintptr_t)ro_page)
#define NA_GPA ((uint64_t)(uintptr_t)na_page)

static uint64_t call(uint64_t svc, uint64_t a1, uint64_t a2)
{
	calls_made++;
	return vtl0_call(svc, a1, a2, &vr);
}

static uint16_t hc(uint64_t control, uint64_t in, uint64_t out)
{
	return (uint16_t)hv_call(env0.page, control, in, out);
}

static void build_context(struct hv_initial_vp_context *c)
{
	vpctx_capture(c, (uintptr_t)vtl1_entry, VTL1_STACK_TOP);
}

static uint16_t enable_partition_vtl(void)
{
	uint64_t *in = (uint64_t *)hc_in;

	in[0] = HV_PARTITION_ID_SELF;
	in[1] = 1;                          /* TargetVtl 1, Flags 0, reserved 0 */
	return hc(HVCALL_ENABLE_PARTITION_VTL, (uintptr_t)hc_in, 0);
}

static uint16_t enable_vp_vtl(void)
{
	struct hv_enable_vp_vtl *in = (struct hv_enable_vp_vtl *)hc_in;

	memset(in, 0, sizeof(*in));
	in->partition_id = HV_PARTITION_ID_SELF;
	in->vp_index = 0;
	in->target_vtl = 1;
	build_context(&in->ctx);
	return hc(HVCALL_ENABLE_VP_VTL, (uintptr_t)hc_in, 0);
}

static void do_vtl_call(void *arg)
{
	(void)arg;
	vtl0_call(SVC_NOP, 0, 0, &vr);
}

static void do_vtl_return(void *arg)
{
	(void)arg;
	vtl0_vtl_return();
}

static void do_write_ro(void *arg)
{
	vtl0_write64(RO_GPA, (uint64_t)(uintptr_t)arg);
}

static bool in_range(uint64_t rip, const void *start, const void *end)
{
	return rip >= (uintptr_t)start && rip < (uintptr_t)end;
}

static const struct hv_x64_memory_intercept *msg_mem(unsigned i)
{
	return (const struct hv_x64_memory_intercept *)mailbox.msgs[i].payload.bytes;
}

static unsigned msg_vtl(const struct hv_x64_memory_intercept *m)
{
	return (m->header.execution_state & HV_EXEC_STATE_VTL_MASK) >> HV_EXEC_STATE_VTL_SHIFT;
}

/* Checks one recorded GpaIntercept message against what VTL0 did. */
static void check_gpa_intercept(unsigned i, uint64_t gpa, unsigned access, const void *fn, const void *fn_end)
{
	const struct hv_message *m = &mailbox.msgs[i];
	const struct hv_x64_memory_intercept *mi = msg_mem(i);

	report(m->header.message_type == HVMSG_GPA_INTERCEPT, "message type GpaIntercept (%#x)",
	       m->header.message_type);
	report(mi->gpa == gpa, "GPA %#lx (expected %#lx)", mi->gpa, gpa);
	report(mi->header.access_type == access, "access type %u (expected %u)", mi->header.access_type,
	       access);
	report(msg_vtl(mi) == 0, "execution state says VTL %u (expected 0), state %#x", msg_vtl(mi),
	       mi->header.execution_state);
	report((mi->header.execution_state & HV_EXEC_STATE_CPL_MASK) == 0 &&
	       (mi->header.execution_state & HV_EXEC_STATE_EFER_LMA), "execution state: CPL 0, long mode");
	report(in_range(mi->header.rip, fn, fn_end), "RIP %#lx inside the accessing function [%p, %p)",
	       mi->header.rip, fn, fn_end);
}

/* ---- the checks ---- */

static bool detect(void)
{
	struct cpuid_regs r = cpuid(1), v, f;

	if (!(r.ecx & (1u << 31))) {
		report_skip("no hypervisor (CPUID.1:ECX[31] clear)");
		return false;
	}
	v = cpuid(HV_CPUID_VENDOR_AND_MAX);
	if (v.ebx != HV_CPUID_SIGNATURE_EBX || cpuid(HV_CPUID_INTERFACE).eax != HV_CPUID_INTERFACE_HV1) {
		report_skip("not a Hyper-V interface");
		return false;
	}
	f = cpuid(HV_CPUID_FEATURES);
	if (!(f.ebx & HV_PRIV_ACCESS_VSM) || !(f.ebx & HV_PRIV_ACCESS_VP_REGISTERS) ||
	    !(f.eax & HV_PRIV_ACCESS_SYNIC_REGS) || !(f.eax & HV_PRIV_ACCESS_HYPERCALL_MSRS)) {
		report_skip("VSM not offered (privileges EAX %#x EBX %#x)", f.eax, f.ebx);
		return false;
	}
	return true;
}

static bool setup_vtl0(void)
{
	uint64_t off = 0;
	uint16_t st;

	wrmsr(HV_X64_MSR_GUEST_OS_ID, VTL0_GUEST_OS_ID);
	wrmsr(HV_X64_MSR_HYPERCALL, (uintptr_t)hcpage0 | 1);
	if (!report(rdmsr(HV_X64_MSR_HYPERCALL) == ((uintptr_t)hcpage0 | 1), "VTL0 hypercall page enabled"))
		return false;
	env0 = (struct hv_env){ .page = (uintptr_t)hcpage0, .in = (uintptr_t)hc_in, .out = (uintptr_t)hc_out };
	st = hv_get_reg(&env0, 0, HV_REG_VSM_CODE_PAGE_OFFSETS, &off, NULL);
	report(st == 0 && off == (0x10 | 0x30 << 12), "VsmCodePageOffsets = %#lx (status %#x; expected 0x30010)",
	       off, st);
	if (st || !off)
		off = 0x10 | 0x30 << 12;
	vtl_call_tramp = (uintptr_t)hcpage0 + (off & 0xfff);
	vtl_return_tramp = (uintptr_t)hcpage0 + ((off >> 12) & 0xfff);
	return true;
}

static bool enable_vtl1(void)
{
	struct exc_info info;
	uint16_t st;
	int vec;

	report_prefix_push("enable");
	vec = catch_exception(do_vtl_call, NULL, &info);
	report(vec == EXC_UD, "VtlCall before HvCallEnablePartitionVtl: #UD (got %d at %#lx)", vec, info.rip);

	st = enable_partition_vtl();
	report(st == HV_STATUS_SUCCESS, "HvCallEnablePartitionVtl(VTL1): status %#x", st);
	vec = catch_exception(do_vtl_call, NULL, &info);
	report(vec == EXC_UD, "VtlCall before HvCallEnableVpVtl: #UD (got %d)", vec);
	st = enable_partition_vtl();
	report(st == HV_STATUS_VTL_ALREADY_ENABLED, "HvCallEnablePartitionVtl again: status %#x (expected 0x86)",
	       st);

	memset(ro_page, 0, sizeof(ro_page));
	memset(na_page, 0, sizeof(na_page));
	*(volatile uint64_t *)ro_page = RO_PATTERN;
	*(volatile uint64_t *)na_page = NA_PATTERN;

	st = enable_vp_vtl();
	if (!report(st == HV_STATUS_SUCCESS, "HvCallEnableVpVtl(VP 0, VTL1): status %#x", st)) {
		report_prefix_pop();
		return false;
	}
	st = enable_vp_vtl();
	report(st == HV_STATUS_VTL_ALREADY_ENABLED, "HvCallEnableVpVtl again: status %#x (expected 0x86)", st);
	report_prefix_pop();
	return true;
}

static bool start_vtl1(void)
{
	uint64_t rax;
	bool ok;

	report_prefix_push("vtl1 start-up");
	rax = call(SVC_INIT, RO_GPA, NA_GPA);
	ok = report(rax == 0, "first VtlCall ran VTL1's start-up (result %lu)", rax);
	report(mailbox.init_hcpage_msr == (VTL1_HCPAGE_GPA | 1),
	       "hypercall page at private GPA %#llx (MSR reads %#lx)", VTL1_HCPAGE_GPA, mailbox.init_hcpage_msr);
	report(mailbox.init_hcpage_byte0 == 0x8c, "VTL1 sees its hypercall page's code (first byte %#x)",
	       mailbox.init_hcpage_byte0);
	report(mailbox.init_assist_msr == (VTL1_ASSIST_GPA | 1), "VP assist page at private GPA (MSR %#lx)",
	       mailbox.init_assist_msr);
	report(mailbox.init_simp_msr == (VTL1_SIMP_GPA | 1), "SIM page at private GPA (MSR %#lx)",
	       mailbox.init_simp_msr);
	report(mailbox.init_canary == VTL1_CANARY, "VTL1 reads back its canary in private memory");
	report(mailbox.init_code_offsets_status == 0 && mailbox.init_code_offsets == (0x10 | 0x30 << 12),
	       "VsmCodePageOffsets from VTL1 = %#lx (status %#x)", mailbox.init_code_offsets,
	       mailbox.init_code_offsets_status);
	report(mailbox.init_config_status == 0, "VsmPartitionConfig = EnableVtlProtection | mask 0xF: status %#x",
	       mailbox.init_config_status);
	report(mailbox.init_config_get_status == 0 &&
	       mailbox.init_config == (VSM_CONFIG_ENABLE_VTL_PROTECTION | VSM_CONFIG_DEFAULT_MASK_ALL),
	       "VsmPartitionConfig reads back %#lx (status %#x)", mailbox.init_config,
	       mailbox.init_config_get_status);
	report(mailbox.init_protect_ro_status == 0 && mailbox.init_protect_ro_reps == 1,
	       "ModifyVtlProtectionMask(read-only page, R): status %#x, reps %u", mailbox.init_protect_ro_status,
	       mailbox.init_protect_ro_reps);
	report(mailbox.init_protect_na_status == 0 && mailbox.init_protect_na_reps == 1,
	       "ModifyVtlProtectionMask(no-access page, 0): status %#x, reps %u", mailbox.init_protect_na_status,
	       mailbox.init_protect_na_reps);
	report(mailbox.init_protect_self_status == 0,
	       "ModifyVtlProtectionMask(VTL1's own %lu pages, 0): status %#x",
	       (uint64_t)((__vtl1_end - __vtl1_start) / PAGE_SIZE), mailbox.init_protect_self_status);
	report_prefix_pop();
	return ok;
}

static void check_calls(void)
{
	uint64_t rax, a1 = 0x0102030405060708ull, a2 = 0x1112131415161718ull;

	report_prefix_push("vtlcall");
	rax = call(SVC_NOP, 0, 0);
	report(rax == 0 && mailbox.reason_during_call == ENTRY_REASON_VTL_CALL,
	       "VtlCall/VtlReturn round trip; VTL1 saw entry reason %u (expected 1)", mailbox.reason_during_call);
	rax = call(SVC_ECHO, a1, a2);
	report(vr.rax == (a1 ^ ECHO_KEY_RAX) && vr.rcx == (a2 ^ ECHO_KEY_RCX),
	       "normal VtlReturn loads VtlReturnX64Rax/Rcx into RAX/RCX (%#lx, %#lx)", vr.rax, vr.rcx);
	report(vr.rdi == SVC_ECHO && vr.rsi == a1 && vr.rdx == a2 && vr.r8 != ECHO_KEY_RAX,
	       "the other shared registers come back as VTL0 left them (VTL1 saved them)");
	rax = call(SVC_FAST, a1, 0);
	report(vr.rax != FAST_POISON && vr.rcx != FAST_POISON,
	       "fast VtlReturn (RCX bit 0) leaves RAX/RCX alone: RAX %#lx, RCX %#lx", vr.rax, vr.rcx);
	report(vr.rax == 1 && vr.rcx == HVCALL_VTL_RETURN,
	       "fast VtlReturn: RAX/RCX keep the shared values of the return trampoline (control 1, code 0x12)");
	report(vr.rdx == (a1 ^ ECHO_KEY_RDX), "a shared register (RDX) carries VTL1's value to VTL0 (%#lx)",
	       vr.rdx);
	report_prefix_pop();
}

static void check_private_memory(void)
{
	uint64_t v, canary;

	report_prefix_push("private memory");
	v = readq(VTL1_CANARY_GPA);
	report(v == ~0ull, "VTL0 reads VTL1's private memory as all ones (%#lx)", v);
	v = readq(VTL1_HCPAGE_GPA);
	report(v == ~0ull, "VTL0 reads VTL1's hypercall page GPA as all ones (%#lx)", v);
	writeq(VTL1_CANARY_GPA, 0);
	canary = call(SVC_READ_CANARY, 0, 0);
	report(canary == VTL1_CANARY, "a VTL0 write to VTL1's private memory changes nothing (canary %#lx)",
	       canary);
	report_prefix_pop();
}

static void check_intercepts(void)
{
	unsigned before;
	uint64_t v, v1;

	report_prefix_push("read-only page");
	before = mailbox.intercepts;
	vtl0_write64(RO_GPA, 0x1122334455667788ull);
	intercepts_made++;
	report(mailbox.intercepts == before + 1 && mailbox.last_reason == ENTRY_REASON_INTERCEPT,
	       "VTL0's write is intercepted: VTL1 entered with reason %u (expected 3)", mailbox.last_reason);
	report(mailbox.intercept_source == 1 && mailbox.msg_count == 1,
	       "one message in VTL1's SIM page, SINT0 slot (found %u)", mailbox.msg_count);
	check_gpa_intercept(0, RO_GPA, HV_INTERCEPT_ACCESS_WRITE, vtl0_write64, vtl0_write64_end);
	report(mailbox.slot_type_after == HVMSG_NONE, "VTL1 freed the slot (type %#x)", mailbox.slot_type_after);
	v = *(volatile uint64_t *)ro_page;
	report(v == RO_PATTERN, "the page's content is unchanged (%#lx)", v);
	v1 = call(SVC_PEEK, RO_GPA, 0);
	report(v1 == RO_PATTERN, "VTL1 sees it unchanged too (%#lx)", v1);
	report_prefix_pop();

	report_prefix_push("no-access page");
	before = mailbox.intercepts;
	v = vtl0_read64(NA_GPA);
	intercepts_made++;
	report(v == 0, "VTL0 reads 0 (%#lx)", v);
	report(mailbox.intercepts == before + 1 && mailbox.last_reason == ENTRY_REASON_INTERCEPT,
	       "the read is intercepted: VTL1 entered with reason %u", mailbox.last_reason);
	check_gpa_intercept(0, NA_GPA, HV_INTERCEPT_ACCESS_READ, vtl0_read64, vtl0_read64_end);
	vtl0_write64(NA_GPA, 0);
	intercepts_made++;
	v1 = call(SVC_PEEK, NA_GPA, 0);
	report(mailbox.intercepts == before + 2 && v1 == NA_PATTERN,
	       "a write is intercepted and lost: VTL1 still sees %#lx", v1);
	mailbox.intercept_action = ACT_READ_REGS;
	mailbox.vtl0_rip = 0;
	v = vtl0_read64(NA_GPA);
	intercepts_made++;
	report(v == 0 && mailbox.regs_status == 0 && in_range(mailbox.vtl0_rip, vtl0_read64, vtl0_read64_end),
	       "VTL1 reading VTL0's RIP during a read intercept (%#lx, status %#x) keeps the read's 0 (%#lx)",
	       mailbox.vtl0_rip, mailbox.regs_status, v);
	report_prefix_pop();

	report_prefix_push("vtl1 pages");
	before = mailbox.intercepts;
	v = vtl0_read64((uintptr_t)&vtl1_return_tramp);
	intercepts_made++;
	report(v == 0 && mailbox.intercepts == before + 1 && msg_mem(0)->gpa == (uintptr_t)&vtl1_return_tramp,
	       "VTL0 reading VTL1's data reads 0 and is intercepted (%#lx, GPA %#lx)", v, msg_mem(0)->gpa);
	report_prefix_pop();

	report_prefix_push("shared registers");
	report(vtl0_intercept_keeps_regs(RO_GPA) == 0,
	       "VTL0's general-purpose registers survive an intercept handled by VTL1");
	intercepts_made++;
	report_prefix_pop();
}

static void check_injection(void)
{
	struct exc_info info;
	int vec;

	report_prefix_push("pending event");
	mailbox.intercept_action = ACT_INJECT_GP;
	vec = catch_exception(do_write_ro, (void *)0x99ull, &info);
	intercepts_made++;
	report(mailbox.inject_status == 0, "VTL1 sets HvRegisterPendingEvent0 of VTL0: status %#x",
	       mailbox.inject_status);
	report(vec == EXC_GP && info.error_code == GP_ERROR_CODE,
	       "VTL0 takes #GP(%#x) after the intercept (got vector %d, error code %#lx)", GP_ERROR_CODE, vec,
	       info.error_code);
	report(vec == EXC_GP && in_range(info.rip, vtl0_write64, vtl0_write64_end),
	       "the #GP is raised in the intercepted function (RIP %#lx)", info.rip);
	report_prefix_pop();
}

static void check_message_queue(void)
{
	uint64_t v;
	uint16_t st;

	report_prefix_push("message queue");
	mailbox.intercept_action = ACT_KEEP_SLOT;
	vtl0_write64(RO_GPA, 1);
	intercepts_made++;
	report(mailbox.msg_count == 1 && mailbox.slot_type_after == HVMSG_GPA_INTERCEPT,
	       "VTL1 leaves the first intercept in its slot");
	v = vtl0_read64(NA_GPA);
	intercepts_made++;
	report(mailbox.msg_count == 2, "the second intercept queued behind it: %u messages read in one entry",
	       mailbox.msg_count);
	report(v == 0, "the queued read still reads 0 (%#lx)", v);
	report(mailbox.msg_count == 2 && (mailbox.msg_flags[0] & HV_MESSAGE_FLAG_PENDING) &&
	       msg_mem(0)->gpa == RO_GPA && msg_mem(0)->header.access_type == HV_INTERCEPT_ACCESS_WRITE,
	       "the slot still held the first (write) message, flagged MessagePending (flags %#x)",
	       mailbox.msg_flags[0]);
	report(mailbox.msg_count == 2 && msg_mem(1)->gpa == NA_GPA &&
	       msg_mem(1)->header.access_type == HV_INTERCEPT_ACCESS_READ &&
	       !(mailbox.msg_flags[1] & HV_MESSAGE_FLAG_PENDING),
	       "EOM delivered the queued (read) message next");
	report(mailbox.slot_type_after == HVMSG_NONE, "slot empty afterwards");
	report_prefix_pop();

	report_prefix_push("intercept page");
	st = (uint16_t)call(SVC_INTERCEPT_PAGE, 1, 0);
	report(st == 0, "VTL1 sets VsmPartitionConfig.InterceptPage: status %#x", st);
	vtl0_write64(RO_GPA, 2);
	intercepts_made++;
	report(mailbox.intercept_source == 2 && mailbox.msg_count == 1 &&
	       mailbox.last_reason == ENTRY_REASON_INTERCEPT,
	       "the intercept arrives in VTL1's VP assist page at +0x70 (entry reason %u)", mailbox.last_reason);
	if (mailbox.msg_count == 1)
		check_gpa_intercept(0, RO_GPA, HV_INTERCEPT_ACCESS_WRITE, vtl0_write64, vtl0_write64_end);
	report(mailbox.slot_type_after == HVMSG_NONE, "and not in the SIM page");
	st = (uint16_t)call(SVC_INTERCEPT_PAGE, 0, 0);
	report(st == 0, "VTL1 clears InterceptPage again: status %#x", st);
	report_prefix_pop();
}

static void check_vtl0_hypercalls(void)
{
	uint64_t *in = (uint64_t *)hc_in, low = 0, v;
	uint16_t st;

	report_prefix_push("vtl0 rules");
	in[0] = HV_PARTITION_ID_SELF;
	in[1] = HV_MAP_GPA_READABLE | 2;
	in[2] = RO_GPA / PAGE_SIZE;
	st = hc(HVCALL_MODIFY_VTL_PROTECTION_MASK | HC_REP(1), (uintptr_t)hc_in, 0);
	report(st == HV_STATUS_ACCESS_DENIED, "VTL0 calling HvCallModifyVtlProtectionMask: status %#x (expected 6)",
	       st);
	st = hv_get_reg(&env0, 0, HV_REG_VSM_PARTITION_CONFIG, &low, NULL);
	report(st == HV_STATUS_ACCESS_DENIED, "VTL0 reading VsmPartitionConfig: status %#x (expected 6)", st);
	st = hv_get_reg(&env0, HV_INPUT_VTL_USE_TARGET | 1, HV_REG_RIP, &low, NULL);
	report(st == HV_STATUS_ACCESS_DENIED, "VTL0 reading VTL1's RIP (input VTL 0x11): status %#x (expected 6)",
	       st);

	/* Parameter pages VTL1 protected, or that VTL0 does not have at all. */
	*(struct hv_vp_regs_header *)hc_in = (struct hv_vp_regs_header){ .partition_id = HV_PARTITION_ID_SELF,
									  .vp_index = HV_VP_INDEX_SELF };
	*(uint32_t *)(hc_in + sizeof(struct hv_vp_regs_header)) = HV_REG_VSM_VP_STATUS;
	st = hc(HVCALL_GET_VP_REGISTERS | HC_REP(1), (uintptr_t)hc_in, RO_GPA);
	v = *(volatile uint64_t *)ro_page;
	report(st == HV_STATUS_ACCESS_DENIED && v == RO_PATTERN,
	       "output GPA in the read-only page: status %#x (expected 6), page unchanged (%#lx)", st, v);
	st = hc(HVCALL_GET_VP_REGISTERS | HC_REP(1), (uintptr_t)hc_in, VTL1_HC_OUT_GPA);
	report(st == HV_STATUS_INVALID_PARAMETER, "output GPA in VTL1's private memory: status %#x (expected 5)",
	       st);
	st = hc(HVCALL_GET_VP_REGISTERS | HC_REP(1), NA_GPA, (uintptr_t)hc_out);
	report(st == HV_STATUS_ACCESS_DENIED, "input GPA in the no-access page: status %#x (expected 6)", st);
	st = hc(HVCALL_GET_VP_REGISTERS | HC_REP(1), RO_GPA, (uintptr_t)hc_out);
	report(st != HV_STATUS_ACCESS_DENIED, "input GPA in the read-only page is readable (status %#x)", st);
	report_prefix_pop();
}

static void check_vsm_registers(void)
{
	uint64_t v = 0, pstatus = 0;
	uint16_t st;

	report_prefix_push("vsm registers");
	st = hv_get_reg(&env0, 0, HV_REG_VSM_VP_STATUS, &v, NULL);
	report(st == 0 && (v & 0xf) == 0 && ((v >> 16) & 0xffff) == 3,
	       "VsmVpStatus from VTL0: active VTL 0, enabled VTLs {0,1} (%#lx, status %#x)", v, st);
	st = hv_get_reg(&env0, 0, HV_REG_VSM_PARTITION_STATUS, &pstatus, NULL);
	report(st == 0 && (pstatus & 0xffff) == 3 && ((pstatus >> 16) & 0xf) == 1,
	       "VsmPartitionStatus: enabled VTLs {0,1}, maximum VTL 1 (%#lx, status %#x)", pstatus, st);
	st = hv_get_reg(&env0, 0, HV_REG_VSM_CAPABILITIES, &v, NULL);
	report(st == 0 && !(v & 1), "VsmCapabilities: Dr6Shared (bit 0) clear (%#lx, status %#x)", v, st);

	call(SVC_VSM_REGS, 0, 0);
	report(mailbox.vsm_status[0] == 0 && (mailbox.vtl1_vp_status & 0xf) == 1 &&
	       ((mailbox.vtl1_vp_status >> 16) & 0xffff) == 3,
	       "VsmVpStatus from VTL1: active VTL 1, enabled VTLs {0,1} (%#lx, status %#x)",
	       mailbox.vtl1_vp_status, mailbox.vsm_status[0]);
	report(mailbox.vsm_status[1] == 0 && mailbox.vtl1_partition_status == pstatus,
	       "VsmPartitionStatus reads the same from VTL1 (%#lx)", mailbox.vtl1_partition_status);
	st = (uint16_t)call(SVC_CLEAR_PROTECTION, 0, 0);
	report(st == HV_STATUS_INVALID_REGISTER_VALUE,
	       "EnableVtlProtection is write-once: VTL1 clearing it gets status %#x (expected 0x50)", st);
	report_prefix_pop();
}

static void check_register_access(void)
{
	uint64_t cr3 = read_cr3(), rsp;
	uint16_t st;
	int r;

	report_prefix_push("vtl0 registers");
	st = (uint16_t)call(SVC_GET_VTL0_REGS, 0, 0);
	rsp = vtl0_rsp_at_call;
	report(st == 0 && mailbox.regs_status == 0, "VTL1 reads VTL0's registers (input VTL 0x10): status %#x",
	       mailbox.regs_status);
	report(mailbox.vtl0_rsp == rsp, "VTL0's RSP as VTL0 knows it (%#lx, expected %#lx)", mailbox.vtl0_rsp, rsp);
	report(mailbox.vtl0_cr3 == cr3, "VTL0's CR3 as VTL0 knows it (%#lx, expected %#lx)", mailbox.vtl0_cr3, cr3);
	report(mailbox.vtl0_rip >= vtl_call_tramp && mailbox.vtl0_rip < vtl_call_tramp + 0x20,
	       "VTL0's RIP is inside its VtlCall trampoline (%#lx)", mailbox.vtl0_rip);

	calls_made++;
	r = vtl0_call_redirect(SVC_SET_VTL0_RIP);
	report(r == 1, "VTL1 sets VTL0's RIP: VTL0 resumes at vtl0_redirect_target, not after the VtlCall");
	report(call(SVC_NOP, 0, 0) == 0, "VtlCalls still work afterwards");
	report_prefix_pop();
}

static void check_ud(void)
{
	struct exc_info info;
	uint64_t r, byte0;
	int vec;

	vec = catch_exception(do_vtl_return, NULL, &info);
	report(vec == EXC_UD, "HvCallVtlReturn from VTL0: #UD (got %d)", vec);

	report_prefix_push("vtl1 faults");
	r = call(SVC_VTL1_FAULTS, 0, 0);
	byte0 = vr.rcx;
	report((r & 0xff) == EXC_UD, "VtlCall from VTL1 (no VTL2): #UD (got %ld)", (long)(int8_t)(r & 0xff));
	report(((r >> 8) & 0xff) == EXC_UD, "VtlReturn with a reserved control bit: #UD (got %ld)",
	       (long)(int8_t)((r >> 8) & 0xff));
	report(((r >> 16) & 0xff) == EXC_GP && ((r >> 24) & 0xffff) == 0,
	       "VTL1 writing its hypercall page (an overlay in private memory): #GP(0) (got %ld, error %#lx)",
	       (long)(int8_t)((r >> 16) & 0xff), (r >> 24) & 0xffff);
	report(byte0 == 0x8c, "VTL1's hypercall page is unchanged (first byte %#lx)", byte0);
	report_prefix_pop();
}

/* VTL1 lifts its protections again: VTL0's accesses go through without intercepts. */
static void check_unprotect(void)
{
	unsigned before = mailbox.intercepts;
	uint16_t st1, st2;
	uint64_t v;

	report_prefix_push("unprotect");
	st1 = (uint16_t)call(SVC_PROTECT, RO_GPA / PAGE_SIZE, 0xf);
	st2 = (uint16_t)call(SVC_PROTECT, NA_GPA / PAGE_SIZE, 0xf);
	report(st1 == 0 && st2 == 0, "VTL1 makes both test pages RWX again: status %#x, %#x", st1, st2);
	vtl0_write64(RO_GPA, 0x4242);
	v = vtl0_read64(NA_GPA);
	report(*(volatile uint64_t *)ro_page == 0x4242 && v == NA_PATTERN && mailbox.intercepts == before,
	       "VTL0 writes the first and reads the second without an intercept (%#lx, %u intercepts)", v,
	       mailbox.intercepts - before);
	report_prefix_pop();
}

static void check_vtl1_state(void)
{
	uint64_t initial, resumes;

	report_prefix_push("vtl1 state");
	initial = call(SVC_STATS, 0, 0);
	resumes = vr.rcx;
	report(initial == 1, "VTL1 ran from its initial RIP once (%lu)", initial);
	report(resumes == mailbox.entries - 1,
	       "every later entry resumed after VTL1's VtlReturn (%lu resumes, %u entries)", resumes,
	       mailbox.entries);
	report(mailbox.stack_top == VTL1_STACK_TOP && mailbox.resume_rsp == VTL1_STACK_TOP,
	       "VTL1's RSP survives VTL0's runs (initial %#lx, at resume %#lx)", mailbox.stack_top,
	       mailbox.resume_rsp);
	report(mailbox.entries_call == calls_made, "entry reason 1 for each of the %u VtlCalls (%u seen)",
	       calls_made, mailbox.entries_call);
	report(mailbox.entries_intercept == intercepts_made,
	       "entry reason 3 for each of the %u intercepts (%u seen)", intercepts_made,
	       mailbox.entries_intercept);
	report(mailbox.entries_other == 0, "no other entry reason (%u)", mailbox.entries_other);
	report_prefix_pop();
}

static void print_ticks(const char *what, uint64_t ticks)
{
	uint64_t hz = boot_info->tsc_hz;

	if (hz)
		report_info("%s: %lu TSC ticks median of %u (%lu.%02lu us)", what, ticks, TIMING_SAMPLES,
			    ticks * 1000000 / hz, ticks * 100000000 / hz % 100);
	else
		report_info("%s: %lu TSC ticks median of %u", what, ticks, TIMING_SAMPLES);
}

static void timings(void)
{
	uint64_t t[TIMING_SAMPLES], t0;

	for (unsigned i = 0; i < TIMING_SAMPLES; i++) {
		t0 = rdtsc();
		vtl0_call(SVC_NOP, 0, 0, &vr);
		t[i] = rdtsc() - t0;
	}
	calls_made += TIMING_SAMPLES;
	print_ticks("VtlCall + VtlReturn round trip", median_u64(t, TIMING_SAMPLES));
	for (unsigned i = 0; i < TIMING_SAMPLES; i++) {
		t0 = rdtsc();
		outb(UNCLAIMED_PORT, 0);
		t[i] = rdtsc() - t0;
	}
	print_ticks("out to an unclaimed port", median_u64(t, TIMING_SAMPLES));
	for (unsigned i = 0; i < TIMING_SAMPLES; i++) {
		t0 = rdtsc();
		vtl0_write64(RO_GPA, 3);
		t[i] = rdtsc() - t0;
	}
	intercepts_made += TIMING_SAMPLES;
	print_ticks("write intercepted by VTL1 (GpaIntercept round trip)", median_u64(t, TIMING_SAMPLES));
}

int guest_main(const struct hvrun_boot_info *bi)
{
	(void)bi;
	report_prefix_push("vsmtest");
	idt_install();
	if (!detect() || !setup_vtl0() || !enable_vtl1() || !start_vtl1()) {
		report_prefix_pop();
		return report_summary();
	}
	check_calls();
	check_private_memory();
	check_intercepts();
	check_injection();
	check_message_queue();
	check_vtl0_hypercalls();
	check_vsm_registers();
	check_register_access();
	check_ud();
	timings();
	check_unprotect();
	check_vtl1_state();
	report_prefix_pop();
	return report_summary();
}
