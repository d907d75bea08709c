/* SPDX-License-Identifier: MIT */
/*
 * An exit storm: "outs=N" single-byte `out`s to the unclaimed port 0x80 (default one million, one
 * KVM exit each), then "string=N" elements of `rep outsb` to the same port (4096 per exit, one
 * routed message each). hvrun must stay flat in memory while it routes them (docs/security.md).
 */
#include "guest.h"

static uint8_t buf[4096] __attribute__((aligned(4096)));

static uint64_t arg(const struct hvrun_boot_info *bi, const char *key, uint64_t def)
{
	const char *s = bi->cmdline;
	size_t k = strlen(key);

	for (; *s; s++) {
		if ((s == bi->cmdline || s[-1] == ' ') && !strncmp(s, key, k) && s[k] == '=') {
			uint64_t v = 0;
			for (s += k + 1; *s >= '0' && *s <= '9'; s++)
				v = v * 10 + (uint64_t)(*s - '0');
			return v;
		}
	}
	return def;
}

int guest_main(const struct hvrun_boot_info *bi)
{
	uint64_t outs = arg(bi, "outs", 1000000), string = arg(bi, "string", 1000000), n;

	printf("storm: %lu outs, then %lu string elements, to port 0x80\n", outs, string);
	for (n = outs; n >= 8; n -= 8)
		__asm__ volatile("out %%al, $0x80\n\tout %%al, $0x80\n\tout %%al, $0x80\n\tout %%al, $0x80\n\t"
				 "out %%al, $0x80\n\tout %%al, $0x80\n\tout %%al, $0x80\n\tout %%al, $0x80"
				 :: "a"(0) : "memory");
	for (; n; n--)
		outb(0x80, 0);
	for (n = string; n;) {
		uint64_t chunk = n > sizeof(buf) ? sizeof(buf) : n;
		const void *src = buf;
		__asm__ volatile("rep outsb" : "+S"(src), "+c"(chunk) : "d"(0x80) : "memory");
		n -= n > sizeof(buf) ? sizeof(buf) : n;
	}
	printf("storm: done\n");
	return 0;
}
