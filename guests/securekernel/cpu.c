/* SPDX-License-Identifier: MIT */
/*
 * The secure kernel's own CPU world: GDT with user segments, a TSS whose RSP0 catches the
 * trustlet's int $0x80, an IDT, page tables that separate kernel, trustlet and VTL0 memory, and
 * the CPL0 <-> CPL3 round trip of a trustlet request.
 */
#include "sk.h"

#include "idt.h"
#include "io.h"
#include "setjmp.h"
#include "string.h"
#include "x86.h"

#define PTE_P    (1ull << 0)
#define PTE_RW   (1ull << 1)
#define PTE_US   (1ull << 2)
#define PTE_A    (1ull << 5)
#define PTE_D    (1ull << 6)
#define PTE_PS   (1ull << 7)
#define PTE_NX   (1ull << 63)
#define PAGE_2M  (2ull << 20)

#define GATE_INTR_DPL0 0x8Eu
#define GATE_INTR_DPL3 0xEEu
#define IDT_VECTORS    (SK_VEC_TRUSTLET + 1)
#define STUB_SIZE      16

extern char __image_start[], __image_end[];
extern char __sk_shared_start[], __sk_shared_end[];
extern char __sk_user_start[], __sk_user_end[];
extern char idt_stubs[];                      /* guests/lib/entry.S: 16-byte stubs per vector */
extern char sk_user_start[];                  /* entry.S: the trustlet's entry (CPL3) */
void sk_user_enter(uint64_t rip, uint64_t rsp, void *arg) __attribute__((noreturn));
void sk_reload_kernel_ss(void);
void exc_dispatch(struct exc_frame *f);

/* Descriptors with their accessed bits preset (platform rule). */
static uint64_t gdt[8] __attribute__((aligned(16))) = {
	0,
	0x00af9b000000ffffull,  /* 0x08 kernel code, 64-bit */
	0x00cf93000000ffffull,  /* 0x10 kernel data */
	0, 0,                   /* 0x18 TSS (16 bytes), filled in below */
	0x00affb000000ffffull,  /* 0x28 user code, 64-bit, DPL 3 */
	0x00cff3000000ffffull,  /* 0x30 user data, DPL 3 */
	0,
};
static struct tss64 tss __attribute__((aligned(16)));
static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));
/* RSP0: where the CPU switches when the trustlet traps to CPL0. */
static uint8_t trap_stack[8192] __attribute__((aligned(16)));
/* The trustlet's stack lives in its own pages. */
static uint8_t user_stack[16384] __attribute__((aligned(16), section(".bss.user")));

static uint64_t next_free, free_end;
static uint64_t *pml4, *pt_image;

void *sk_alloc_pages(unsigned n)
{
	uint64_t gpa = next_free;

	if (!next_free) {
		next_free = (sk_lb->vtl1_free + SK_PAGE_MASK) & ~SK_PAGE_MASK;
		free_end = sk_lb->vtl1_base + sk_lb->vtl1_size;
		if (next_free < (uintptr_t)__image_end)
			next_free = (uintptr_t)__image_end;
		gpa = next_free;
	}
	if (n == 0 || gpa + n * SK_PAGE_SIZE > free_end || gpa + n * SK_PAGE_SIZE < gpa)
		sk_fail("out of private memory (%u pages wanted at %#lx, end %#lx)", n, gpa, free_end);
	next_free = gpa + n * SK_PAGE_SIZE;
	/* One emulated `rep stosq` per allocation. */
	void *d = (void *)(uintptr_t)gpa;
	uint64_t count = n * SK_PAGE_SIZE / 8;
	__asm__ volatile("rep stosq" : "+D"(d), "+c"(count) : "a"(0ull) : "memory");
	return (void *)(uintptr_t)gpa;
}

static void set_gate(unsigned vec, uint8_t type)
{
	uint64_t addr = (uintptr_t)idt_stubs + (uint64_t)vec * STUB_SIZE;

	idt[vec] = (struct idt_gate){
		.offset0 = (uint16_t)addr, .selector = SK_SEL_KCODE, .ist = 0, .type_attr = type,
		.offset1 = (uint16_t)(addr >> 16), .offset2 = (uint32_t)(addr >> 32),
	};
}

void sk_cpu_init(void)
{
	uint64_t base = (uintptr_t)&tss, limit = sizeof(tss) - 1;
	struct desc_ptr gdtr = { .limit = sizeof(gdt) - 1, .base = (uintptr_t)gdt };
	struct desc_ptr idtr = { .limit = sizeof(idt) - 1, .base = (uintptr_t)idt };

	tss.rsp[0] = (uintptr_t)trap_stack + sizeof(trap_stack);
	tss.iomap_base = sizeof(tss);               /* no I/O bitmap: CPL3 port access is #GP */
	/* 64-bit available TSS (type 9, present): ltr marks it busy in our (writable) GDT. */
	gdt[SK_SEL_TSS / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 |
			      ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	gdt[SK_SEL_TSS / 8 + 1] = base >> 32;
	for (unsigned v = 0; v < 32; v++)
		set_gate(v, GATE_INTR_DPL0);
	set_gate(SK_VEC_TRUSTLET, GATE_INTR_DPL3);
	__asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)SK_SEL_TSS) : "memory");
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

/*
 * Page tables of our own, in private memory:
 *   identity map of VTL0 RAM (2 MiB pages, supervisor RW, NX) for the kernel's own accesses;
 *   identity map of VTL1 private memory, its first 2 MiB in 4 KiB pages: the shared image part
 *     user RX (read-only for everyone: W^X in VTL1 too), the trustlet's pages user RW NX, the rest
 *     supervisor RW NX;
 *   VTL0 RAM again at SK_VTL0_WINDOW: user, read-only, NX, for the trustlet's inputs.
 * Nothing else is mapped (the MMIO hole and the rest of the 4 GiB fault).
 */
void sk_paging_init(uint64_t vtl0_ram_end)
{
	uint64_t vtl1_base = sk_lb->vtl1_base, vtl1_size = sk_lb->vtl1_size;
	uint64_t ram_2m = (vtl0_ram_end + PAGE_2M - 1) / PAGE_2M;
	uint64_t *pdpt, *pdpt_win, *pd, *pd_win, *pt;
	const uint64_t upper = PTE_P | PTE_RW | PTE_US | PTE_A;

	if ((vtl1_base & (PAGE_2M - 1)) || vtl1_base + vtl1_size > (4ull << 30) || vtl0_ram_end > vtl1_base)
		sk_fail("memory layout not supported (VTL0 RAM end %#lx, VTL1 %#lx+%#lx)", vtl0_ram_end,
			vtl1_base, vtl1_size);
	pml4 = sk_alloc_pages(1);
	pdpt = sk_alloc_pages(1);
	pdpt_win = sk_alloc_pages(1);
	pd = sk_alloc_pages(4);              /* 4 GiB of 2 MiB entries */
	pd_win = sk_alloc_pages(3);          /* up to 3 GiB of VTL0 RAM */
	pt = sk_alloc_pages(1);              /* first 2 MiB of private memory */

	pml4[0] = (uintptr_t)pdpt | upper;
	pml4[SK_VTL0_WINDOW >> 39] = (uintptr_t)pdpt_win | upper;
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = ((uintptr_t)pd + i * SK_PAGE_SIZE) | upper;
	for (unsigned i = 0; i < 3; i++)
		pdpt_win[i] = ((uintptr_t)pd_win + i * SK_PAGE_SIZE) | upper;

	for (uint64_t i = 0; i < ram_2m; i++) {
		pd[i] = i * PAGE_2M | PTE_P | PTE_RW | PTE_PS | PTE_A | PTE_D | PTE_NX;
		pd_win[i] = i * PAGE_2M | PTE_P | PTE_US | PTE_PS | PTE_A | PTE_NX;
	}
	/* Private memory: 4 KiB pages for the first 2 MiB (the image), 2 MiB pages after it. */
	pd[vtl1_base / PAGE_2M] = (uintptr_t)pt | upper;
	for (uint64_t a = vtl1_base + PAGE_2M; a < vtl1_base + vtl1_size; a += PAGE_2M)
		pd[a / PAGE_2M] = a | PTE_P | PTE_RW | PTE_PS | PTE_A | PTE_D | PTE_NX;
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t a = vtl1_base + i * SK_PAGE_SIZE, e;
		if (a >= (uintptr_t)__sk_shared_start && a < (uintptr_t)__sk_shared_end)
			e = a | PTE_P | PTE_US | PTE_A;
		else if (a >= (uintptr_t)__sk_user_start && a < (uintptr_t)__sk_user_end)
			e = a | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D | PTE_NX;
		else if (a < vtl1_base + vtl1_size)
			e = a | PTE_P | PTE_RW | PTE_A | PTE_D | PTE_NX;
		else
			e = 0;
		pt[i] = e;
	}
	pt_image = pt;
	write_cr3((uintptr_t)pml4);
}

/* Make one page of the first 2 MiB supervisor read+execute (the hypercall page overlay). */
void sk_map_kernel_exec(uint64_t gpa)
{
	uint64_t base = sk_lb->vtl1_base;

	if (gpa < base || gpa >= base + PAGE_2M || (gpa & SK_PAGE_MASK))
		sk_fail("cannot map %#lx executable: not a page of the image's first 2 MiB", gpa);
	pt_image[(gpa - base) / SK_PAGE_SIZE] = gpa | PTE_P | PTE_A;
	__asm__ volatile("invlpg (%0)" : : "r"(gpa) : "memory");
}

uint64_t sk_pml4_gpa(void)
{
	return (uintptr_t)pml4;
}

/* ---- exceptions and the trustlet round trip ---- */

static jmp_buf tl_jb, msr_jb;
static volatile bool tl_active, msr_active;
static volatile uint64_t tl_result;
static volatile int tl_fault_vector, msr_fault_vector;
static volatile uint64_t tl_fault_rip, tl_fault_error, tl_fault_cr2;
bool sk_trustlet_ok = true;
uint64_t sk_trustlet_tsc, sk_trustlet_calls;

int sk_wrmsr_checked(uint32_t msr, uint64_t value)
{
	msr_fault_vector = 0;
	if (setjmp(msr_jb) == 0) {
		msr_active = true;
		wrmsr(msr, value);
	}
	msr_active = false;
	return msr_fault_vector;
}

void exc_dispatch(struct exc_frame *f)
{
	unsigned vec = (unsigned)f->vector;

	if ((f->cs & 3) == 3 && tl_active) {
		tl_fault_vector = vec == SK_VEC_TRUSTLET ? -1 : (int)vec;
		tl_result = f->rax;
		tl_fault_rip = f->rip;
		tl_fault_error = f->error_code;
		tl_fault_cr2 = vec == EXC_PF ? read_cr2() : 0;
		longjmp(tl_jb, 1);
	}
	if (vec == EXC_GP && msr_active) {
		msr_fault_vector = (int)vec;
		longjmp(msr_jb, 1);
	}
	sk_fail("fatal %s (vector %u) error code %#lx at RIP %#lx, CR2 %#lx, RSP %#lx", exception_name(vec),
		vec, f->error_code, f->rip, vec == EXC_PF ? read_cr2() : 0, f->rsp);
}

const char *exception_name(unsigned vector)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
		"#SS", "#GP", "#PF", NULL, "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	};

	return vector < 32 && names[vector] ? names[vector] : "exception";
}

uint64_t sk_trustlet_call(struct tl_request *req)
{
	uint64_t t0 = rdtsc();

	sk_trustlet_calls++;
	if (!sk_trustlet_ok)
		goto cpl0;
	if (setjmp(tl_jb) == 0) {
		tl_active = true;
		sk_user_enter((uintptr_t)sk_user_start, (uintptr_t)user_stack + sizeof(user_stack), req);
	}
	tl_active = false;
	sk_reload_kernel_ss();
	if (tl_fault_vector < 0) {
		sk_trustlet_tsc += rdtsc() - t0;
		return tl_result;
	}
	if (tl_fault_vector == EXC_PF)
		write_cr2(sk_vtl0_cr2);        /* the fault's CR2 is ours, not VTL0's */
	sk_trustlet_ok = false;
	sk_status &= ~SK_STATUS_TRUSTLET;
	sk_log("trustlet fault: %s error %#lx at RIP %#lx (CR2 %#lx): hashing falls back to CPL0",
	       exception_name((unsigned)tl_fault_vector), tl_fault_error, tl_fault_rip, tl_fault_cr2);
cpl0:
	{
		uint64_t r = tl_main(req);
		sk_trustlet_tsc += rdtsc() - t0;
		return r;
	}
}
