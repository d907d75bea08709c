/* SPDX-License-Identifier: MIT */
/* Loader block construction and validation, and the VSM map-flag rules. */
#include "partition/loader.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/sha256.h"
#include "partition/elf.h"
#include "partition/mem.h"
#include "vtl/vtl.h"

#define RAM (4u << 20)

struct fixture {
	uint8_t *ram_buf, *vtl1_buf;
	struct part_mem ram, vtl1;
	struct part_image vtl0, sk;
	struct hvrun_loader_block lb;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->ram_buf = aligned_alloc(4096, RAM);
	f->vtl1_buf = aligned_alloc(4096, 1u << 20);
	memset(f->ram_buf, 0x5a, RAM);
	part_mem_wrap(&f->ram, f->ram_buf, 0, RAM);
	part_mem_wrap(&f->vtl1, f->vtl1_buf, HVRUN_VTL1_BASE, 1u << 20);
	f->vtl0 = (struct part_image){ .entry = 0x100040, .base = 0x100000, .end = 0x104000,
				       .text = { 0x100000, 0x2000 }, .nhvci = 1,
				       .hvci = { { 0x103000, 0x1000 } } };
	f->sk = (struct part_image){ .entry = HVRUN_VTL1_BASE + 0x20000, .base = HVRUN_VTL1_BASE + 0x20000,
				     .end = HVRUN_VTL1_BASE + 0x23456 };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->ram_buf);
	free(f->vtl1_buf);
	free(f);
	return 0;
}

static const struct hvrun_memmap_entry *find(const struct hvrun_loader_block *lb, uint32_t type)
{
	for (unsigned i = 0; i < lb->memmap_count; i++)
		if (lb->memmap[i].type == type)
			return &lb->memmap[i];
	return NULL;
}

static void test_fill_block(void **state)
{
	struct fixture *f = *state;
	uint8_t secret[HVRUN_SECRET_SIZE], want[32];

	memset(secret, 0xA7, sizeof(secret));
	part_loader_fill_block(&f->lb, &f->ram, &f->vtl0, &f->vtl1, &f->sk, secret, "sk=1");
	assert_int_equal(f->lb.magic, HVRUN_LOADER_MAGIC);
	assert_int_equal(f->lb.version, HVRUN_LOADER_VERSION);
	assert_int_equal(f->lb.size, sizeof(struct hvrun_loader_block));
	assert_int_equal(f->lb.vtl0_entry, 0x100040);
	assert_int_equal(f->lb.vtl0_boot_info, HVRUN_BOOTINFO_GPA);
	assert_int_equal(f->lb.vtl1_base, HVRUN_VTL1_BASE);
	assert_int_equal(f->lb.vtl1_size, 1u << 20);
	assert_int_equal(f->lb.vtl1_free, HVRUN_VTL1_BASE + 0x24000);   /* page after the SK */
	assert_memory_equal(f->lb.secret, secret, sizeof(secret));
	assert_string_equal(f->lb.cmdline, "sk=1");

	assert_non_null(find(&f->lb, HVRUN_MEM_VTL0_RAM));
	assert_int_equal(find(&f->lb, HVRUN_MEM_VTL0_RAM)->size, RAM);
	assert_int_equal(find(&f->lb, HVRUN_MEM_VTL0_TEXT)->base, 0x100000);
	assert_int_equal(find(&f->lb, HVRUN_MEM_VTL0_TEXT)->size, 0x2000);
	assert_int_equal(find(&f->lb, HVRUN_MEM_VTL1_PRIVATE)->base, HVRUN_VTL1_BASE);
	assert_int_equal(find(&f->lb, HVRUN_MEM_MMIO)->base, HVRUN_VTL1_BASE + (1u << 20));
	assert_int_equal(find(&f->lb, HVRUN_MEM_MMIO)->base + find(&f->lb, HVRUN_MEM_MMIO)->size, 4ull << 30);

	/* The allow list holds the SHA-256 of the .hvci page as it sits in RAM. */
	assert_int_equal(f->lb.allow_count, 1);
	sha256(f->ram_buf + 0x103000, 4096, want);
	assert_memory_equal(f->lb.allow_list[0], want, 32);
	assert_int_equal(part_loader_check_block(&f->lb, sizeof(f->lb)), 0);
}

static void test_check_block_rejects(void **state)
{
	struct fixture *f = *state;
	uint8_t secret[HVRUN_SECRET_SIZE] = { 0 };
	struct hvrun_loader_block bad;

	part_loader_fill_block(&f->lb, &f->ram, &f->vtl0, &f->vtl1, &f->sk, secret, NULL);
	assert_int_equal(part_loader_check_block(&f->lb, sizeof(f->lb) - 1), -EINVAL);
	bad = f->lb;
	bad.magic ^= 1;
	assert_int_equal(part_loader_check_block(&bad, sizeof(bad)), -EINVAL);
	bad = f->lb;
	bad.version = 2;
	assert_int_equal(part_loader_check_block(&bad, sizeof(bad)), -EINVAL);
	bad = f->lb;
	bad.size = sizeof(bad) + 8;          /* the secure kernel refuses a block of another size */
	assert_int_equal(part_loader_check_block(&bad, sizeof(bad)), -EINVAL);
	bad = f->lb;
	bad.memmap_count = HVRUN_LOADER_MEMMAP_MAX + 1;
	assert_int_equal(part_loader_check_block(&bad, sizeof(bad)), -EINVAL);
	bad = f->lb;
	bad.allow_count = HVRUN_LOADER_ALLOW_MAX + 1;
	assert_int_equal(part_loader_check_block(&bad, sizeof(bad)), -EINVAL);
	bad = f->lb;
	bad.memmap[0].size = UINT64_MAX;     /* base + size wraps */
	bad.memmap[0].base = 2;
	assert_int_equal(part_loader_check_block(&bad, sizeof(bad)), -EINVAL);
}

static void test_allow_list_bounded(void **state)
{
	struct fixture *f = *state;
	uint8_t secret[HVRUN_SECRET_SIZE] = { 0 };

	/* 32 pages of .hvci: only HVRUN_LOADER_ALLOW_MAX hashes fit. */
	f->vtl0.hvci[0] = (struct part_range){ 0x200000, 32 * 4096 };
	part_loader_fill_block(&f->lb, &f->ram, &f->vtl0, &f->vtl1, &f->sk, secret, NULL);
	assert_int_equal(f->lb.allow_count, HVRUN_LOADER_ALLOW_MAX);
	/* A .hvci range outside RAM contributes nothing. */
	f->vtl0.hvci[0] = (struct part_range){ RAM, 4096 };
	part_loader_fill_block(&f->lb, &f->ram, &f->vtl0, &f->vtl1, &f->sk, secret, NULL);
	assert_int_equal(f->lb.allow_count, 0);
}

static void test_map_flags(void **state)
{
	uint8_t prot = 0xff;

	(void)state;
	assert_int_equal(vtl_map_flags_to_prot(0, &prot), 0);
	assert_int_equal(prot, 0);
	assert_int_equal(vtl_map_flags_to_prot(HV_MAP_GPA_READABLE, &prot), 0);
	assert_int_equal(prot, HV_MAP_GPA_READABLE);
	assert_int_equal(vtl_map_flags_to_prot(0xf, &prot), 0);
	assert_int_equal(prot, 0xf);
	assert_int_equal(vtl_map_flags_to_prot(HV_MAP_GPA_WRITABLE, &prot), -ERANGE);   /* W without R */
	assert_int_equal(vtl_map_flags_to_prot(0x10, &prot), -ERANGE);                  /* shadow stack */
	assert_int_equal(vtl_map_flags_to_prot(1u << 15, &prot), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fill_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_block_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_list_bounded, setup, teardown),
		cmocka_unit_test(test_map_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
