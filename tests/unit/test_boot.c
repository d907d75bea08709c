/* SPDX-License-Identifier: MIT */
/* Unit tests for the boot contract: GDT/TSS, identity page tables, boot info block and initial VP state. */
#include "partition/boot.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hvrun/abi.h"

#define RAM_SIZE   (8ull << 20)
#define FILL       0xAA

#define PTE_P      0x001ull
#define PTE_RW     0x002ull
#define PTE_US     0x004ull
#define PTE_A      0x020ull
#define PTE_D      0x040ull
#define PTE_PS     0x080ull
#define PTE_NX     (1ull << 63)
#define ADDR_4K    0x000ffffffffff000ull
#define ADDR_2M    0x000fffffffe00000ull

#define CR0_PE     (1ull << 0)
#define CR0_PG     (1ull << 31)
#define CR4_PAE    (1ull << 5)
#define EFER_LME   (1ull << 8)
#define EFER_LMA   (1ull << 10)
#define RFLAGS_IF  (1ull << 9)

#define ENTRY      0x100040ull
#define IMG_BASE   0x100000ull
#define IMG_END    0x180000ull
#define TSC_HZ     2999999999ull
#define VP_INDEX   3u
#define CMDLINE    "console=ttyS0 hello=world"

struct fixture {
	uint8_t *ram;
	struct part_mem mem;
	struct part_boot_params params;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->ram = malloc(RAM_SIZE);
	if (!f->ram) {
		free(f);
		return -1;
	}
	memset(f->ram, FILL, RAM_SIZE);
	part_mem_wrap(&f->mem, f->ram, 0, RAM_SIZE);
	f->params.entry = ENTRY;
	f->params.image_base = IMG_BASE;
	f->params.image_end = IMG_END;
	f->params.tsc_hz = TSC_HZ;
	f->params.vp_index = VP_INDEX;
	f->params.cmdline = CMDLINE;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->ram);
	free(f);
	return 0;
}

static uint64_t rd64(const struct fixture *f, uint64_t gpa)
{
	uint64_t v;

	if (gpa > RAM_SIZE - 8)
		fail_msg("read of %#llx is outside the test RAM", (unsigned long long)gpa);
	memcpy(&v, f->ram + gpa, sizeof(v));
	return v;
}

static void write_ok(struct fixture *f)
{
	int ret = part_boot_write(&f->mem, &f->params);

	if (ret)
		fail_msg("part_boot_write failed: %d", ret);
}

static void read_boot_info(const struct fixture *f, struct hvrun_boot_info *bi)
{
	memcpy(bi, f->ram + HVRUN_BOOTINFO_GPA, sizeof(*bi));
}

/*
 * Translate `va` with the guest's 4-level page tables rooted at `cr3`, as the CPU would; every
 * level must be present and writable, and the leaf a 2 MiB page. Returns the physical address.
 */
static uint64_t walk(const struct fixture *f, uint64_t cr3, uint64_t va)
{
	uint64_t e, table = cr3 & ADDR_4K;
	static const unsigned shifts[] = { 39, 30, 21 };

	for (unsigned level = 0; level < 3; level++) {
		unsigned idx = (unsigned)(va >> shifts[level]) & 511;

		/* the tables themselves must live in hvrun's reserved area */
		if (table < HVRUN_GDT_GPA || table >= HVRUN_RESERVED_END)
			fail_msg("va %#llx: level %u table at %#llx outside the reserved area",
				 (unsigned long long)va, level, (unsigned long long)table);
		e = rd64(f, table + 8ull * idx);
		if ((e & (PTE_P | PTE_RW)) != (PTE_P | PTE_RW))
			fail_msg("va %#llx: level %u entry %u = %#llx lacks P|RW", (unsigned long long)va,
				 level, idx, (unsigned long long)e);
		if (e & (PTE_NX | PTE_US))
			fail_msg("va %#llx: level %u entry %#llx is NX or user", (unsigned long long)va,
				 level, (unsigned long long)e);
		if (level < 2) {
			if (e & PTE_PS)
				fail_msg("va %#llx: level %u entry has PS set", (unsigned long long)va, level);
			table = e & ADDR_4K;
		} else {
			if (!(e & PTE_PS))
				fail_msg("va %#llx: PD entry %#llx is not a 2 MiB page", (unsigned long long)va,
					 (unsigned long long)e);
			return (e & ADDR_2M) | (va & 0x1fffffull);
		}
	}
	return UINT64_MAX;
}

/* Decode the fields of an 8-byte code/data segment descriptor. */
struct desc {
	uint32_t base, limit;
	unsigned type, s, dpl, p, l, db, g;
};

static struct desc decode_desc(uint64_t d)
{
	struct desc r;

	r.limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	r.base = (uint32_t)(((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24));
	r.type = (d >> 40) & 0xf;
	r.s = (d >> 44) & 1;
	r.dpl = (d >> 45) & 3;
	r.p = (d >> 47) & 1;
	r.l = (d >> 53) & 1;
	r.db = (d >> 54) & 1;
	r.g = (d >> 55) & 1;
	return r;
}

/* ---- part_boot_write ---- */

static void test_gdt(void **state)
{
	struct fixture *f = *state;

	write_ok(f);
	assert_int_equal(rd64(f, HVRUN_GDT_GPA + 0), 0);
	assert_int_equal(rd64(f, HVRUN_GDT_GPA + HVRUN_SEL_CODE64), 0x00af9b000000ffffull);
	assert_int_equal(rd64(f, HVRUN_GDT_GPA + HVRUN_SEL_DATA), 0x00cf93000000ffffull);

	/* code: 64-bit (L=1, D=0), present, DPL 0, execute/read, accessed preset */
	struct desc c = decode_desc(rd64(f, HVRUN_GDT_GPA + HVRUN_SEL_CODE64));
	assert_int_equal(c.type, 0xb);
	assert_int_equal(c.s, 1);
	assert_int_equal(c.dpl, 0);
	assert_int_equal(c.p, 1);
	assert_int_equal(c.l, 1);
	assert_int_equal(c.db, 0);
	/* data: read/write, accessed preset, flat 4 GiB */
	struct desc d = decode_desc(rd64(f, HVRUN_GDT_GPA + HVRUN_SEL_DATA));
	assert_int_equal(d.type, 0x3);
	assert_int_equal(d.s, 1);
	assert_int_equal(d.p, 1);
	assert_int_equal(d.base, 0);
	assert_int_equal(d.limit, 0xfffff);
	assert_int_equal(d.g, 1);
	assert_int_equal(d.db, 1);
}

static void test_tss_descriptor(void **state)
{
	struct fixture *f = *state;
	uint64_t lo, hi, base;

	write_ok(f);
	lo = rd64(f, HVRUN_GDT_GPA + HVRUN_SEL_TSS);
	hi = rd64(f, HVRUN_GDT_GPA + HVRUN_SEL_TSS + 8);
	base = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24) | ((hi & 0xffffffff) << 32);
	assert_int_equal(base, HVRUN_GDT_GPA + 0x80);
	assert_int_equal((lo >> 40) & 0xf, 0xb);            /* 64-bit TSS, busy */
	assert_int_equal((lo >> 44) & 1, 0);                /* system descriptor */
	assert_int_equal((lo >> 45) & 3, 0);                /* DPL 0 */
	assert_int_equal((lo >> 47) & 1, 1);                /* present */
	assert_int_equal((lo & 0xffff) | ((lo >> 32) & 0xf0000), 0x67);
	assert_int_equal(hi >> 32, 0);                      /* reserved upper half */

	/* the TSS itself is zero (no RSP0/IST) except its I/O map base, past the limit */
	for (uint64_t i = 0; i < 0x66; i++)
		if (f->ram[HVRUN_GDT_GPA + 0x80 + i] != 0)
			fail_msg("TSS byte %#llx is %#x", (unsigned long long)i,
				 f->ram[HVRUN_GDT_GPA + 0x80 + i]);
	assert_int_equal(f->ram[HVRUN_GDT_GPA + 0x80 + 0x66] |
			 f->ram[HVRUN_GDT_GPA + 0x80 + 0x67] << 8, 0x68);
	/* the rest of the GDT page is cleared (no stale descriptors) */
	assert_int_equal(rd64(f, HVRUN_GDT_GPA + 0x28), 0);
	assert_int_equal(rd64(f, HVRUN_GDT_GPA + 0xff8), 0);
}

static void test_page_table_structure(void **state)
{
	struct fixture *f = *state;

	write_ok(f);
	assert_int_equal(rd64(f, HVRUN_PML4_GPA), HVRUN_PDPT_GPA | PTE_P | PTE_RW | PTE_A);
	for (unsigned i = 1; i < 512; i++)
		if (rd64(f, HVRUN_PML4_GPA + 8ull * i) != 0)
			fail_msg("PML4[%u] is not empty", i);
	for (unsigned i = 0; i < HVRUN_PD_PAGES; i++)
		assert_int_equal(rd64(f, HVRUN_PDPT_GPA + 8ull * i),
				 (HVRUN_PD_GPA + 0x1000ull * i) | PTE_P | PTE_RW | PTE_A);
	for (unsigned i = HVRUN_PD_PAGES; i < 512; i++)
		if (rd64(f, HVRUN_PDPT_GPA + 8ull * i) != 0)
			fail_msg("PDPT[%u] maps above 4 GiB", i);
	/* every 2 MiB entry of the 4 PD pages */
	for (uint64_t i = 0; i < 512ull * HVRUN_PD_PAGES; i++) {
		uint64_t e = rd64(f, HVRUN_PD_GPA + 8 * i);
		if (e != ((i << 21) | PTE_P | PTE_RW | PTE_PS | PTE_A | PTE_D))
			fail_msg("PD entry %llu is %#llx", (unsigned long long)i, (unsigned long long)e);
	}
	/* the PD pages end where the boot info begins */
	assert_true(HVRUN_PD_GPA + 0x1000ull * HVRUN_PD_PAGES <= HVRUN_BOOTINFO_GPA);
}

static void test_identity_map_walk(void **state)
{
	struct fixture *f = *state;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	const uint64_t samples[] = {
		0, 0x1000, HVRUN_STACK_TOP - 8, 0x100000, ENTRY, 0x1fffff, 0x200000,
		RAM_SIZE - 1, RAM_SIZE, 0x3fffffff, 0x40000000, 0x80000000, 0xbfffffff,
		HVRUN_MMIO_HOLE_BASE, 0xD0000000, 0xFEE00000, 0xFFFFFFFF,
	};

	write_ok(f);
	memset(&sregs, 0, sizeof(sregs));
	part_boot_regs(&f->params, &regs, &sregs);
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		uint64_t pa = walk(f, sregs.cr3, samples[i]);
		if (pa != samples[i])
			fail_msg("GVA %#llx maps to GPA %#llx", (unsigned long long)samples[i],
				 (unsigned long long)pa);
	}
}

static void test_boot_info(void **state)
{
	struct fixture *f = *state;
	struct hvrun_boot_info bi;

	write_ok(f);
	read_boot_info(f, &bi);
	assert_int_equal(bi.magic, HVRUN_BOOTINFO_MAGIC);
	assert_memory_equal(&bi.magic, "HVBI", 4);
	assert_int_equal(bi.version, HVRUN_BOOTINFO_VERSION);
	assert_int_equal(bi.size, sizeof(struct hvrun_boot_info));
	assert_int_equal(bi.vp_index, VP_INDEX);
	assert_int_equal(bi.flags, 0);
	assert_int_equal(bi.ram_base, 0);
	assert_int_equal(bi.ram_size, RAM_SIZE);
	assert_int_equal(bi.reserved_base, 0);
	assert_int_equal(bi.reserved_size, HVRUN_RESERVED_END);
	assert_int_equal(bi.image_base, IMG_BASE);
	assert_int_equal(bi.image_end, IMG_END);
	assert_int_equal(bi.tsc_hz, TSC_HZ);
	assert_int_equal(bi.cmdline_len, strlen(CMDLINE));
	assert_int_equal(bi.reserved0, 0);
	assert_string_equal(bi.cmdline, CMDLINE);
	/* NUL-terminated, and the rest of the buffer is zero (RAM was 0xAA) */
	for (size_t i = strlen(CMDLINE); i < HVRUN_CMDLINE_MAX; i++)
		if (bi.cmdline[i] != 0)
			fail_msg("cmdline byte %zu is %#x", i, (unsigned char)bi.cmdline[i]);
}

static void test_boot_info_null_cmdline(void **state)
{
	struct fixture *f = *state;
	struct hvrun_boot_info bi;

	f->params.cmdline = NULL;
	write_ok(f);
	read_boot_info(f, &bi);
	assert_int_equal(bi.magic, HVRUN_BOOTINFO_MAGIC);
	assert_int_equal(bi.cmdline_len, 0);
	assert_int_equal(bi.cmdline[0], '\0');

	f->params.cmdline = "";
	write_ok(f);
	read_boot_info(f, &bi);
	assert_int_equal(bi.cmdline_len, 0);
	assert_int_equal(bi.cmdline[0], '\0');
}

static void test_boot_info_cmdline_limits(void **state)
{
	struct fixture *f = *state;
	static char longest[HVRUN_CMDLINE_MAX];         /* 1023 characters + NUL */
	static char too_long[HVRUN_CMDLINE_MAX + 1];    /* 1024 characters + NUL */
	struct hvrun_boot_info bi;

	memset(longest, 'c', sizeof(longest) - 1);
	f->params.cmdline = longest;
	write_ok(f);
	read_boot_info(f, &bi);
	assert_int_equal(bi.cmdline_len, HVRUN_CMDLINE_MAX - 1);
	assert_memory_equal(bi.cmdline, longest, HVRUN_CMDLINE_MAX - 1);
	assert_int_equal(bi.cmdline[HVRUN_CMDLINE_MAX - 1], '\0');
	/* nothing written past the block */
	assert_int_equal(f->ram[HVRUN_BOOTINFO_GPA + sizeof(bi)], FILL);

	memset(too_long, 'd', sizeof(too_long) - 1);
	f->params.cmdline = too_long;
	assert_int_equal(part_boot_write(&f->mem, &f->params), -E2BIG);
	assert_int_equal(f->ram[HVRUN_BOOTINFO_GPA + sizeof(bi)], FILL);
}

static void test_rejects_small_ram(void **state)
{
	struct fixture *f = *state;
	struct part_mem small;

	part_mem_wrap(&small, f->ram, 0, HVRUN_MEM_MIN - 0x1000);
	assert_int_equal(part_boot_write(&small, &f->params), -EINVAL);
	part_mem_wrap(&small, f->ram, 0, 0x10000);
	assert_int_equal(part_boot_write(&small, &f->params), -EINVAL);
	/* nothing was written */
	for (uint64_t i = 0; i < HVRUN_RESERVED_END; i++)
		if (f->ram[i] != FILL)
			fail_msg("byte %#llx written by a refused boot", (unsigned long long)i);
	/* exactly the minimum is fine */
	part_mem_wrap(&small, f->ram, 0, HVRUN_MEM_MIN);
	assert_int_equal(part_boot_write(&small, &f->params), 0);
	assert_int_equal(rd64(f, HVRUN_GDT_GPA + HVRUN_SEL_CODE64), 0x00af9b000000ffffull);
}

static void test_rejects_nonzero_base(void **state)
{
	struct fixture *f = *state;
	struct part_mem based;

	part_mem_wrap(&based, f->ram, 0x100000, RAM_SIZE);
	assert_int_equal(part_boot_write(&based, &f->params), -EINVAL);
	part_mem_wrap(&based, f->ram, 0x1000, RAM_SIZE);
	assert_int_equal(part_boot_write(&based, &f->params), -EINVAL);
	for (uint64_t i = 0; i < HVRUN_RESERVED_END; i++)
		if (f->ram[i] != FILL)
			fail_msg("byte %#llx written by a refused boot", (unsigned long long)i);
}

static void test_write_touches_only_reserved_area(void **state)
{
	struct fixture *f = *state;

	write_ok(f);
	/* page 0, the stack and everything from the image area up are left alone */
	assert_int_equal(f->ram[0], FILL);
	assert_int_equal(f->ram[HVRUN_GDT_GPA - 1], FILL);
	assert_int_equal(f->ram[HVRUN_STACK_BASE], FILL);
	assert_int_equal(f->ram[HVRUN_STACK_TOP - 1], FILL);
	for (uint64_t i = HVRUN_RESERVED_END; i < RAM_SIZE; i += 0x1000)
		if (f->ram[i] != FILL)
			fail_msg("byte %#llx above the reserved area was written", (unsigned long long)i);
	assert_int_equal(f->ram[RAM_SIZE - 1], FILL);
}

static void test_rewrite_restores_state(void **state)
{
	struct fixture *f = *state;
	const uint64_t end = HVRUN_BOOTINFO_GPA + sizeof(struct hvrun_boot_info);
	uint8_t *first = malloc(end);

	assert_non_null(first);
	write_ok(f);
	memcpy(first, f->ram, end);
	/* a guest scribbles over GDT, TSS, page tables and boot info; a second write repairs them */
	memset(f->ram + HVRUN_GDT_GPA, 0x55, end - HVRUN_GDT_GPA);
	write_ok(f);
	assert_memory_equal(f->ram, first, end);
	free(first);
}

/* ---- part_boot_regs ---- */

static void test_boot_regs(void **state)
{
	struct fixture *f = *state;
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	memset(&regs, 0xff, sizeof(regs));
	memset(&sregs, 0, sizeof(sregs));
	sregs.apic_base = 0xfee00900;                 /* reset state the caller supplies */
	part_boot_regs(&f->params, &regs, &sregs);

	assert_int_equal(regs.rip, ENTRY);
	assert_int_equal(regs.rsp, HVRUN_STACK_TOP);
	assert_int_equal(regs.rdi, HVRUN_BOOTINFO_GPA);
	assert_int_equal(regs.rflags, 0x2);
	assert_int_equal(regs.rflags & RFLAGS_IF, 0);
	assert_int_equal(regs.rax, 0);
	assert_int_equal(regs.rsi, 0);
	assert_int_equal(regs.rbp, 0);
	assert_int_equal(regs.r15, 0);

	assert_int_equal(sregs.cr0 & (CR0_PE | CR0_PG), CR0_PE | CR0_PG);
	assert_int_equal(sregs.cr3, HVRUN_PML4_GPA);
	assert_int_equal(sregs.cr4 & CR4_PAE, CR4_PAE);
	assert_int_equal(sregs.efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
	assert_int_equal(sregs.apic_base, 0xfee00900);
	/* the exact values docs/guest-abi.md promises */
	assert_int_equal(sregs.cr0, 0x80010033);
	assert_int_equal(sregs.cr4, 0x620);
	assert_int_equal(sregs.efer, 0xd00);
	assert_int_equal(sregs.idt.base, 0);
	assert_int_equal(sregs.idt.limit, 0);
	assert_int_equal(sregs.fs.base, 0);
	assert_int_equal(sregs.gs.base, 0);

	assert_int_equal(sregs.cs.selector, HVRUN_SEL_CODE64);
	assert_int_equal(sregs.cs.l, 1);
	assert_int_equal(sregs.cs.db, 0);
	assert_int_equal(sregs.cs.dpl, 0);
	assert_int_equal(sregs.cs.present, 1);
	assert_int_equal(sregs.cs.s, 1);
	assert_int_equal(sregs.cs.type, 11);
	assert_int_equal(sregs.cs.base, 0);

	const struct kvm_segment *data[] = { &sregs.ss, &sregs.ds, &sregs.es, &sregs.fs, &sregs.gs };
	for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
		assert_int_equal(data[i]->selector, HVRUN_SEL_DATA);
		assert_int_equal(data[i]->present, 1);
		assert_int_equal(data[i]->s, 1);
		assert_int_equal(data[i]->dpl, 0);
		assert_int_equal(data[i]->type, 3);
		assert_int_equal(data[i]->base, 0);
	}

	assert_int_equal(sregs.tr.selector, HVRUN_SEL_TSS);
	assert_int_equal(sregs.tr.type, 11);
	assert_int_equal(sregs.tr.s, 0);
	assert_int_equal(sregs.tr.present, 1);
	assert_int_equal(sregs.tr.base, HVRUN_GDT_GPA + 0x80);
	assert_int_equal(sregs.tr.limit, 0x67);

	assert_int_equal(sregs.gdt.base, HVRUN_GDT_GPA);
	assert_int_equal(sregs.gdt.limit, HVRUN_SEL_TSS + 16 - 1);
}

/* The KVM segment state matches what a load from hvrun's GDT would produce. */
static void test_regs_match_gdt(void **state)
{
	struct fixture *f = *state;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint64_t lo;

	write_ok(f);
	memset(&sregs, 0, sizeof(sregs));
	part_boot_regs(&f->params, &regs, &sregs);

	struct desc c = decode_desc(rd64(f, sregs.gdt.base + sregs.cs.selector));
	assert_int_equal(sregs.cs.type, c.type);
	assert_int_equal(sregs.cs.s, c.s);
	assert_int_equal(sregs.cs.dpl, c.dpl);
	assert_int_equal(sregs.cs.present, c.p);
	assert_int_equal(sregs.cs.l, c.l);
	assert_int_equal(sregs.cs.db, c.db);
	assert_int_equal(sregs.cs.g, c.g);

	struct desc d = decode_desc(rd64(f, sregs.gdt.base + sregs.ss.selector));
	assert_int_equal(sregs.ss.type, d.type);
	assert_int_equal(sregs.ss.s, d.s);
	assert_int_equal(sregs.ss.dpl, d.dpl);
	assert_int_equal(sregs.ss.db, d.db);
	assert_int_equal(sregs.ss.g, d.g);
	assert_int_equal(sregs.ss.base, d.base);

	lo = rd64(f, sregs.gdt.base + sregs.tr.selector);
	assert_int_equal(sregs.tr.type, (lo >> 40) & 0xf);
	assert_int_equal(sregs.tr.limit, (lo & 0xffff) | ((lo >> 32) & 0xf0000));
	assert_int_equal(sregs.tr.base & 0xffffffff,
			 ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24));
	/* every selector lies inside the GDT limit */
	assert_true(sregs.cs.selector + 7u <= sregs.gdt.limit);
	assert_true(sregs.ss.selector + 7u <= sregs.gdt.limit);
	assert_true(sregs.tr.selector + 15u <= sregs.gdt.limit);
	/* RIP and RSP-8 translate through the page tables */
	assert_int_equal(walk(f, sregs.cr3, regs.rip), regs.rip);
	assert_int_equal(walk(f, sregs.cr3, regs.rsp - 8), regs.rsp - 8);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_gdt),
		T(test_tss_descriptor),
		T(test_page_table_structure),
		T(test_identity_map_walk),
		T(test_boot_info),
		T(test_boot_info_null_cmdline),
		T(test_boot_info_cmdline_limits),
		T(test_rejects_small_ram),
		T(test_rejects_nonzero_base),
		T(test_write_touches_only_reserved_area),
		T(test_rewrite_restores_state),
		T(test_boot_regs),
		T(test_regs_match_gdt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
