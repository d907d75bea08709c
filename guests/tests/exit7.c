/* SPDX-License-Identifier: MIT */
/* Writes 7 to the debug-exit port itself: hvrun must exit with status 7. */
#include "guest.h"

int guest_main(const struct hvrun_boot_info *bi)
{
	(void)bi;
	outb(HVRUN_PORT_DEBUG_EXIT, 7);
	/* Still running: the exit port did not stop the guest. start.S exits with 1 (or hlt -> 0). */
	return 1;
}
