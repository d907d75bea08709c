/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the ELF64 image loader (src/partition/elf.c) on a hostile file, including the
 * "hvrun" policy note and the .hvci sections. The input is the whole file, handed over as a
 * memfd; RAM is a malloc'd buffer of exactly the partition's size (ASan sees any byte written
 * outside it). A successful load must describe an image that lies inside the limits.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hvrun/abi.h"
#include "partition/elf.h"

#define FUZZ_RAM (2ull << 20)   /* HVRUN_MEM_MIN: small, so every load finishes quickly */

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

static int memfd = -1;
static uint8_t *ram;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct part_elf_limits limits = { .min_gpa = HVRUN_IMAGE_MIN_GPA, .max_gpa = FUZZ_RAM };
	struct part_image img;
	struct part_mem mem;
	char why[256];
	int ret;

	if (memfd < 0) {
		memfd = memfd_create("fuzz-elf", MFD_CLOEXEC);
		ram = malloc(FUZZ_RAM);
		if (memfd < 0 || !ram)
			abort();
	}
	if (ftruncate(memfd, 0) || (size && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();
	part_mem_wrap(&mem, ram, 0, FUZZ_RAM);
	memset(&img, 0xa5, sizeof(img));
	memset(why, 0x5a, sizeof(why));
	ret = part_elf_load_fd(memfd, &mem, &limits, &img, why, sizeof(why));
	if (ret) {
		CHECK(ret < 0);
		CHECK(memchr(why, 0, sizeof(why)) != NULL);   /* the reason is a C string */
		CHECK(why[0] != 0);
		return 0;
	}
	CHECK(img.base >= limits.min_gpa && img.base < img.end && img.end <= limits.max_gpa);
	CHECK(img.entry >= img.base && img.entry < img.end);
	CHECK(img.nsegments >= 1 && img.nsegments <= 64);
	CHECK(img.text.base != UINT64_MAX && !(img.text.base & 0xfff) && !(img.text.size & 0xfff));
	CHECK(img.text.size && img.text.base + img.text.size > img.text.base);
	CHECK(img.entry >= img.text.base && img.entry - img.text.base < img.text.size);
	CHECK(img.nhvci <= PART_IMAGE_MAX_HVCI);
	for (unsigned i = 0; i < img.nhvci; i++) {
		CHECK(!(img.hvci[i].base & 0xfff) && img.hvci[i].size);
		CHECK(img.hvci[i].base >= img.base && img.hvci[i].base + img.hvci[i].size <= img.end);
		CHECK(img.hvci[i].base + img.hvci[i].size > img.hvci[i].base);
	}
	if (img.has_policy) {
		CHECK(img.policy.version == HVRUN_POLICY_VERSION);
		CHECK(!(img.policy.flags & ~HVRUN_POLICY_REQUIRES_VTL1));
	}
	return 0;
}
