/* SPDX-License-Identifier: MIT */
/* Unit tests for the ELF64 loader: images generated at test time, one per good or hostile case. */
#include "partition/elf.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hvrun/abi.h"

#define RAM_SIZE   (4ull << 20)
#define MAX_PH     4
#define FILE_CAP   0x4000u
#define WHY_LEN    256

/* The default good image: text (R+X) and data (RW, with bss) segments. */
#define TEXT_OFF   0x1000u
#define TEXT_GPA   0x100000ull
#define TEXT_SIZE  0x100u
#define DATA_OFF   0x2000u
#define DATA_GPA   0x200000ull
#define DATA_FSZ   0x80u
#define DATA_MSZ   0x1000u
#define ENTRY      (TEXT_GPA + 0x10)

struct fixture {
	uint8_t *ram;
	struct part_mem mem;
	struct part_elf_limits limits;
	struct part_image image;
	char why[WHY_LEN];
};

/* An ELF64 image under construction: header fields, program headers and file contents. */
struct builder {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[MAX_PH];
	unsigned nph;
	uint8_t file[FILE_CAP];   /* bytes beyond the headers (segment data) */
	size_t size;              /* file size to write */
	int big_endian;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->ram = calloc(1, RAM_SIZE);
	if (!f->ram) {
		free(f);
		return -1;
	}
	memset(f->ram, 0xAA, RAM_SIZE);
	part_mem_wrap(&f->mem, f->ram, 0, RAM_SIZE);
	f->limits.min_gpa = HVRUN_IMAGE_MIN_GPA;
	f->limits.max_gpa = RAM_SIZE;
	memset(&f->image, 0x5c, sizeof(f->image));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->ram);
	free(f);
	return 0;
}

static uint8_t text_byte(size_t i)
{
	return (uint8_t)(i * 7 + 1);
}

static uint8_t data_byte(size_t i)
{
	return (uint8_t)(0xC3 ^ (i * 13));
}

static void builder_init(struct builder *b)
{
	memset(b, 0, sizeof(*b));
	memcpy(b->eh.e_ident, ELFMAG, SELFMAG);
	b->eh.e_ident[EI_CLASS] = ELFCLASS64;
	b->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	b->eh.e_ident[EI_VERSION] = EV_CURRENT;
	b->eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	b->eh.e_type = ET_EXEC;
	b->eh.e_machine = EM_X86_64;
	b->eh.e_version = EV_CURRENT;
	b->eh.e_entry = ENTRY;
	b->eh.e_phoff = sizeof(Elf64_Ehdr);
	b->eh.e_shoff = 0;
	b->eh.e_ehsize = sizeof(Elf64_Ehdr);
	b->eh.e_phentsize = sizeof(Elf64_Phdr);
	b->eh.e_shentsize = sizeof(Elf64_Shdr);

	b->ph[0].p_type = PT_LOAD;
	b->ph[0].p_flags = PF_R | PF_X;
	b->ph[0].p_offset = TEXT_OFF;
	b->ph[0].p_vaddr = TEXT_GPA;
	b->ph[0].p_paddr = TEXT_GPA;
	b->ph[0].p_filesz = TEXT_SIZE;
	b->ph[0].p_memsz = TEXT_SIZE;
	b->ph[0].p_align = 0x1000;

	b->ph[1].p_type = PT_LOAD;
	b->ph[1].p_flags = PF_R | PF_W;
	b->ph[1].p_offset = DATA_OFF;
	b->ph[1].p_vaddr = DATA_GPA;
	b->ph[1].p_paddr = DATA_GPA;
	b->ph[1].p_filesz = DATA_FSZ;
	b->ph[1].p_memsz = DATA_MSZ;
	b->ph[1].p_align = 0x1000;
	b->nph = 2;

	for (size_t i = 0; i < TEXT_SIZE; i++)
		b->file[TEXT_OFF + i] = text_byte(i);
	for (size_t i = 0; i < DATA_FSZ; i++)
		b->file[DATA_OFF + i] = data_byte(i);
	b->size = DATA_OFF + DATA_FSZ;
}

/* Store a field of `n` bytes at p in the builder's byte order. */
static void put(uint8_t *p, uint64_t v, unsigned n, int big_endian)
{
	for (unsigned i = 0; i < n; i++)
		p[big_endian ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

/* Serialise the headers field by field (so big-endian images are genuinely big-endian). */
static void builder_serialise(struct builder *b, uint8_t *out)
{
	const Elf64_Ehdr *e = &b->eh;
	int be = b->big_endian;
	uint8_t *p;

	memcpy(out, b->file, FILE_CAP);
	memcpy(out, e->e_ident, EI_NIDENT);
	put(out + 16, e->e_type, 2, be);
	put(out + 18, e->e_machine, 2, be);
	put(out + 20, e->e_version, 4, be);
	put(out + 24, e->e_entry, 8, be);
	put(out + 32, e->e_phoff, 8, be);
	put(out + 40, e->e_shoff, 8, be);
	put(out + 48, e->e_flags, 4, be);
	put(out + 52, e->e_ehsize, 2, be);
	put(out + 54, e->e_phentsize, 2, be);
	put(out + 56, b->nph, 2, be);
	put(out + 58, e->e_shentsize, 2, be);
	put(out + 60, e->e_shnum, 2, be);
	put(out + 62, e->e_shstrndx, 2, be);
	for (unsigned i = 0; i < b->nph; i++) {
		const Elf64_Phdr *ph = &b->ph[i];

		p = out + e->e_phoff + i * sizeof(Elf64_Phdr);
		put(p + 0, ph->p_type, 4, be);
		put(p + 4, ph->p_flags, 4, be);
		put(p + 8, ph->p_offset, 8, be);
		put(p + 16, ph->p_vaddr, 8, be);
		put(p + 24, ph->p_paddr, 8, be);
		put(p + 32, ph->p_filesz, 8, be);
		put(p + 40, ph->p_memsz, 8, be);
		put(p + 48, ph->p_align, 8, be);
	}
}

/* Write `len` bytes to a fresh temporary file; returns its path in `path`. */
static void write_temp(const void *bytes, size_t len, char *path, size_t path_len)
{
	int fd;

	snprintf(path, path_len, "/tmp/hvrun-test-elf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	if (len)
		assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Load `len` bytes through a temporary file; the file is removed before returning. */
static int load_bytes(struct fixture *f, const void *bytes, size_t len)
{
	char path[64];
	int ret;

	write_temp(bytes, len, path, sizeof(path));
	memset(f->why, 0, sizeof(f->why));
	ret = part_elf_load(path, &f->mem, &f->limits, &f->image, f->why, sizeof(f->why));
	assert_int_equal(unlink(path), 0);
	return ret;
}

static int load_builder(struct fixture *f, struct builder *b)
{
	static uint8_t bytes[FILE_CAP];

	assert_true(b->size <= FILE_CAP);
	builder_serialise(b, bytes);
	return load_bytes(f, bytes, b->size);
}

/* Failure helpers report the caller's file and line (cmocka's _fail). */
#define FAIL_AT(file, line, ...) do { print_error("ERROR: " __VA_ARGS__); print_error("\n"); \
	_fail(file, line); } while (0)

/* A failed load: negative errno, a non-empty one-line reason containing `needle`. */
static void check_failure(const struct fixture *f, int ret, const char *needle, const char *file,
			  int line)
{
	if (ret >= 0 || ret < -4095)
		FAIL_AT(file, line, "expected a negative errno, got %d (why: '%s')", ret, f->why);
	if (f->why[0] == '\0')
		FAIL_AT(file, line, "no reason given for error %d", ret);
	if (strchr(f->why, '\n'))
		FAIL_AT(file, line, "reason is not one line: '%s'", f->why);
	if (!strstr(f->why, needle))
		FAIL_AT(file, line, "reason '%s' does not mention '%s'", f->why, needle);
}
#define assert_failure(f, ret, needle) check_failure((f), (ret), (needle), __FILE__, __LINE__)
#define expect_builder_failure(f, b, needle) \
	check_failure((f), load_builder((f), (b)), (needle), __FILE__, __LINE__)

/* ---- good images ---- */

static void test_good_image(void **state)
{
	struct fixture *f = *state;
	struct builder b;
	int ret;

	builder_init(&b);
	ret = load_builder(f, &b);
	if (ret)
		fail_msg("good image rejected: %d (%s)", ret, f->why);
	assert_int_equal(f->image.entry, ENTRY);
	assert_int_equal(f->image.base, TEXT_GPA);
	assert_int_equal(f->image.end, DATA_GPA + DATA_MSZ);
	assert_int_equal(f->image.nsegments, 2);

	/* segment bytes at p_paddr */
	for (size_t i = 0; i < TEXT_SIZE; i++)
		if (f->ram[TEXT_GPA + i] != text_byte(i))
			fail_msg("text byte %zu is %#x, want %#x", i, f->ram[TEXT_GPA + i], text_byte(i));
	for (size_t i = 0; i < DATA_FSZ; i++)
		if (f->ram[DATA_GPA + i] != data_byte(i))
			fail_msg("data byte %zu is %#x, want %#x", i, f->ram[DATA_GPA + i], data_byte(i));
	/* bss: p_memsz beyond p_filesz is zeroed (RAM was 0xAA) */
	for (size_t i = DATA_FSZ; i < DATA_MSZ; i++)
		if (f->ram[DATA_GPA + i] != 0)
			fail_msg("bss byte %#zx is %#x, want 0", i, f->ram[DATA_GPA + i]);
	/* nothing outside the segments is touched */
	assert_int_equal(f->ram[TEXT_GPA - 1], 0xAA);
	assert_int_equal(f->ram[TEXT_GPA + TEXT_SIZE], 0xAA);
	assert_int_equal(f->ram[DATA_GPA - 1], 0xAA);
	assert_int_equal(f->ram[DATA_GPA + DATA_MSZ], 0xAA);
	assert_int_equal(f->ram[HVRUN_IMAGE_MIN_GPA], 0xAA);
	assert_int_equal(f->ram[0], 0xAA);
}

static void test_good_image_via_fd(void **state)
{
	struct fixture *f = *state;
	static uint8_t bytes[FILE_CAP];
	struct builder b;
	char path[64];
	int fd, ret;

	builder_init(&b);
	builder_serialise(&b, bytes);
	write_temp(bytes, b.size, path, sizeof(path));
	fd = open(path, O_RDONLY);
	assert_int_equal(unlink(path), 0);
	assert_true(fd >= 0);
	ret = part_elf_load_fd(fd, &f->mem, &f->limits, &f->image, f->why, sizeof(f->why));
	/* the caller keeps ownership of the descriptor */
	assert_int_not_equal(fcntl(fd, F_GETFD), -1);
	close(fd);
	if (ret)
		fail_msg("good image rejected: %d (%s)", ret, f->why);
	assert_int_equal(f->image.entry, ENTRY);
	assert_int_equal(f->image.base, TEXT_GPA);
	assert_int_equal(f->image.end, DATA_GPA + DATA_MSZ);
	assert_int_equal(f->ram[TEXT_GPA + 5], text_byte(5));
	assert_int_equal(f->ram[DATA_GPA + DATA_FSZ], 0);
}

/* Images run identity-mapped: a segment linked at another virtual address is refused. */
static void test_vaddr_must_equal_paddr(void **state)
{
	struct fixture *f = *state;
	const uint64_t vbase = 0xffffffff80000000ull;
	struct builder b;

	builder_init(&b);
	b.ph[0].p_vaddr = vbase + TEXT_GPA;
	b.eh.e_entry = vbase + TEXT_GPA + 0x20;
	expect_builder_failure(f, &b, "identity-mapped");
	assert_non_null(strstr(f->why, "segment 0"));
}

/* ---- files that are not x86-64 ELF64 executables ---- */

static void test_not_elf(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "#!/bin/sh\necho this is not an ELF image\n";

	assert_failure(f, load_bytes(f, text, sizeof(text) - 1), "not an ELF");
}

static void test_empty_file(void **state)
{
	struct fixture *f = *state;

	assert_failure(f, load_bytes(f, "", 0), "not an ELF");
}

static void test_truncated_header(void **state)
{
	struct fixture *f = *state;
	static uint8_t bytes[FILE_CAP];
	struct builder b;
	int ret;

	builder_init(&b);
	builder_serialise(&b, bytes);
	ret = load_bytes(f, bytes, 20);
	assert_failure(f, ret, "");
	/* whichever check catches it, the reason must say what is wrong with the file */
	if (!strstr(f->why, "truncated") && !strstr(f->why, "not an ELF"))
		fail_msg("reason '%s' does not say the header is truncated", f->why);
}

static void test_truncated_program_headers(void **state)
{
	struct fixture *f = *state;
	static uint8_t bytes[FILE_CAP];
	struct builder b;
	int ret;

	/* full ELF header, but the file ends in the middle of the program header table */
	builder_init(&b);
	builder_serialise(&b, bytes);
	assert_failure(f, load_bytes(f, bytes, sizeof(Elf64_Ehdr) + 10), "");

	/*
	 * Program headers after the segment data (as some linkers emit them), and the file cut in
	 * the middle of the second one: the image is corrupt and must not boot with only the first
	 * segment loaded.
	 */
	builder_init(&b);
	b.eh.e_phoff = b.size;
	b.size += 2 * sizeof(Elf64_Phdr) - 8;
	ret = load_builder(f, &b);
	if (ret == 0)
		fail_msg("image with a truncated program header table loaded %u of 2 segments",
			 f->image.nsegments);
	assert_failure(f, ret, "program header");
}

static void test_wrong_class(void **state)
{
	struct fixture *f = *state;
	struct {
		Elf32_Ehdr eh;
		Elf32_Phdr ph;
		uint8_t text[16];
	} img;

	memset(&img, 0, sizeof(img));
	memcpy(img.eh.e_ident, ELFMAG, SELFMAG);
	img.eh.e_ident[EI_CLASS] = ELFCLASS32;
	img.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	img.eh.e_ident[EI_VERSION] = EV_CURRENT;
	img.eh.e_type = ET_EXEC;
	img.eh.e_machine = EM_386;
	img.eh.e_version = EV_CURRENT;
	img.eh.e_entry = 0x100000;
	img.eh.e_phoff = offsetof(__typeof__(img), ph);
	img.eh.e_ehsize = sizeof(Elf32_Ehdr);
	img.eh.e_phentsize = sizeof(Elf32_Phdr);
	img.eh.e_phnum = 1;
	img.ph.p_type = PT_LOAD;
	img.ph.p_flags = PF_R | PF_X;
	img.ph.p_offset = offsetof(__typeof__(img), text);
	img.ph.p_vaddr = img.ph.p_paddr = 0x100000;
	img.ph.p_filesz = img.ph.p_memsz = sizeof(img.text);
	assert_failure(f, load_bytes(f, &img, sizeof(img)), "64-bit");
}

static void test_wrong_machine_i386(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	builder_init(&b);
	b.eh.e_machine = EM_386;
	expect_builder_failure(f, &b, "machine");
}

static void test_wrong_machine_aarch64(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	builder_init(&b);
	b.eh.e_machine = EM_AARCH64;
	expect_builder_failure(f, &b, "machine");
	assert_int_equal(f->ram[TEXT_GPA], 0xAA);   /* rejected before anything is copied */
}

static void test_big_endian(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	builder_init(&b);
	b.big_endian = 1;
	b.eh.e_ident[EI_DATA] = ELFDATA2MSB;
	expect_builder_failure(f, &b, "little-endian");
}

static void test_et_dyn_rejected(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	builder_init(&b);
	b.eh.e_type = ET_DYN;
	expect_builder_failure(f, &b, "ET_EXEC");
}

static void test_et_rel_rejected(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	builder_init(&b);
	b.eh.e_type = ET_REL;
	expect_builder_failure(f, &b, "ET_EXEC");
}

/* ---- hostile segments ---- */

static void test_segment_past_ram(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	/* straddles the end of RAM */
	builder_init(&b);
	b.ph[1].p_paddr = b.ph[1].p_vaddr = RAM_SIZE - 0x800;
	expect_builder_failure(f, &b, "outside guest RAM");
	/* entirely beyond it */
	builder_init(&b);
	b.ph[1].p_paddr = b.ph[1].p_vaddr = 0x40000000;
	expect_builder_failure(f, &b, "outside guest RAM");
	/* bss alone runs past the end */
	builder_init(&b);
	b.ph[1].p_paddr = b.ph[1].p_vaddr = RAM_SIZE - DATA_FSZ;
	expect_builder_failure(f, &b, "outside guest RAM");
}

static void test_segment_in_reserved_area(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	builder_init(&b);
	b.ph[1].p_paddr = b.ph[1].p_vaddr = HVRUN_GDT_GPA;
	expect_builder_failure(f, &b, "reserved");
	assert_int_equal(f->ram[HVRUN_GDT_GPA], 0xAA);
	/* starts just below the end of the reserved area and reaches into the image area */
	builder_init(&b);
	b.ph[1].p_paddr = b.ph[1].p_vaddr = HVRUN_IMAGE_MIN_GPA - 0x10;
	expect_builder_failure(f, &b, "reserved");
	/* at GPA 0 */
	builder_init(&b);
	b.ph[0].p_paddr = b.ph[0].p_vaddr = 0;
	b.eh.e_entry = 0x10;
	expect_builder_failure(f, &b, "reserved");
}

static void test_filesz_greater_than_memsz(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	builder_init(&b);
	b.ph[1].p_filesz = 0x80;
	b.ph[1].p_memsz = 0x40;
	expect_builder_failure(f, &b, "p_filesz");
}

static void test_file_data_past_eof(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	/* p_offset + p_filesz past the end */
	builder_init(&b);
	b.ph[1].p_filesz = 0x100;
	b.ph[1].p_memsz = 0x1000;
	expect_builder_failure(f, &b, "past the end");
	/* p_offset itself past the end */
	builder_init(&b);
	b.ph[1].p_offset = b.size + 0x1000;
	expect_builder_failure(f, &b, "past the end");
}

static void test_overflowing_paddr(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	/* only the physical range wraps (the virtual one is sane) */
	builder_init(&b);
	b.ph[1].p_paddr = 0xFFFFFFFFFFFFF000ull;
	b.ph[1].p_memsz = 0x2000;
	expect_builder_failure(f, &b, "overflows");
	assert_non_null(strstr(f->why, "0xfffffffffffff000"));
	/* both wrap */
	builder_init(&b);
	b.ph[1].p_paddr = 0xFFFFFFFFFFFFF000ull;
	b.ph[1].p_vaddr = 0xFFFFFFFFFFFFF000ull;
	b.ph[1].p_memsz = 0x2000;
	expect_builder_failure(f, &b, "overflows");
}

static void test_overflowing_vaddr(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	builder_init(&b);
	b.ph[1].p_vaddr = 0xFFFFFFFFFFFFF000ull;
	b.ph[1].p_memsz = 0x2000;
	expect_builder_failure(f, &b, "overflows");
}

static void test_huge_offset(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	builder_init(&b);
	b.ph[1].p_offset = 0xFFFFFFFFFFFFFF00ull;
	expect_builder_failure(f, &b, "past the end");
	/* offset + filesz wraps to a small number */
	builder_init(&b);
	b.ph[1].p_offset = UINT64_MAX - 0x10;
	b.ph[1].p_filesz = 0x80;
	expect_builder_failure(f, &b, "past the end");
	/* filesz alone huge (and memsz too, so filesz <= memsz holds) */
	builder_init(&b);
	b.ph[1].p_filesz = 0xFFFFFFFFFFFFFF00ull;
	b.ph[1].p_memsz = 0xFFFFFFFFFFFFFF00ull;
	expect_builder_failure(f, &b, "past the end");
}

static void test_no_pt_load(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	builder_init(&b);
	b.ph[0].p_type = PT_NOTE;
	b.ph[1].p_type = PT_NOTE;
	expect_builder_failure(f, &b, "no PT_LOAD");
	/* no program headers at all */
	builder_init(&b);
	b.nph = 0;
	expect_builder_failure(f, &b, "no PT_LOAD");
}

static void test_entry_outside_segments(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	builder_init(&b);
	b.eh.e_entry = 0x300000;
	expect_builder_failure(f, &b, "entry point");
	/* one past the end of the text segment */
	builder_init(&b);
	b.eh.e_entry = TEXT_GPA + TEXT_SIZE;
	expect_builder_failure(f, &b, "entry point");
	/* zero */
	builder_init(&b);
	b.eh.e_entry = 0;
	expect_builder_failure(f, &b, "entry point");
}

static void test_entry_in_non_executable_segment(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	builder_init(&b);
	b.eh.e_entry = DATA_GPA + 0x10;
	expect_builder_failure(f, &b, "entry point");
}

static void test_overlapping_segments(void **state)
{
	struct fixture *f = *state;
	struct builder b;

	builder_init(&b);
	b.ph[1].p_paddr = b.ph[1].p_vaddr = TEXT_GPA + TEXT_SIZE - 1;
	expect_builder_failure(f, &b, "overlap");
	/* the second segment contains the first */
	builder_init(&b);
	b.ph[1].p_paddr = b.ph[1].p_vaddr = TEXT_GPA - 0x800;
	expect_builder_failure(f, &b, "overlap");
	/* adjacent is fine */
	builder_init(&b);
	b.ph[1].p_paddr = b.ph[1].p_vaddr = TEXT_GPA + TEXT_SIZE;
	assert_int_equal(load_builder(f, &b), 0);
	assert_int_equal(f->image.end, TEXT_GPA + TEXT_SIZE + DATA_MSZ);
}

static void test_directory(void **state)
{
	struct fixture *f = *state;
	int ret;

	ret = part_elf_load("/tmp", &f->mem, &f->limits, &f->image, f->why, sizeof(f->why));
	assert_failure(f, ret, "directory");
	assert_int_equal(ret, -EISDIR);
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	int ret;

	ret = part_elf_load("/tmp/hvrun-test-elf-does-not-exist/nope", &f->mem, &f->limits,
			    &f->image, f->why, sizeof(f->why));
	assert_failure(f, ret, "No such file");
	assert_int_equal(ret, -ENOENT);
	/* the reason does not repeat the file name (the caller prints it) */
	assert_null(strstr(f->why, "nope"));
}

static void test_why_truncated(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "not an ELF file at all, just some text\n";
	char why[16];
	char path[64];
	int ret;

	write_temp(text, sizeof(text) - 1, path, sizeof(path));
	memset(why, 'Z', sizeof(why));
	ret = part_elf_load(path, &f->mem, &f->limits, &f->image, why, 8);
	assert_int_equal(unlink(path), 0);
	assert_true(ret < 0);
	assert_int_equal(strnlen(why, 8), 7);          /* NUL-terminated inside the 8 bytes */
	assert_memory_equal(why, "not an ", 7);
	for (size_t i = 8; i < sizeof(why); i++)
		assert_int_equal(why[i], 'Z');

	/* a 1-byte buffer gets just the terminator, a NULL buffer is not touched */
	memset(why, 'Z', sizeof(why));
	ret = part_elf_load("/tmp", &f->mem, &f->limits, &f->image, why, 1);
	assert_true(ret < 0);
	assert_int_equal(why[0], '\0');
	assert_int_equal(why[1], 'Z');
	ret = part_elf_load("/tmp", &f->mem, &f->limits, &f->image, NULL, 0);
	assert_int_equal(ret, -EISDIR);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_good_image),
		T(test_good_image_via_fd),
		T(test_vaddr_must_equal_paddr),
		T(test_not_elf),
		T(test_empty_file),
		T(test_truncated_header),
		T(test_truncated_program_headers),
		T(test_wrong_class),
		T(test_wrong_machine_i386),
		T(test_wrong_machine_aarch64),
		T(test_big_endian),
		T(test_et_dyn_rejected),
		T(test_et_rel_rejected),
		T(test_segment_past_ram),
		T(test_segment_in_reserved_area),
		T(test_filesz_greater_than_memsz),
		T(test_file_data_past_eof),
		T(test_overflowing_paddr),
		T(test_overflowing_vaddr),
		T(test_huge_offset),
		T(test_no_pt_load),
		T(test_entry_outside_segments),
		T(test_entry_in_non_executable_segment),
		T(test_overlapping_segments),
		T(test_directory),
		T(test_missing_file),
		T(test_why_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
