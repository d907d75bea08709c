/* SPDX-License-Identifier: MIT */
/*
 * smp: several virtual processors in one partition (hvrun --smp N).
 *
 * VP0 boots, enables the (partition-wide) hypercall page, reads VP_INDEX (0) and maps APIC IDs
 * 0..N-1 to VP indexes with HvCallGetVpIndexFromApicId, then starts VP1..N-1 with
 * HvCallStartVirtualProcessor from an HV_INITIAL_VP_CONTEXT: RIP = ap_start, RSP = the VP's own
 * stack, everything else as VP0 runs (segments, GDT, IDT, CR0/CR3/CR4, EFER, PAT). Each AP reads
 * its VP_INDEX MSR and its APIC ID, makes a hypercall of its own through the shared page, prints
 * "VP n reporting" and writes what it saw into shared memory; then it waits for interrupts with
 * `sti; hlt` (never `cli; hlt`: that would stop the whole partition).
 *
 * VP0 waits (bounded) for every report and checks it; then IPIs through HV_X64_MSR_ICR: a round
 * trip VP0 -> VP1 -> VP0 (VP1's handler EOIs through HV_X64_MSR_EOI and answers), self,
 * all-including-self and all-but-self shorthands, and TPR (HV_X64_MSR_TPR) holding back a vector
 * of its priority class; ICR writes hvrun refuses (#GP: non-fixed delivery, vector < 16). Then
 * the errors of HvCallStartVirtualProcessor: a context KVM refuses (INVALID_REGISTER_VALUE, the
 * VP stays startable), starting a started VP (INVALID_VP_STATE), VP index N (INVALID_VP_INDEX),
 * target VTL 1 (INVALID_PARAMETER), a foreign partition ID (INVALID_PARTITION_ID). Every AP's
 * CPUID APIC IDs (leaf 1 EBX[31:24], leaf 0xB EDX) must equal its VP index.
 *
 * Command line: "smp=N" makes the VP count a checked expectation (else CPUID 0x40000005 says);
 * "synic" adds per-VP SynIC checks through connections that target VP1 and VP0 (the partition
 * to itself: tests/guest/smp-synic.ini).
 * Prints "BENCH ipi_roundtrip_tsc=... pio_tsc=..." for the benchmark scripts.
 */
#include "hvguest.h"

#define MAX_VPS       16u
#define AP_STACK_SIZE 16384u
#define IPI_VECTOR    0x40u    /* APs' handler; VP1 answers with PONG_VECTOR when asked */
#define PONG_VECTOR   0x41u
#define IPI_ROUNDS    20u
#define ICR_SELF      (1ull << 18)
#define ICR_ALL       (2ull << 18)
#define ICR_ALL_BUT_SELF (3ull << 18)

uint64_t hvg_hcpage;

static uint8_t hcpage[HVG_PAGE_SIZE] __attribute__((aligned(HVG_PAGE_SIZE)));
static uint8_t hc_in[HVG_PAGE_SIZE] __attribute__((aligned(HVG_PAGE_SIZE)));
static uint8_t hc_out[HVG_PAGE_SIZE] __attribute__((aligned(HVG_PAGE_SIZE)));
/* Each AP's own hypercall input and output pages. */
static uint8_t ap_pages[MAX_VPS][2][HVG_PAGE_SIZE] __attribute__((aligned(HVG_PAGE_SIZE)));
static uint8_t ap_stacks[MAX_VPS][AP_STACK_SIZE] __attribute__((aligned(16)));

/* What each AP saw, written by the AP (slot = its stack), read by VP0 once `seen` is set. */
struct ap_report {
	volatile uint32_t seen;
	uint32_t vp_index;            /* HV_X64_MSR_VP_INDEX */
	uint32_t apic_id;             /* CPUID.1:EBX[31:24] */
	uint32_t x2apic_id;           /* CPUID.0xB:EDX, or ~0 without leaf 0xB */
	uint64_t hypercall_msr;       /* the partition-wide HYPERCALL MSR as the AP reads it */
	uint64_t rflags;              /* at entry */
	uint64_t cr3;
	uint16_t hc_status;           /* its own HvCallGetVpIndexFromApicId */
	uint32_t hc_index;
};
static struct ap_report reports[MAX_VPS];

static struct hvg_lock print_lock;
static volatile uint32_t ipi_hits[MAX_VPS];   /* IPI_VECTOR taken, per VP */
static volatile uint32_t pongs;               /* PONG_VECTOR taken by VP0 */
static volatile uint32_t answer;              /* VP1 answers IPI_VECTOR with PONG_VECTOR */

/*
 * Per-VP SynIC (command line "synic", run from tests/guest/smp-synic.ini): connections of the
 * partition to itself that target VP1 (30: messages on SINT 2, 31: events on SINT 2) and VP0
 * (32, whose SIM page stays disabled). Each AP enables its SIM/SIEF pages at GPAs of its own.
 */
#define CONN_TO_VP1_MSG 30u
#define CONN_TO_VP1_EVT 31u
#define CONN_TO_VP0_MSG 32u
#define VP_SINT         2u
#define SINT_VECTOR     0x48u
#define VP_MSGS         10u
#define TYPE_VP_MSG     0x300u
static bool synic_mode;
/*
 * hvrun re-creates the partition's memory slots when a VP places an overlay page (SIM/SIEF):
 * it deletes the old RAM slots before creating the new ones, so a VP running at that moment can
 * find its code or page tables missing (#PF). Until that is fixed, VP0 starts the APs one by one
 * in synic mode and waits for each in `sti; hlt` (out of KVM_RUN) until the AP's "ready" IPI;
 * the other APs wait in `sti; hlt` too. "nohltwait" on the command line reproduces the bug.
 */
static bool halt_while_aps_set_up;
#define READY_VECTOR 0x42u
static volatile uint32_t readies;             /* READY_VECTOR taken by VP0 */
static uint8_t vp_simp[MAX_VPS][HVG_PAGE_SIZE] __attribute__((aligned(HVG_PAGE_SIZE)));
static uint8_t vp_siefp[MAX_VPS][HVG_PAGE_SIZE] __attribute__((aligned(HVG_PAGE_SIZE)));
static volatile uint32_t sint_irqs[MAX_VPS];     /* SINT_VECTOR taken, per VP */
static volatile uint32_t msgs_seen[MAX_VPS];     /* messages taken from the VP's slot */
static volatile uint32_t msg_order_errors[MAX_VPS];
static volatile uint32_t events_seen[MAX_VPS];   /* flag 0 of VP_SINT found set (and cleared) */

void ap_main(uint64_t entry_rsp);

/* APs start here with IF=0 and RSP = the top of their stack. */
__asm__(".pushsection .text\n"
	".globl ap_start\n"
	".type ap_start, @function\n"
	"ap_start:\n"
	"	movq %rsp, %rdi\n"
	"	andq $-16, %rsp\n"
	"	xorl %ebp, %ebp\n"
	"	call ap_main\n"
	"1:	sti\n"
	"	hlt\n"
	"	jmp 1b\n"
	".size ap_start, . - ap_start\n"
	".popsection\n");
extern char ap_start[];

static uint32_t vp_index(void)
{
	return (uint32_t)rdmsr(HV_X64_MSR_VP_INDEX);
}

static bool ipi_handler(struct exc_frame *f)
{
	uint32_t me = vp_index();

	(void)f;
	if (me < MAX_VPS)
		__atomic_fetch_add(&ipi_hits[me], 1u, __ATOMIC_RELAXED);
	if (me == 1 && answer)
		wrmsr(HV_X64_MSR_ICR, PONG_VECTOR | (0ull << 32));
	wrmsr(HV_X64_MSR_EOI, 0);
	return true;
}

/* SINT_VECTOR on any VP: take messages from this VP's own slot, count event flag 0. */
static bool sint_handler(struct exc_frame *f)
{
	uint32_t me = vp_index();
	volatile struct hv_message *slot;
	uint8_t *flags;

	(void)f;
	if (me >= MAX_VPS) {
		wrmsr(HV_X64_MSR_EOI, 0);
		return true;
	}
	slot = (volatile struct hv_message *)(vp_simp[me] + 256u * VP_SINT);
	flags = vp_siefp[me] + 256u * VP_SINT;
	sint_irqs[me] = sint_irqs[me] + 1;
	while (slot->header.message_type != HVMSG_NONE) {
		uint32_t seq = *(volatile uint32_t *)slot->payload.bytes;
		if (slot->header.message_type != TYPE_VP_MSG || seq != msgs_seen[me])
			msg_order_errors[me] = msg_order_errors[me] + 1;
		msgs_seen[me] = msgs_seen[me] + 1;
		slot->header.message_type = HVMSG_NONE;
		__asm__ volatile("mfence" ::: "memory");
		if (!(slot->header.message_flags & HV_MESSAGE_FLAG_PENDING))
			break;
		wrmsr(HV_X64_MSR_EOM, 0);
	}
	if (__atomic_fetch_and(&flags[0], (uint8_t)~1u, __ATOMIC_SEQ_CST) & 1)
		events_seen[me] = events_seen[me] + 1;
	wrmsr(HV_X64_MSR_EOI, 0);
	return true;
}

static bool ready_handler(struct exc_frame *f)
{
	(void)f;
	readies = readies + 1;
	wrmsr(HV_X64_MSR_EOI, 0);
	return true;
}

static bool pong_handler(struct exc_frame *f)
{
	(void)f;
	__atomic_fetch_add(&pongs, 1u, __ATOMIC_RELAXED);
	wrmsr(HV_X64_MSR_EOI, 0);
	return true;
}

/* HvCallGetVpIndexFromApicId for `n` APIC IDs starting at `first`, with input/output pages. */
static uint64_t vp_index_from_apic(uint8_t *in, uint8_t *out, uint32_t first, unsigned n)
{
	uint64_t *hdr = (uint64_t *)in;
	uint32_t *ids = (uint32_t *)(in + 16);

	hdr[0] = HV_PARTITION_ID_SELF;
	hdr[1] = 0;                          /* HV_INPUT_VTL 0, reserved */
	for (unsigned i = 0; i < n; i++)
		ids[i] = first + i;
	memset(out, 0xaa, 4 * n);
	return hv_call(HVCALL_GET_VP_INDEX_FROM_APIC_ID | hv_rep(n), (uintptr_t)in, (uintptr_t)out);
}

void ap_main(uint64_t entry_rsp)
{
	uint64_t base = (uintptr_t)ap_stacks;
	unsigned slot = (unsigned)((entry_rsp - base) / AP_STACK_SIZE) - 1;
	struct ap_report *r;
	uint64_t res;

	if (entry_rsp <= base || slot >= MAX_VPS)
		exit(GUEST_EXIT_PANIC);          /* not a stack VP0 handed out */
	r = &reports[slot];
	r->rflags = read_rflags();
	r->cr3 = read_cr3();
	r->vp_index = vp_index();
	r->apic_id = cpuid(1).ebx >> 24;
	r->x2apic_id = cpuid(0).eax >= 0xb ? cpuid_count(0xb, 0).edx : ~0u;
	r->hypercall_msr = rdmsr(HV_X64_MSR_HYPERCALL);
	/* A hypercall of its own: the VP index of APIC ID `slot` (KVM's APIC ID of vCPU n is n). */
	res = vp_index_from_apic(ap_pages[slot][0], ap_pages[slot][1], slot, 1);
	r->hc_status = hv_status(res);
	r->hc_index = *(volatile uint32_t *)ap_pages[slot][1];

	if (synic_mode && slot < MAX_VPS) {
		/* This VP's own SynIC: SIM page last, once its SINT can raise an interrupt. */
		wrmsr(HV_X64_MSR_SIEFP, (uintptr_t)vp_siefp[slot] | 1);
		wrmsr(HV_X64_MSR_SCONTROL, 1);
		wrmsr(HV_X64_MSR_SINT0 + VP_SINT, SINT_VECTOR);
		wrmsr(HV_X64_MSR_SIMP, (uintptr_t)vp_simp[slot] | 1);
	}
	hvg_lock(&print_lock);
	printf("VP %u reporting\n", r->vp_index);
	hvg_unlock(&print_lock);
	__atomic_store_n(&r->seen, 1u, __ATOMIC_RELEASE);
	wrmsr(HV_X64_MSR_ICR, READY_VECTOR | (0ull << 32));      /* VP0 may be waiting in hlt */
}

static uint64_t start_vp_cr4(uint64_t partition_id, uint32_t index, uint8_t vtl, uint64_t cr4_or)
{
	struct hv_start_vp_input *in = (struct hv_start_vp_input *)hc_in;
	unsigned slot = index < MAX_VPS ? index : 1;

	memset(in, 0, sizeof(*in));
	in->partition_id = partition_id;
	in->vp_index = index;
	in->target_vtl = vtl;
	hvg_build_context(&in->ctx, (uintptr_t)ap_start,
			  (uintptr_t)ap_stacks[slot] + AP_STACK_SIZE);
	in->ctx.cr4 |= cr4_or;
	return hv_call(HVCALL_START_VIRTUAL_PROCESSOR, (uintptr_t)hc_in, 0);
}

static uint64_t start_vp(uint64_t partition_id, uint32_t index, uint8_t vtl)
{
	return start_vp_cr4(partition_id, index, vtl, 0);
}

/* Spin with IF=1 until *v reaches `want` or `ms` pass. */
static bool wait_for(volatile uint32_t *v, uint32_t want, uint64_t ms)
{
	uint64_t deadline = hvg_deadline_ms(ms);

	while (__atomic_load_n(v, __ATOMIC_ACQUIRE) < want) {
		if (hvg_expired(deadline))
			return false;
		cpu_relax();
	}
	return true;
}

static void test_discovery(unsigned n)
{
	uint64_t res;
	bool ok = true;
	uint32_t *out = (uint32_t *)hc_out;

	report_prefix_push("discovery");
	report(vp_index() == 0, "VP0 reads VP_INDEX 0 (%u)", vp_index());
	report(cpuid(1).ebx >> 24 == 0, "VP0: CPUID.1:EBX[31:24] initial APIC ID is 0 (%u)", cpuid(1).ebx >> 24);
	if (cpuid(0).eax >= 0xb)
		report(cpuid_count(0xb, 0).edx == 0, "VP0: CPUID.0xB:EDX x2APIC ID is 0 (%u)",
		       cpuid_count(0xb, 0).edx);
	res = vp_index_from_apic(hc_in, hc_out, 0, n);
	for (unsigned i = 0; i < n; i++)
		ok &= out[i] == i;
	report(hv_status(res) == HV_STATUS_SUCCESS && hv_reps(res) == n && ok,
	       "HvCallGetVpIndexFromApicId maps APIC IDs 0..%u to VP 0..%u (status %#x, reps %u)",
	       n - 1, n - 1, hv_status(res), hv_reps(res));
	res = vp_index_from_apic(hc_in, hc_out, 0, n + 1);
	report(hv_status(res) != HV_STATUS_SUCCESS && hv_reps(res) == n,
	       "APIC ID %u (no such VP) fails after %u completed reps (status %#x, reps %u)", n, n,
	       hv_status(res), hv_reps(res));
	report_prefix_pop();
}

static bool test_start(unsigned n)
{
	uint64_t hc_msr = rdmsr(HV_X64_MSR_HYPERCALL);
	uint64_t deadline;
	unsigned arrived = 0;
	bool all_ok = true;
	uint16_t status[MAX_VPS];

	report_prefix_push("start");
	if (n >= 2) {
		/* A context KVM refuses (a reserved CR4 bit) fails and leaves the VP startable. */
		uint16_t st = hv_status(start_vp_cr4(HV_PARTITION_ID_SELF, 1, 0, 1ull << 63));
		report(st == HV_STATUS_INVALID_REGISTER_VALUE,
		       "an initial context with reserved CR4 bit 63: INVALID_REGISTER_VALUE (status %#x)", st);
	}
	/* Report only once the APs are quiet: their "VP n reporting" lines share the console. */
	for (unsigned i = 1; i < n; i++) {
		status[i] = hv_status(start_vp(HV_PARTITION_ID_SELF, i, 0));
		if (halt_while_aps_set_up && status[i] == HV_STATUS_SUCCESS) {
			/* Unbounded, but the timeout of the run bounds it (see halt_while_aps_set_up). */
			cli();
			while (readies < i) {
				sti_hlt();
				cli();
			}
		}
	}
	/* Bounded: an AP that never runs must not hang the test. */
	deadline = hvg_deadline_ms(20000);
	for (;;) {
		arrived = 0;
		for (unsigned i = 1; i < n; i++)
			arrived += __atomic_load_n(&reports[i].seen, __ATOMIC_ACQUIRE) != 0;
		if (arrived == n - 1 || hvg_expired(deadline))
			break;
		cpu_relax();
	}
	hvg_lock(&print_lock);      /* a late AP must not print into our lines */
	for (unsigned i = 1; i < n; i++)
		report(status[i] == HV_STATUS_SUCCESS, "HvCallStartVirtualProcessor VP %u (status %#x)", i,
		       status[i]);
	report(arrived == n - 1, "all %u APs reported within the deadline (%u did)", n - 1, arrived);
	for (unsigned i = 1; i < n; i++) {
		const struct ap_report *r = &reports[i];
		bool ok;
		if (!r->seen) {
			all_ok = false;
			continue;
		}
		ok = report(r->vp_index == i, "VP %u reads its own VP_INDEX (%u)", i, r->vp_index);
		ok &= report(r->hc_status == HV_STATUS_SUCCESS && r->hc_index == i,
			     "VP %u: its own HvCallGetVpIndexFromApicId maps APIC ID %u -> %u (status %#x)", i,
			     i, r->hc_index, r->hc_status);
		/* Not a reason to skip the IPI tests: they address VPs by index. */
		report(r->apic_id == i, "VP %u: CPUID.1:EBX[31:24] initial APIC ID is %u (%u)", i, i,
		       r->apic_id);
		if (r->x2apic_id != ~0u)
			report(r->x2apic_id == i, "VP %u: CPUID.0xB:EDX x2APIC ID is %u (%u)", i, i,
			       r->x2apic_id);
		ok &= report(r->hypercall_msr == hc_msr && r->cr3 == read_cr3() && !(r->rflags & (1u << 9)),
			     "VP %u: shares the hypercall page (%#lx), runs on VP0's CR3, starts with IF=0 "
			     "(RFLAGS %#lx)", i, r->hypercall_msr, r->rflags);
		all_ok &= ok;
	}
	hvg_unlock(&print_lock);
	report_prefix_pop();
	return all_ok && arrived == n - 1;
}

static uint64_t ipi_roundtrip_tsc;

static void test_ipi(unsigned n)
{
	uint64_t t[IPI_ROUNDS];
	uint32_t before[MAX_VPS];
	bool ok = true;
	unsigned done = 0;

	report_prefix_push("ipi");
	if (n < 2) {
		report_skip("one VP: no IPI between VPs");
		report_prefix_pop();
		return;
	}
	sti();
	/* Round trips VP0 -> VP1 (handler EOIs and answers) -> VP0. */
	answer = 1;
	for (unsigned r = 0; r < IPI_ROUNDS; r++) {
		uint32_t want = pongs + 1;
		uint64_t t0 = rdtsc();
		wrmsr(HV_X64_MSR_ICR, IPI_VECTOR | (1ull << 32));
		if (!wait_for(&pongs, want, 5000))
			break;
		t[done++] = rdtsc() - t0;
	}
	answer = 0;
	report(done == IPI_ROUNDS && ipi_hits[1] == IPI_ROUNDS && pongs == IPI_ROUNDS,
	       "%u IPI round trips VP0 -> VP1 -> VP0 (VP1 took %u, VP0 got %u answers)", IPI_ROUNDS,
	       ipi_hits[1], pongs);
	for (unsigned i = 0; i < n; i++)
		ok &= i == 1 || ipi_hits[i] == 0;
	report(ok, "a directed IPI reaches VP1 only");
	if (done)
		ipi_roundtrip_tsc = median_u64(t, done);

	/* Self (shorthand 1). */
	for (unsigned i = 0; i < n; i++)
		before[i] = ipi_hits[i];
	wrmsr(HV_X64_MSR_ICR, IPI_VECTOR | ICR_SELF | (5ull << 32));   /* destination ignored */
	ok = wait_for(&ipi_hits[0], before[0] + 1, 2000);
	for (unsigned i = 1; i < n; i++)
		ok &= ipi_hits[i] == before[i];
	report(ok, "self IPI (shorthand 1) reaches VP0 only (VP0 %u -> %u)", before[0], ipi_hits[0]);

	/* All including self (shorthand 2). */
	for (unsigned i = 0; i < n; i++)
		before[i] = ipi_hits[i];
	wrmsr(HV_X64_MSR_ICR, IPI_VECTOR | ICR_ALL);
	ok = true;
	for (unsigned i = 0; i < n; i++)
		ok &= wait_for(&ipi_hits[i], before[i] + 1, 5000);
	report(ok, "IPI to all including self (shorthand 2) reaches all %u VPs", n);

	/* All but self (shorthand 3). */
	for (unsigned i = 0; i < n; i++)
		before[i] = ipi_hits[i];
	wrmsr(HV_X64_MSR_ICR, IPI_VECTOR | ICR_ALL_BUT_SELF);
	ok = true;
	for (unsigned i = 1; i < n; i++)
		ok &= wait_for(&ipi_hits[i], before[i] + 1, 5000);
	/* Give a wrong self-delivery the chance to show: one more exit. */
	(void)rdmsr(HV_X64_MSR_VP_INDEX);
	ok &= ipi_hits[0] == before[0];
	report(ok, "IPI to all but self (shorthand 3) reaches the %u other VPs, not VP0", n - 1);

	/* TPR holds back a vector of its priority class until it is lowered. */
	before[0] = ipi_hits[0];
	wrmsr(HV_X64_MSR_TPR, IPI_VECTOR);                   /* class 4 */
	report(rdmsr(HV_X64_MSR_TPR) == IPI_VECTOR, "TPR reads back %#x", IPI_VECTOR);
	wrmsr(HV_X64_MSR_ICR, IPI_VECTOR | ICR_SELF);
	for (unsigned i = 0; i < 3; i++)
		(void)rdmsr(HV_X64_MSR_VP_INDEX);            /* exits: chances to inject */
	report(ipi_hits[0] == before[0], "TPR %#x holds back vector %#x (taken %u times)", IPI_VECTOR,
	       IPI_VECTOR, ipi_hits[0] - before[0]);
	wrmsr(HV_X64_MSR_TPR, 0);
	report(wait_for(&ipi_hits[0], before[0] + 1, 2000), "TPR 0 lets the held vector in");
	report_prefix_pop();
}

struct msr_write {
	uint32_t msr;
	uint64_t value;
};

static void do_wrmsr(void *arg)
{
	const struct msr_write *w = arg;

	wrmsr(w->msr, w->value);
}

static void test_icr_refusals(void)
{
	static const struct {
		uint64_t value;
		const char *what;
	} bad[] = {
		{ IPI_VECTOR | (5ull << 8) | (1ull << 32), "INIT delivery mode" },
		{ IPI_VECTOR | (4ull << 8) | (1ull << 32), "NMI delivery mode" },
		{ 0x0f | (1ull << 32), "vector 15" },
	};
	uint32_t before = ipi_hits[1];

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		struct msr_write w = { HV_X64_MSR_ICR, bad[i].value };
		struct exc_info info;
		int vec = catch_exception(do_wrmsr, &w, &info);
		report(vec == EXC_GP, "ICR write with %s raises #GP (vector %d)", bad[i].what, vec);
	}
	report(ipi_hits[1] == before, "no refused ICR write sent anything");
}

static uint16_t post_vp_msg(uint32_t conn, uint32_t seq)
{
	volatile uint32_t *in = (volatile uint32_t *)hc_in;

	in[0] = conn;
	in[1] = 0;
	in[2] = TYPE_VP_MSG;
	in[3] = 8;
	in[4] = seq;
	in[5] = ~seq;
	return hv_status(hv_call(HVCALL_POST_MESSAGE, (uintptr_t)hc_in, 0));
}

/* Messages and events for VP1 through connections that name it; VP0's own SIM page is off. */
static void test_vp_synic(unsigned n)
{
	volatile uint32_t *in = (volatile uint32_t *)hc_in;
	uint64_t deadline;
	unsigned posted = 0, busy = 0;
	uint16_t st = HV_STATUS_SUCCESS;
	bool ok;

	report_prefix_push("vp-synic");
	if (n < 2) {
		report_skip("one VP");
		report_prefix_pop();
		return;
	}
	sti();
	deadline = hvg_deadline_ms(10000);
	while (posted < VP_MSGS && !hvg_expired(deadline)) {
		st = post_vp_msg(CONN_TO_VP1_MSG, posted);
		if (st == HV_STATUS_SUCCESS)
			posted++;
		else if (st == HV_STATUS_INSUFFICIENT_BUFFERS)
			busy++;
		else
			break;
	}
	report(posted == VP_MSGS, "%u messages posted to VP1's SINT %u (%u busy retries, last status %#x)",
	       VP_MSGS, VP_SINT, busy, st);
	report(wait_for(&msgs_seen[1], VP_MSGS, 10000) && msg_order_errors[1] == 0,
	       "VP1 took all %u from its own slot, in order (%u, %u errors, %u interrupts)", VP_MSGS,
	       msgs_seen[1], msg_order_errors[1], sint_irqs[1]);
	report(sint_irqs[0] == 0 && msgs_seen[0] == 0, "VP0 saw none of them");

	in[0] = CONN_TO_VP1_EVT;
	in[1] = 0;                                   /* FlagNumber 0 */
	st = hv_status(hv_call(HVCALL_SIGNAL_EVENT, (uintptr_t)hc_in, 0));
	ok = st == HV_STATUS_SUCCESS && wait_for(&events_seen[1], 1, 5000);
	report(ok, "SignalEvent reaches VP1's SIEF page and interrupt (%#x, %u)", st, events_seen[1]);

	st = post_vp_msg(CONN_TO_VP0_MSG, 0);
	report(st == HV_STATUS_INVALID_SYNIC_STATE,
	       "a connection to VP0, whose SIM page is off: INVALID_SYNIC_STATE (%#x)", st);
	report_prefix_pop();
}

static void test_errors(unsigned n)
{
	uint64_t res;

	report_prefix_push("errors");
	if (n >= 2) {
		res = start_vp(HV_PARTITION_ID_SELF, 1, 0);
		report(hv_status(res) == HV_STATUS_INVALID_VP_STATE,
		       "starting VP1 again: INVALID_VP_STATE (status %#x)", hv_status(res));
	}
	res = start_vp(HV_PARTITION_ID_SELF, 0, 0);
	report(hv_status(res) == HV_STATUS_INVALID_VP_STATE,
	       "starting VP0 (running): INVALID_VP_STATE (status %#x)", hv_status(res));
	res = start_vp(HV_PARTITION_ID_SELF, n, 0);
	report(hv_status(res) == HV_STATUS_INVALID_VP_INDEX, "VP index %u: INVALID_VP_INDEX (status %#x)",
	       n, hv_status(res));
	res = start_vp(HV_PARTITION_ID_SELF, n > 1 ? n - 1 : 1, 1);
	report(hv_status(res) == HV_STATUS_INVALID_PARAMETER,
	       "target VTL 1: INVALID_PARAMETER (status %#x)", hv_status(res));
	res = start_vp(0x1234567ull, n > 1 ? n - 1 : 1, 0);
	report(hv_status(res) == HV_STATUS_INVALID_PARTITION_ID,
	       "another partition's ID: INVALID_PARTITION_ID (status %#x)", hv_status(res));
	report_prefix_pop();
}

int guest_main(const struct hvrun_boot_info *bi)
{
	char val[16];
	unsigned n;
	uint64_t pio;

	(void)bi;
	report_prefix_push("smp");
	idt_install();
	idt_set_handler(IPI_VECTOR, ipi_handler);
	idt_set_handler(PONG_VECTOR, pong_handler);
	idt_set_handler(SINT_VECTOR, sint_handler);
	idt_set_handler(READY_VECTOR, ready_handler);
	synic_mode = hvg_cmdline_has("synic");
	halt_while_aps_set_up = synic_mode && !hvg_cmdline_has("nohltwait");
	if (!hv_enable_hypercalls(hcpage)) {
		report_error("no Hyper-V interface or hypercall page");
		return report_summary();
	}
	n = cpuid(0x40000005).eax;
	if (hvg_cmdline_value("smp", val, sizeof(val)))
		report(n == hvg_parse_uint(val), "CPUID 0x40000005.EAX = %u VPs (expected %s)", n, val);
	if (n == 0 || n > MAX_VPS) {
		report_error("cannot work with %u VPs", n);
		return report_summary();
	}
	report_info("%u virtual processors", n);

	test_discovery(n);
	if (test_start(n))
		test_ipi(n);
	else
		report_skip("IPIs: not every AP is up");
	report_prefix_push("ipi");
	test_icr_refusals();
	report_prefix_pop();
	if (synic_mode)
		test_vp_synic(n);
	test_errors(n);
	cli();

	pio = hvg_pio_median(20);
	printf("BENCH ipi_roundtrip_tsc=%lu pio_tsc=%lu ipi_roundtrip_ns=%lu pio_ns=%lu tsc_hz=%lu\n",
	       ipi_roundtrip_tsc, pio, hvg_tsc_to_ns(ipi_roundtrip_tsc), hvg_tsc_to_ns(pio), hvg_tsc_hz());
	report_prefix_pop();
	/* The APs sit in `sti; hlt`: the debug-exit write below stops them with the partition. */
	return report_summary();
}
