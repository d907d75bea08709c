/* SPDX-License-Identifier: MIT */
/*
 * bench/raw: the floor hvrun is compared against. A minimal VMM straight on the KVM API, with
 * no router, no messages, no services: it loads the same guest image (guests/bench/bench.c, or
 * the canary) with the same boot state hvrun builds (src/partition/boot.c: GDT and TSS, identity
 * page tables, boot info, 64-bit long mode at CPL0) and answers only what the benchmark guest
 * needs, in the cheapest way this KVM allows:
 *
 *   port 0xF4 (exit status), 0xE9 and the UART's THR/LSR (console), any other port: nothing;
 *   HV_X64_MSR_GUEST_OS_ID, _HYPERCALL, _VP_ASSIST_PAGE, _TIME_REF_COUNT through a user-space
 *   MSR filter over 0x40000000-0x400001FF (the range hvrun traps);
 *   the hypercall page: the very trampolines hvrun writes (src/hv/hcpage.c, linked in), written
 *   into guest RAM; port-0xEB exits answered in place: NotifyLongSpinWait, GetVpRegisters,
 *   SetVpRegisters, EnablePartitionVtl, EnableVpVtl, ModifyVtlProtectionMask (one read-only
 *   page), VtlCall and VtlReturn;
 *   VTL1 as hvrun builds it: a second VM over the same RAM plus private memory at 3 GiB, a vCPU
 *   in it, the shared registers copied on every switch; a write to the read-only page (a
 *   KVM_MEM_READONLY slot) enters VTL1 with entry reason 3 in its VP assist page.
 *
 * Registers come from sync_regs (REGS only, and only for the workloads that need them).
 * --sync regs|all overrides that for attribution experiments: "all" syncs REGS and SREGS on
 * every exit, as hvrun does, to separate KVM's share of hvrun's cost from hvrun's own.
 *
 * Host-side timing: the guest writes 1 and then 2 to port 0x81 around its timed batches; raw
 * timestamps both exits with clock_gettime(CLOCK_MONOTONIC) and prints, on stderr,
 *
 *     RAWHOST name=pio iters=20000 exits=20000 wall_ns=.. wall_ns_per_iter=..
 *
 * Usage: raw [-m SIZE] [--cmdline STRING] [--timeout SECONDS] [--sync min|regs|all] [--mem-report] IMAGE
 * Exit status: the guest's (port 0xF4), 0 for HLT, 120 triple fault, 121 KVM internal error or
 * failed entry, 122 an exit raw does not handle, 125 a host error; killed by SIGALRM on timeout.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "hv/hcpage.h"
#include "hv/tlfs.h"
#include "hvrun/abi.h"

#define PAGE 4096ull
#define KVM_TSS_ADDR 0xfffbd000ul
#define MSR_TRAP_COUNT 0x200u
#define VTL1_MEM_SIZE HVRUN_VTL1_MEM_DEFAULT
#define PORT_MARK 0x81u


#define EXIT_TRIPLE_FAULT 120
#define EXIT_KVM_ERROR 121
#define EXIT_UNHANDLED 122
#define EXIT_HOST 125

/* One VTL: a KVM VM and its vCPU (VP 0), and that VTL's synthetic MSRs. */
struct vtl {
	int vm, vcpu;
	struct kvm_run *run;
	uint64_t guest_os_id, hypercall, assist;
};

static struct {
	int kvm;
	size_t run_size;
	uint8_t *ram, *priv;
	uint64_t ram_size;
	struct kvm_cpuid2 *cpuid;
	uint64_t tsc_hz;
	uint64_t ref_scale;               /* 100 ns units per TSC tick, 0.64 fixed point */
	bool sync_regs;                   /* the workload needs registers at its exits */
	uint64_t valid_regs;              /* kvm_valid_regs of every vCPU */
	struct vtl v[2];
	bool vtl1_vm;
	int active;
	uint64_t ro_gpa;                  /* the page VTL1 made read-only; 0: none */
	bool intercept_page;              /* VTL1 set VsmPartitionConfig.InterceptPage */
	/* host-side timing between the guest's marks */
	bool marking;
	uint64_t exits;
	struct timespec t0, t1;
	bool marked;
	/* console */
	char line[1024];
	size_t line_len;
	uint64_t bench_iters;
	char name[32];
} R;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("raw: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_HOST);
}

static int xioctl(int fd, unsigned long req, const void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r < 0 && errno == EAGAIN);
	return r;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* ---- image and boot state (the same as src/partition/elf.c and boot.c produce) ---- */

struct image {
	uint64_t entry, base, end;
};

static void load_elf(const char *path, struct image *img)
{
	struct stat st;
	const Elf64_Ehdr *eh;
	uint8_t *f;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) || st.st_size < (off_t)sizeof(Elf64_Ehdr))
		die("%s: cannot read", path);
	f = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (f == MAP_FAILED)
		die("%s: cannot map", path);
	eh = (const Elf64_Ehdr *)f;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_machine != EM_X86_64 || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > (uint64_t)st.st_size)
		die("%s: not an ELF64 x86-64 image", path);
	img->base = UINT64_MAX;
	img->end = 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(f + eh->e_phoff) + i;
		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		if (ph->p_paddr < HVRUN_IMAGE_MIN_GPA || ph->p_paddr + ph->p_memsz > R.ram_size ||
		    ph->p_filesz > ph->p_memsz || ph->p_offset + ph->p_filesz > (uint64_t)st.st_size)
			die("%s: segment %u does not fit", path, i);
		memcpy(R.ram + ph->p_paddr, f + ph->p_offset, ph->p_filesz);
		memset(R.ram + ph->p_paddr + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
		if (ph->p_paddr < img->base)
			img->base = ph->p_paddr;
		if (ph->p_paddr + ph->p_memsz > img->end)
			img->end = ph->p_paddr + ph->p_memsz;
	}
	if (!img->end)
		die("%s: nothing to load", path);
	img->entry = eh->e_entry;
	munmap(f, (size_t)st.st_size);
}

static void write_boot_state(const struct image *img, const char *cmdline)
{
	uint8_t *gdt = R.ram + HVRUN_GDT_GPA, *pml4 = R.ram + HVRUN_PML4_GPA;
	uint8_t *pdpt = R.ram + HVRUN_PDPT_GPA, *pd = R.ram + HVRUN_PD_GPA;
	uint64_t tss = HVRUN_TSS_GPA;
	struct hvrun_boot_info *bi = (struct hvrun_boot_info *)(R.ram + HVRUN_BOOTINFO_GPA);
	size_t len = strlen(cmdline);

	/* GDT: null, code64 0x08, data 0x10 (accessed bits preset), busy 64-bit TSS 0x18. */
	put64(gdt + HVRUN_SEL_CODE64, 0x00af9b000000ffffull);
	put64(gdt + HVRUN_SEL_DATA, 0x00cf93000000ffffull);
	put64(gdt + HVRUN_SEL_TSS, 0x67 | (tss & 0xffffff) << 16 | 0x8bull << 40 | ((tss >> 24) & 0xff) << 56);
	put64(gdt + HVRUN_SEL_TSS + 8, tss >> 32);
	R.ram[HVRUN_TSS_GPA + 0x66] = 0x68;          /* I/O map base past the limit */
	/* Identity map of the low 4 GiB, 2 MiB pages, accessed/dirty preset. */
	put64(pml4, HVRUN_PDPT_GPA | 0x23);
	for (unsigned i = 0; i < HVRUN_PD_PAGES; i++)
		put64(pdpt + 8 * i, (HVRUN_PD_GPA + PAGE * i) | 0x23);
	for (uint64_t i = 0; i < 512ull * HVRUN_PD_PAGES; i++)
		put64(pd + 8 * i, i << 21 | 0xe3);
	if (len >= HVRUN_CMDLINE_MAX)
		die("command line too long");
	bi->magic = HVRUN_BOOTINFO_MAGIC;
	bi->version = HVRUN_BOOTINFO_VERSION;
	bi->size = sizeof(*bi);
	bi->ram_size = R.ram_size;
	bi->reserved_size = HVRUN_RESERVED_END;
	bi->image_base = img->base;
	bi->image_end = img->end;
	bi->tsc_hz = R.tsc_hz;
	bi->cmdline_len = (uint32_t)len;
	memcpy(bi->cmdline, cmdline, len);
}

/* ---- KVM objects ---- */

static void set_memory(int vm, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region m = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	if (xioctl(vm, KVM_SET_USER_MEMORY_REGION, &m) < 0)
		die("KVM_SET_USER_MEMORY_REGION slot %u: %s", slot, strerror(errno));
}

static void create_vm(int vtl)
{
	static uint8_t deny[MSR_TRAP_COUNT / 8];    /* all zero: every MSR of the range exits */
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args[0] = KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN,
	};
	struct kvm_msr_filter filter = {
		.flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
		.ranges[0] = { .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			       .nmsrs = MSR_TRAP_COUNT, .base = HV_SYNTHETIC_MSR_FIRST, .bitmap = deny },
	};
	int vm = xioctl(R.kvm, KVM_CREATE_VM, 0);

	if (vm < 0 || xioctl(vm, KVM_SET_TSS_ADDR, (void *)KVM_TSS_ADDR) < 0)
		die("cannot create a VM: %s", strerror(errno));
	if (xioctl(vm, KVM_ENABLE_CAP, &cap) < 0 || xioctl(vm, KVM_X86_SET_MSR_FILTER, &filter) < 0)
		die("user-space MSR exits: %s", strerror(errno));
	set_memory(vm, 0, 0, 0, R.ram_size, R.ram);
	if (vtl)
		set_memory(vm, 1, 0, HVRUN_VTL1_BASE, VTL1_MEM_SIZE, R.priv);
	R.v[vtl].vm = vm;
}

static void create_vcpu(int vtl)
{
	struct vtl *v = &R.v[vtl];

	v->vcpu = xioctl(v->vm, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		die("KVM_CREATE_VCPU: %s", strerror(errno));
	v->run = mmap(NULL, R.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED)
		die("mmap kvm_run: %s", strerror(errno));
	if (xioctl(v->vcpu, KVM_SET_CPUID2, R.cpuid) < 0)
		die("KVM_SET_CPUID2: %s", strerror(errno));
	v->run->kvm_valid_regs = R.valid_regs;
}

static void set_state(int vtl, struct kvm_regs *regs, struct kvm_sregs *s)
{
	struct vtl *v = &R.v[vtl];

	if (xioctl(v->vcpu, KVM_SET_SREGS, s) < 0 || xioctl(v->vcpu, KVM_SET_REGS, regs) < 0)
		die("cannot set the initial registers of VTL%d: %s", vtl, strerror(errno));
	v->run->s.regs.regs = *regs;          /* valid until the first exit refreshes it */
}

static void boot_vcpu(uint64_t entry)
{
	struct kvm_segment code = { .limit = 0xffffffff, .selector = HVRUN_SEL_CODE64, .type = 11,
				    .present = 1, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment data = { .limit = 0xffffffff, .selector = HVRUN_SEL_DATA, .type = 3,
				    .present = 1, .s = 1, .db = 1, .g = 1 };
	struct kvm_segment tr = { .base = HVRUN_TSS_GPA, .limit = 0x67, .selector = HVRUN_SEL_TSS,
				  .type = 11, .present = 1 };
	struct kvm_regs regs = { .rip = entry, .rsp = HVRUN_STACK_TOP, .rdi = HVRUN_BOOTINFO_GPA,
				 .rflags = 2 };
	struct kvm_sregs s = { 0 };

	if (xioctl(R.v[0].vcpu, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS: %s", strerror(errno));
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.tr = tr;
	s.gdt.base = HVRUN_GDT_GPA;
	s.gdt.limit = HVRUN_SEL_TSS + 15;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = 0x80010033;
	s.cr3 = HVRUN_PML4_GPA;
	s.cr4 = 0x620;
	s.efer = 0xd00;
	set_state(0, &regs, &s);
}

static void *gpa_ptr(int vtl, uint64_t gpa, uint64_t len)
{
	if (gpa < R.ram_size && len <= R.ram_size - gpa)
		return R.ram + gpa;
	if (vtl == 1 && gpa >= HVRUN_VTL1_BASE && gpa - HVRUN_VTL1_BASE < VTL1_MEM_SIZE &&
	    len <= VTL1_MEM_SIZE - (gpa - HVRUN_VTL1_BASE))
		return R.priv + (gpa - HVRUN_VTL1_BASE);
	return NULL;
}

/* ---- VSM: the switch and what the guest enables ---- */

static void switch_to(int to)
{
	struct kvm_regs *dst = &R.v[to].run->s.regs.regs, *src = &R.v[R.active].run->s.regs.regs;
	uint64_t rsp = dst->rsp, rip = dst->rip, rflags = dst->rflags;

	*dst = *src;                          /* shared: everything but RSP, RIP, RFLAGS */
	dst->rsp = rsp;
	dst->rip = rip;
	dst->rflags = rflags;
	R.v[to].run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	R.active = to;
}

static void set_assist(int vtl, unsigned off, const void *val, size_t len)
{
	uint8_t *a;

	if (!(R.v[vtl].assist & 1))
		return;
	a = gpa_ptr(vtl, R.v[vtl].assist & ~(PAGE - 1), PAGE);
	if (a)
		memcpy(a + off, val, len);
}

/* HV_INITIAL_VP_CONTEXT */
struct hv_seg {
	uint64_t base;
	uint32_t limit;
	uint16_t selector, attributes;
};
struct initial_context {
	uint64_t rip, rsp, rflags;
	struct hv_seg cs, ds, es, fs, gs, ss, tr, ldtr;
	struct { uint16_t pad[3], limit; uint64_t base; } idtr, gdtr;
	uint64_t efer, cr0, cr3, cr4, pat;
};

static void seg_from_hv(struct kvm_segment *k, const struct hv_seg *s)
{
	memset(k, 0, sizeof(*k));
	k->base = s->base;
	k->limit = s->limit;
	k->selector = s->selector;
	k->type = s->attributes & 0xf;
	k->s = (s->attributes >> 4) & 1;
	k->dpl = (s->attributes >> 5) & 3;
	k->present = (s->attributes >> 7) & 1;
	k->avl = (s->attributes >> 12) & 1;
	k->l = (s->attributes >> 13) & 1;
	k->db = (s->attributes >> 14) & 1;
	k->g = (s->attributes >> 15) & 1;
	k->unusable = !k->present;
}

static uint16_t enable_vp_vtl(const uint8_t *in)
{
	struct initial_context c;
	struct kvm_regs regs = { 0 };
	struct kvm_sregs s = { 0 };
	/* kvm_msrs ends in a flexible array: a union gives it room for one entry in ISO C. */
	union {
		struct kvm_msrs h;
		unsigned char raw[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} pat = { .raw = { 0 } };

	if (!R.vtl1_vm || R.v[1].vcpu >= 0)
		return HV_STATUS_INVALID_VTL_STATE;
	memcpy(&c, in + 16, sizeof(c));
	create_vcpu(1);
	if (xioctl(R.v[1].vcpu, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS: %s", strerror(errno));
	seg_from_hv(&s.cs, &c.cs);
	seg_from_hv(&s.ds, &c.ds);
	seg_from_hv(&s.es, &c.es);
	seg_from_hv(&s.fs, &c.fs);
	seg_from_hv(&s.gs, &c.gs);
	seg_from_hv(&s.ss, &c.ss);
	seg_from_hv(&s.tr, &c.tr);
	seg_from_hv(&s.ldt, &c.ldtr);
	s.idt.base = c.idtr.base;
	s.idt.limit = c.idtr.limit;
	s.gdt.base = c.gdtr.base;
	s.gdt.limit = c.gdtr.limit;
	s.efer = c.efer;
	s.cr0 = c.cr0;
	s.cr3 = c.cr3;
	s.cr4 = c.cr4;
	regs.rip = c.rip;
	regs.rsp = c.rsp;
	regs.rflags = c.rflags | 2;
	set_state(1, &regs, &s);
	pat.h.nmsrs = 1;
	pat.h.entries[0].index = 0x277;
	pat.h.entries[0].data = c.pat;
	if (c.pat && xioctl(R.v[1].vcpu, KVM_SET_MSRS, &pat) != 1)
		die("KVM_SET_MSRS PAT: %s", strerror(errno));
	return 0;
}

/* The one protection the benchmark asks for: a RAM page without W becomes a read-only slot. */
static void protect_page(uint64_t gpa)
{
	int vm = R.v[0].vm;

	if (R.ro_gpa || gpa < PAGE || gpa + PAGE > R.ram_size)
		die("raw handles one read-only page inside RAM only");
	set_memory(vm, 0, 0, 0, 0, NULL);                     /* delete, then split in three */
	set_memory(vm, 0, 0, 0, gpa, R.ram);
	set_memory(vm, 2, KVM_MEM_READONLY, gpa, PAGE, R.ram + gpa);
	if (gpa + PAGE < R.ram_size)
		set_memory(vm, 3, 0, gpa + PAGE, R.ram_size - gpa - PAGE, R.ram + gpa + PAGE);
	R.ro_gpa = gpa;
}

/* ---- exits ---- */

static void console_byte(uint8_t c)
{
	if (c == '\r')
		return;
	if (R.line_len < sizeof(R.line) - 1)
		R.line[R.line_len++] = (char)c;
	if (c != '\n')
		return;
	R.line[R.line_len] = 0;
	fputs(R.line, stdout);
	if (!strncmp(R.line, "BENCH name=", 11)) {
		const char *it = strstr(R.line, " iters=");
		if (it)
			R.bench_iters = strtoull(it + 7, NULL, 10);
	}
	R.line_len = 0;
}

static void hypercall(int vtl, struct kvm_regs *g)
{
	uint16_t code = (uint16_t)(g->rcx & HV_HYPERCALL_CODE_MASK);
	uint64_t reps = (g->rcx >> 32) & 0xfff;
	uint8_t *in, *out;
	uint64_t v;

	switch (code) {
	case HVCALL_VTL_CALL:
		if (vtl != 0 || R.v[1].vcpu < 0)
			die("VtlCall without VTL1");
		v = HV_VTL_ENTRY_VTL_CALL;
		set_assist(1, HV_VP_ASSIST_ENTRY_REASON, &v, 4);
		switch_to(1);
		return;
	case HVCALL_VTL_RETURN:
		if (vtl != 1)
			die("VtlReturn from VTL0");
		if (!(g->rax & 1) && (R.v[1].assist & 1)) {         /* not fast: RAX/RCX from assist */
			uint8_t *a = gpa_ptr(1, R.v[1].assist & ~(PAGE - 1), PAGE);
			memcpy(&g->rax, a + HV_VP_ASSIST_RETURN_RAX, 8);
			memcpy(&g->rcx, a + HV_VP_ASSIST_RETURN_RCX, 8);
		}
		switch_to(0);
		return;
	case HVCALL_NOTIFY_LONG_SPIN_WAIT:
		g->rax = 0;
		break;
	case HVCALL_GET_VP_REGISTERS:
		in = gpa_ptr(vtl, g->rdx, 16 + 4 * reps);
		out = gpa_ptr(vtl, g->r8, 16 * reps);
		if (!in || !out || !reps) {
			g->rax = HV_STATUS_INVALID_PARAMETER;
			break;
		}
		for (uint64_t i = 0; i < reps; i++) {
			uint32_t name;
			uint64_t val[2] = { 0, 0 };
			memcpy(&name, in + 16 + 4 * i, 4);
			if (name == HV_REG_RIP)
				val[0] = g->rip;
			memcpy(out + 16 * i, val, 16);             /* everything else (VP index): 0 */
		}
		g->rax = reps << 32;
		break;
	case HVCALL_SET_VP_REGISTERS:
		in = gpa_ptr(vtl, g->rdx, 16 + 32 * reps);
		if (!in || !reps) {
			g->rax = HV_STATUS_INVALID_PARAMETER;
			break;
		}
		for (uint64_t i = 0; i < reps; i++) {
			uint32_t name;
			memcpy(&name, in + 16 + 32 * i, 4);
			memcpy(&v, in + 16 + 32 * i + 16, 8);
			if (name == HV_REG_VSM_PARTITION_CONFIG && vtl == 1)
				R.intercept_page = v & HV_VSM_CONFIG_INTERCEPT_PAGE;
		}
		g->rax = reps << 32;
		break;
	case HVCALL_MODIFY_VTL_PROTECTION_MASK: {
		uint32_t flags;
		in = gpa_ptr(vtl, g->rdx, 16 + 8 * reps);
		if (!in || !reps || vtl != 1) {
			g->rax = HV_STATUS_ACCESS_DENIED;
			break;
		}
		memcpy(&flags, in + 8, 4);
		for (uint64_t i = 0; i < reps; i++) {
			memcpy(&v, in + 16 + 8 * i, 8);
			if (!(flags & HV_MAP_GPA_WRITABLE))
				protect_page(v * PAGE);
		}
		g->rax = reps << 32;
		break;
	}
	case HVCALL_ENABLE_PARTITION_VTL:
		if (R.vtl1_vm) {
			g->rax = HV_STATUS_VTL_ALREADY_ENABLED;
			break;
		}
		create_vm(1);
		R.vtl1_vm = true;
		g->rax = 0;
		break;
	case HVCALL_ENABLE_VP_VTL:
		in = gpa_ptr(vtl, g->rdx, 16 + sizeof(struct initial_context));
		g->rax = in ? enable_vp_vtl(in) : HV_STATUS_INVALID_PARAMETER;
		break;
	default:
		g->rax = HV_STATUS_INVALID_HYPERCALL_CODE;
		break;
	}
	R.v[vtl].run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

/* Returns -1 to go on, else the exit status. */
static int handle_io(int vtl, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint16_t port = run->io.port;

	if (run->io.direction == KVM_EXIT_IO_IN) {
		uint8_t v = 0xff;
		if (port == HVRUN_PORT_UART0 + 5)
			v = 0x60;                              /* LSR: THRE | TEMT */
		else if (port == HVRUN_PORT_UART0 + 6)
			v = 0xb0;
		else if (port == HVRUN_PORT_DEBUGCON)
			v = 0xe9;
		else if (port == HVRUN_PORT_DEBUG_EXIT)
			v = 0;
		memset(data, v, (size_t)run->io.size * run->io.count);
		return -1;
	}
	switch (port) {
	case HVRUN_PORT_HYPERCALL:
		if (!R.sync_regs)
			die("a hypercall in a workload raw runs without sync_regs");
		hypercall(vtl, &run->s.regs.regs);
		return -1;
	case HVRUN_PORT_DEBUG_EXIT:
		return data[0];
	case HVRUN_PORT_DEBUGCON:
	case HVRUN_PORT_UART0:
		for (uint32_t i = 0; i < run->io.count; i++)
			console_byte(data[i * run->io.size]);
		return -1;
	case PORT_MARK:
		if (data[0] == 1) {
			R.exits = 0;
			R.marking = true;
			clock_gettime(CLOCK_MONOTONIC, &R.t0);
		} else if (data[0] == 2 && R.marking) {
			clock_gettime(CLOCK_MONOTONIC, &R.t1);
			R.exits--;                             /* this exit is the mark, not work */
			R.marking = false;
			R.marked = true;
		}
		return -1;
	default:
		return -1;                             /* unclaimed: writes dropped */
	}
}

static uint64_t ref_time(void)
{
	return (uint64_t)(((unsigned __int128)__rdtsc() * R.ref_scale) >> 64);
}

static void handle_msr(int vtl, struct kvm_run *run)
{
	struct vtl *v = &R.v[vtl];
	uint64_t val = run->msr.data;

	run->msr.error = 0;
	if (run->exit_reason == KVM_EXIT_X86_RDMSR) {
		switch (run->msr.index) {
		case HV_X64_MSR_GUEST_OS_ID: run->msr.data = v->guest_os_id; return;
		case HV_X64_MSR_HYPERCALL: run->msr.data = v->hypercall; return;
		case HV_X64_MSR_VP_INDEX: run->msr.data = 0; return;
		case HV_X64_MSR_TIME_REF_COUNT: run->msr.data = ref_time(); return;
		case HV_X64_MSR_VP_ASSIST_PAGE: run->msr.data = v->assist; return;
		default: run->msr.error = 1; return;
		}
	}
	switch (run->msr.index) {
	case HV_X64_MSR_GUEST_OS_ID:
		v->guest_os_id = val;
		return;
	case HV_X64_MSR_HYPERCALL:
		if ((val & 1) && v->guest_os_id) {
			uint8_t *page = gpa_ptr(vtl, val & ~(PAGE - 1), PAGE);
			if (!page) {
				run->msr.error = 1;
				return;
			}
			hv_hcpage_fill(page, HVRUN_PORT_HYPERCALL);
		} else {
			val &= ~1ull;
		}
		v->hypercall = val;
		return;
	case HV_X64_MSR_VP_ASSIST_PAGE:
		v->assist = val;
		return;
	default:
		run->msr.error = 1;
		return;
	}
}

/* Returns -1 to go on, else the exit status. */
static int handle_exit(void)
{
	int vtl = R.active;
	struct kvm_run *run = R.v[vtl].run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(vtl, run);
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		handle_msr(vtl, run);
		return -1;
	case KVM_EXIT_MMIO:
		if (vtl == 0 && run->mmio.is_write && R.ro_gpa && run->mmio.phys_addr - R.ro_gpa < PAGE &&
		    R.intercept_page && (R.v[1].assist & 1)) {
			uint32_t reason = HV_VTL_ENTRY_INTERCEPT;
			set_assist(1, HV_VP_ASSIST_ENTRY_REASON, &reason, 4);
			switch_to(1);
		} else if (!run->mmio.is_write) {
			memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
		}
		return -1;
	case KVM_EXIT_HLT:
		return 0;
	case KVM_EXIT_SHUTDOWN:
		fprintf(stderr, "raw: VTL%d: triple fault at RIP %#llx\n", vtl,
			(unsigned long long)run->s.regs.regs.rip);
		return EXIT_TRIPLE_FAULT;
	case KVM_EXIT_INTERNAL_ERROR:
	case KVM_EXIT_FAIL_ENTRY:
		fprintf(stderr, "raw: VTL%d: KVM exit %u (suberror %u)\n", vtl, run->exit_reason,
			run->internal.suberror);
		return EXIT_KVM_ERROR;
	default:
		fprintf(stderr, "raw: VTL%d: unhandled KVM exit %u\n", vtl, run->exit_reason);
		return EXIT_UNHANDLED;
	}
}

static int run_loop(void)
{
	for (;;) {
		int status;

		if (ioctl(R.v[R.active].vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("KVM_RUN: %s", strerror(errno));
		}
		if (R.marking)
			R.exits++;
		status = handle_exit();
		if (status >= 0)
			return status;
	}
}

/* KiB of [p, p + len) resident: the guest RAM the guest (and the loader) touched. */
static uint64_t resident_kib(const void *p, uint64_t len)
{
	size_t n = (size_t)(len / PAGE);
	unsigned char *vec = malloc(n);
	uint64_t pages = 0;

	if (!vec || mincore((void *)p, (size_t)len, vec)) {
		free(vec);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		pages += vec[i] & 1;
	free(vec);
	return pages * PAGE / 1024;
}

static void usage(void)
{
	fprintf(stderr, "usage: raw [-m SIZE] [--cmdline STRING] [--timeout SECONDS] [--sync min|regs|all] "
		"[--mem-report] IMAGE\n");
	exit(2);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'K': case 'k': v <<= 10; break;
	case 'M': case 'm': case '\0': v <<= 20; break;      /* a plain number means MiB */
	case 'G': case 'g': v <<= 30; break;
	default: usage();
	}
	return v;
}

int main(int argc, char **argv)
{
	const char *cmdline = "", *image = NULL, *sync = "min";
	bool mem_report = false;
	struct image img;
	int status, ret, i;

	R.ram_size = HVRUN_MEM_DEFAULT;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-m") && i + 1 < argc)
			R.ram_size = parse_size(argv[++i]);
		else if (!strcmp(argv[i], "--cmdline") && i + 1 < argc)
			cmdline = argv[++i];
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			alarm((unsigned)atoi(argv[++i]));
		else if (!strcmp(argv[i], "--sync") && i + 1 < argc)
			sync = argv[++i];
		else if (!strcmp(argv[i], "--mem-report"))
			mem_report = true;
		else if (argv[i][0] == '-' || image)
			usage();
		else
			image = argv[i];
	}
	if (!image || R.ram_size < HVRUN_MEM_MIN || R.ram_size > HVRUN_MEM_MAX || (R.ram_size & (PAGE - 1)))
		usage();
	/* The workload is the first word of the command line: registers only where it needs them. */
	sscanf(cmdline, "%31s", R.name);
	R.sync_regs = !strcmp(R.name, "hcfast") || !strcmp(R.name, "hcslow") || !strcmp(R.name, "vtl") ||
		      !strcmp(R.name, "intercept");
	if (!strcmp(sync, "regs") || !strcmp(sync, "all"))
		R.sync_regs = true;
	else if (strcmp(sync, "min"))
		usage();
	R.valid_regs = (R.sync_regs ? KVM_SYNC_X86_REGS : 0) | (!strcmp(sync, "all") ? KVM_SYNC_X86_SREGS : 0);
	R.v[0].vcpu = R.v[1].vcpu = -1;

	R.ram = mmap(NULL, R.ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	R.priv = mmap(NULL, VTL1_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		      -1, 0);
	if (R.ram == MAP_FAILED || R.priv == MAP_FAILED)
		die("cannot allocate guest memory");
	load_elf(image, &img);

	R.kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (R.kvm < 0)
		die("/dev/kvm: %s", strerror(errno));
	ret = xioctl(R.kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret < (int)sizeof(struct kvm_run))
		die("KVM_GET_VCPU_MMAP_SIZE");
	R.run_size = (size_t)ret;
	for (unsigned n = 64;; n *= 2) {
		R.cpuid = calloc(1, sizeof(*R.cpuid) + n * sizeof(R.cpuid->entries[0]));
		R.cpuid->nent = n;
		if (xioctl(R.kvm, KVM_GET_SUPPORTED_CPUID, R.cpuid) == 0)
			break;
		if (errno != E2BIG || n >= 1024)
			die("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(R.cpuid);
	}
	create_vm(0);
	create_vcpu(0);
	ret = xioctl(R.v[0].vcpu, KVM_GET_TSC_KHZ, 0);
	R.tsc_hz = ret > 0 ? (uint64_t)ret * 1000 : 0;
	if (R.tsc_hz > 10000000)
		R.ref_scale = (uint64_t)(((unsigned __int128)10000000 << 64) / R.tsc_hz);
	write_boot_state(&img, cmdline);
	boot_vcpu(img.entry);

	status = run_loop();
	if (R.line_len) {
		R.line[R.line_len] = 0;
		fputs(R.line, stdout);
	}
	fflush(stdout);
	if (R.marked) {
		uint64_t ns = (uint64_t)(R.t1.tv_sec - R.t0.tv_sec) * 1000000000ull +
			      (uint64_t)R.t1.tv_nsec - (uint64_t)R.t0.tv_nsec;
		fprintf(stderr, "RAWHOST name=%s iters=%" PRIu64 " exits=%" PRIu64 " wall_ns=%" PRIu64
			" wall_ns_per_iter=%" PRIu64 "\n", R.name, R.bench_iters, R.exits, ns,
			R.bench_iters ? ns / R.bench_iters : 0);
	}
	if (mem_report)
		fprintf(stderr, "RAWMEM guest_ram_touched_kib=%" PRIu64 " vtl1_touched_kib=%" PRIu64 "\n",
			resident_kib(R.ram, R.ram_size), resident_kib(R.priv, VTL1_MEM_SIZE));
	return status;
}
