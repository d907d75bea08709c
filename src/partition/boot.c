/* SPDX-License-Identifier: MIT */
/* Builds the state the guest boot contract promises (docs/guest-abi.md) in guest RAM and registers. */
#include "partition/boot.h"

#include <errno.h>
#include <string.h>

#include "hvrun/abi.h"

#define PTE_P   0x001ull
#define PTE_RW  0x002ull
#define PTE_A   0x020ull
#define PTE_D   0x040ull
#define PTE_PS  0x080ull

#define GDT_NULL   0x0000000000000000ull
/* Accessed bit preset (0x9b/0x93): a segment load must never write the GDT (platform.md). */
#define GDT_CODE64 0x00af9b000000ffffull
#define GDT_DATA   0x00cf93000000ffffull
#define TSS_OFFSET (HVRUN_TSS_GPA - HVRUN_GDT_GPA)
#define TSS_LIMIT  0x67u

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static int write_gdt(struct part_mem *mem, uint64_t base)
{
	uint8_t *gdt = part_mem_ptr(mem, base + HVRUN_GDT_GPA, 0x1000);
	uint64_t tss = base + HVRUN_GDT_GPA + TSS_OFFSET;

	if (!gdt)
		return -EINVAL;
	memset(gdt, 0, 0x1000);
	put64(gdt + 0x00, GDT_NULL);
	put64(gdt + HVRUN_SEL_CODE64, GDT_CODE64);
	put64(gdt + HVRUN_SEL_DATA, GDT_DATA);
	/* 64-bit TSS descriptor (16 bytes), type 0xb (busy) as loaded into TR. */
	uint64_t lo = TSS_LIMIT | (tss & 0xffffff) << 16 | 0x8bull << 40 | ((tss >> 24) & 0xff) << 56;
	put64(gdt + HVRUN_SEL_TSS, lo);
	put64(gdt + HVRUN_SEL_TSS + 8, tss >> 32);
	/* TSS: all zero except the I/O map base, placed past the limit (no I/O bitmap). */
	gdt[TSS_OFFSET + 0x66] = 0x68;
	return 0;
}

static int write_page_tables(struct part_mem *mem, uint64_t base)
{
	uint8_t *pml4 = part_mem_ptr(mem, base + HVRUN_PML4_GPA, 0x1000);
	uint8_t *pdpt = part_mem_ptr(mem, base + HVRUN_PDPT_GPA, 0x1000);
	uint8_t *pd = part_mem_ptr(mem, base + HVRUN_PD_GPA, 0x1000ull * HVRUN_PD_PAGES);

	if (!pml4 || !pdpt || !pd)
		return -EINVAL;
	memset(pml4, 0, 0x1000);
	memset(pdpt, 0, 0x1000);
	/*
	 * Accessed and dirty bits are preset: a page walk must never need to write these tables
	 * (they may sit in a page a VTL made read-only; compare the GDT accessed-bit trap).
	 */
	put64(pml4, (base + HVRUN_PDPT_GPA) | PTE_P | PTE_RW | PTE_A);
	for (unsigned i = 0; i < HVRUN_PD_PAGES; i++)
		put64(pdpt + 8 * i, (base + HVRUN_PD_GPA + 0x1000ull * i) | PTE_P | PTE_RW | PTE_A);
	/* Identity-map the low 4 GiB with 2 MiB pages: RAM and the MMIO hole above it. */
	for (uint64_t i = 0; i < 512ull * HVRUN_PD_PAGES; i++)
		put64(pd + 8 * i, (i << 21) | PTE_P | PTE_RW | PTE_PS | PTE_A | PTE_D);
	return 0;
}

static int write_boot_info(struct part_mem *mem, const struct part_boot_params *params)
{
	struct hvrun_boot_info *bi = part_mem_ptr(mem, HVRUN_BOOTINFO_GPA, sizeof(*bi));
	size_t len = params->cmdline ? strlen(params->cmdline) : 0;

	if (!bi)
		return -EINVAL;
	if (len >= HVRUN_CMDLINE_MAX)
		return -E2BIG;
	memset(bi, 0, sizeof(*bi));
	bi->magic = HVRUN_BOOTINFO_MAGIC;
	bi->version = HVRUN_BOOTINFO_VERSION;
	bi->size = sizeof(*bi);
	bi->vp_index = params->vp_index;
	bi->ram_base = mem->gpa_base;
	bi->ram_size = mem->size;
	bi->reserved_base = 0;
	bi->reserved_size = HVRUN_RESERVED_END;
	bi->image_base = params->image_base;
	bi->image_end = params->image_end;
	bi->tsc_hz = params->tsc_hz;
	bi->cmdline_len = (uint32_t)len;
	if (len)
		memcpy(bi->cmdline, params->cmdline, len);
	return 0;
}

int part_boot_write(struct part_mem *mem, const struct part_boot_params *params)
{
	int ret;

	if (mem->gpa_base != 0 || mem->size < HVRUN_MEM_MIN)
		return -EINVAL;
	ret = write_gdt(mem, 0);
	if (!ret)
		ret = write_page_tables(mem, 0);
	if (!ret)
		ret = write_boot_info(mem, params);
	return ret;
}

int part_boot_write_tables(struct part_mem *mem, uint64_t base)
{
	int ret;

	if (base & 0xfff)
		return -EINVAL;
	ret = write_gdt(mem, base);
	if (!ret)
		ret = write_page_tables(mem, base);
	return ret;
}

void part_boot_flat_segments(struct kvm_sregs *sregs)
{
	part_boot_flat_segments_at(sregs, 0);
}

void part_boot_flat_segments_at(struct kvm_sregs *sregs, uint64_t base)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = HVRUN_SEL_CODE64,
		.type = 11, .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = HVRUN_SEL_DATA,
		.type = 3, .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
	struct kvm_segment tr = {
		.base = base + HVRUN_GDT_GPA + TSS_OFFSET, .limit = TSS_LIMIT, .selector = HVRUN_SEL_TSS,
		.type = 11, .present = 1, .s = 0,
	};

	sregs->cs = code;
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
	sregs->tr = tr;
	sregs->gdt.base = base + HVRUN_GDT_GPA;
	sregs->gdt.limit = HVRUN_SEL_TSS + 16 - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
}

void part_boot_regs(const struct part_boot_params *params, struct kvm_regs *regs,
		    struct kvm_sregs *sregs)
{
	memset(regs, 0, sizeof(*regs));
	regs->rip = params->entry;
	regs->rsp = HVRUN_STACK_TOP;
	regs->rdi = HVRUN_BOOTINFO_GPA;
	regs->rflags = 0x2;     /* IF=0 */

	part_boot_long_mode(sregs, 0);
}

void part_boot_long_mode(struct kvm_sregs *sregs, uint64_t base)
{
	part_boot_flat_segments_at(sregs, base);
	sregs->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs->cr3 = base + HVRUN_PML4_GPA;
	sregs->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs->efer = EFER_LME | EFER_LMA | EFER_NXE;
}
