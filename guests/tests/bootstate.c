/* SPDX-License-Identifier: MIT */
/*
 * The entry state the boot contract promises (docs/guest-abi.md, "Entry state"), checked from
 * the registers start.S saved at the entry point and from the live control registers, GDT and
 * page tables. Read-only apart from one word at the top of RAM.
 */
#include "guest.h"

#define MSR_EFER   0xC0000080u
#define EFER_LME   (1ull << 8)
#define EFER_LMA   (1ull << 10)
#define EFER_NXE   (1ull << 11)
#define CR0_PE     (1ull << 0)
#define CR0_EM     (1ull << 2)
#define CR0_TS     (1ull << 3)
#define CR0_NE     (1ull << 5)
#define CR0_WP     (1ull << 16)
#define CR0_NW     (1ull << 29)
#define CR0_CD     (1ull << 30)
#define CR0_PG     (1ull << 31)
#define CR4_PAE    (1ull << 5)
#define CR4_PCIDE  (1ull << 17)
#define CR4_LA57   (1ull << 12)
#define RFLAGS_IF  (1ull << 9)
#define PTE_P      0x001ull
#define PTE_RW     0x002ull
#define PTE_US     0x004ull
#define PTE_PS     0x080ull
#define PAGE_2M    (2ull << 20)

static void test_registers(void)
{
	const struct guest_entry_regs *r = &guest_entry_regs;

	report_prefix_push("registers");
	report(r->rsp == HVRUN_STACK_TOP, "RSP = %#llx (%#lx)", HVRUN_STACK_TOP, r->rsp);
	report(r->rdi == HVRUN_BOOTINFO_GPA, "RDI = boot info %#llx (%#lx)", HVRUN_BOOTINFO_GPA, r->rdi);
	report(r->rflags == 0x2, "RFLAGS = 0x2: IF=0, DF=0 (%#lx)", r->rflags);
	report(!(read_rflags() & RFLAGS_IF), "IF still 0 in guest_main");
	report((r->rax | r->rbx | r->rcx | r->rdx | r->rsi | r->rbp | r->r8 | r->r9 | r->r10 |
		r->r11 | r->r12 | r->r13 | r->r14 | r->r15) == 0,
	       "other general registers are 0");
	report_prefix_pop();
}

static void test_segments(void)
{
	struct desc_ptr gdtr, idtr;
	const uint64_t *gdt;

	report_prefix_push("segments");
	report(read_cs() == HVRUN_SEL_CODE64, "CS = 0x08, CPL0 (%#x)", read_cs());
	report(read_ds() == HVRUN_SEL_DATA && read_ss() == HVRUN_SEL_DATA, "DS = SS = 0x10 (%#x %#x)",
	       read_ds(), read_ss());
	report(read_tr() == HVRUN_SEL_TSS, "TR = 0x18 (%#x)", read_tr());
	sgdt(&gdtr);
	report(gdtr.base == HVRUN_GDT_GPA && gdtr.limit == HVRUN_SEL_TSS + 16 - 1,
	       "GDTR base %#llx limit 0x27 (%#lx %#x)", HVRUN_GDT_GPA, gdtr.base, gdtr.limit);
	sidt(&idtr);
	report(idtr.limit == 0, "no IDT: IDTR limit 0 (%#x)", idtr.limit);

	gdt = (const uint64_t *)(uintptr_t)HVRUN_GDT_GPA;
	uint64_t code = gdt[HVRUN_SEL_CODE64 / 8], data = gdt[HVRUN_SEL_DATA / 8];
	/* Type byte is bits 40..47: P, DPL, S, type; bit 40 is the accessed bit. */
	report(((code >> 40) & 0xff) == 0x9b && (code >> 53 & 1), "code descriptor: 64-bit, "
	       "present, DPL0, accessed (%#lx)", code);
	report(((data >> 40) & 0xff) == 0x93, "data descriptor: present, DPL0, writable, accessed "
	       "(%#lx)", data);
	report_prefix_pop();
}

static void test_paging(void)
{
	uint64_t cr0 = read_cr0(), cr3 = read_cr3(), cr4 = read_cr4(), efer = rdmsr(MSR_EFER);

	report_prefix_push("paging");
	report((cr0 & (CR0_PE | CR0_PG | CR0_WP | CR0_NE)) == (CR0_PE | CR0_PG | CR0_WP | CR0_NE) &&
	       !(cr0 & (CR0_EM | CR0_TS | CR0_CD | CR0_NW)), "CR0: PE PG WP NE set, EM TS CD NW "
	       "clear (%#lx)", cr0);
	report(cr3 == HVRUN_PML4_GPA, "CR3 = %#llx (%#lx)", HVRUN_PML4_GPA, cr3);
	report((cr4 & CR4_PAE) && !(cr4 & (CR4_PCIDE | CR4_LA57)), "CR4: PAE, 4-level, no PCID "
	       "(%#lx)", cr4);
	report((efer & (EFER_LME | EFER_LMA | EFER_NXE)) == (EFER_LME | EFER_LMA | EFER_NXE),
	       "EFER: LME LMA NXE (%#lx)", efer);

	const uint64_t *pml4 = (const uint64_t *)(uintptr_t)HVRUN_PML4_GPA;
	const uint64_t *pdpt = (const uint64_t *)(uintptr_t)HVRUN_PDPT_GPA;
	const uint64_t *pd = (const uint64_t *)(uintptr_t)HVRUN_PD_GPA;
	bool upper_ok = true, pdpt_ok = true;

	for (unsigned i = 1; i < 512; i++)
		upper_ok &= pml4[i] == 0;
	for (unsigned i = 0; i < HVRUN_PD_PAGES; i++)
		pdpt_ok &= (pdpt[i] & ~0xfffull) == HVRUN_PD_GPA + 0x1000ull * i && (pdpt[i] & PTE_P);
	for (unsigned i = HVRUN_PD_PAGES; i < 512; i++)
		pdpt_ok &= !(pdpt[i] & PTE_P);
	report((pml4[0] & ~0xfffull) == HVRUN_PDPT_GPA && (pml4[0] & PTE_P) && upper_ok,
	       "PML4: one entry, for the low 512 GiB (%#lx)", pml4[0]);
	report(pdpt_ok, "PDPT: 4 page directories, nothing above 4 GiB");

	unsigned bad = 0, first_bad = 0;
	for (unsigned i = 0; i < 512 * HVRUN_PD_PAGES; i++) {
		uint64_t want = (uint64_t)i * PAGE_2M | PTE_P | PTE_RW | PTE_PS;
		if ((pd[i] & ~(0x60ull)) != want) {   /* ignore accessed/dirty */
			if (!bad++)
				first_bad = i;
		}
	}
	report(!bad, "identity map of 4 GiB with 2 MiB pages, RW, supervisor (%u bad, first %u)",
	       bad, first_bad);
	report_prefix_pop();
}

static void test_boot_info(const struct hvrun_boot_info *bi)
{
	report_prefix_push("boot info");
	report(bi->magic == HVRUN_BOOTINFO_MAGIC && bi->version == HVRUN_BOOTINFO_VERSION &&
	       bi->size == sizeof(*bi), "magic %#x version %u size %u", bi->magic, bi->version,
	       bi->size);
	report(bi->ram_base == 0 && bi->ram_size >= HVRUN_MEM_MIN && bi->ram_size <= HVRUN_MEM_MAX,
	       "RAM [%#lx, +%#lx) within 2 MiB..3 GiB", bi->ram_base, bi->ram_size);
	report(bi->reserved_base == 0 && bi->reserved_size == HVRUN_RESERVED_END,
	       "reserved area [%#lx, +%#lx)", bi->reserved_base, bi->reserved_size);
	report(bi->image_base == (uintptr_t)__image_start && bi->image_end == (uintptr_t)__bss_end,
	       "image [%#lx, %#lx) matches the link (%p, %p)", bi->image_base, bi->image_end,
	       (void *)__image_start, (void *)__bss_end);
	report(bi->cmdline_len < HVRUN_CMDLINE_MAX && bi->cmdline[bi->cmdline_len] == '\0' &&
	       strlen(bi->cmdline) == bi->cmdline_len, "cmdline NUL-terminated, %u bytes",
	       bi->cmdline_len);
	report(bi->flags == 0 && bi->reserved0 == 0, "flags and reserved0 are 0");
	report_info("vp %u, tsc_hz %lu, cmdline \"%s\"", bi->vp_index, bi->tsc_hz, bi->cmdline);

	/* The last word of RAM is RAM: writable and readable back. */
	if (bi->ram_size >= HVRUN_MEM_MIN && bi->ram_size <= HVRUN_MEM_MAX) {
		volatile uint64_t *top = (volatile uint64_t *)(uintptr_t)(bi->ram_base + bi->ram_size - 8);
		*top = 0x5a5a5a5a12345678ull;
		report(*top == 0x5a5a5a5a12345678ull, "last word of RAM (%p) is writable", (void *)top);
	} else {
		report_skip("last word of RAM: ram_size out of range");
	}
	report_prefix_pop();
}

int guest_main(const struct hvrun_boot_info *bi)
{
	report_prefix_push("bootstate");
	test_registers();
	test_segments();
	test_paging();
	test_boot_info(bi);
	report_prefix_pop();
	return report_summary();
}
