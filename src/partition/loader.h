/* SPDX-License-Identifier: MIT */
/*
 * The VBS boot path, hvrun as the loader (hvloader/winload's part): host checks, the secure
 * kernel image in VTL1's private memory, the loader block, and VTL1 enabled through the same
 * code the hypercalls use, with VP0 starting in VTL1 (docs/boot.md).
 */
#ifndef PART_LOADER_H
#define PART_LOADER_H

#include <stddef.h>

#include "hvrun/loader.h"

struct partition;
struct part_mem;
struct part_image;

/* Report the host the way the Windows loader sees it (CPU vendor -> hypervisor flavour), -v. */
void part_loader_host_report(void);

/* The default secure kernel: $HVRUN_SECURE_KERNEL, the build tree, then the install path. */
int part_loader_find_secure_kernel(char *path, size_t len);

/*
 * Load the secure kernel at `path` into p's VTL1 memory and prepare VTL1's boot area and loader
 * block (everything that needs no KVM). Errors name the problem in `why` (usage errors).
 */
int part_loader_prepare(struct partition *p, const char *path, char *why, size_t why_len);

/* Enable VTL1 (HvCallEnablePartitionVtl/EnableVpVtl code paths) and make VP0 start in VTL1. */
int part_loader_start(struct partition *p);

/* Fill the loader block (pure: unit-tested). */
void part_loader_fill_block(struct hvrun_loader_block *lb, const struct part_mem *ram,
			    const struct part_image *vtl0, const struct part_mem *vtl1,
			    const struct part_image *sk, const uint8_t secret[HVRUN_SECRET_SIZE],
			    const char *cmdline);
/* Check a loader block as the secure kernel does: 0 or -EINVAL (pure: unit-tested). */
int part_loader_check_block(const struct hvrun_loader_block *lb, size_t size);

#endif /* PART_LOADER_H */
