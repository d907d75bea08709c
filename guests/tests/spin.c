/* SPDX-License-Identifier: MIT */
/*
 * Never exits: prints "spinning" and loops at CPL0 with IF=0. hvrun's --timeout has to stop it
 * (status 124). The loop is emulated instruction by instruction here and burns a core meanwhile.
 */
#include "guest.h"

int guest_main(const struct hvrun_boot_info *bi)
{
	(void)bi;
	printf("spinning\n");
	for (;;)
		__asm__ volatile("1: jmp 1b");
}
