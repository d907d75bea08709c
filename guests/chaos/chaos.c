/* SPDX-License-Identifier: MIT */
/*
 * chaos: a VTL0 guest that throws seeded garbage at hvrun's guest interfaces and checks that
 * every answer is one the TLFS allows (docs/security.md#chaos).
 *
 * Command line (boot info): "seed=N iters=M" (defaults 1, 600). The same seed gives the same run.
 * Each iteration does one random thing:
 *   - a hypercall with a random code (mostly the implemented ones and their neighbours, sometimes
 *     all 64 bits random), random rep fields, fast bit and variable header size, and input/output
 *     GPAs from: this guest's parameter pages, VTL1 memory (0xC0000000+), the hypercall page
 *     itself, the MMIO hole, the last bytes of RAM, page-crossing and unaligned lists, random
 *     GPAs above 4 GiB; the input page holds random bytes. The answer must be a TLFS status
 *     hvrun knows, with reserved result bits clear and no more reps than asked, or #UD (the TLFS
 *     exception: VtlCall/VtlReturn without a higher VTL);
 *   - a synthetic MSR read or write (0x40000000-0x400001FF) with a random value; #GP is caught.
 *     Never written: HV_X64_MSR_RESET with bit 0 set (ends the run), the HYPERCALL lock bit (the
 *     page is moved or locked only in ways this guest survives), and page-MSR GPAs that would
 *     overlay this guest's own code or data;
 *   - port I/O (in/out, 1/2/4 bytes, string forms with small counts) to unclaimed ports: never
 *     0xF4 (exit), 0xEB (hypercalls), 0xE9 or the UART (console noise);
 *   - reads and writes of VTL1 memory and the MMIO hole (reads must give all ones);
 *   - with the secure kernel: writes of this guest's own sealed code (the byte already there, so
 *     a missing protection changes nothing) that must be refused and logged by VTL1, hypercall
 *     outputs into sealed code that must be refused (ACCESS_DENIED, bytes unchanged), and
 *     VtlCalls with garbage in every register the call passes.
 * Hypercall outputs are only ever aimed at memory this guest can spare: a wrong answer cannot
 * corrupt the guest, so any failure is reported, not a crash.
 *
 * With the secure kernel the run starts and ends with the same checks: the secure kernel answers
 * PING, its STATUS bits are unchanged, and its HMAC of a fixed message (keyed with the loader's
 * one-time secret, inside VTL1) is the same as before the chaos: VTL1's key and code still work.
 *
 * Ring-0 code is emulated on this platform (~1 us per instruction): iterations are kept cheap.
 */
#include "guest.h"
#include "idt.h"

#include "hv/tlfs.h"
#include "hvrun/securekernel.h"

#define PAGE 4096ull
#define CHAOS_GUEST_OS_ID   0x81000000C4A05001ull     /* open source, recognisable */
#define MSR_COUNT           0x200u

static uint8_t hc_page[PAGE] __attribute__((aligned(4096)));
static uint8_t in_pages[2][PAGE] __attribute__((aligned(4096)));
static uint8_t out_pages[2][PAGE] __attribute__((aligned(4096)));
static uint8_t msr_pages[4][PAGE] __attribute__((aligned(4096)));  /* SIMP/SIEFP/TSC/assist targets */
static uint8_t scratch[PAGE] __attribute__((aligned(4096)));       /* string port I/O buffer */

static uint64_t rng;
static uint64_t ram_size;
static bool sk;                          /* VTL1 (the secure kernel) is present */
static uint64_t hcpage = (uintptr_t)hc_page;

/* ---- counters for the summary ---- */
static unsigned n_hc, n_hc_ud, n_hc_bad, n_vtlcall, n_vtlcall_bad, n_msr, n_msr_gp, n_io, n_mem,
	n_prot_writes, n_prot_bad, n_out_sealed, n_out_sealed_bad;
static unsigned status_seen[0x100];

static uint64_t next(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t below(uint64_t n)
{
	return n ? next() % n : 0;
}

/* "key=NUMBER" from the command line, or def. */
static uint64_t cmdline_u64(const char *key, uint64_t def)
{
	const char *s = boot_info->cmdline;
	size_t k = strlen(key);

	for (; *s; s++) {
		if ((s == boot_info->cmdline || s[-1] == ' ') && !strncmp(s, key, k) && s[k] == '=') {
			uint64_t v = 0;
			for (s += k + 1; *s >= '0' && *s <= '9'; s++)
				v = v * 10 + (uint64_t)(*s - '0');
			return v;
		}
	}
	return def;
}

/* ---- hypercalls ---- */

struct hc_call {
	uint64_t rcx, rdx, r8, rax;
	uint64_t entry;
};

static void do_hypercall(void *arg)
{
	struct hc_call *c = arg;
	register uint64_t r8 __asm__("r8") = c->r8;
	uint64_t rax, rcx = c->rcx, rdx = c->rdx;

	/* RDI/RSI/RBX... are whatever the compiler left: a VtlCall (code 0x11) passes them on. */
	__asm__ volatile("call *%[fn]"
			 : "=a"(rax), "+c"(rcx), "+d"(rdx), "+r"(r8)
			 : [fn] "r"(c->entry)
			 : "memory", "cc", "rsi", "rdi", "r9", "r10", "r11");
	c->rax = rax;
}

static uint64_t hypercall(uint64_t control, uint64_t in, uint64_t out, int *vector)
{
	struct hc_call c = { .rcx = control, .rdx = in, .r8 = out, .entry = hcpage };
	struct exc_info info;

	*vector = catch_exception(do_hypercall, &c, &info);
	return c.rax;
}

static bool known_status(uint16_t s)
{
	switch (s) {
	case HV_STATUS_SUCCESS: case HV_STATUS_INVALID_HYPERCALL_CODE: case HV_STATUS_INVALID_HYPERCALL_INPUT:
	case HV_STATUS_INVALID_ALIGNMENT: case HV_STATUS_INVALID_PARAMETER: case HV_STATUS_ACCESS_DENIED:
	case HV_STATUS_INVALID_PARTITION_STATE: case HV_STATUS_OPERATION_DENIED: case HV_STATUS_UNKNOWN_PROPERTY:
	case HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE: case HV_STATUS_INSUFFICIENT_MEMORY:
	case HV_STATUS_INVALID_PARTITION_ID: case HV_STATUS_INVALID_VP_INDEX: case HV_STATUS_NOT_FOUND:
	case HV_STATUS_INVALID_PORT_ID: case HV_STATUS_INVALID_CONNECTION_ID: case HV_STATUS_INSUFFICIENT_BUFFERS:
	case HV_STATUS_INVALID_VP_STATE: case HV_STATUS_INVALID_SYNIC_STATE: case HV_STATUS_OBJECT_IN_USE:
	case HV_STATUS_NO_RESOURCES: case HV_STATUS_FEATURE_UNAVAILABLE: case HV_STATUS_INVALID_REGISTER_VALUE:
	case HV_STATUS_INVALID_VTL_STATE: case HV_STATUS_OPERATION_FAILED: case HV_STATUS_TIME_OUT:
	case HV_STATUS_VTL_ALREADY_ENABLED: case HV_STATUS_UNKNOWN_REGISTER_NAME:
		return true;
	default:
		return false;
	}
}

/* Sealed code bytes this guest may aim an output at: the slack after __text_end, if any. */
static uint64_t text_slack(void)
{
	uint64_t end = ((uintptr_t)__text_end + 7) & ~7ull;

	return (PAGE - (end & (PAGE - 1))) >= 64 && (end & (PAGE - 1)) ? end : 0;
}

static uint64_t pick_in_gpa(void)
{
	switch (below(10)) {
	case 0: case 1: case 2: return (uintptr_t)in_pages[0] + (below(8) ? 0 : below(PAGE) & ~7ull);
	case 3: return (uintptr_t)in_pages[0] + PAGE - 8 * (1 + below(4));     /* crosses into the next page */
	case 4: return HVRUN_VTL1_BASE + below(0x200000) * 8;                 /* VTL1 memory */
	case 5: return hcpage + (below(2) ? 0 : 8);                           /* the hypercall page */
	case 6: return 0xFEE00000ull + below(0x100) * 8;                      /* the MMIO hole */
	case 7: return ram_size - 8 * (1 + below(8));                         /* the last bytes of RAM */
	case 8: return (uintptr_t)in_pages[1] + 1 + below(7);                 /* unaligned */
	default: return next() | (1ull << 32);                                 /* anywhere above 4 GiB */
	}
}

/* Outputs: only memory this guest can spare (see the header comment). */
static uint64_t pick_out_gpa(void)
{
	switch (below(10)) {
	case 0: case 1: case 2: return (uintptr_t)out_pages[0] + (below(4) ? 0 : below(PAGE) & ~7ull);
	case 3: return (uintptr_t)out_pages[0] + PAGE - 8 * (1 + below(4));
	case 4: return HVRUN_VTL1_BASE + below(0x200000) * 8;
	case 5: return hcpage;
	case 6: return 0xD0000000ull + below(0x100) * 8;
	case 7: return ram_size - 8 * (1 + below(8));
	case 8: return (uintptr_t)out_pages[1] + 1 + below(7);
	default: return next() | (1ull << 32);
	}
}

static const uint16_t codes[] = {
	HVCALL_NOTIFY_LONG_SPIN_WAIT, HVCALL_MODIFY_VTL_PROTECTION_MASK, HVCALL_ENABLE_PARTITION_VTL,
	HVCALL_VTL_CALL, HVCALL_VTL_RETURN, HVCALL_GET_VP_REGISTERS, HVCALL_SET_VP_REGISTERS,
	HVCALL_POST_MESSAGE, HVCALL_SIGNAL_EVENT, HVCALL_START_VIRTUAL_PROCESSOR,
	HVCALL_GET_VP_INDEX_FROM_APIC_ID, 0x0000, 0x0001, 0x0009, 0x000E, 0x0010, 0x004F, 0x0052,
	0x005E, 0x0098, 0x009B, 0x01FF, 0x0200, 0xFFFF,
};

/*
 * SetVpRegisters could point this guest's own state anywhere (CR3, RIP of VTL0, SIMP over its
 * code): its register names are limited to ones that cannot hurt it, still in every input shape.
 */
static const uint32_t safe_set_names[] = {
	0x00000100u,   /* HvRegisterHypervisorVersion: read-only */
	0x000D0002u,   /* VsmCodePageOffsets: read-only */
	0x000D0006u,   /* VsmCapabilities: read-only */
	0x000D0007u,   /* VsmPartitionConfig: VTL0 may not write it */
	0x00010004u,   /* PendingEvent0 of itself: refused */
	0x000A0000u,   /* SINT0 */
	0x000A0010u,   /* SCONTROL */
	0x00090003u,   /* VP index: read-only */
	0xDEADBEEFu, 0x00020010u /* RIP of the caller: refused */,
};

static void chaos_hypercall(void)
{
	uint64_t ctl, in, out, r;
	uint16_t code, status;
	unsigned reps, count;
	int vec;
	bool sealed_out = false;
	uint8_t before[64];

	if (below(16) == 0) {
		ctl = next();
	} else {
		/* Mostly the implemented calls (the first 11), with plausible rep fields. */
		ctl = codes[below(4) ? below(11) : below(ARRAY_SIZE(codes))];
		if (below(4))
			ctl |= (below(4) ? 1 + below(8) : next() & 0xfff) << HV_HYPERCALL_REP_COUNT_SHIFT;
		if (below(4) == 0)
			ctl |= (below(3) ? below(4) : next() & 0xfff) << HV_HYPERCALL_REP_START_SHIFT;
		if (below(6) == 0)
			ctl |= HV_HYPERCALL_FAST_BIT;
		if (below(10) == 0)
			ctl |= (next() & 0x3ff) << HV_HYPERCALL_VARHEAD_SHIFT;
		if (below(20) == 0)
			ctl |= next() & HV_HYPERCALL_RSVD_MASK;
	}
	code = (uint16_t)ctl;
	count = (unsigned)((ctl & HV_HYPERCALL_REP_COUNT_MASK) >> HV_HYPERCALL_REP_COUNT_SHIFT);
	if (code == HVCALL_ENABLE_VP_VTL)
		return;      /* a VTL1 vCPU at a garbage context would end the run: not chaos, a crash */
	in = pick_in_gpa();
	out = pick_out_gpa();
	if (sk && text_slack() && below(8) == 0) {
		out = text_slack();
		sealed_out = true;
		memcpy(before, (void *)out, sizeof(before));
	}
	/* Random input bytes (the first 256: CPL0 work is expensive), with safe register names. */
	for (unsigned i = 0; i < 32; i++)
		((volatile uint64_t *)in_pages[0])[i] = next();
	((volatile uint64_t *)in_pages[1])[0] = next();
	if (below(2))
		((volatile uint64_t *)in_pages[0])[0] = HV_PARTITION_ID_SELF;
	if (code == HVCALL_SET_VP_REGISTERS) {
		for (unsigned i = 0; i < 7; i++) {
			uint32_t name = safe_set_names[below(ARRAY_SIZE(safe_set_names))];
			memcpy(in_pages[0] + 16 + 32 * i, &name, 4);
			if (i == 0 || below(2))
				memset(in_pages[0] + 20 + 32 * i, 0, 12);
			if (name == 0x00010004u)
				in_pages[0][32 + 32 * i] &= ~1;    /* not pending */
		}
		/* Only the list above, so the names are what hvrun reads (a fast call is refused). */
		if (count > 7) {
			ctl = (ctl & ~HV_HYPERCALL_REP_COUNT_MASK) | 7ull << HV_HYPERCALL_REP_COUNT_SHIFT;
			count = 7;
		}
		in = (uintptr_t)in_pages[0];
	}
	if (code == HVCALL_VTL_CALL && sk && below(2))
		ctl = HVCALL_VTL_CALL;   /* straight into the secure kernel with whatever RDI holds */

	r = hypercall(ctl, in, out, &vec);
	n_hc++;
	if (vec >= 0) {
		n_hc_ud++;
		if (vec != EXC_UD) {
			n_hc_bad++;
			report(false, "hypercall %#lx raised vector %d, not #UD", ctl, vec);
		}
		return;
	}
	if (code == HVCALL_VTL_CALL || code == HVCALL_VTL_RETURN) {
		n_vtlcall++;          /* answered by the secure kernel, not a hypercall status */
		return;
	}
	status = (uint16_t)r;
	reps = (unsigned)(r >> 32) & 0xfff;
	status_seen[status & 0xff]++;
	if (!known_status(status) || (r & 0xffff0000ull) || (r >> 44) ||
	    reps > count || (reps && !(ctl & HV_HYPERCALL_REP_COUNT_MASK))) {
		n_hc_bad++;
		report(false, "hypercall %#lx (in %#lx out %#lx) answered %#lx: not a TLFS result", ctl, in, out, r);
	}
	if (sealed_out) {
		n_out_sealed++;
		if (memcmp(before, (void *)out, sizeof(before)) ||
		    (status == HV_STATUS_SUCCESS && ((ctl & 0xffff) == HVCALL_GET_VP_REGISTERS ||
						     (ctl & 0xffff) == HVCALL_GET_VP_INDEX_FROM_APIC_ID))) {
			n_out_sealed_bad++;
			report(false, "hypercall %#lx wrote its output into sealed code at %#lx (status %#x)", ctl, out,
			       status);
		}
	}
}

/* ---- synthetic MSRs ---- */

struct msr_op {
	uint32_t msr;
	uint64_t value;
	bool write;
};

static void do_msr(void *arg)
{
	struct msr_op *o = arg;

	if (o->write)
		wrmsr(o->msr, o->value);
	else
		o->value = rdmsr(o->msr);
}

static int msr_safe(uint32_t msr, bool write, uint64_t *value)
{
	struct msr_op o = { .msr = msr, .value = *value, .write = write };
	int vec = catch_exception(do_msr, &o, NULL);

	*value = o.value;
	return vec;
}

/* A page-MSR value: enabled only at one of this guest's spare pages, else anything disabled. */
static uint64_t page_msr_value(void)
{
	uint64_t low = next() & 0xffe;          /* reserved bits 11:1 */

	switch (below(6)) {
	case 0: case 1: return (uintptr_t)msr_pages[below(4)] | low | 1;
	case 2: return HVRUN_VTL1_BASE | low | 1;        /* VTL0 may not use VTL1 memory: #GP */
	case 3: return (ram_size + below(64) * PAGE) | low | 1;   /* past RAM: #GP */
	default: return (next() & ~0xfffull) | low;      /* disabled, anywhere */
	}
}

/* Put back what this guest needs: a guest OS ID and its hypercall page where it expects it. */
static void repair_hypercall(void)
{
	uint64_t v = 0;

	if (msr_safe(HV_X64_MSR_GUEST_OS_ID, false, &v) == -1 && v != CHAOS_GUEST_OS_ID) {
		v = CHAOS_GUEST_OS_ID;
		msr_safe(HV_X64_MSR_GUEST_OS_ID, true, &v);
	}
	if (msr_safe(HV_X64_MSR_HYPERCALL, false, &v) == -1 && (v & ~0xffeull) != (hcpage | 1)) {
		v = hcpage | 1;
		msr_safe(HV_X64_MSR_HYPERCALL, true, &v);
	}
}

static void chaos_msr(void)
{
	uint32_t msr = HV_SYNTHETIC_MSR_FIRST + (below(4) ? (uint32_t)below(0xA0) : (uint32_t)below(MSR_COUNT));
	bool write = below(2);
	uint64_t value = next();
	int vec;

	if (write) {
		switch (msr) {
		case HV_X64_MSR_RESET:
			value &= ~1ull;              /* bit 0 would end the partition */
			break;
		case HV_X64_MSR_HYPERCALL:
			/* Same page, random reserved bits, never the lock bit. */
			value = hcpage | (value & 0xffc) | (below(8) ? 1 : 0);
			break;
		case HV_X64_MSR_REFERENCE_TSC:
		case HV_X64_MSR_VP_ASSIST_PAGE:
		case HV_X64_MSR_SIMP:
		case HV_X64_MSR_SIEFP:
			value = page_msr_value();
			break;
		case HV_X64_MSR_GUEST_OS_ID:
			if (below(2))
				value = 0;               /* disables the hypercall page (repaired below) */
			break;
		default:
			break;
		}
	}
	vec = msr_safe(msr, write, &value);
	n_msr++;
	if (vec >= 0) {
		n_msr_gp++;
		if (vec != EXC_GP)
			report(false, "%s %#x raised vector %d, not #GP", write ? "wrmsr" : "rdmsr", msr, vec);
	}
	if (write && (msr == HV_X64_MSR_GUEST_OS_ID || msr == HV_X64_MSR_HYPERCALL))
		repair_hypercall();
}

/* ---- ports and memory ---- */

static bool port_ok(uint16_t port)
{
	return port != HVRUN_PORT_DEBUG_EXIT && port != HVRUN_PORT_HYPERCALL && port != HVRUN_PORT_DEBUGCON &&
	       (port < HVRUN_PORT_UART0 || port > HVRUN_PORT_UART0 + 7);
}

static void chaos_io(void)
{
	uint16_t port;
	unsigned n = 1 + (unsigned)below(8);

	do
		port = (uint16_t)(below(4) ? below(0x400) : next());
	while (!port_ok(port));
	switch (below(8)) {
	case 0: outb(port, (uint8_t)next()); break;
	case 1: outw(port, (uint16_t)next()); break;
	case 2: outl(port, (uint32_t)next()); break;
	case 3: if (inb(port) != 0xff) report(false, "unclaimed port %#x read %#x", port, inb(port)); break;
	case 4: inw(port); break;
	case 5: inl(port); break;
	case 6: {
		const void *src = scratch;
		__asm__ volatile("rep outsb" : "+S"(src), "+c"(n) : "d"(port) : "memory");
		break;
	}
	default: {
		void *dst = scratch;
		__asm__ volatile("rep insb" : "+D"(dst), "+c"(n) : "d"(port) : "memory");
		break;
	}
	}
	n_io++;
}

static void chaos_memory(void)
{
	uint64_t a = below(2) ? HVRUN_VTL1_BASE + below(0x100000) * 8 : 0xD0000000ull + below(0x1000000) * 8;
	uint64_t v;

	if (below(2)) {
		writeq(a, next());       /* dropped: nothing is mapped there for VTL0 */
	} else {
		v = readq(a);
		if (v != ~0ull)
			report(false, "read of unmapped GPA %#lx gave %#lx, not all ones", a, v);
	}
	n_mem++;
}

/* ---- the secure kernel ---- */

struct sk_ret {
	uint64_t status, value, rdx, r8;
};

static struct sk_ret sk_call(uint64_t svc, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t r8 __asm__("r8") = a3;
	uint64_t rax, rcx = 0, rdx = a2, rdi = svc, rsi = a1;

	__asm__ volatile("call *%[fn]"
			 : "=a"(rax), "+c"(rcx), "+d"(rdx), "+r"(r8), "+D"(rdi), "+S"(rsi)
			 : [fn] "r"(hcpage + 0x10)
			 : "memory", "cc", "r9", "r10", "r11");
	return (struct sk_ret){ .status = rax, .value = rcx, .rdx = rdx, .r8 = r8 };
}

/* Garbage VtlCall: every register the call passes is random; callee-saved ones are restored. */
static uint64_t garbage[16];    /* rcx rdx rsi rdi r8 r9 r10 r11 rbx rbp r12 r13 r14 r15, results */
static uint64_t vtlcall_entry;

static void do_garbage_vtlcall(void *arg)
{
	(void)arg;
	__asm__ volatile(
		"push %%rbx\n\tpush %%rbp\n\tpush %%r12\n\tpush %%r13\n\tpush %%r14\n\tpush %%r15\n\t"
		"movq garbage+0, %%rcx\n\tmovq garbage+8, %%rdx\n\tmovq garbage+16, %%rsi\n\t"
		"movq garbage+24, %%rdi\n\tmovq garbage+32, %%r8\n\tmovq garbage+40, %%r9\n\t"
		"movq garbage+48, %%r10\n\tmovq garbage+56, %%r11\n\tmovq garbage+64, %%rbx\n\t"
		"movq garbage+72, %%rbp\n\tmovq garbage+80, %%r12\n\tmovq garbage+88, %%r13\n\t"
		"movq garbage+96, %%r14\n\tmovq garbage+104, %%r15\n\t"
		"call *vtlcall_entry\n\t"
		"movq %%rax, garbage+112\n\tmovq %%rcx, garbage+120\n\t"
		"pop %%r15\n\tpop %%r14\n\tpop %%r13\n\tpop %%r12\n\tpop %%rbp\n\tpop %%rbx"
		::: "memory", "cc", "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
}

static void chaos_vtlcall(void)
{
	int vec;

	for (unsigned i = 0; i < 14; i++)
		garbage[i] = next();
	if (below(2))
		garbage[3] = below(8);            /* RDI: a real service number half of the time */
	if (garbage[3] == SK_SVC_HMAC || garbage[3] == SK_SVC_MEASURE)
		garbage[4] = pick_out_gpa();      /* R8: where the MAC goes; only spare memory */
	vtlcall_entry = hcpage + (below(8) ? 0x10 : 0x30);   /* call, sometimes return */
	vec = catch_exception(do_garbage_vtlcall, NULL, NULL);
	n_vtlcall++;
	if (vtlcall_entry == hcpage + 0x30 ? vec != EXC_UD : vec >= 0) {
		n_vtlcall_bad++;
		report(false, "VtlCall/Return with garbage (RDI %#lx) raised vector %d", garbage[3], vec);
	} else if (vec < 0 && garbage[14] > SK_E_NO_SERVICE) {
		n_vtlcall_bad++;
		report(false, "VtlCall with garbage (RDI %#lx) answered %#lx: not an SK status", garbage[3],
		       garbage[14]);
	}
}

/* Write the byte already there into this guest's own (sealed) code: VTL1 must see and log it. */
static void chaos_protected_write(void)
{
	uint64_t a = (uintptr_t)__text_start + below((uintptr_t)__text_end - (uintptr_t)__text_start);
	volatile uint8_t *p = (volatile uint8_t *)a;
	struct sk_ret before = sk_call(SK_SVC_INTERCEPT_LOG, 0, 0, 0), after;

	*p = *p;
	after = sk_call(SK_SVC_INTERCEPT_LOG, 0, 0, 0);
	n_prot_writes++;
	if (after.value != before.value + 1 || (after.rdx & ~0xfffull) != (a & ~0xfffull)) {
		n_prot_bad++;
		report(false, "write to sealed code at %#lx: intercept log %lu -> %lu (last GPA %#lx)", a,
		       before.value, after.value, after.rdx);
	}
}

static const char sk_msg[] = "hvrun chaos: the secure kernel's key must survive";

struct sk_state {
	uint64_t status;
	uint8_t mac[32];
	uint8_t code[32];        /* SK_SVC_MEASURE: SHA-256 of VTL1's code and read-only data */
	bool ok;
};

static void sk_snapshot(struct sk_state *s)
{
	static uint8_t mac[32] __attribute__((aligned(64)));
	struct sk_ret r = sk_call(SK_SVC_PING, 0, 0, 0);

	s->ok = r.status == SK_OK && r.value == SK_PING_MAGIC;
	r = sk_call(SK_SVC_STATUS, 0, 0, 0);
	s->status = r.value;
	s->ok &= r.status == SK_OK;
	memset(mac, 0, sizeof(mac));
	r = sk_call(SK_SVC_HMAC, (uintptr_t)sk_msg, sizeof(sk_msg), (uintptr_t)mac);
	s->ok &= r.status == SK_OK;
	memcpy(s->mac, mac, sizeof(mac));
	memset(mac, 0, sizeof(mac));
	r = sk_call(SK_SVC_MEASURE, 0, 0, (uintptr_t)mac);
	s->ok &= r.status == SK_OK && r.value != 0;
	memcpy(s->code, mac, sizeof(mac));
}

/* ---- set-up and the run ---- */

static bool hypercalls_on(void)
{
	uint64_t v = CHAOS_GUEST_OS_ID;

	if (msr_safe(HV_X64_MSR_GUEST_OS_ID, true, &v) >= 0)
		return false;
	v = hcpage | 1;
	return msr_safe(HV_X64_MSR_HYPERCALL, true, &v) < 0;
}

static uint64_t get_reg(uint32_t name, uint16_t *status)
{
	int vec;
	uint64_t r;

	memset(in_pages[0], 0, 32);
	*(uint64_t *)in_pages[0] = HV_PARTITION_ID_SELF;
	*(uint32_t *)(in_pages[0] + 8) = HV_VP_INDEX_SELF;
	*(uint32_t *)(in_pages[0] + 16) = name;
	r = hypercall(HVCALL_GET_VP_REGISTERS | 1ull << HV_HYPERCALL_REP_COUNT_SHIFT, (uintptr_t)in_pages[0],
		      (uintptr_t)out_pages[0], &vec);
	*status = vec < 0 ? (uint16_t)r : 0xffff;
	return *(uint64_t *)out_pages[0];
}

int guest_main(const struct hvrun_boot_info *bi)
{
	uint64_t seed = cmdline_u64("seed", 1), iters = cmdline_u64("iters", 600);
	struct sk_state sk_before = { 0 }, sk_after = { 0 };
	uint16_t st;
	uint64_t vtls;

	ram_size = bi->ram_size;
	rng = seed * 0x9E3779B97F4A7C15ull + 1;
	report_prefix_push("chaos");
	if (!report(hypercalls_on(), "hypercall page enabled at %#lx", hcpage))
		return report_summary();
	vtls = get_reg(HV_REG_VSM_PARTITION_STATUS, &st);
	sk = st == HV_STATUS_SUCCESS && (vtls & 2);
	report_info("seed %lu, %lu iterations, %s", seed, iters,
		    sk ? "secure kernel in VTL1" : "VTL0 alone");
	if (sk) {
		sk_snapshot(&sk_before);
		report(sk_before.ok, "secure kernel answers PING, STATUS %#lx, HMAC and MEASURE before the chaos",
		       sk_before.status);
	}

	for (uint64_t i = 0; i < iters; i++) {
		unsigned what = (unsigned)below(sk ? 20 : 16);

		if (what < 7)
			chaos_hypercall();
		else if (what < 11)
			chaos_msr();
		else if (what < 14)
			chaos_io();
		else if (what < 16)
			chaos_memory();
		else if (what < 18)
			chaos_vtlcall();
		else
			chaos_protected_write();
	}
	repair_hypercall();

	report(n_hc_bad == 0, "%u hypercalls (%u #UD): every answer a TLFS status or #UD", n_hc, n_hc_ud);
	report(n_msr > 0, "%u synthetic MSR accesses, %u #GP", n_msr, n_msr_gp);
	report(n_io > 0, "%u port accesses to unclaimed ports", n_io);
	report(n_mem > 0, "%u accesses to VTL1 memory and the MMIO hole", n_mem);
	{
		char line[256];
		int len = 0;
		for (unsigned s = 0; s < 0x100 && len < 200; s++)
			if (status_seen[s])
				len += snprintf(line + len, sizeof(line) - (size_t)len, " %#x:%u", s, status_seen[s]);
		line[len < 0 ? 0 : len] = 0;
		report_info("hypercall statuses seen (status:count):%s", line);
	}
	/* hvrun still works for this VP after the chaos. */
	report(get_reg(HV_REG_VP_INDEX, &st) == 0 && st == HV_STATUS_SUCCESS, "GetVpRegisters still answers (VP index 0)");
	if (sk) {
		report(n_vtlcall_bad == 0, "%u VTL calls with garbage registers: every answer an SK status", n_vtlcall);
		report(n_prot_bad == 0, "%u writes to sealed code refused and logged by VTL1", n_prot_writes);
		report(n_out_sealed_bad == 0, "%u hypercall outputs aimed at sealed code refused", n_out_sealed);
		sk_snapshot(&sk_after);
		report(sk_after.ok, "secure kernel still answers PING, STATUS, HMAC and MEASURE after the chaos");
		report(sk_after.status == sk_before.status, "secure kernel STATUS unchanged (%#lx)", sk_after.status);
		report(!memcmp(sk_after.mac, sk_before.mac, 32), "HMAC with VTL1's key unchanged by the chaos");
		report(!memcmp(sk_after.code, sk_before.code, 32),
		       "VTL1's code and read-only data unchanged by the chaos (SHA-256 %02x%02x%02x%02x... from VTL1)",
		       sk_after.code[0], sk_after.code[1], sk_after.code[2], sk_after.code[3]);
		report(readq(HVRUN_VTL1_BASE + 0x100000) == ~0ull, "VTL1 memory still unreadable from VTL0");
	}
	return report_summary();
}
