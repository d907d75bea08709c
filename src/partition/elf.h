/* SPDX-License-Identifier: MIT */
/* The ELF64 image loader (libelf): validates every header field and copies PT_LOAD segments to RAM. */
#ifndef PART_ELF_H
#define PART_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "partition/mem.h"

struct part_image {
	uint64_t entry;          /* entry point (virtual = physical: images run identity-mapped) */
	uint64_t base;           /* lowest loaded GPA */
	uint64_t end;            /* one past the highest loaded GPA */
	unsigned nsegments;
};

struct part_elf_limits {
	uint64_t min_gpa;        /* segments must lie in [min_gpa, max_gpa) */
	uint64_t max_gpa;
};

/*
 * Load the ELF64 x86-64 executable at `path` into `mem`. On error returns a negative errno and
 * writes a one-line reason (without the file name) to `why`; RAM may be partly written, so a
 * failed load must not be booted.
 */
int part_elf_load(const char *path, struct part_mem *mem, const struct part_elf_limits *limits,
		  struct part_image *image, char *why, size_t why_len);

/* Same, from a file descriptor (fuzzing and tests). */
int part_elf_load_fd(int fd, struct part_mem *mem, const struct part_elf_limits *limits,
		     struct part_image *image, char *why, size_t why_len);

#endif /* PART_ELF_H */
