/* SPDX-License-Identifier: MIT */
/*
 * The canary guest: proves that hvrun loads an image, enters it in long mode with the boot info
 * in RDI, and carries UART output and the exit status. Prints exactly "hello from hvrun guest"
 * then one line describing the boot info, and exits 0 (1 if the boot info is malformed).
 */
#include "guest.h"

static int bad(const char *what, uint64_t got, uint64_t want)
{
	printf("boot info: bad %s: %#lx, expected %#lx\n", what, got, want);
	return 1;
}

int guest_main(const struct hvrun_boot_info *bi)
{
	printf("hello from hvrun guest\n");

	if ((uintptr_t)bi != HVRUN_BOOTINFO_GPA)
		return bad("pointer (RDI)", (uintptr_t)bi, HVRUN_BOOTINFO_GPA);
	if (bi->magic != HVRUN_BOOTINFO_MAGIC)
		return bad("magic", bi->magic, HVRUN_BOOTINFO_MAGIC);
	if (bi->version != HVRUN_BOOTINFO_VERSION)
		return bad("version", bi->version, HVRUN_BOOTINFO_VERSION);
	if (bi->size != sizeof(*bi))
		return bad("size", bi->size, sizeof(*bi));
	if (bi->cmdline_len >= HVRUN_CMDLINE_MAX)
		return bad("cmdline_len", bi->cmdline_len, HVRUN_CMDLINE_MAX - 1);
	if (bi->cmdline[bi->cmdline_len] != '\0')
		return bad("cmdline terminator", (uint8_t)bi->cmdline[bi->cmdline_len], 0);

	printf("boot info: version %u, RAM %lu MiB, vp %u, cmdline \"%s\"\n", bi->version,
	       bi->ram_size >> 20, bi->vp_index, bi->cmdline);
	return 0;
}
