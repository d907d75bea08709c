/* SPDX-License-Identifier: MIT */
/* Guest RAM allocation and the one place GPAs become host pointers, with overflow checks. */
#include "partition/mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int part_mem_alloc(struct part_mem *mem, uint64_t gpa_base, uint64_t size)
{
	void *p;

	memset(mem, 0, sizeof(*mem));
	if (size == 0 || (size & 0xfff) || (gpa_base & 0xfff) || gpa_base + size < gpa_base)
		return -EINVAL;
	/* NORESERVE: only pages the guest touches cost host memory. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	madvise(p, size, MADV_DONTDUMP);
	/*
	 * Small pages only, even where transparent huge pages are "always": a guest that touches one
	 * byte must not make 2 MiB resident (64 canary partitions: 266 MiB with THP, 12 MiB without).
	 */
	madvise(p, size, MADV_NOHUGEPAGE);
	mem->host = p;
	mem->gpa_base = gpa_base;
	mem->size = size;
	mem->owned = true;
	return 0;
}

void part_mem_free(struct part_mem *mem)
{
	if (mem->host && mem->owned)
		munmap(mem->host, mem->size);
	memset(mem, 0, sizeof(*mem));
}

void part_mem_wrap(struct part_mem *mem, void *buf, uint64_t gpa_base, uint64_t size)
{
	mem->host = buf;
	mem->gpa_base = gpa_base;
	mem->size = size;
	mem->owned = false;
}

bool part_mem_contains(const struct part_mem *mem, uint64_t gpa, uint64_t len)
{
	if (!mem->host || len == 0 || gpa < mem->gpa_base)
		return false;
	uint64_t off = gpa - mem->gpa_base;
	return off < mem->size && len <= mem->size - off;
}

void *part_mem_ptr(const struct part_mem *mem, uint64_t gpa, uint64_t len)
{
	if (!part_mem_contains(mem, gpa, len))
		return NULL;
	return mem->host + (gpa - mem->gpa_base);
}

int part_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	/* Decimal unless "0x": a leading zero must not silently mean octal (064M is 64 MiB). */
	v = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	default: return -EINVAL;
	}
	/* "K", "KB" and "KiB" all mean 1024. */
	if (shift && (strcmp(end, "B") == 0 || strcmp(end, "iB") == 0))
		end += strlen(end);
	if (*end != '\0')
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}
