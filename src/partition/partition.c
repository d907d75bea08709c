/* SPDX-License-Identifier: MIT */
/* Partition lifecycle: every create has a destroy, and a failed create unwinds what it built. */
#include "partition/partition.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "hv/tlfs.h"
#include "hvrun/abi.h"
#include "hv/cpuid.h"
#include "partition/boot.h"
#include "partition/loader.h"
#include "partition/services.h"
#include "vmm/log.h"

/* The synthetic MSR range hvrun traps to userspace (0x40000000..0x400001FF). */
#define PART_TRAPPED_MSR_COUNT HV_SYNTHETIC_MSR_COUNT
/* Slots a view may use: merged runs keep real counts far below this. */
#define PART_MAX_SLOTS 512u

static atomic_uint_fast64_t next_partition_id = 1;

/* An MMIO exit at a GPA the view maps means a protection or an overlay refused the access. */
static int gpa_is_protected(void *opaque, uint64_t gpa)
{
	return part_view_classify(opaque, gpa, NULL) != PART_GPA_UNMAPPED;
}

static uint64_t host_tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* The reference clock starts at 0 now; without a known TSC rate it is not offered at all. */
static int setup_clock(struct partition *p)
{
	uint32_t tsc_msr = 0x10;   /* IA32_TIME_STAMP_COUNTER */
	uint64_t guest_tsc;
	int ret;

	ret = vmm_vcpu_get_msrs(&p->vp.vcpu[0], &tsc_msr, &guest_tsc, 1);
	if (ret) {
		pr_err("cannot read the guest TSC: %d", ret);
		return ret;
	}
	p->hv.tsc_host_to_guest = (int64_t)(guest_tsc - host_tsc());
	p->hv.clock_valid = hv_refclock_init(&p->hv.clock, p->tsc_hz, guest_tsc) == 0;
	if (!p->hv.clock_valid) {
		pr_warn("TSC frequency unknown: TIME_REF_COUNT and the reference TSC page are not offered");
		p->hv.features.priv_eax &= ~(HV_PRIV_ACCESS_PARTITION_REF_COUNT | HV_PRIV_ACCESS_PARTITION_REF_TSC |
					     HV_PRIV_ACCESS_FREQUENCY_REGS);
		p->hv.features.edx &= ~HV_FEATURE_FREQUENCY_MSRS;
	}
	return 0;
}

uint64_t part_ref_time(struct partition *p)
{
	uint32_t tsc_msr = 0x10;    /* IA32_TIME_STAMP_COUNTER */
	uint64_t guest_tsc;

	if (!p->hv.clock_valid)
		return 0;
	/*
	 * The guest's own TSC, exactly what the reference TSC page scales: MSR and page then agree
	 * even where the host TSC drifts between CPUs (nested hosts). Costs one ioctl per read.
	 */
	if (!vmm_vcpu_get_msrs(&p->vp.vcpu[p->vp.active_vtl], &tsc_msr, &guest_tsc, 1))
		return hv_refclock_time(&p->hv.clock, guest_tsc);
	return hv_refclock_time(&p->hv.clock, host_tsc() + (uint64_t)p->hv.tsc_host_to_guest);
}

bool part_vtl_enabled(const struct partition *p, uint8_t vtl)
{
	return vtl < HV_MAX_VTL && p->vtl[vtl].enabled;
}

int part_vp_index_from_apic_id(const struct partition *p, uint32_t apic_id, uint32_t *index)
{
	/* KVM gives vCPU n the local APIC ID n, and VP n is vCPU n. */
	if (apic_id != p->vp.index)
		return -EINVAL;
	*index = p->vp.index;
	return 0;
}

struct part_view *part_view_of(struct partition *p, uint8_t vtl)
{
	return part_vtl_enabled(p, vtl) ? &p->vtl[vtl].view : NULL;
}

/* The CPUID table every vCPU of the partition gets: KVM's leaves plus the Hyper-V leaves. */
static int set_cpuid(struct partition *p, struct vmm_vcpu *vcpu)
{
	struct hv_cpuid_config cpuid_cfg = {
		.vendor_id = p->cfg.hv_vendor_id,
		.features = &p->hv.features,
		.max_vps = 1,         /* VPs this partition has */
		.max_lps = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN),
	};
	struct kvm_cpuid2 *cpuid = NULL, *base = NULL;
	int ret;

	ret = vmm_kvm_supported_cpuid(p->kvm, &base);
	if (ret) {
		pr_err("KVM_GET_SUPPORTED_CPUID failed: %d", ret);
		return ret;
	}
	ret = hv_cpuid_build(base, &cpuid_cfg, &cpuid);
	free(base);
	if (ret) {
		pr_err("cannot build the Hyper-V CPUID leaves: %d", ret);
		return ret;
	}
	{
		const struct kvm_cpuid_entry2 *e = hv_cpuid_find(cpuid, 0x80000008);
		p->gpa_bits = e && (e->eax & 0xff) >= 32 && (e->eax & 0xff) <= 52 ? e->eax & 0xff : 36;
	}
	ret = vmm_vcpu_set_cpuid(vcpu, cpuid);
	free(cpuid);
	return ret;
}

static int gpa_is_protected(void *opaque, uint64_t gpa);

int part_vp_vtl_create(struct partition *p, uint8_t vtl, const struct kvm_regs *regs,
		       const struct kvm_sregs *sregs, uint64_t pat)
{
	struct vmm_vcpu *vcpu;
	uint32_t pat_msr = 0x277;
	struct kvm_sregs s;
	int ret;

	if (!part_vtl_enabled(p, vtl))
		return -EINVAL;
	vcpu = &p->vp.vcpu[vtl];
	if (vcpu->fd >= 0)
		return -EALREADY;
	ret = vmm_vcpu_create(&p->vtl[vtl].vm, p->vp.index, vcpu);
	if (ret)
		goto fail;
	ret = set_cpuid(p, vcpu);
	if (ret)
		goto fail;
	/* Start from the vCPU's reset sregs so fields the caller leaves alone stay valid. */
	ret = vmm_vcpu_get_sregs(vcpu, &s);
	if (ret)
		goto fail;
	s.cs = sregs->cs; s.ds = sregs->ds; s.es = sregs->es; s.fs = sregs->fs; s.gs = sregs->gs;
	s.ss = sregs->ss; s.tr = sregs->tr; s.ldt = sregs->ldt;
	s.gdt = sregs->gdt; s.idt = sregs->idt;
	s.cr0 = sregs->cr0; s.cr3 = sregs->cr3; s.cr4 = sregs->cr4; s.efer = sregs->efer;
	ret = vmm_vcpu_set_sregs(vcpu, &s);
	if (ret) {
		ret = -ERANGE;          /* KVM refused the initial context */
		goto fail;
	}
	ret = vmm_vcpu_set_regs(vcpu, regs);
	if (!ret && pat)
		ret = vmm_vcpu_set_msrs(vcpu, &pat_msr, &pat, 1) ? -ERANGE : 0;
	if (ret)
		goto fail;
	/* Keep the run area's sync copy right until the first exit refreshes it. */
	vcpu->run->s.regs.regs = *regs;
	vcpu->run->s.regs.sregs = s;
	p->vp.dctx[vtl].sender = p->id;
	p->vp.dctx[vtl].gpa_is_protected = gpa_is_protected;
	p->vp.dctx[vtl].opaque = &p->vtl[vtl].view;
	return 0;
fail:
	vmm_vcpu_destroy(vcpu);
	vcpu->fd = -1;
	return ret;
}

/* VP 0 of VTL0 at the image's entry, with the boot contract's state (docs/guest-abi.md). */
static int setup_boot_vp(struct partition *p)
{
	struct part_boot_params bp = {
		.image_base = p->image.base,
		.image_end = p->image.end,
		.entry = p->image.entry,
		.vp_index = 0,
		.cmdline = p->cfg.cmdline,
	};
	struct vmm_vcpu *vcpu = &p->vp.vcpu[0];
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	int ret;

	ret = vmm_vcpu_create(&p->vtl[0].vm, 0, vcpu);
	if (ret)
		return ret;
	ret = vmm_vcpu_tsc_khz(vcpu);
	p->tsc_hz = ret > 0 ? (uint64_t)ret * 1000 : 0;
	bp.tsc_hz = p->tsc_hz;
	ret = setup_clock(p);
	if (!ret)
		ret = set_cpuid(p, vcpu);
	if (ret)
		return ret;
	ret = part_boot_write(&p->mem, &bp);
	if (ret) {
		pr_err("cannot write the boot area: %d", ret);
		return ret;
	}
	ret = vmm_vcpu_get_sregs(vcpu, &sregs);
	if (ret)
		return ret;
	part_boot_regs(&bp, &regs, &sregs);
	ret = vmm_vcpu_set_sregs(vcpu, &sregs);
	if (!ret)
		ret = vmm_vcpu_set_regs(vcpu, &regs);
	if (ret) {
		pr_err("cannot set the initial VP state: %d", ret);
		return ret;
	}
	p->vp.dctx[0].sender = p->id;
	p->vp.dctx[0].gpa_is_protected = gpa_is_protected;
	p->vp.dctx[0].opaque = &p->vtl[0].view;
	return 0;
}

static unsigned max_slots(const struct partition *p)
{
	return p->kvm->max_memslots > 0 && (unsigned)p->kvm->max_memslots < PART_MAX_SLOTS ?
	       (unsigned)p->kvm->max_memslots : PART_MAX_SLOTS;
}

int part_vtl_create(struct partition *p, uint8_t vtl)
{
	struct part_vtl *v;
	int ret;

	if (vtl >= HV_MAX_VTL)
		return -EINVAL;
	v = &p->vtl[vtl];
	if (v->enabled)
		return -EALREADY;
	ret = vmm_vm_create(p->kvm, &v->vm);
	if (ret)
		return ret;
	ret = part_view_init(&v->view, &p->mem, &v->vm, max_slots(p));
	if (ret)
		goto fail_vm;
	if (vtl > 0) {
		ret = part_view_add_region(&v->view, HVRUN_VTL1_BASE, p->vtl1_mem.size, p->vtl1_mem.host);
		if (ret)
			goto fail_view;
	}
	ret = part_view_commit(&v->view);
	if (!ret)
		ret = vmm_vm_trap_msrs(&v->vm, HV_SYNTHETIC_MSR_FIRST, PART_TRAPPED_MSR_COUNT);
	if (ret)
		goto fail_view;
	v->enabled = true;
	return 0;
fail_view:
	part_view_fini(&v->view);
fail_vm:
	vmm_vm_destroy(&v->vm);
	return ret;
}

static void vtls_destroy(struct partition *p)
{
	vp_fini(&p->vp);
	for (unsigned v = HV_MAX_VTL; v-- > 0;) {
		if (!p->vtl[v].enabled)
			continue;
		part_view_fini(&p->vtl[v].view);
		vmm_vm_destroy(&p->vtl[v].vm);
		p->vtl[v].enabled = false;
	}
}

int part_create(const struct part_config *cfg, struct partition **out, bool *usage)
{
	struct part_elf_limits limits;
	struct partition *p;
	char why[256];
	int ret;

	*usage = false;
	*out = NULL;
	if (cfg->mem_size < HVRUN_MEM_MIN || cfg->mem_size > HVRUN_MEM_MAX || (cfg->mem_size & 0xfff)) {
		*usage = true;
		pr_err("memory size %llu is not a multiple of 4 KiB between 2 MiB and 3 GiB",
		       (unsigned long long)cfg->mem_size);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	p->id = atomic_fetch_add(&next_partition_id, 1);
	{
		uuid_t u;
		uuid_generate(u);
		uuid_unparse_lower(u, p->uuid);
	}
	if (!p->cfg.name)
		p->cfg.name = cfg->image_path;
	for (unsigned v = 0; v < HV_MAX_VTL; v++)
		p->vtl[v].vm.fd = -1;

	ret = dev_console_init(&p->console, cfg->console_out ? cfg->console_out : stdout,
			       cfg->console_prefix);
	if (ret)
		goto fail_free;
	ret = part_mem_alloc(&p->mem, 0, cfg->mem_size);
	if (ret) {
		pr_err("cannot allocate %llu bytes of guest RAM: %d", (unsigned long long)cfg->mem_size, ret);
		goto fail_console;
	}
	limits.min_gpa = HVRUN_IMAGE_MIN_GPA;
	limits.max_gpa = p->mem.size;
	ret = part_elf_load(cfg->image_path, &p->mem, &limits, &p->image, why, sizeof(why));
	if (ret) {
		pr_err("%s: %s", cfg->image_path, why);
		*usage = true;
		goto fail_mem;
	}
	ret = part_mem_alloc(&p->vtl1_mem, HVRUN_VTL1_BASE,
			     cfg->vtl1_mem_size ? cfg->vtl1_mem_size : HVRUN_VTL1_MEM_DEFAULT);
	if (ret) {
		pr_err("cannot allocate VTL1 memory: %d", ret);
		goto fail_mem;
	}
	if (cfg->secure_kernel) {
		ret = part_loader_prepare(p, cfg->secure_kernel, why, sizeof(why));
		if (ret) {
			pr_err("%s: %s", cfg->secure_kernel, why);
			*usage = true;
			goto fail_vtl1;
		}
	} else if (p->image.has_policy && (p->image.policy.flags & HVRUN_POLICY_REQUIRES_VTL1)) {
		pr_err("%s: its policy note requires VTL1: boot it with a secure kernel "
		       "(drop --no-secure-kernel)", cfg->image_path);
		*usage = true;
		ret = -EINVAL;
		goto fail_vtl1;
	}
	if (p->image.has_policy && p->image.policy.min_memory > p->mem.size) {
		pr_err("%s: its policy note asks for %llu MiB of RAM: use -m", cfg->image_path,
		       (unsigned long long)((p->image.policy.min_memory + (1 << 20) - 1) >> 20));
		*usage = true;
		ret = -EINVAL;
		goto fail_vtl1;
	}
	ret = vmm_router_create(&p->router);
	if (ret)
		goto fail_vtl1;
	vp_init(&p->vp, 0, p->router, p);
	*out = p;
	return 0;

fail_vtl1:
	part_mem_free(&p->vtl1_mem);
fail_mem:
	part_mem_free(&p->mem);
fail_console:
	dev_console_fini(&p->console);
fail_free:
	free(p);
	return ret;
}

int part_start(struct partition *p, const struct vmm_kvm *kvm)
{
	int ret;

	p->kvm = kvm;
	hv_features_get(&p->hv.features, true);
	ret = part_vtl_create(p, 0);
	if (ret)
		return ret;
	ret = setup_boot_vp(p);
	if (ret)
		goto fail;
	ret = part_services_create(p);
	if (ret)
		goto fail;
	if (p->cfg.secure_kernel) {
		ret = part_loader_start(p);
		if (ret)
			goto fail_services;
	}
	pr_info("partition %llu: %s, %llu MiB RAM, entry %#llx, image [%#llx, %#llx)",
		(unsigned long long)p->id, p->cfg.image_path, (unsigned long long)(p->mem.size >> 20),
		(unsigned long long)p->image.entry, (unsigned long long)p->image.base,
		(unsigned long long)p->image.end);
	return 0;
fail_services:
	part_services_destroy(p);
fail:
	vtls_destroy(p);
	return ret;
}

void part_announce(const struct partition *p, bool loud)
{
	vmm_log(loud ? VMM_LOG_NOTICE : VMM_LOG_INFO, "partition %llu %s (%s): %s, %llu MiB%s",
		(unsigned long long)p->id, p->cfg.name, p->uuid, p->cfg.image_path,
		(unsigned long long)(p->mem.size >> 20), p->cfg.secure_kernel ? ", with the secure kernel" : "");
}

int part_run(struct partition *p, int *status)
{
	int ret = vp_run(&p->vp, status);

	dev_console_flush(&p->console);
	return ret;
}

void part_request_stop(struct partition *p, int status)
{
	vp_request_stop(&p->vp, status);
}

void part_destroy(struct partition *p)
{
	if (!p)
		return;
	part_services_destroy(p);
	vtls_destroy(p);
	vmm_router_destroy(p->router);
	part_mem_free(&p->vtl1_mem);
	part_mem_free(&p->mem);
	dev_console_fini(&p->console);
	free(p);
}
