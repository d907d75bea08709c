/* SPDX-License-Identifier: MIT */
/* hvrun as the VBS loader: secure kernel image, loader block, VTL1 start-up (docs/boot.md). */
#include "partition/loader.h"

#include <cpuid.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "crypto/sha256.h"
#include "partition/boot.h"
#include "partition/partition.h"
#include "vmm/decode.h"
#include "vmm/log.h"
#include "vtl/vtl.h"

#ifndef HVRUN_DATADIR
#define HVRUN_DATADIR "/usr/local/share/hvrun"
#endif

void part_loader_host_report(void)
{
	unsigned a, b, c, d;
	char vendor[13];
	const char *flavour;

	__cpuid(0, a, b, c, d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	vendor[12] = 0;
	if (!strcmp(vendor, "GenuineIntel"))
		flavour = "hvix64 (Intel VT-x)";
	else if (!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine"))
		flavour = "hvax64 (AMD-V)";
	else
		flavour = "none: Windows' loader would not start a hypervisor on this vendor";
	pr_info("loader: host CPU %s, max leaf %#x; Windows would load %s; hvrun uses KVM", vendor, a,
		flavour);
	pr_info("loader: KVM capabilities checked when /dev/kvm is opened (missing ones are named)");
}

static int file_exists(const char *path)
{
	return access(path, R_OK) == 0;
}

int part_loader_find_secure_kernel(char *path, size_t len)
{
	const char *env = getenv("HVRUN_SECURE_KERNEL");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(path, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			if ((size_t)snprintf(path, len, "%s/guests/securekernel.elf", exe) < len &&
			    file_exists(path))
				return 0;
		}
	}
	if ((size_t)snprintf(path, len, "%s/securekernel.elf", HVRUN_DATADIR) < len && file_exists(path))
		return 0;
	return -ENOENT;
}

static void add_map(struct hvrun_loader_block *lb, uint64_t base, uint64_t size, uint32_t type)
{
	if (lb->memmap_count < HVRUN_LOADER_MEMMAP_MAX && size)
		lb->memmap[lb->memmap_count++] = (struct hvrun_memmap_entry){
			.base = base, .size = size, .type = type };
}

void part_loader_fill_block(struct hvrun_loader_block *lb, const struct part_mem *ram,
			    const struct part_image *vtl0, const struct part_mem *vtl1,
			    const struct part_image *sk, const uint8_t secret[HVRUN_SECRET_SIZE],
			    const char *cmdline)
{
	memset(lb, 0, sizeof(*lb));
	lb->magic = HVRUN_LOADER_MAGIC;
	lb->version = HVRUN_LOADER_VERSION;
	lb->size = sizeof(*lb);
	lb->vtl0_entry = vtl0->entry;
	lb->vtl0_boot_info = HVRUN_BOOTINFO_GPA;
	lb->vtl1_base = vtl1->gpa_base;
	lb->vtl1_size = vtl1->size;
	lb->vtl1_free = (sk->end + 0xfff) & ~0xfffull;
	add_map(lb, ram->gpa_base, ram->size, HVRUN_MEM_VTL0_RAM);
	add_map(lb, 0, HVRUN_RESERVED_END, HVRUN_MEM_VTL0_RESERVED);
	add_map(lb, vtl0->base, vtl0->end - vtl0->base, HVRUN_MEM_VTL0_IMAGE);
	add_map(lb, vtl0->text.base, vtl0->text.size, HVRUN_MEM_VTL0_TEXT);
	add_map(lb, vtl1->gpa_base, vtl1->size, HVRUN_MEM_VTL1_PRIVATE);
	add_map(lb, sk->base, sk->end - sk->base, HVRUN_MEM_VTL1_IMAGE);
	add_map(lb, vtl1->gpa_base + vtl1->size, (4ull << 30) - (vtl1->gpa_base + vtl1->size),
		HVRUN_MEM_MMIO);
	memcpy(lb->secret, secret, HVRUN_SECRET_SIZE);
	/* HVCI allow list: the hash of every page of the image's .hvci sections, as loaded. */
	for (unsigned i = 0; i < vtl0->nhvci; i++) {
		for (uint64_t pg = vtl0->hvci[i].base; pg < vtl0->hvci[i].base + vtl0->hvci[i].size;
		     pg += 4096) {
			const void *page = part_mem_ptr(ram, pg, 4096);
			if (!page || lb->allow_count == HVRUN_LOADER_ALLOW_MAX)
				break;
			sha256(page, 4096, lb->allow_list[lb->allow_count++]);
		}
	}
	if (cmdline)
		snprintf(lb->cmdline, sizeof(lb->cmdline), "%s", cmdline);
}

int part_loader_check_block(const struct hvrun_loader_block *lb, size_t size)
{
	if (size < sizeof(*lb) || lb->magic != HVRUN_LOADER_MAGIC || lb->version != HVRUN_LOADER_VERSION ||
	    lb->size != sizeof(*lb))
		return -EINVAL;
	if (lb->memmap_count > HVRUN_LOADER_MEMMAP_MAX || lb->allow_count > HVRUN_LOADER_ALLOW_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < lb->memmap_count; i++)
		if (lb->memmap[i].base + lb->memmap[i].size < lb->memmap[i].base)
			return -EINVAL;
	return 0;
}

int part_loader_prepare(struct partition *p, const char *path, char *why, size_t wl)
{
	struct part_elf_limits limits = {
		.min_gpa = HVRUN_SK_IMAGE_MIN_GPA,
		.max_gpa = p->vtl1_mem.gpa_base + p->vtl1_mem.size,
	};
	struct hvrun_loader_block *lb;
	uint8_t secret[HVRUN_SECRET_SIZE];
	int ret;

	ret = part_elf_load(path, &p->vtl1_mem, &limits, &p->sk_image, why, wl);
	if (ret)
		return ret;
	ret = part_boot_write_tables(&p->vtl1_mem, HVRUN_VTL1_BASE);
	if (ret) {
		snprintf(why, wl, "VTL1 memory is too small for the boot area");
		return ret;
	}
	lb = part_mem_ptr(&p->vtl1_mem, HVRUN_SK_LOADER_BLOCK, sizeof(*lb));
	if (!lb) {
		snprintf(why, wl, "VTL1 memory is too small for the loader block");
		return -E2BIG;
	}
	if (getrandom(secret, sizeof(secret), 0) != (ssize_t)sizeof(secret)) {
		snprintf(why, wl, "cannot get random bytes for the secure kernel's secret");
		return -EIO;
	}
	part_loader_fill_block(lb, &p->mem, &p->image, &p->vtl1_mem, &p->sk_image, secret, p->cfg.cmdline);
	crypto_wipe(secret, sizeof(secret));
	return 0;
}

static void to_hv_segment(struct hv_x64_segment *out, const struct kvm_segment *k)
{
	out->base = k->base;
	out->limit = k->limit;
	out->selector = k->selector;
	out->attributes = vmm_segment_attributes(k);
}

int part_loader_start(struct partition *p)
{
	struct hvrun_loader_block *lb = part_mem_ptr(&p->vtl1_mem, HVRUN_SK_LOADER_BLOCK, sizeof(*lb));
	struct hv_initial_vp_context ctx;
	struct kvm_sregs s;
	struct vmm_vcpu *c;
	int ret;

	lb->tsc_hz = p->tsc_hz;
	if (p->tsc_hz)
		lb->flags |= HVRUN_LB_FLAG_TSC_VALID;
	lb->vp_index = p->vps[0].vp.index;

	/* The same calls a VTL0 kernel would make: HvCallEnablePartitionVtl, HvCallEnableVpVtl. */
	ret = vtl_enable_partition(p, 0, HV_PARTITION_ID_SELF, 1, 0);
	if (ret) {
		pr_err("loader: enabling VTL1 failed: %d", ret);
		return ret;
	}
	memset(&s, 0, sizeof(s));
	part_boot_long_mode(&s, HVRUN_VTL1_BASE);
	memset(&ctx, 0, sizeof(ctx));
	ctx.rip = p->sk_image.entry;
	ctx.rsp = HVRUN_SK_STACK_TOP;
	ctx.rflags = 0x2;
	to_hv_segment(&ctx.cs, &s.cs);
	to_hv_segment(&ctx.ds, &s.ds);
	to_hv_segment(&ctx.es, &s.es);
	to_hv_segment(&ctx.fs, &s.fs);
	to_hv_segment(&ctx.gs, &s.gs);
	to_hv_segment(&ctx.ss, &s.ss);
	to_hv_segment(&ctx.tr, &s.tr);
	ctx.gdtr.base = s.gdt.base;
	ctx.gdtr.limit = s.gdt.limit;
	ctx.efer = s.efer;
	ctx.cr0 = s.cr0;
	ctx.cr3 = s.cr3;
	ctx.cr4 = s.cr4;
	ctx.msr_cr_pat = 0x0007040600070406ull;   /* the architectural reset PAT */
	ret = vtl_enable_vp(p, 0, 0, HV_PARTITION_ID_SELF, 0, 1, &ctx);
	if (ret) {
		pr_err("loader: enabling VTL1 on VP 0 failed: %d", ret);
		return ret;
	}
	/* hvrun's secure-kernel boot contract: RDI = loader block (docs/boot.md). */
	c = &p->vps[0].vp.vcpu[1];
	c->run->s.regs.regs.rdi = HVRUN_SK_LOADER_BLOCK;
	ret = vmm_vcpu_set_regs(c, &c->run->s.regs.regs);
	if (ret)
		return ret;
	p->vps[0].vp.active_vtl = 1;
	pr_notice("loader: VTL1 enabled; secure kernel %s at %#llx, loader block %#llx: VP0 starts in VTL1",
		p->cfg.secure_kernel, (unsigned long long)p->sk_image.entry,
		(unsigned long long)HVRUN_SK_LOADER_BLOCK);
	return 0;
}
