/* SPDX-License-Identifier: MIT */
/* hlt with IF=0 ends the run with status 0. Still running afterwards is a bug: exit 1. */
#include "guest.h"

int guest_main(const struct hvrun_boot_info *bi)
{
	(void)bi;
	printf("hlt: cli; hlt\n");
	cli_hlt();
	printf("hlt: still running after hlt with IF=0\n");
	return 1;
}
