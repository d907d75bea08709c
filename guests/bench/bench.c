/* SPDX-License-Identifier: MIT */
/*
 * bench: the benchmark guest. Its command line picks one workload and an iteration count,
 *
 *     WORKLOAD [ITERS] [batches=N] [reg=HEX]      e.g. --cmdline "pio 20000"
 *
 * and it times that workload with rdtsc: ITERS iterations split into N batches (default 20), one
 * rdtsc pair per batch, after one untimed warm-up batch. It prints one machine-readable line on
 * the 0xE9 debug console,
 *
 *     BENCH name=pio iters=20000 batches=20 tsc_per_iter_median=.. min=.. max=.. tsc_hz=..
 *
 * (median, min and max of the per-iteration cost of each batch, in TSC ticks), then
 * "BENCHBATCHES name=.. tsc_per_iter=T1,T2,..." (every batch, in time order), and exits 0 through
 * port 0xF4; any failure prints "BENCH-ERROR name=.. ..." and exits 1. Workloads:
 *
 *   pio        out %al, $0x80: a port nobody claims (hvrun: the unclaimed-io service)
 *   msr        rdmsr HV_X64_MSR_TIME_REF_COUNT (0x40000020), after setting the guest OS ID
 *   hcfast     fast HvCallNotifyLongSpinWait (0x10008) through the hypercall page at offset 0
 *   hcslow     HvCallGetVpRegisters, rep 1, input and output pages (reg=HEX picks the register,
 *              default HvRegisterVpIndex 0x90003)
 *   vtl        VtlCall (page + 0x10) + fast VtlReturn round trip; the guest enables VTL1 itself
 *              (HvCallEnablePartitionVtl, HvCallEnableVpVtl) with a tiny VTL1 loop. hvrun must
 *              run with --no-secure-kernel.
 *   intercept  a VTL0 write to a page VTL1 made read-only: GpaIntercept to VTL1 (VP assist page,
 *              VsmPartitionConfig.InterceptPage), VTL1 reads the entry reason and VtlReturns
 *
 * Each timed loop is a few instructions of inline assembly: guest ring-0 code is emulated on the
 * project's KVM (~1 us per instruction), so the loop around the measured operation is as short
 * as it can be, and the very same instructions run under hvrun and under bench/raw.
 *
 * Around the timed batches the guest writes 1 and then 2 to port 0x81 (another unclaimed port):
 * bench/raw timestamps those two exits to measure the same interval from the host side.
 */
#include "guest.h"
#include "hypercall.h"
#include "vpcontext.h"

#include "hv/message.h"
#include "hv/tlfs.h"

#define PAGE_SIZE           4096u
#define PORT_UNCLAIMED      0x80u
#define PORT_MARK           0x81u
#define MARK_START          1u
#define MARK_END            2u
#define DEFAULT_BATCHES     20u
#define MAX_BATCHES         100u

/* Open-source guest OS ID (bit 63), OS type 0x7F; a version telling the VTLs apart. */
#define GUEST_OS_ID_VTL0    (1ull << 63 | 0x7Full << 56 | 0xbe00ull << 16 | 1)
#define GUEST_OS_ID_VTL1    (1ull << 63 | 0x7Full << 56 | 0xbe01ull << 16 | 1)

#define VSM_CONFIG_ENABLE_VTL_PROTECTION (1ull << 0)
#define VSM_CONFIG_DEFAULT_MASK_ALL     (0xfull << 1)
#define VSM_CONFIG_INTERCEPT_PAGE       (1ull << 12)
#define HC_REP(n)                       ((uint64_t)(n) << 32)
#define ENTRY_REASON_INTERCEPT          3u

/* VTL1's private memory (only VTL1's VM maps it). Keep in step with the assembly below. */
#define VTL1_HCPAGE         (HVRUN_VTL1_BASE + 0x1000)
#define VTL1_ASSIST         (HVRUN_VTL1_BASE + 0x2000)
#define VTL1_HC_IN          (HVRUN_VTL1_BASE + 0x4000)
#define VTL1_STACK_TOP      (HVRUN_VTL1_BASE + 0x20000)

enum workload { W_NONE, W_PIO, W_MSR, W_HCFAST, W_HCSLOW, W_VTL, W_INTERCEPT };

static const char *const workload_names[] = {
	[W_PIO] = "pio", [W_MSR] = "msr", [W_HCFAST] = "hcfast", [W_HCSLOW] = "hcslow",
	[W_VTL] = "vtl", [W_INTERCEPT] = "intercept",
};

static const uint64_t default_iters[] = {
	[W_PIO] = 20000, [W_MSR] = 20000, [W_HCFAST] = 20000, [W_HCSLOW] = 20000,
	[W_VTL] = 5000, [W_INTERCEPT] = 5000,
};

static uint8_t hcpage[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t hc_in[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t hc_out[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
/* intercept: VTL1 makes this page read-only to VTL0. Nothing else lives in it. */
static uint8_t ro_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

/* Shared with VTL1 (ordinary RAM) and with the assembly. */
uint32_t bench_mode;
uint64_t bench_vtl1_reason_sum;          /* VTL1 adds every intercept entry's reason */
static volatile uint16_t vtl1_status[4]; /* VTL1 start-up: hypercall page, config, protect, reps */

static const char *name = "?";
static uint64_t batch_ticks[MAX_BATCHES];

/* ---- output ---- */

static int fail(const char *fmt, ...) GUEST_PRINTF(1, 2);
static int fail(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("BENCH-ERROR name=%s %s\n", name, buf);
	return 1;
}

/* ---- command line ---- */

static bool word_is(const char *w, size_t len, const char *s)
{
	return strlen(s) == len && !memcmp(w, s, len);
}

static bool parse_u64(const char *s, size_t len, unsigned base, uint64_t *out)
{
	uint64_t v = 0;

	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

struct args {
	enum workload w;
	uint64_t iters, batches, reg;
};

static int parse_cmdline(const char *cmd, struct args *a)
{
	unsigned nword = 0;

	*a = (struct args){ .w = W_NONE, .batches = DEFAULT_BATCHES, .reg = HV_REG_VP_INDEX };
	while (*cmd) {
		const char *w = cmd;
		size_t len;

		while (*cmd && *cmd != ' ')
			cmd++;
		len = (size_t)(cmd - w);
		while (*cmd == ' ')
			cmd++;
		if (!len)
			continue;
		if (nword == 0) {
			for (unsigned i = 0; i < ARRAY_SIZE(workload_names); i++)
				if (workload_names[i] && word_is(w, len, workload_names[i]))
					a->w = (enum workload)i;
			if (a->w == W_NONE)
				return fail("unknown workload in \"%s\" (pio msr hcfast hcslow vtl intercept)",
					    boot_info->cmdline);
			name = workload_names[a->w];
		} else if (len > 8 && !memcmp(w, "batches=", 8)) {
			if (!parse_u64(w + 8, len - 8, 10, &a->batches))
				return fail("bad batches= in \"%s\"", boot_info->cmdline);
		} else if (len > 4 && !memcmp(w, "reg=", 4)) {
			size_t skip = len > 6 && w[4] == '0' && (w[5] == 'x' || w[5] == 'X') ? 6 : 4;
			if (!parse_u64(w + skip, len - skip, 16, &a->reg))
				return fail("bad reg= in \"%s\"", boot_info->cmdline);
		} else if (nword == 1) {
			if (!parse_u64(w, len, 10, &a->iters))
				return fail("bad iteration count in \"%s\"", boot_info->cmdline);
		} else {
			return fail("unexpected \"%.*s\" in the command line", (int)len, w);
		}
		nword++;
	}
	if (a->w == W_NONE)
		return fail("no workload: give the command line \"WORKLOAD [ITERS] [batches=N]\"");
	if (!a->iters)
		a->iters = default_iters[a->w];
	if (a->batches < 1 || a->batches > MAX_BATCHES)
		return fail("batches must be 1..%u", MAX_BATCHES);
	if (a->iters < a->batches)
		a->iters = a->batches;
	a->iters -= a->iters % a->batches;
	return 0;
}

/* ---- the timed loops: n >= 1 iterations each ---- */

static void loop_pio(uint64_t n)
{
	__asm__ volatile("1: outb %%al, %[port]\n\t"
			 "dec %[n]\n\t"
			 "jnz 1b"
			 : [n] "+r"(n)
			 : [port] "i"(PORT_UNCLAIMED), "a"(0)
			 : "cc", "memory");
}

static void loop_msr(uint64_t n)
{
	__asm__ volatile("1: movl %[msr], %%ecx\n\t"
			 "rdmsr\n\t"
			 "dec %[n]\n\t"
			 "jnz 1b"
			 : [n] "+r"(n)
			 : [msr] "i"(HV_X64_MSR_TIME_REF_COUNT)
			 : "rax", "rcx", "rdx", "cc", "memory");
}

/* A hypercall through the page per iteration; returns RAX of the last one. */
static uint64_t loop_hypercall(uint64_t n, uint64_t control, uint64_t rdx, uint64_t r8)
{
	register uint64_t r8v __asm__("r8") = r8;
	uint64_t rax;

	__asm__ volatile("1: movq %[ctl], %%rcx\n\t"
			 "call *%[page]\n\t"
			 "dec %[n]\n\t"
			 "jnz 1b"
			 : [n] "+r"(n), "=&a"(rax)
			 : [ctl] "r"(control), [page] "r"((uint64_t)(uintptr_t)hcpage), "d"(rdx), "r"(r8v)
			 : "rcx", "cc", "memory");
	return rax;
}

/* VtlCall with control input 0; VTL1 answers with a fast VtlReturn (RAX, RCX come back changed). */
static void loop_vtl(uint64_t n)
{
	__asm__ volatile("1: xorl %%ecx, %%ecx\n\t"
			 "call *%[tramp]\n\t"
			 "dec %[n]\n\t"
			 "jnz 1b"
			 : [n] "+r"(n)
			 : [tramp] "r"((uint64_t)(uintptr_t)hcpage + 0x10)
			 : "rax", "rcx", "cc", "memory");
}

/* A write VTL1 refused: GpaIntercept into VTL1, VtlReturn, VTL0 goes on after the mov. */
static void loop_intercept(uint64_t n)
{
	__asm__ volatile("1: movq %[n], (%[page])\n\t"
			 "dec %[n]\n\t"
			 "jnz 1b"
			 : [n] "+r"(n)
			 : [page] "r"((uint64_t)(uintptr_t)ro_page)
			 : "rax", "rcx", "cc", "memory");
}

/* ---- hypercalls used for set-up ---- */

static uint64_t hv_call(uint64_t page, uint64_t control, uint64_t in, uint64_t out)
{
	return hv_page_call(page, control, in, out);
}

static bool hypercall_page_on(void)
{
	wrmsr(HV_X64_MSR_GUEST_OS_ID, GUEST_OS_ID_VTL0);
	wrmsr(HV_X64_MSR_HYPERCALL, (uintptr_t)hcpage | HV_HYPERCALL_MSR_ENABLE);
	return (rdmsr(HV_X64_MSR_HYPERCALL) & HV_HYPERCALL_MSR_ENABLE) && *(volatile uint8_t *)hcpage != 0;
}

/* ---- VTL1 ---- */

/*
 * VTL1's entry (HvCallEnableVpVtl's RIP), reached by the first VtlCall: save the shared
 * registers, run the C start-up on VTL1's private stack, restore them, then loop. The loops
 * touch only RAX and RCX (shared with VTL0: the VTL0 loops declare them clobbered).
 */
__asm__(".pushsection .text, \"ax\", @progbits\n"
	".globl bench_vtl1_entry\n"
	"bench_vtl1_entry:\n\t"
	"pushq %rax\n\tpushq %rcx\n\tpushq %rdx\n\tpushq %rbx\n\tpushq %rbp\n\tpushq %rsi\n\t"
	"pushq %rdi\n\tpushq %r8\n\tpushq %r9\n\tpushq %r10\n\tpushq %r11\n\tpushq %r12\n\t"
	"pushq %r13\n\tpushq %r14\n\tpushq %r15\n\t"
	"cld\n\t"
	"movq %rsp, %rbx\n\t"
	"andq $-16, %rsp\n\t"
	"call bench_vtl1_setup\n\t"
	"movq %rbx, %rsp\n\t"
	"popq %r15\n\tpopq %r14\n\tpopq %r13\n\tpopq %r12\n\tpopq %r11\n\tpopq %r10\n\t"
	"popq %r9\n\tpopq %r8\n\tpopq %rdi\n\tpopq %rsi\n\tpopq %rbp\n\tpopq %rbx\n\t"
	"popq %rdx\n\tpopq %rcx\n\tpopq %rax\n\t"
	"cmpl $6, bench_mode(%rip)\n\t"          /* W_INTERCEPT */
	"je 2f\n"
	/* vtl: fast VtlReturn (RCX bit 0) forever; each VtlCall resumes after it. */
	"1:\tmovl $1, %ecx\n\t"
	"movl $0xc0001030, %eax\n\t"             /* VTL1_HCPAGE + 0x30 */
	"call *%rax\n\t"
	"jmp 1b\n"
	/* intercept: return, then read why VTL1 was entered again. */
	"2:\tmovl $1, %ecx\n\t"
	"movl $0xc0001030, %eax\n\t"
	"call *%rax\n\t"
	"movl $0xc0002008, %eax\n\t"             /* VTL1_ASSIST + entry reason */
	"movl (%rax), %eax\n\t"
	"addq %rax, bench_vtl1_reason_sum(%rip)\n\t"
	"jmp 2b\n"
	".popsection");

extern char bench_vtl1_entry[];
void bench_vtl1_setup(void);

_Static_assert(VTL1_HCPAGE + 0x30 == 0xc0001030, "VTL1 return trampoline in the assembly");
_Static_assert(VTL1_ASSIST + HV_VP_ASSIST_ENTRY_REASON == 0xc0002008, "VTL1 entry reason in the assembly");
_Static_assert(W_INTERCEPT == 6, "W_INTERCEPT in the assembly");

struct vp_regs_header {
	uint64_t partition_id;
	uint32_t vp_index;
	uint8_t input_vtl;
	uint8_t reserved[3];
};

/* Runs in VTL1 on its first entry: its Hyper-V interface, and for intercept the protection. */
void bench_vtl1_setup(void)
{
	uint8_t *in = (uint8_t *)(uintptr_t)VTL1_HC_IN;
	uint64_t r;

	wrmsr(HV_X64_MSR_GUEST_OS_ID, GUEST_OS_ID_VTL1);
	wrmsr(HV_X64_MSR_HYPERCALL, VTL1_HCPAGE | HV_HYPERCALL_MSR_ENABLE);
	if (!(rdmsr(HV_X64_MSR_HYPERCALL) & HV_HYPERCALL_MSR_ENABLE)) {
		vtl1_status[0] = 0xffff;
		return;
	}
	if (bench_mode != W_INTERCEPT)
		return;
	wrmsr(HV_X64_MSR_VP_ASSIST_PAGE, VTL1_ASSIST | 1);

	/* HvCallSetVpRegisters(VsmPartitionConfig): protection on, default RWX, intercept page. */
	memset(in, 0, 64);
	((struct vp_regs_header *)in)->partition_id = HV_PARTITION_ID_SELF;
	((struct vp_regs_header *)in)->vp_index = HV_VP_INDEX_SELF;
	*(uint32_t *)(in + 16) = HV_REG_VSM_PARTITION_CONFIG;
	*(uint64_t *)(in + 32) = VSM_CONFIG_ENABLE_VTL_PROTECTION | VSM_CONFIG_DEFAULT_MASK_ALL |
				 VSM_CONFIG_INTERCEPT_PAGE;
	r = hv_call(VTL1_HCPAGE, HVCALL_SET_VP_REGISTERS | HC_REP(1), VTL1_HC_IN, 0);
	vtl1_status[1] = (uint16_t)r;

	/* HvCallModifyVtlProtectionMask(ro_page, readable only). */
	memset(in, 0, 64);
	*(uint64_t *)in = HV_PARTITION_ID_SELF;
	*(uint64_t *)(in + 8) = HV_MAP_GPA_READABLE;     /* MapFlags; InputVtl 0: the caller's */
	*(uint64_t *)(in + 16) = (uintptr_t)ro_page / PAGE_SIZE;
	r = hv_call(VTL1_HCPAGE, HVCALL_MODIFY_VTL_PROTECTION_MASK | HC_REP(1), VTL1_HC_IN, 0);
	vtl1_status[2] = (uint16_t)r;
	vtl1_status[3] = (uint16_t)((r >> 32) & 0xfff);
}

struct enable_vp_vtl {
	uint64_t partition_id;
	uint32_t vp_index;
	uint8_t target_vtl;
	uint8_t reserved[3];
	struct hv_initial_vp_context ctx;
};

static int enable_vtl1(void)
{
	struct enable_vp_vtl *e = (struct enable_vp_vtl *)hc_in;
	uint64_t st, *in = (uint64_t *)hc_in;

	in[0] = HV_PARTITION_ID_SELF;
	in[1] = 1;                               /* TargetVtl 1, no flags */
	st = hv_call((uintptr_t)hcpage, HVCALL_ENABLE_PARTITION_VTL, (uintptr_t)hc_in, 0);
	if ((uint16_t)st)
		return fail("HvCallEnablePartitionVtl: status %#x (run hvrun with --no-secure-kernel)",
			    (unsigned)(uint16_t)st);

	memset(e, 0, sizeof(*e));
	e->partition_id = HV_PARTITION_ID_SELF;
	e->vp_index = HV_VP_INDEX_SELF;
	e->target_vtl = 1;
	vpctx_capture(&e->ctx, (uintptr_t)bench_vtl1_entry, VTL1_STACK_TOP);
	st = hv_call((uintptr_t)hcpage, HVCALL_ENABLE_VP_VTL, (uintptr_t)hc_in, 0);
	if ((uint16_t)st)
		return fail("HvCallEnableVpVtl: status %#x", (unsigned)(uint16_t)st);

	/* The first VtlCall runs VTL1's start-up. */
	loop_vtl(1);
	if (vtl1_status[0])
		return fail("VTL1 could not enable its hypercall page");
	if (bench_mode == W_INTERCEPT && (vtl1_status[1] || vtl1_status[2] || vtl1_status[3] != 1))
		return fail("VTL1 start-up: VsmPartitionConfig status %#x, ModifyVtlProtectionMask "
			    "status %#x reps %u", vtl1_status[1], vtl1_status[2], vtl1_status[3]);
	return 0;
}

/* ---- driver ---- */

static void run_loop(const struct args *a, uint64_t n, uint64_t *last_rax)
{
	switch (a->w) {
	case W_PIO:
		loop_pio(n);
		break;
	case W_MSR:
		loop_msr(n);
		break;
	case W_HCFAST:
		*last_rax = loop_hypercall(n, HVCALL_NOTIFY_LONG_SPIN_WAIT | HV_HYPERCALL_FAST_BIT, 1, 0);
		break;
	case W_HCSLOW:
		*last_rax = loop_hypercall(n, HVCALL_GET_VP_REGISTERS | HC_REP(1), (uintptr_t)hc_in,
					   (uintptr_t)hc_out);
		break;
	case W_VTL:
		loop_vtl(n);
		break;
	case W_INTERCEPT:
		loop_intercept(n);
		break;
	case W_NONE:
		break;
	}
}

static int prepare(const struct args *a)
{
	switch (a->w) {
	case W_PIO:
		return 0;
	case W_MSR:
		wrmsr(HV_X64_MSR_GUEST_OS_ID, GUEST_OS_ID_VTL0);
		return 0;
	case W_HCFAST:
	case W_HCSLOW: {
		struct vp_regs_header *h = (struct vp_regs_header *)hc_in;
		if (!hypercall_page_on())
			return fail("the hypercall page did not come on");
		memset(hc_in, 0, 64);
		h->partition_id = HV_PARTITION_ID_SELF;
		h->vp_index = HV_VP_INDEX_SELF;
		*(uint32_t *)(hc_in + sizeof(*h)) = (uint32_t)a->reg;
		return 0;
	}
	case W_VTL:
	case W_INTERCEPT:
		if (!hypercall_page_on())
			return fail("the hypercall page did not come on");
		bench_mode = a->w;
		return enable_vtl1();
	case W_NONE:
		break;
	}
	return 1;
}

static int check(const struct args *a, uint64_t last_rax, uint64_t timed_iters)
{
	uint64_t reason_want;

	switch (a->w) {
	case W_HCFAST:
		if ((uint16_t)last_rax)
			return fail("HvCallNotifyLongSpinWait returned status %#x", (unsigned)(uint16_t)last_rax);
		break;
	case W_HCSLOW:
		if (last_rax != HC_REP(1))
			return fail("HvCallGetVpRegisters(%#lx) returned %#lx (expected status 0, 1 rep)",
				    a->reg, last_rax);
		break;
	case W_INTERCEPT:
		/* Every write, timed or warm-up, entered VTL1 with reason 3 and changed nothing. */
		reason_want = ENTRY_REASON_INTERCEPT * timed_iters;
		if (bench_vtl1_reason_sum != reason_want)
			return fail("VTL1 saw entry reasons summing to %lu, expected %lu (%lu intercepts)",
				    bench_vtl1_reason_sum, reason_want, timed_iters);
		if (*(volatile uint64_t *)ro_page != 0)
			return fail("a write to the read-only page went through (%#lx)",
				    *(volatile uint64_t *)ro_page);
		break;
	default:
		break;
	}
	return 0;
}

int guest_main(const struct hvrun_boot_info *bi)
{
	struct args a;
	uint64_t per_batch, last_rax = 0, med;
	int ret;

	console_select(CONSOLE_DEBUGCON);
	if (bi->magic != HVRUN_BOOTINFO_MAGIC)
		return fail("no boot info");
	ret = parse_cmdline(bi->cmdline, &a);
	if (!ret)
		ret = prepare(&a);
	if (ret)
		return ret;
	per_batch = a.iters / a.batches;

	run_loop(&a, per_batch, &last_rax);                 /* warm-up, untimed */
	outb(PORT_MARK, MARK_START);
	for (unsigned b = 0; b < a.batches; b++) {
		uint64_t t0 = rdtsc();
		run_loop(&a, per_batch, &last_rax);
		batch_ticks[b] = rdtsc() - t0;
	}
	outb(PORT_MARK, MARK_END);

	ret = check(&a, last_rax, a.iters + per_batch);
	if (ret)
		return ret;
	for (unsigned b = 0; b < a.batches; b++)
		batch_ticks[b] /= per_batch;
	/* Every batch, in time order, for whoever wants other statistics than these. */
	printf("BENCHBATCHES name=%s tsc_per_iter=", name);
	for (unsigned b = 0; b < a.batches; b++)
		printf(b ? ",%lu" : "%lu", batch_ticks[b]);
	printf("\n");
	med = median_u64(batch_ticks, (unsigned)a.batches);
	printf("BENCH name=%s iters=%lu batches=%lu tsc_per_iter_median=%lu min=%lu max=%lu tsc_hz=%lu\n",
	       name, a.iters, a.batches, med, batch_ticks[0], batch_ticks[a.batches - 1], bi->tsc_hz);
	return 0;
}
