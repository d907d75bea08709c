/* SPDX-License-Identifier: MIT */
/* The ELF64 image loader (libelf): validates every header field and copies PT_LOAD segments to RAM. */
#ifndef PART_ELF_H
#define PART_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "hvrun/loader.h"
#include "partition/mem.h"

#define PART_IMAGE_MAX_HVCI 8u

struct part_range {
	uint64_t base;
	uint64_t size;
};

struct part_image {
	uint64_t entry;          /* entry point (virtual = physical: images run identity-mapped) */
	uint64_t base;           /* lowest loaded GPA */
	uint64_t end;            /* one past the highest loaded GPA */
	unsigned nsegments;
	struct part_range text;  /* executable segments, widened to whole pages */
	bool has_policy;         /* a PT_NOTE "hvrun" / HVRUN_NOTE_POLICY was present */
	struct hvrun_policy policy;
	unsigned nhvci;          /* ".hvci" sections: pages the secure kernel may make executable */
	struct part_range hvci[PART_IMAGE_MAX_HVCI];
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
