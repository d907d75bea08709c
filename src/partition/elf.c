/* SPDX-License-Identifier: MIT */
/* ELF64 loading: every field of the file is hostile input and is range-checked before use. */
#include "partition/elf.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PHDRS 64

static int fail(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return err;
}

static int read_exact(int fd, void *buf, uint64_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len > (1u << 30) ? (1u << 30) : (size_t)len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

static int check_segments(const GElf_Phdr *ph, unsigned n, uint64_t file_size,
			  const struct part_mem *mem, const struct part_elf_limits *lim,
			  char *why, size_t wl)
{
	for (unsigned i = 0; i < n; i++) {
		const GElf_Phdr *p = &ph[i];

		if (p->p_filesz > p->p_memsz)
			return fail(why, wl, -EINVAL, "segment %u: p_filesz %#" PRIx64 " > p_memsz %#" PRIx64,
				    i, (uint64_t)p->p_filesz, (uint64_t)p->p_memsz);
		if (p->p_offset > file_size || p->p_filesz > file_size - p->p_offset)
			return fail(why, wl, -EINVAL, "segment %u: file data [%#" PRIx64 ", +%#" PRIx64
				    ") runs past the end of the file (%" PRIu64 " bytes)", i,
				    (uint64_t)p->p_offset, (uint64_t)p->p_filesz, file_size);
		if (p->p_memsz == 0)
			continue;
		if (p->p_paddr + p->p_memsz < p->p_paddr)
			return fail(why, wl, -EINVAL, "segment %u: address %#" PRIx64 " + size %#" PRIx64
				    " overflows", i, (uint64_t)p->p_paddr, (uint64_t)p->p_memsz);
		if (p->p_vaddr + p->p_memsz < p->p_vaddr)
			return fail(why, wl, -EINVAL, "segment %u: virtual range overflows", i);
		if (p->p_vaddr != p->p_paddr)
			return fail(why, wl, -EINVAL, "segment %u: p_vaddr %#" PRIx64 " differs from p_paddr %#"
				    PRIx64 " (hvrun starts images identity-mapped)", i, (uint64_t)p->p_vaddr,
				    (uint64_t)p->p_paddr);
		if (p->p_paddr < lim->min_gpa)
			return fail(why, wl, -EINVAL, "segment %u at %#" PRIx64 " overlaps hvrun's reserved "
				    "area [0, %#" PRIx64 ")", i, (uint64_t)p->p_paddr, lim->min_gpa);
		if (p->p_paddr + p->p_memsz > lim->max_gpa ||
		    !part_mem_contains(mem, p->p_paddr, p->p_memsz))
			return fail(why, wl, -E2BIG, "segment %u [%#" PRIx64 ", %#" PRIx64 ") lies outside "
				    "guest RAM [%#" PRIx64 ", %#" PRIx64 ")", i, (uint64_t)p->p_paddr,
				    (uint64_t)(p->p_paddr + p->p_memsz), lim->min_gpa, lim->max_gpa);
		for (unsigned j = 0; j < i; j++) {
			const GElf_Phdr *q = &ph[j];
			if (q->p_memsz && p->p_paddr < q->p_paddr + q->p_memsz &&
			    q->p_paddr < p->p_paddr + p->p_memsz)
				return fail(why, wl, -EINVAL, "segments %u and %u overlap", j, i);
		}
	}
	return 0;
}

/* The "hvrun" policy note in PT_NOTE segments, if any. Malformed policy notes are errors. */
static int read_policy(Elf *elf, size_t phnum, struct part_image *image, char *why, size_t wl)
{
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		Elf_Data *d;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off, next;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE || ph.p_filesz == 0)
			continue;
		d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
		if (!d)
			return fail(why, wl, -ENOEXEC, "note segment %zu is unreadable (%s)", i, elf_errmsg(-1));
		while ((next = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			const char *name = (const char *)d->d_buf + name_off;
			off = next;
			if (nh.n_namesz != sizeof(HVRUN_NOTE_NAME) || memcmp(name, HVRUN_NOTE_NAME, nh.n_namesz) ||
			    nh.n_type != HVRUN_NOTE_POLICY)
				continue;
			if (nh.n_descsz != sizeof(image->policy))
				return fail(why, wl, -EINVAL, "policy note has %u bytes, expected %zu", nh.n_descsz,
					    sizeof(image->policy));
			memcpy(&image->policy, (const char *)d->d_buf + desc_off, sizeof(image->policy));
			if (image->policy.version != HVRUN_POLICY_VERSION)
				return fail(why, wl, -EINVAL, "policy note version %u (hvrun knows %u)",
					    image->policy.version, HVRUN_POLICY_VERSION);
			if (image->policy.flags & ~HVRUN_POLICY_REQUIRES_VTL1)
				return fail(why, wl, -EINVAL, "policy note has unknown flags %#x",
					    image->policy.flags);
			image->has_policy = true;
		}
	}
	return 0;
}

/* ".hvci" sections: page-aligned, inside what was loaded. A missing section table is fine. */
static int read_hvci(Elf *elf, struct part_image *image, char *why, size_t wl)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (strcmp(name, ".hvci") != 0 || sh.sh_size == 0)
			continue;
		if ((sh.sh_addr & 0xfff) || sh.sh_addr + sh.sh_size < sh.sh_addr ||
		    sh.sh_addr < image->base || sh.sh_addr + sh.sh_size > image->end)
			return fail(why, wl, -EINVAL, "section .hvci at %#" PRIx64 " is not page-aligned "
				    "inside the image", (uint64_t)sh.sh_addr);
		if (image->nhvci == PART_IMAGE_MAX_HVCI)
			return fail(why, wl, -E2BIG, "more than %u .hvci sections", PART_IMAGE_MAX_HVCI);
		image->hvci[image->nhvci++] = (struct part_range){ .base = sh.sh_addr, .size = sh.sh_size };
	}
	return 0;
}

int part_elf_load_fd(int fd, struct part_mem *mem, const struct part_elf_limits *limits,
		     struct part_image *image, char *why, size_t wl)
{
	GElf_Phdr ph[MAX_PHDRS];
	GElf_Ehdr eh;
	struct stat st;
	Elf *elf = NULL;
	size_t phnum;
	unsigned nload = 0;
	int ret;

	if (fstat(fd, &st) < 0)
		return fail(why, wl, -errno, "cannot stat: %s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return fail(why, wl, -EISDIR, "is a directory, not an ELF image");
	if (!S_ISREG(st.st_mode))
		return fail(why, wl, -EINVAL, "is not a regular file");
	if (elf_version(EV_CURRENT) == EV_NONE)
		return fail(why, wl, -ENOTSUP, "libelf is too old: %s", elf_errmsg(-1));
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return fail(why, wl, -ENOEXEC, "not an ELF file (%s)", elf_errmsg(-1));
	if (elf_kind(elf) != ELF_K_ELF) {
		ret = fail(why, wl, -ENOEXEC, "not an ELF file");
		goto out;
	}
	if (gelf_getclass(elf) != ELFCLASS64) {
		ret = fail(why, wl, -ENOEXEC, "not a 64-bit ELF file (ELFCLASS64 required)");
		goto out;
	}
	if (!gelf_getehdr(elf, &eh)) {
		ret = fail(why, wl, -ENOEXEC, "truncated or corrupt ELF header (%s)", elf_errmsg(-1));
		goto out;
	}
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		ret = fail(why, wl, -ENOEXEC, "not a little-endian ELF file");
		goto out;
	}
	if (eh.e_machine != EM_X86_64) {
		ret = fail(why, wl, -ENOEXEC, "wrong machine %u: an x86-64 (EM_X86_64) image is required",
			   eh.e_machine);
		goto out;
	}
	if (eh.e_type != ET_EXEC) {
		ret = fail(why, wl, -ENOEXEC, "not an executable (e_type %u, ET_EXEC required)", eh.e_type);
		goto out;
	}
	if (elf_getphdrnum(elf, &phnum) != 0) {
		ret = fail(why, wl, -ENOEXEC, "corrupt program header table (%s)", elf_errmsg(-1));
		goto out;
	}
	if (phnum > MAX_PHDRS) {
		ret = fail(why, wl, -E2BIG, "%zu program headers (at most %d)", phnum, MAX_PHDRS);
		goto out;
	}
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr p;
		if (!gelf_getphdr(elf, (int)i, &p)) {
			ret = fail(why, wl, -ENOEXEC, "program header %zu is unreadable (%s)", i, elf_errmsg(-1));
			goto out;
		}
		if (p.p_type == PT_LOAD)
			ph[nload++] = p;
	}
	if (nload == 0) {
		ret = fail(why, wl, -ENOEXEC, "no PT_LOAD segment: nothing to load");
		goto out;
	}
	ret = check_segments(ph, nload, (uint64_t)st.st_size, mem, limits, why, wl);
	if (ret)
		goto out;

	memset(image, 0, sizeof(*image));
	image->base = UINT64_MAX;
	image->text.base = UINT64_MAX;
	image->nsegments = nload;
	for (unsigned i = 0; i < nload; i++) {
		const GElf_Phdr *p = &ph[i];

		if (p->p_memsz == 0)
			continue;
		uint8_t *dst = part_mem_ptr(mem, p->p_paddr, p->p_memsz);
		ret = p->p_filesz ? read_exact(fd, dst, p->p_filesz, p->p_offset) : 0;
		if (ret) {
			ret = fail(why, wl, ret, "cannot read segment %u: %s", i, strerror(-ret));
			goto out;
		}
		memset(dst + p->p_filesz, 0, p->p_memsz - p->p_filesz);
		if (p->p_paddr < image->base)
			image->base = p->p_paddr;
		if (p->p_paddr + p->p_memsz > image->end)
			image->end = p->p_paddr + p->p_memsz;
		if (eh.e_entry >= p->p_paddr && eh.e_entry - p->p_paddr < p->p_memsz && (p->p_flags & PF_X))
			image->entry = eh.e_entry;
		if (p->p_flags & PF_X) {
			uint64_t lo = p->p_paddr & ~0xfffull;
			uint64_t hi = (p->p_paddr + p->p_memsz + 0xfff) & ~0xfffull;
			if (lo < image->text.base)
				image->text.base = lo;
			if (hi - image->text.base > image->text.size)
				image->text.size = hi - image->text.base;
		}
	}
	if (image->end == 0) {
		ret = fail(why, wl, -ENOEXEC, "all PT_LOAD segments are empty");
		goto out;
	}
	if (image->entry == 0) {
		ret = fail(why, wl, -ENOEXEC, "entry point %#" PRIx64 " is not inside an executable "
			   "PT_LOAD segment", (uint64_t)eh.e_entry);
		goto out;
	}
	ret = read_policy(elf, phnum, image, why, wl);
	if (!ret)
		ret = read_hvci(elf, image, why, wl);
out:
	elf_end(elf);
	return ret;
}

int part_elf_load(const char *path, struct part_mem *mem, const struct part_elf_limits *limits,
		  struct part_image *image, char *why, size_t wl)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return fail(why, wl, -errno, "cannot open: %s", strerror(errno));
	ret = part_elf_load_fd(fd, mem, limits, image, why, wl);
	close(fd);
	return ret;
}
