/* SPDX-License-Identifier: MIT */
/*
 * Triple fault: hvrun boots with no IDT (IDTR limit 0), so the #UD from ud2 cannot be delivered
 * (#GP), nor can that (#DF), and the CPU shuts down. hvrun must report a triple fault (status
 * 120), not hang and not exit 0.
 */
#include "guest.h"

int guest_main(const struct hvrun_boot_info *bi)
{
	struct desc_ptr idtr;

	(void)bi;
	sidt(&idtr);
	printf("triplefault: IDTR limit %#x, executing ud2\n", idtr.limit);
	if (idtr.limit != 0)
		printf("triplefault: warning: an IDT is loaded, the fault may be delivered\n");
	__asm__ volatile("ud2");
	printf("triplefault: still running after ud2\n");
	return 1;
}
