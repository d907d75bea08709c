/* SPDX-License-Identifier: MIT */
/*
 * The VTL0 test kernel: boots after the secure kernel returns to VTL0 and checks, as a story,
 * the hypervisor interface, every secure-kernel service, HVCI, and that each attack on VTL1 is
 * refused. Exit status 0 only if every check passes (report_summary()).
 */
#include "guest.h"
#include "hypercall.h"
#include "idt.h"

#include "hv/tlfs.h"
#include "hvrun/loader.h"
#include "hvrun/securekernel.h"

#include "hvci.h"

#define TK_GUEST_OS_ID ((1ull << 63) | (0x68ull << 56) | (1ull << 16) | 1ull)   /* OS id 0: VTL0 */

#define HV_INPUT_VTL_TARGET(v)      (HV_INPUT_VTL_USE_TARGET | (v))

#define VTL1_PRIVATE  HVRUN_VTL1_BASE
#define SK_IMAGE      (HVRUN_VTL1_BASE + 0x100000ull)

/* The policy note: this kernel refuses to boot without VTL1 (PT_NOTE, 4-byte aligned fields). */
static const struct {
	uint32_t namesz, descsz, type;
	char name[8];
	uint32_t desc[4];          /* struct hvrun_policy: version, flags, min_memory (lo, hi) */
} policy_note __attribute__((section(".note.hvrun"), aligned(4), used)) = {
	.namesz = sizeof(HVRUN_NOTE_NAME), .descsz = sizeof(struct hvrun_policy), .type = HVRUN_NOTE_POLICY,
	.name = HVRUN_NOTE_NAME,
	.desc = { HVRUN_POLICY_VERSION, HVRUN_POLICY_REQUIRES_VTL1, 0, 0 },
};
_Static_assert(sizeof(policy_note) == 12 + 8 + 16, "policy note layout");

static uint8_t hc_page[4096] __attribute__((aligned(4096)));   /* VTL0's hypercall overlay */
static uint8_t hc_in[4096] __attribute__((aligned(4096)));
static uint8_t hc_out[4096] __attribute__((aligned(4096)));
static uint8_t big[SK_HMAC_MAX_LEN + 64] __attribute__((aligned(4096)));
static uint64_t tsc_mhz;
static bool hv_ready;

struct sk_ret {
	uint64_t status, value, rdx, r8;
};

/* ---- calls ---- */

static uint64_t hypercall(uint64_t control, uint64_t in_gpa, uint64_t out_gpa)
{
	return hv_page_call((uintptr_t)hc_page, control, in_gpa, out_gpa);
}

/* VtlCall: RDI service, RSI/RDX/R8 arguments, RCX = 0 (control); RAX/RCX/RDX/R8 come back. */
static struct sk_ret sk_call(uint64_t svc, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t r8 __asm__("r8") = a3;
	uint64_t rax, rcx = 0, rdx = a2, rdi = svc, rsi = a1;

	__asm__ volatile("call *%[fn]"
			 : "=a"(rax), "+c"(rcx), "+d"(rdx), "+r"(r8), "+D"(rdi), "+S"(rsi)
			 : [fn] "r"((uintptr_t)hc_page + 0x10)
			 : "memory", "cc", "r9", "r10", "r11");
	return (struct sk_ret){ .status = rax, .value = rcx, .rdx = rdx, .r8 = r8 };
}

static uint16_t get_vp_register(uint8_t input_vtl, uint32_t name, uint64_t *value, uint64_t in_gpa,
				uint64_t out_gpa)
{
	uint64_t r;

	memset(hc_in, 0, 32);
	*(uint64_t *)hc_in = HV_PARTITION_ID_SELF;
	*(uint32_t *)(hc_in + 8) = HV_VP_INDEX_SELF;
	hc_in[12] = input_vtl;
	*(uint32_t *)(hc_in + 16) = name;
	memset(hc_out, 0, 16);
	r = hypercall(hv_rep_control(HVCALL_GET_VP_REGISTERS, 1), in_gpa, out_gpa);
	if (value)
		*value = *(uint64_t *)hc_out;
	return (uint16_t)r;
}

static uint16_t get_reg(uint32_t name, uint64_t *value)
{
	return get_vp_register(0, name, value, (uintptr_t)hc_in, (uintptr_t)hc_out);
}

static uint16_t set_vp_register(uint32_t name, uint64_t value)
{
	memset(hc_in, 0, 48);
	*(uint64_t *)hc_in = HV_PARTITION_ID_SELF;
	*(uint32_t *)(hc_in + 8) = HV_VP_INDEX_SELF;
	*(uint32_t *)(hc_in + 16) = name;
	*(uint64_t *)(hc_in + 32) = value;
	return (uint16_t)hypercall(hv_rep_control(HVCALL_SET_VP_REGISTERS, 1), (uintptr_t)hc_in, 0);
}

static uint64_t us(uint64_t tsc)
{
	return tsc / tsc_mhz;
}

/* ---- the attack surface ---- */

/* Never called: its first byte is the target of the "write our own code" attack. */
static __attribute__((noinline, used)) uint64_t text_victim(uint64_t x)
{
	return x * 7 + 3;
}

static bool all_ones(uint64_t gpa, uint64_t len, uint64_t step)
{
	bool ok = true;

	for (uint64_t a = gpa; a < gpa + len; a += step)
		ok &= readq(a) == ~0ull;
	return ok;
}

/* Write a byte VTL0 may not change; true if the write was refused and logged at that GPA. */
static bool write_refused(uint64_t gpa, const char *what)
{
	struct sk_ret before = sk_call(SK_SVC_INTERCEPT_LOG, 0, 0, 0), after;
	uint8_t old = readb(gpa);
	bool unchanged, logged;

	writeb(gpa, (uint8_t)~old);
	unchanged = readb(gpa) == old;
	after = sk_call(SK_SVC_INTERCEPT_LOG, 0, 0, 0);
	/* The RIP is our writing instruction's, or the next one's: inside our code either way. */
	logged = after.status == SK_OK && after.value == before.value + 1 && after.rdx == gpa &&
		 after.r8 >= (uintptr_t)__text_start && after.r8 < (uintptr_t)__text_end;
	report(unchanged, "write to %s (GPA %#lx) is refused: byte still %#x", what, gpa, old);
	report(logged, "the secure kernel logged it: %lu violations, last GPA %#lx, RIP %#lx", after.value,
	       after.rdx, after.r8);
	if (!unchanged)
		writeb(gpa, old);
	return unchanged && logged;
}

/* ---- the story ---- */

static void test_boot(const struct hvrun_boot_info *bi)
{
	const struct guest_entry_regs *r = &guest_entry_regs;

	report_prefix_push("boot");
	report(r->rdi == HVRUN_BOOTINFO_GPA && r->rsp == HVRUN_STACK_TOP && r->rflags == 0x2,
	       "VTL0 started at its ELF entry with the boot contract: RDI %#lx, RSP %#lx, RFLAGS %#lx", r->rdi,
	       r->rsp, r->rflags);
	report((r->rax | r->rbx | r->rcx | r->rdx | r->rsi | r->rbp | r->r8 | r->r9 | r->r10 | r->r11 |
		r->r12 | r->r13 | r->r14 | r->r15) == 0, "no VTL1 register value leaked into VTL0's entry state");
	report(bi->magic == HVRUN_BOOTINFO_MAGIC && bi->ram_size >= HVRUN_MEM_MIN, "boot info OK: %lu MiB RAM",
	       bi->ram_size >> 20);
	report_prefix_pop();
}

static void test_hv(void)
{
	struct cpuid_regs c1 = cpuid(1), h0 = cpuid(HV_CPUID_VENDOR_AND_MAX), h1 = cpuid(HV_CPUID_INTERFACE);
	struct cpuid_regs h3 = cpuid(HV_CPUID_FEATURES);
	uint64_t v;
	uint16_t st;

	report_prefix_push("hv");
	report(c1.ecx & (1u << 31), "CPUID.1:ECX[31]: a hypervisor is present");
	report(h0.ebx == HV_CPUID_SIGNATURE_EBX && h0.ecx == HV_CPUID_SIGNATURE_ECX &&
	       h0.edx == HV_CPUID_SIGNATURE_EDX && h0.eax >= HV_CPUID_LIMITS,
	       "vendor \"Microsoft Hv\", max leaf %#x", h0.eax);
	report(h1.eax == HV_CPUID_INTERFACE_HV1, "interface \"Hv#1\" (%#x)", h1.eax);
	report((h3.ebx & HV_PRIV_ACCESS_VSM) && (h3.ebx & HV_PRIV_ACCESS_VP_REGISTERS),
	       "privileges: AccessVsm and AccessVpRegisters (EBX %#x)", h3.ebx);

	wrmsr(HV_X64_MSR_GUEST_OS_ID, TK_GUEST_OS_ID);
	report(rdmsr(HV_X64_MSR_GUEST_OS_ID) == TK_GUEST_OS_ID, "guest OS ID %#llx set", TK_GUEST_OS_ID);
	wrmsr(HV_X64_MSR_HYPERCALL, (uintptr_t)hc_page | HV_HYPERCALL_MSR_ENABLE);
	v = rdmsr(HV_X64_MSR_HYPERCALL);
	hv_ready = (v & ~0xfffull) == (uintptr_t)hc_page && (v & 1) && hc_page[0] == 0x8c && hc_page[1] == 0xc8;
	report(hv_ready, "own hypercall page at GPA %p (MSR %#lx)", (void *)hc_page, v);
	report(hc_page[0x10 + 9] == 0xb9 && hc_page[0x10 + 10] == HVCALL_VTL_CALL &&
	       hc_page[0x30 + 9] == 0xb9 && hc_page[0x30 + 10] == HVCALL_VTL_RETURN,
	       "VTL call trampoline at +0x10, VTL return at +0x30");
	if (!hv_ready) {
		report_prefix_pop();
		return;
	}
	/* Call first, report after: the order of report()'s argument evaluation is unspecified. */
	st = get_reg(HV_REG_VSM_CODE_PAGE_OFFSETS, &v);
	report(st == HV_STATUS_SUCCESS && v == (0x10 | 0x30 << 12), "VsmCodePageOffsets %#lx: call 0x10, "
	       "return 0x30", v);
	st = get_reg(HV_REG_VSM_VP_STATUS, &v);
	report(st == HV_STATUS_SUCCESS && (v & 0xf) == 0 && (v >> 16 & 2),
	       "VsmVpStatus %#lx: running in VTL0, VTL1 enabled on this VP", v);
	st = get_reg(HV_REG_VSM_PARTITION_STATUS, &v);
	report(st == HV_STATUS_SUCCESS && (v & 2), "VsmPartitionStatus %#lx: VTL1 enabled in the partition", v);
	report_prefix_pop();
}

static void test_vtl_call(void)
{
	struct sk_ret r;
	uint64_t t0, in[9] = { 0x1111, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666, 0x7777, 0x8888, 0x9999 };
	uint64_t out[9];

	report_prefix_push("vtl-call");
	r = sk_call(SK_SVC_PING, 0, 0, 0);
	report(r.status == SK_OK && r.value == SK_PING_MAGIC, "PING: status %lu, %#lx (\"SKOK\")", r.status,
	       r.value);

	/*
	 * The secure kernel shares our GPRs: everything but RAX/RCX (and the RDX/R8 results) must
	 * survive. in[8] is the trampoline, R10/R11 point at in/out and are checked too.
	 */
	in[8] = (uintptr_t)hc_page + 0x10;
	{
		register uint64_t *pin __asm__("r10") = in;
		register uint64_t *pout __asm__("r11") = out;
		__asm__ volatile(
			"pushq %%rbp\n\t"
			"movq 0x00(%%r10), %%rbx\n\t"
			"movq 0x08(%%r10), %%rbp\n\t"
			"movq 0x10(%%r10), %%r12\n\t"
			"movq 0x18(%%r10), %%r13\n\t"
			"movq 0x20(%%r10), %%r14\n\t"
			"movq 0x28(%%r10), %%r15\n\t"
			"movq 0x30(%%r10), %%rsi\n\t"
			"movq 0x38(%%r10), %%r9\n\t"
			"xorl %%edi, %%edi\n\t"              /* SK_SVC_PING */
			"xorl %%ecx, %%ecx\n\t"
			"call *0x40(%%r10)\n\t"
			"movq %%rbx, 0x00(%%r11)\n\t"
			"movq %%rbp, 0x08(%%r11)\n\t"
			"movq %%r12, 0x10(%%r11)\n\t"
			"movq %%r13, 0x18(%%r11)\n\t"
			"movq %%r14, 0x20(%%r11)\n\t"
			"movq %%r15, 0x28(%%r11)\n\t"
			"movq %%rsi, 0x30(%%r11)\n\t"
			"movq %%r9, 0x38(%%r11)\n\t"
			"movq %%r10, 0x40(%%r11)\n\t"
			"popq %%rbp\n\t"
			: "+r"(pin), "+r"(pout)
			:
			: "memory", "cc", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r12", "r13",
			  "r14", "r15");
	}
	report(!memcmp(in, out, 8 * sizeof(uint64_t)) && out[8] == (uintptr_t)in,
	       "a VTL call preserves RBX RBP RSI R9-R15 (the secure kernel restores shared registers)");

	r = sk_call(SK_SVC_STATUS, 0, 0, 0);
	report(r.status == SK_OK && (r.value & SK_STATUS_SELFTEST_OK), "STATUS %#lx: crypto self-test passed",
	       r.value);
	report(r.value & SK_STATUS_SECRETS_SCRUBBED, "the loader block's one-time secret was scrubbed");
	report(r.value & SK_STATUS_KERNEL_CODE_PROTECTED, "VTL0 kernel code sealed at boot");
	report(r.value & SK_STATUS_TRUSTLET, "hashing runs in a VTL1 trustlet (CPL3)");
	r = sk_call(0x99, 0, 0, 0);
	report(r.status == SK_E_NO_SERVICE, "unknown service 0x99: SK_E_NO_SERVICE (%lu)", r.status);

	t0 = rdtsc();
	for (int i = 0; i < 10; i++)
		sk_call(SK_SVC_PING, 0, 0, 0);
	report_info("VTL call round trip: %lu us", us(rdtsc() - t0) / 10);
	report_prefix_pop();
}

static uint8_t msg[200], mac1[32], mac2[32], mac3[32];

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void test_hmac(void)
{
	struct sk_ret r;
	uint64_t t0;

	report_prefix_push("hmac");
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 31 + 7);
	memset(mac1, 0xa5, sizeof(mac1));
	r = sk_call(SK_SVC_HMAC, (uintptr_t)msg, sizeof(msg), (uintptr_t)mac1);
	report(r.status == SK_OK && r.value == 32 && !all_bytes(mac1, 32, 0xa5) && !all_bytes(mac1, 32, 0),
	       "HMAC of %zu bytes: 32-byte MAC %02x%02x%02x%02x... (status %lu)", sizeof(msg), mac1[0], mac1[1],
	       mac1[2], mac1[3], r.status);
	r = sk_call(SK_SVC_HMAC, (uintptr_t)msg, sizeof(msg), (uintptr_t)mac2);
	report(r.status == SK_OK && !memcmp(mac1, mac2, 32), "deterministic: same data, same MAC");
	msg[100] ^= 1;
	r = sk_call(SK_SVC_HMAC, (uintptr_t)msg, sizeof(msg), (uintptr_t)mac3);
	report(r.status == SK_OK && memcmp(mac1, mac3, 32), "one bit of data changed: a different MAC");
	r = sk_call(SK_SVC_HMAC_VERIFY, (uintptr_t)msg, sizeof(msg), (uintptr_t)mac1);
	report(r.status == SK_OK && r.value == 0, "HMAC_VERIFY rejects the old MAC for the changed data");
	msg[100] ^= 1;
	r = sk_call(SK_SVC_HMAC_VERIFY, (uintptr_t)msg, sizeof(msg), (uintptr_t)mac1);
	report(r.status == SK_OK && r.value == 1, "HMAC_VERIFY accepts the MAC (RCX %lu)", r.value);
	mac2[31] ^= 0x80;
	r = sk_call(SK_SVC_HMAC_VERIFY, (uintptr_t)msg, sizeof(msg), (uintptr_t)mac2);
	report(r.status == SK_OK && r.value == 0, "HMAC_VERIFY rejects a modified MAC (RCX %lu)", r.value);
	r = sk_call(SK_SVC_HMAC, (uintptr_t)msg, 0, (uintptr_t)mac3);
	report(r.status == SK_OK && memcmp(mac1, mac3, 32), "HMAC of 0 bytes works");

	for (unsigned i = 0; i < SK_HMAC_MAX_LEN; i += 64)
		big[i] = (uint8_t)i;
	t0 = rdtsc();
	r = sk_call(SK_SVC_HMAC, (uintptr_t)big, SK_HMAC_MAX_LEN, (uintptr_t)mac3);
	report(r.status == SK_OK, "HMAC of the maximum %u KiB (status %lu, %lu us)", SK_HMAC_MAX_LEN >> 10,
	       r.status, us(rdtsc() - t0));
	r = sk_call(SK_SVC_HMAC, (uintptr_t)big, SK_HMAC_MAX_LEN + 1, (uintptr_t)mac3);
	report(r.status == SK_E_INVALID, "one byte over the maximum: SK_E_INVALID (%lu)", r.status);
	report_prefix_pop();
}

static void test_hvci(const struct hvrun_boot_info *bi)
{
	uint64_t good = (uintptr_t)__hvci_start, bad = (uintptr_t)__hvci_bad_start;
	struct sk_ret r, log0, log1;
	uint8_t old, flipped, now;

	report_prefix_push("hvci");
	report(hvci_driver_entry(1) == (HVCI_DRIVER_MAGIC ^ 1), "driver page %#lx runs before sealing", good);
	r = sk_call(SK_SVC_HVCI_PROTECT, good, 0, 0);
	report(r.status == SK_OK, "HVCI_PROTECT of .hvci: hash on the allow list, sealed R+X (status %lu, "
	       "entry %lu)", r.status, r.value);
	report(hvci_driver_entry(2) == (HVCI_DRIVER_MAGIC ^ 2), "the sealed driver still executes");
	write_refused(good + 0x10, "the sealed driver page");
	r = sk_call(SK_SVC_HVCI_PROTECT, good, 0, 0);
	report(r.status == SK_OK, "sealing it again is harmless (status %lu)", r.status);

	log0 = sk_call(SK_SVC_INTERCEPT_LOG, 0, 0, 0);
	r = sk_call(SK_SVC_HVCI_PROTECT, bad, 0, 0);
	report(r.status == SK_E_DENIED, "HVCI_PROTECT of .hvci_bad: not on the allow list, SK_E_DENIED (%lu)",
	       r.status);
	old = readb(bad + 0x10);
	flipped = (uint8_t)(old ^ 0xff);
	writeb(bad + 0x10, flipped);
	log1 = sk_call(SK_SVC_INTERCEPT_LOG, 0, 0, 0);
	now = readb(bad + 0x10);
	report(now == flipped && log1.value == log0.value,
	       "the refused page was not sealed: still writable, nothing logged");
	writeb(bad + 0x10, old);
	report(hvci_bad_driver_entry(3) == (HVCI_BAD_DRIVER_MAGIC ^ 3), "and unchanged again");

	r = sk_call(SK_SVC_HVCI_PROTECT, good + 8, 0, 0);
	report(r.status == SK_E_INVALID, "unaligned page: SK_E_INVALID (%lu)", r.status);
	r = sk_call(SK_SVC_HVCI_PROTECT, SK_IMAGE, 0, 0);
	report(r.status == SK_E_ACCESS, "a VTL1 page: SK_E_ACCESS (%lu)", r.status);
	r = sk_call(SK_SVC_HVCI_PROTECT, (bi->ram_size + 0xfff) & ~0xfffull, 0, 0);
	report(r.status == SK_E_INVALID, "a page past the end of RAM: SK_E_INVALID (%lu)", r.status);
	report_prefix_pop();
}

static void vtl_return_from_vtl0(void *arg)
{
	(void)arg;
	__asm__ volatile("xorl %%ecx, %%ecx; call *%0" : : "r"((uintptr_t)hc_page + 0x30)
			 : "memory", "rax", "rcx");
}

static void test_attacks(const struct hvrun_boot_info *bi)
{
	uint64_t text = (uintptr_t)text_victim, v, ram = bi->ram_size;
	struct sk_ret r;
	struct exc_info info;
	uint8_t mac[32], m0[32], m1[32];
	uint16_t st;

	report_prefix_push("attack");
	memset(m0, 0, sizeof(m0));
	r = sk_call(SK_SVC_MEASURE, 0, 0, (uintptr_t)m0);
	report(r.status == SK_OK && r.value >= 0x1000 && !(r.value & 0xfff) && !all_bytes(m0, 32, 0),
	       "MEASURE before: SHA-256 of the secure kernel's %lu bytes of code and read-only data "
	       "%02x%02x%02x%02x... (status %lu)", r.value, m0[0], m0[1], m0[2], m0[3], r.status);
	/* There is no path to the key: VTL1's memory is not in VTL0's address space at all. */
	report(all_ones(VTL1_PRIVATE, 0x20000, 0x1000), "read VTL1 private memory (0xc0000000..): all ones");
	report(all_ones(HVRUN_SK_LOADER_BLOCK, sizeof(struct hvrun_loader_block), 8),
	       "scan the loader block at %#llx (where the secret was): all ones", HVRUN_SK_LOADER_BLOCK);
	report(all_ones(SK_IMAGE, 0x10000, 0x400), "read the secure kernel image (0xc0100000..): all ones");
	st = get_vp_register(HV_INPUT_VTL_TARGET(1), HV_REG_VP_ASSIST, &v, (uintptr_t)hc_in, (uintptr_t)hc_out);
	report(st == HV_STATUS_ACCESS_DENIED, "read VTL1's registers with GetVpRegisters: ACCESS_DENIED (%#x)", st);

	write_refused(text, "our own kernel code (.text)");

	writeq(HVRUN_SK_LOADER_BLOCK + offsetof(struct hvrun_loader_block, secret), 0);
	writeq(SK_IMAGE + 0x1000, 0x9090909090909090ull);
	writeq(VTL1_PRIVATE + 0x20000 - 8, 0);       /* the top of VTL1's stack */
	r = sk_call(SK_SVC_PING, 0, 0, 0);
	report(r.status == SK_OK && r.value == SK_PING_MAGIC && all_ones(HVRUN_SK_LOADER_BLOCK, 64, 8),
	       "write VTL1 memory: no effect (still all ones, the secure kernel still answers)");
	r = sk_call(SK_SVC_HMAC, (uintptr_t)msg, sizeof(msg), (uintptr_t)mac);
	report(r.status == SK_OK && !memcmp(mac, mac1, 32), "the key is intact: same MAC as before");

	st = get_vp_register(0, HV_REG_VSM_CODE_PAGE_OFFSETS, NULL, (uintptr_t)hc_in, VTL1_PRIVATE);
	report(st == HV_STATUS_INVALID_PARAMETER, "hypercall output GPA in VTL1 memory: INVALID_PARAMETER (%#x)",
	       st);
	st = get_vp_register(0, HV_REG_VSM_CODE_PAGE_OFFSETS, NULL, HVRUN_SK_LOADER_BLOCK, (uintptr_t)hc_out);
	report(st == HV_STATUS_INVALID_PARAMETER, "hypercall input GPA in VTL1 memory: INVALID_PARAMETER (%#x)",
	       st);

	r = sk_call(SK_SVC_HMAC, HVRUN_SK_LOADER_BLOCK, 64, (uintptr_t)mac);
	report(r.status == SK_E_ACCESS, "HMAC of VTL1 memory (the loader block): SK_E_ACCESS (%lu)", r.status);
	r = sk_call(SK_SVC_HMAC, (uintptr_t)msg, sizeof(msg), SK_IMAGE);
	report(r.status == SK_E_ACCESS, "HMAC output into VTL1 memory: SK_E_ACCESS (%lu)", r.status);
	r = sk_call(SK_SVC_HMAC, (uintptr_t)msg, sizeof(msg), text);
	report(r.status == SK_E_ACCESS && text_victim(1) == 10,
	       "HMAC output into our own sealed code: SK_E_ACCESS, no confused deputy (%lu)", r.status);
	r = sk_call(SK_SVC_HMAC, (uintptr_t)msg, sizeof(msg), (uintptr_t)__hvci_start + 0x100);
	report(r.status == SK_E_ACCESS, "HMAC output into the sealed driver page: SK_E_ACCESS (%lu)", r.status);
	r = sk_call(SK_SVC_HMAC, ~0ull - 0xff, 0x1000, (uintptr_t)mac);
	report(r.status == SK_E_INVALID, "buffer + length wraps around: SK_E_INVALID (%lu)", r.status);
	r = sk_call(SK_SVC_HMAC, ram - 16, 64, (uintptr_t)mac);
	report(r.status == SK_E_INVALID, "buffer past the end of RAM: SK_E_INVALID (%lu)", r.status);
	r = sk_call(SK_SVC_HMAC, HVRUN_VTL1_BASE - 32, 64, (uintptr_t)mac);
	report(r.status == SK_E_ACCESS, "buffer running into VTL1 memory: SK_E_ACCESS (%lu)", r.status);
	r = sk_call(SK_SVC_HMAC_VERIFY, (uintptr_t)msg, sizeof(msg), HVRUN_SK_LOADER_BLOCK + 0x108);
	report(r.status == SK_E_ACCESS, "HMAC_VERIFY against VTL1 memory (the old secret): SK_E_ACCESS (%lu)",
	       r.status);

	memset(hc_in, 0, 24);
	*(uint64_t *)hc_in = HV_PARTITION_ID_SELF;
	*(uint32_t *)(hc_in + 8) = 0xf;                /* R W KX UX */
	*(uint64_t *)(hc_in + 16) = text >> 12;
	st = (uint16_t)hypercall(hv_rep_control(HVCALL_MODIFY_VTL_PROTECTION_MASK, 1), (uintptr_t)hc_in, 0);
	report(st == HV_STATUS_ACCESS_DENIED, "lift the protection with ModifyVtlProtectionMask: ACCESS_DENIED "
	       "(%#x)", st);
	st = set_vp_register(HV_REG_VSM_PARTITION_CONFIG, 0);
	report(st == HV_STATUS_ACCESS_DENIED, "turn VTL protection off with SetVpRegisters: ACCESS_DENIED "
	       "(%#x)", st);
	write_refused(text, "our kernel code, after those attempts");

	memset(hc_in, 0, 16);
	*(uint64_t *)hc_in = HV_PARTITION_ID_SELF;
	hc_in[8] = 1;
	st = (uint16_t)hypercall(HVCALL_ENABLE_PARTITION_VTL, (uintptr_t)hc_in, 0);
	report(st == HV_STATUS_VTL_ALREADY_ENABLED, "re-enable VTL1 (EnablePartitionVtl): VTL_ALREADY_ENABLED "
	       "(%#x)", st);
	memset(hc_in, 0, 16 + 0xe0);
	*(uint64_t *)hc_in = HV_PARTITION_ID_SELF;
	*(uint32_t *)(hc_in + 8) = HV_VP_INDEX_SELF;
	hc_in[12] = 1;
	*(uint64_t *)(hc_in + 16) = (uintptr_t)text_victim;   /* a VTL1 context of VTL0's choosing */
	st = (uint16_t)hypercall(HVCALL_ENABLE_VP_VTL, (uintptr_t)hc_in, 0);
	report(st == HV_STATUS_VTL_ALREADY_ENABLED, "restart VTL1 at our own code (EnableVpVtl): "
	       "VTL_ALREADY_ENABLED (%#x)", st);
	report(catch_exception(vtl_return_from_vtl0, NULL, &info) == EXC_UD, "VtlReturn from VTL0: #UD");
	r = sk_call(SK_SVC_PING, 0, 0, 0);
	report(r.status == SK_OK && r.value == SK_PING_MAGIC, "the secure kernel is still in charge");
	r = sk_call(SK_SVC_MEASURE, 0, 0, (uintptr_t)m1);
	report(r.status == SK_OK && !memcmp(m0, m1, 32),
	       "MEASURE after the attacks: the secure kernel's code is unchanged (%02x%02x%02x%02x...)", m1[0],
	       m1[1], m1[2], m1[3]);
	r = sk_call(SK_SVC_MEASURE, 0, 0, text);
	report(r.status == SK_E_ACCESS && text_victim(1) == 10, "MEASURE output into our own sealed code: "
	       "SK_E_ACCESS (%lu)", r.status);
	r = sk_call(SK_SVC_MEASURE, 0, 0, SK_IMAGE);
	report(r.status == SK_E_ACCESS, "MEASURE output into VTL1 memory: SK_E_ACCESS (%lu)", r.status);
	r = sk_call(SK_SVC_MEASURE, 0, 0, ram - 16);
	report(r.status == SK_E_INVALID, "MEASURE output past the end of RAM: SK_E_INVALID (%lu)", r.status);
	report_prefix_pop();
}

int guest_main(const struct hvrun_boot_info *bi)
{
	tsc_mhz = bi->tsc_hz >= 1000000 ? bi->tsc_hz / 1000000 : 1000;
	printf("testkernel: VTL0 kernel started by the secure kernel's VtlReturn\n");
	/* "quiet": only failures and the summary (a boot without its console cost, for bench/). */
	report_quiet(cmdline_has_word(bi->cmdline, sizeof(bi->cmdline), "quiet"));
	test_boot(bi);
	test_hv();
	if (!hv_ready) {
		report_error("no hypercall page: cannot talk to the secure kernel");
		return report_summary();
	}
	test_vtl_call();
	test_hmac();
	test_hvci(bi);
	test_attacks(bi);
	return report_summary();
}
