/* SPDX-License-Identifier: MIT */
/*
 * The secure-kernel boot ABI: how hvrun (the loader, as hvloader/winload are on Windows) lays out
 * VTL1's private memory and the loader block the secure kernel receives (docs/boot.md).
 */
#ifndef HVRUN_LOADER_H
#define HVRUN_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "hvrun/abi.h"

/*
 * VTL1 private memory [HVRUN_VTL1_BASE, + size) mirrors VTL0's reserved layout at its base:
 * GDT/TSS, page tables (identity map of the low 4 GiB, private memory included), the loader
 * block, a 64 KiB stack, and the secure kernel image from +1 MiB.
 */
#define HVRUN_SK_GDT_GPA        (HVRUN_VTL1_BASE + 0x1000ull)
#define HVRUN_SK_TSS_GPA        (HVRUN_VTL1_BASE + 0x1080ull)
#define HVRUN_SK_PML4_GPA       (HVRUN_VTL1_BASE + 0x2000ull)
#define HVRUN_SK_LOADER_BLOCK   (HVRUN_VTL1_BASE + 0x8000ull)
#define HVRUN_SK_STACK_TOP      (HVRUN_VTL1_BASE + 0x20000ull)
#define HVRUN_SK_IMAGE_MIN_GPA  (HVRUN_VTL1_BASE + 0x20000ull)

#define HVRUN_LOADER_MAGIC      0x4B534C48u   /* "HLSK" */
#define HVRUN_LOADER_VERSION    1u
#define HVRUN_LOADER_MEMMAP_MAX 8u
#define HVRUN_LOADER_ALLOW_MAX  16u
#define HVRUN_SECRET_SIZE       32u
#define HVRUN_SHA256_SIZE       32u

/* Memory map entry types. */
#define HVRUN_MEM_VTL0_RAM       1u   /* all of VTL0 RAM */
#define HVRUN_MEM_VTL0_RESERVED  2u   /* hvrun's boot area inside VTL0 RAM */
#define HVRUN_MEM_VTL0_IMAGE     3u   /* the VTL0 kernel image */
#define HVRUN_MEM_VTL0_TEXT      4u   /* its executable segments (page-aligned): HVCI protects these */
#define HVRUN_MEM_VTL1_PRIVATE   5u   /* VTL1 private memory (never mapped in VTL0) */
#define HVRUN_MEM_VTL1_IMAGE     6u   /* the secure kernel image */
#define HVRUN_MEM_MMIO           7u   /* the MMIO hole: nothing there */

struct hvrun_memmap_entry {
	uint64_t base;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvrun_memmap_entry) == 24, "memmap entry");

/* Loader block flags. */
#define HVRUN_LB_FLAG_TSC_VALID  (1u << 0)   /* tsc_hz is known (else the SK assumes 1 GHz) */

struct hvrun_loader_block {
	uint32_t magic;
	uint16_t version;
	uint16_t size;              /* sizeof(struct hvrun_loader_block): the SK refuses any other */
	uint32_t flags;
	uint32_t vp_index;
	uint64_t tsc_hz;
	uint64_t vtl0_entry;
	uint64_t vtl0_boot_info;    /* GPA of VTL0's struct hvrun_boot_info */
	uint64_t vtl1_base;         /* private memory */
	uint64_t vtl1_size;
	uint64_t vtl1_free;         /* first free private GPA after the secure kernel image */
	uint32_t memmap_count;
	uint32_t allow_count;
	struct hvrun_memmap_entry memmap[HVRUN_LOADER_MEMMAP_MAX];
	uint8_t secret[HVRUN_SECRET_SIZE];                      /* one-time: scrub after copying */
	uint8_t allow_list[HVRUN_LOADER_ALLOW_MAX][HVRUN_SHA256_SIZE];  /* HVCI: SHA-256 of pages */
	char cmdline[256];
};
_Static_assert(offsetof(struct hvrun_loader_block, tsc_hz) == 0x10, "loader block tsc_hz");
_Static_assert(offsetof(struct hvrun_loader_block, memmap_count) == 0x40, "loader block counts");
_Static_assert(offsetof(struct hvrun_loader_block, memmap) == 0x48, "loader block memmap");
_Static_assert(offsetof(struct hvrun_loader_block, secret) == 0x108, "loader block secret");
_Static_assert(offsetof(struct hvrun_loader_block, allow_list) == 0x128, "loader block allow list");
_Static_assert(sizeof(struct hvrun_loader_block) == 0x428, "loader block size");

/*
 * The policy note a VTL0 image may carry (PT_NOTE, owner "hvrun", type HVRUN_NOTE_POLICY):
 * what the image needs from the loader. Sections named ".hvci" (page-aligned) are hashed page by
 * page into the loader block's allow list.
 */
#define HVRUN_NOTE_NAME          "hvrun"
#define HVRUN_NOTE_POLICY        1u
#define HVRUN_POLICY_VERSION     1u
#define HVRUN_POLICY_REQUIRES_VTL1 (1u << 0)   /* refuse to boot without the secure kernel */

struct hvrun_policy {
	uint32_t version;
	uint32_t flags;
	uint64_t min_memory;        /* bytes of VTL0 RAM the image needs (0: no minimum) */
};
_Static_assert(sizeof(struct hvrun_policy) == 16, "policy note");

#endif /* HVRUN_LOADER_H */
