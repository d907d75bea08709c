/* SPDX-License-Identifier: MIT */
/*
 * The secure kernel's start-up, step by step as SkiSystemStartup does it on Windows (one log line
 * per step), then its life as a dispatcher of VTL calls and secure intercepts.
 */
#include "sk.h"

#include <stdarg.h>

#include "crypto/sha256.h"
#include "io.h"
#include "printf.h"
#include "string.h"

extern char _start[];
const struct hvrun_loader_block *sk_lb;
struct sk_vtl0_regs sk_vtl0;
uint64_t sk_vtl0_cr2;

static struct hvrun_loader_block *lb_rw;
static uint64_t tsc_hz = 1000000000ull;
static uint64_t console_tsc;
static bool quiet;           /* "quiet" on the command line: only failures and the boot summary */
static bool intercept_page;

uint64_t sk_us(uint64_t tsc_delta)
{
	return tsc_delta / (tsc_hz / 1000000u ? tsc_hz / 1000000u : 1);
}

static void vlog(const char *fmt, va_list ap)
{
	uint64_t t0 = rdtsc();

	if (quiet)
		return;
	printf("securekernel: ");
	vprintf(fmt, ap);
	printf("\n");
	console_tsc += rdtsc() - t0;
}

void sk_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void sk_fail(const char *fmt, ...)
{
	va_list ap;

	quiet = false;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
	printf("securekernel: start-up failed: exit status %d\n", HVRUN_EXIT_SK_FAILURE);
	for (;;)
		outb(HVRUN_PORT_DEBUG_EXIT, HVRUN_EXIT_SK_FAILURE);
}

static void check_loader_block(const struct hvrun_loader_block *lb)
{
	if (lb->magic != HVRUN_LOADER_MAGIC)
		sk_fail("loader block at %p: bad magic %#x (expected %#x \"HLSK\"): refusing to start", (void *)lb,
			lb->magic, HVRUN_LOADER_MAGIC);
	if (lb->version != HVRUN_LOADER_VERSION)
		sk_fail("loader block version %u, this secure kernel speaks version %u: refusing to start",
			lb->version, HVRUN_LOADER_VERSION);
	if (lb->size != SK_EXPECT_BLOCK_SIZE)
		sk_fail("loader block is %u bytes, this secure kernel was built for %u: refusing to start",
			lb->size, (unsigned)SK_EXPECT_BLOCK_SIZE);
	if (lb->memmap_count > HVRUN_LOADER_MEMMAP_MAX || lb->allow_count > HVRUN_LOADER_ALLOW_MAX)
		sk_fail("loader block has %u memory ranges and %u allow-list hashes (limits %u and %u)",
			lb->memmap_count, lb->allow_count, HVRUN_LOADER_MEMMAP_MAX, HVRUN_LOADER_ALLOW_MAX);
	for (uint32_t i = 0; i < lb->memmap_count; i++)
		if (lb->memmap[i].base + lb->memmap[i].size < lb->memmap[i].base)
			sk_fail("loader block memory range %u wraps around", i);
	if (lb->vtl1_base != HVRUN_VTL1_BASE || lb->vtl1_size < (2ull << 20) ||
	    (uintptr_t)lb < lb->vtl1_base || (uintptr_t)lb >= lb->vtl1_base + lb->vtl1_size)
		sk_fail("VTL1 private memory %#lx+%#lx does not hold the loader block", lb->vtl1_base,
			lb->vtl1_size);
	sk_log("loader block OK: HLSK v%u, %u bytes, %u memory ranges, %u HVCI hash%s; VTL1 memory %#lx "
	       "(%lu MiB)", lb->version, lb->size, lb->memmap_count, lb->allow_count,
	       lb->allow_count == 1 ? "" : "es", lb->vtl1_base, lb->vtl1_size >> 20);
}

static void check_cpuid(void)
{
	struct cpuid_regs r0 = cpuid(0), r1 = cpuid(1), r7 = { 0 }, h0, h1, h3;
	char vendor[13], hv[13];

	memcpy(vendor, &r0.ebx, 4);
	memcpy(vendor + 4, &r0.edx, 4);
	memcpy(vendor + 8, &r0.ecx, 4);
	vendor[12] = 0;
	if (r0.eax >= 7)
		r7 = cpuid_count(7, 0);
	sk_log("CPU %s, leaf 1 EAX %#x ECX %#x EDX %#x, leaf 7 EBX %#x", vendor, r1.eax, r1.ecx, r1.edx,
	       r7.ebx);
	if (!(r1.ecx & (1u << 31)))
		sk_fail("CPUID.1:ECX[31] is clear: no hypervisor, no VTL1");
	h0 = cpuid(HV_CPUID_VENDOR_AND_MAX);
	h1 = cpuid(HV_CPUID_INTERFACE);
	memcpy(hv, &h0.ebx, 4);
	memcpy(hv + 4, &h0.ecx, 4);
	memcpy(hv + 8, &h0.edx, 4);
	hv[12] = 0;
	if (h1.eax != HV_CPUID_INTERFACE_HV1 || h0.eax < HV_CPUID_LIMITS)
		sk_fail("hypervisor interface %#x (max leaf %#x) is not Hv#1", h1.eax, h0.eax);
	h3 = cpuid(HV_CPUID_FEATURES);
	sk_log("hypervisor \"%s\", Hv#1, max leaf %#x; privileges EAX %#x EBX %#x (AccessVsm)", hv, h0.eax,
	       h3.eax, h3.ebx);
	if (!(h3.ebx & HV_PRIV_ACCESS_VSM) || !(h3.ebx & HV_PRIV_ACCESS_VP_REGISTERS) ||
	    !(h3.eax & HV_PRIV_ACCESS_SYNIC_REGS) || !(h3.eax & HV_PRIV_ACCESS_HYPERCALL_MSRS))
		sk_fail("missing privileges: AccessVsm, AccessVpRegisters, AccessSynicRegs and "
			"AccessHypercallMsrs are all needed (EAX %#x EBX %#x)", h3.eax, h3.ebx);
}

static void check_vsm(void)
{
	struct sk_hv_reg caps, offsets, vpst;
	uint16_t st;
	uint64_t call_off, ret_off;

	st = sk_get_vp_register(HV_REG_VSM_CAPABILITIES, &caps);
	if (st)
		sk_fail("HvCallGetVpRegisters(VsmCapabilities) failed: status %#x", st);
	st = sk_get_vp_register(HV_REG_VSM_CODE_PAGE_OFFSETS, &offsets);
	if (st)
		sk_fail("HvCallGetVpRegisters(VsmCodePageOffsets) failed: status %#x", st);
	st = sk_get_vp_register(HV_REG_VSM_VP_STATUS, &vpst);
	if (st)
		sk_fail("HvCallGetVpRegisters(VsmVpStatus) failed: status %#x", st);
	call_off = offsets.low & 0xfff;
	ret_off = (offsets.low >> 12) & 0xfff;
	/* Both trampolines must be inside the page and start with our own mov %cs,%eax. */
	if (!call_off || !ret_off || call_off > 0xff0 || ret_off > 0xff0 ||
	    *(volatile uint8_t *)(uintptr_t)(sk_hcpage_gpa + ret_off) != 0x8c)
		sk_fail("VsmCodePageOffsets %#lx: no VTL return trampoline in the hypercall page", offsets.low);
	if ((vpst.low & 0xf) != 1)
		sk_fail("VsmVpStatus %#lx: this VP is not running in VTL1", vpst.low);
	sk_hc_vtl_return = sk_hcpage_gpa + ret_off;
	intercept_page = caps.low & HV_VSM_CAP_INTERCEPT_PAGE;
	sk_log("VSM capabilities %#lx%s; code page offsets: call %#lx, return %#lx; active VTL1", caps.low,
	       intercept_page ? " (intercept page)" : "", call_off, ret_off);
}

static void selftest(void)
{
	struct tl_request *req = &tl_state.req;
	uint64_t t0 = rdtsc(), r;

	memset(req, 0, sizeof(*req));
	req->op = TL_OP_SELFTEST;
	r = sk_trustlet_call(req);
	if (r != 0)
		sk_fail("crypto self-test FAILED: %s does not give the known answer; no key will be used",
			tl_selftest_name(r - 1));
	sk_status |= SK_STATUS_SELFTEST_OK;
	sk_log("crypto self-test passed: %u SHA-256/HMAC-SHA256 known answers (RFC 4231 too) %s, %lu us",
	       tl_selftest_count(), sk_trustlet_ok ? "in the trustlet (VTL1 CPL3)" : "at CPL0 (no trustlet)",
	       sk_us(rdtsc() - t0));
}

/* The digest SK_SVC_MEASURE will answer while nothing has changed VTL1's code. */
static void measure(void)
{
	uint8_t d[32];
	uint64_t len;

	if (!sk_measure(d, &len))
		sk_fail("cannot measure its own code");
	sk_log("code and read-only data measured: %lu bytes, SHA-256 %02x%02x%02x%02x%02x%02x%02x%02x...",
	       len, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]);
}

static void take_secret(void)
{
	uint8_t acc = 0;

	memcpy(tl_state.key, lb_rw->secret, sizeof(tl_state.key));
	tl_state.key_set = true;
	crypto_wipe(lb_rw->secret, sizeof(lb_rw->secret));
	for (unsigned i = 0; i < sizeof(lb_rw->secret); i++)
		acc |= ((volatile uint8_t *)lb_rw->secret)[i];
	if (acc)
		sk_fail("the loader block's secret did not scrub");
	tl_state.allow_count = sk_lb->allow_count;
	memcpy(tl_state.allow, sk_lb->allow_list, sizeof(tl_state.allow));
	sk_status |= SK_STATUS_SECRETS_SCRUBBED;
	sk_log("one-time secret is now the trustlet's HMAC key; loader block copy scrubbed");
}

static void enable_protection(void)
{
	uint64_t cfg = HV_VSM_CONFIG_ENABLE_VTL_PROTECTION | HV_VSM_CONFIG_DEFAULT_MASK;
	unsigned pages;
	uint16_t st;

	if (intercept_page)
		cfg |= HV_VSM_CONFIG_INTERCEPT_PAGE;
	st = sk_set_vp_register(HV_REG_VSM_PARTITION_CONFIG, cfg);
	if (st)
		sk_fail("HvCallSetVpRegisters(VsmPartitionConfig = %#lx) failed: status %#x", cfg, st);
	if (!sk_protect_kernel_code(&pages))
		sk_fail("HvCallModifyVtlProtectionMask on VTL0's kernel code failed");
	if (pages)
		sk_status |= SK_STATUS_KERNEL_CODE_PROTECTED;
	sk_log("VTL protection on (VsmPartitionConfig %#lx); VTL0 kernel code sealed R+X: %u page%s", cfg,
	       pages, pages == 1 ? "" : "s");
}

static void synic_init(void)
{
	sk_simp = sk_alloc_pages(1);
	sk_simp_gpa = (uintptr_t)sk_simp;
	if (sk_wrmsr_checked(HV_X64_MSR_SIMP, sk_simp_gpa | 1) || sk_wrmsr_checked(HV_X64_MSR_SCONTROL, 1)) {
		if (!intercept_page)
			sk_fail("no intercept channel: SIMP at %#lx refused and no intercept page", sk_simp_gpa);
		sk_log("SynIC message page refused at %#lx; intercepts arrive in the VP assist page", sk_simp_gpa);
		return;
	}
	sk_log("SynIC message page at GPA %#lx; intercepts arrive in %s", sk_simp_gpa,
	       intercept_page ? "the VP assist page" : "SINT0");
}

__attribute__((noreturn)) void sk_main(struct hvrun_loader_block *lb);
void sk_main(struct hvrun_loader_block *lb)
{
	uint64_t t_start = rdtsc(), t_cpu;

	lb_rw = lb;
	sk_lb = lb;
	sk_log("VTL1 entry at %p on VP %u, loader block at %p", (void *)_start, lb->vp_index, (void *)lb);
	check_loader_block(lb);
	quiet = cmdline_has_word(lb->cmdline, sizeof(lb->cmdline), "quiet");
	if (lb->flags & HVRUN_LB_FLAG_TSC_VALID && lb->tsc_hz >= 1000000u) {
		tsc_hz = lb->tsc_hz;
		sk_log("TSC %lu kHz (from the loader block)", tsc_hz / 1000);
	} else {
		sk_log("TSC frequency unknown: assuming 1 GHz");
	}
	check_cpuid();

	sk_services_init();
	t_cpu = rdtsc();
	sk_cpu_init();
	sk_paging_init(sk_vtl0_ram_end);
	sk_status |= SK_STATUS_TRUSTLET;
	sk_log("address space: own GDT/TSS/IDT, page tables at %#lx (kernel W^X, trustlet pages user, "
	       "VTL0 RAM read-only at %#llx), %lu us", sk_pml4_gpa(), SK_VTL0_WINDOW, sk_us(rdtsc() - t_cpu));

	sk_hv_init_pages();
	check_vsm();
	selftest();
	take_secret();
	measure();
	enable_protection();
	synic_init();

	/* VTL0 starts at its entry with the boot contract's registers (RDI = boot info, rest 0). */
	memset(&sk_vtl0, 0, sizeof(sk_vtl0));
	sk_vtl0.rdi = lb->vtl0_boot_info;
	*(volatile uint64_t *)(sk_assist + HV_VP_ASSIST_RETURN_RAX) = 0;
	*(volatile uint64_t *)(sk_assist + HV_VP_ASSIST_RETURN_RCX) = 0;
	{
		uint64_t total = sk_us(rdtsc() - t_start), con = sk_us(console_tsc), tl = sk_us(sk_trustlet_tsc);
		uint64_t cpl0 = total > con + tl ? total - con - tl : 0;
		quiet = false;      /* the one line a quiet boot prints */
		sk_log("boot path %lu us: console %lu, trustlet %lu, other CPL0 work %lu (~%luk instructions "
		       "at ~1 us)", total, con, tl, cpl0, cpl0 / 1000);
		quiet = cmdline_has_word(lb->cmdline, sizeof(lb->cmdline), "quiet");
		sk_log("VtlReturn: VTL0 starts at %#lx", lb->vtl0_entry);
	}

	for (;;) {
		uint32_t reason;

		sk_vtl_return();
		sk_vtl0_cr2 = read_cr2();
		reason = *(volatile uint32_t *)(sk_assist + HV_VP_ASSIST_ENTRY_REASON);
		switch (reason) {
		case HV_VTL_ENTRY_VTL_CALL:
			sk_handle_vtl_call();
			break;
		case HV_VTL_ENTRY_INTERCEPT:
			sk_handle_intercept(intercept_page);
			break;
		default:
			sk_log("entered for reason %u: nothing to do", reason);
			*(volatile uint64_t *)(sk_assist + HV_VP_ASSIST_RETURN_RAX) = sk_vtl0.rax;
			*(volatile uint64_t *)(sk_assist + HV_VP_ASSIST_RETURN_RCX) = sk_vtl0.rcx;
			break;
		}
	}
}
