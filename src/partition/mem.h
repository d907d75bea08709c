/* SPDX-License-Identifier: MIT */
/* A partition's guest RAM: one host mapping, and checked GPA -> host pointer translation. */
#ifndef PART_MEM_H
#define PART_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct part_mem {
	uint8_t *host;           /* host mapping of [gpa_base, gpa_base + size) */
	uint64_t gpa_base;
	uint64_t size;
	bool owned;              /* mmap'ed by part_mem_alloc (vs. a test buffer) */
};

int part_mem_alloc(struct part_mem *mem, uint64_t gpa_base, uint64_t size);
void part_mem_free(struct part_mem *mem);
/* Wrap an existing buffer (tests). */
void part_mem_wrap(struct part_mem *mem, void *buf, uint64_t gpa_base, uint64_t size);

/* Is [gpa, gpa + len) inside RAM? Overflow-safe; len 0 is never inside. */
bool part_mem_contains(const struct part_mem *mem, uint64_t gpa, uint64_t len);
/* Host pointer for [gpa, gpa + len), or NULL when any byte lies outside RAM. */
void *part_mem_ptr(const struct part_mem *mem, uint64_t gpa, uint64_t len);

/* Parse "64M", "1G", "4096K", "1048576" into bytes. -EINVAL on junk or overflow. */
int part_parse_size(const char *s, uint64_t *out);

#endif /* PART_MEM_H */
