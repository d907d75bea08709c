/* SPDX-License-Identifier: MIT */
/* exit() and panic(): the guest's ways out. */
#include "guest.h"

_Static_assert(offsetof(struct guest_entry_regs, rflags) == 0x80, "start.S stores rflags at 0x80");
_Static_assert(sizeof(struct guest_entry_regs) == 0x88, "start.S reserves 0x88 bytes");

void exit(int status)
{
	outb(HVRUN_PORT_DEBUG_EXIT, (uint8_t)status);
	/* Not reached with a working hvrun: stop the VP (hlt with IF=0 ends the run). */
	for (;;)
		cli_hlt();
}

void panic(const char *fmt, ...)
{
	va_list ap;

	printf("PANIC: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(GUEST_EXIT_PANIC);
}

uint64_t median_u64(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		uint64_t x = v[i];
		unsigned j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	if (!n)
		return 0;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
