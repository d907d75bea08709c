/* SPDX-License-Identifier: MIT */
/* hvrun's own guest ABI: boot memory layout, boot information block, ports and message extensions. */
#ifndef HVRUN_ABI_H
#define HVRUN_ABI_H

#include <stddef.h>
#include <stdint.h>

/*
 * Guest-physical layout hvrun reserves in every partition (docs/guest-abi.md).
 * Image segments may not touch [0, HVRUN_RESERVED_END).
 */
#define HVRUN_GDT_GPA           0x1000ull   /* GDT (null, code64, data, TSS) */
#define HVRUN_TSS_GPA           0x1080ull   /* 64-bit TSS, RSP0 = 0, no I/O bitmap */
#define HVRUN_PML4_GPA          0x2000ull
#define HVRUN_PDPT_GPA          0x3000ull
#define HVRUN_PD_GPA            0x4000ull   /* 4 pages of 2 MiB entries: 4 GiB */
#define HVRUN_PD_PAGES          4u
#define HVRUN_BOOTINFO_GPA      0x8000ull
#define HVRUN_STACK_BASE        0x10000ull
#define HVRUN_STACK_TOP         0x20000ull  /* initial RSP */
#define HVRUN_RESERVED_END      0x20000ull
#define HVRUN_IMAGE_MIN_GPA     HVRUN_RESERVED_END

#define HVRUN_MEM_MIN           (2ull << 20)
#define HVRUN_MEM_MAX           (3ull << 30)  /* below the 3 GiB MMIO hole */
#define HVRUN_MEM_DEFAULT       (64ull << 20)
#define HVRUN_MMIO_HOLE_BASE    (3ull << 30)
/*
 * VTL1's private memory sits at the bottom of the hole: VTL1's VM has a slot there, VTL0's VM
 * never does, so VTL0 sees an unmapped GPA (reads all ones, writes dropped).
 */
#define HVRUN_VTL1_BASE         HVRUN_MMIO_HOLE_BASE
#define HVRUN_VTL1_MEM_DEFAULT  (16ull << 20)
#define HVRUN_VTL1_MEM_MAX      (256ull << 20)

/* Selectors of hvrun's boot GDT. */
#define HVRUN_SEL_CODE64        0x08
#define HVRUN_SEL_DATA          0x10
#define HVRUN_SEL_TSS           0x18

/* Ports. */
#define HVRUN_PORT_UART0        0x3F8u      /* 8 ports */
#define HVRUN_PORT_DEBUGCON     0xE9u
#define HVRUN_PORT_DEBUG_EXIT   0xF4u
#define HVRUN_PORT_HYPERCALL    0xEBu       /* hypercall page trampolines: out %al, $0xEB */

#define HVRUN_BOOTINFO_MAGIC    0x49425648u /* "HVBI" */
#define HVRUN_BOOTINFO_VERSION  1u
#define HVRUN_CMDLINE_MAX       1024u

struct hvrun_boot_info {
	uint32_t magic;
	uint16_t version;
	uint16_t size;           /* sizeof(struct hvrun_boot_info) */
	uint32_t vp_index;
	uint32_t flags;
	uint64_t ram_base;       /* guest RAM is [ram_base, ram_base + ram_size) */
	uint64_t ram_size;
	uint64_t reserved_base;  /* hvrun's reserved area, [base, base + size) */
	uint64_t reserved_size;
	uint64_t image_base;     /* lowest and one past the highest loaded byte */
	uint64_t image_end;
	uint64_t tsc_hz;         /* 0 if unknown */
	uint32_t cmdline_len;    /* bytes before the NUL */
	uint32_t reserved0;
	char cmdline[HVRUN_CMDLINE_MAX];
};

_Static_assert(sizeof(struct hvrun_boot_info) == 0x50 + HVRUN_CMDLINE_MAX, "boot info size");
_Static_assert(offsetof(struct hvrun_boot_info, ram_size) == 0x18, "boot info ram_size");
_Static_assert(offsetof(struct hvrun_boot_info, tsc_hz) == 0x40, "boot info tsc_hz");
_Static_assert(offsetof(struct hvrun_boot_info, cmdline) == 0x50, "boot info cmdline");

/*
 * hvrun extensions appended to a TLFS message payload, after the TLFS layout: data a software
 * hypervisor knows but the TLFS layout has no field for. payload_size covers them.
 */
struct hvrun_io_ext {            /* after hv_x64_io_port_intercept (offset 0x80) */
	uint64_t data;               /* the element written (out) or 0 (in) */
	uint32_t count;              /* elements of a string access */
	uint32_t index;              /* which element this message is */
};
struct hvrun_mem_ext {           /* after hv_x64_memory_intercept (offset 0x50) */
	uint64_t data;               /* bytes written, little-endian (writes) */
	uint8_t size;                /* access size in bytes: 1, 2, 4 or 8 */
	uint8_t reserved[7];
};
struct hvrun_exit_ext {          /* after a header-only intercept (offset 0x28) */
	uint32_t kvm_exit_reason;
	uint32_t suberror;
	uint64_t data[4];
};
_Static_assert(sizeof(struct hvrun_io_ext) == 16, "io ext");
_Static_assert(sizeof(struct hvrun_mem_ext) == 16, "mem ext");
_Static_assert(sizeof(struct hvrun_exit_ext) == 40, "exit ext");

#endif /* HVRUN_ABI_H */
