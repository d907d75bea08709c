/* SPDX-License-Identifier: MIT */
/* Partition lifecycle: every create has a destroy, and a failed create unwinds what it built. */
#include "partition/partition.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv/tlfs.h"
#include "hvrun/abi.h"
#include "hv/cpuid.h"
#include "partition/boot.h"
#include "partition/services.h"
#include "vmm/log.h"

/* The synthetic MSR range hvrun traps to userspace (0x40000000..0x400001FF). */
#define PART_TRAPPED_MSR_COUNT 0x200u
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

	ret = vmm_vcpu_get_msrs(&p->vp.vcpu, &tsc_msr, &guest_tsc, 1);
	if (ret) {
		pr_err("cannot read the guest TSC: %d", ret);
		return ret;
	}
	p->hv.tsc_host_to_guest = (int64_t)(guest_tsc - host_tsc());
	p->hv.clock_valid = hv_refclock_init(&p->hv.clock, p->tsc_hz, guest_tsc) == 0;
	if (!p->hv.clock_valid) {
		pr_warn("TSC frequency unknown: TIME_REF_COUNT and the reference TSC page are not offered");
		p->hv.features.priv_eax &= ~(HV_PRIV_ACCESS_PARTITION_REF_COUNT | HV_PRIV_ACCESS_PARTITION_REF_TSC);
	}
	return 0;
}

uint64_t part_ref_time(const struct partition *p)
{
	if (!p->hv.clock_valid)
		return 0;
	return hv_refclock_time(&p->hv.clock, host_tsc() + (uint64_t)p->hv.tsc_host_to_guest);
}

bool part_vtl_enabled(const struct partition *p, uint8_t vtl)
{
	(void)p;
	return vtl == 0;
}

int part_vp_index_from_apic_id(const struct partition *p, uint32_t apic_id, uint32_t *index)
{
	/* KVM gives vCPU n the local APIC ID n, and VP n is vCPU n. */
	if (apic_id != p->vp.index)
		return -EINVAL;
	*index = p->vp.index;
	return 0;
}

int part_vtl_switch(struct partition *p, const struct vmm_exit *exit, uint16_t code,
		    struct vmm_reply *reply)
{
	(void)p;
	(void)exit;
	reply->action = VMM_ACT_INJECT;
	reply->vector = 6;
	reply->error_code_valid = false;
	reply->reason = code == HVCALL_VTL_CALL ? "VtlCall with no higher VTL enabled: #UD" :
						  "VtlReturn from the lowest VTL: #UD";
	return 0;
}

struct part_view *part_view_of(struct partition *p, uint8_t vtl)
{
	return vtl == 0 ? &p->view : NULL;
}

static int setup_vcpu(struct partition *p)
{
	struct part_boot_params bp = {
		.image_base = p->image.base,
		.image_end = p->image.end,
		.entry = p->image.entry,
		.vp_index = 0,
		.cmdline = p->cfg.cmdline,
	};
	struct hv_cpuid_config cpuid_cfg = {
		.vendor_id = p->cfg.hv_vendor_id,
		.features = &p->hv.features,
		.max_vps = HV_CPUID_MAX_VPS,
		.max_lps = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN),
	};
	struct kvm_cpuid2 *cpuid = NULL, *base = NULL;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	int ret;

	ret = vmm_vcpu_create(&p->vm, 0, &p->vp.vcpu);
	if (ret)
		return ret;
	ret = vmm_vcpu_tsc_khz(&p->vp.vcpu);
	p->tsc_hz = ret > 0 ? (uint64_t)ret * 1000 : 0;
	bp.tsc_hz = p->tsc_hz;
	ret = setup_clock(p);
	if (ret)
		return ret;
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
	ret = vmm_vcpu_set_cpuid(&p->vp.vcpu, cpuid);
	free(cpuid);
	if (ret)
		return ret;

	ret = part_boot_write(&p->mem, &bp);
	if (ret) {
		pr_err("cannot write the boot area: %d", ret);
		return ret;
	}
	ret = vmm_vcpu_get_sregs(&p->vp.vcpu, &sregs);
	if (ret)
		return ret;
	part_boot_regs(&bp, &regs, &sregs);
	ret = vmm_vcpu_set_sregs(&p->vp.vcpu, &sregs);
	if (!ret)
		ret = vmm_vcpu_set_regs(&p->vp.vcpu, &regs);
	if (ret)
		pr_err("cannot set the initial VP state: %d", ret);
	return ret;
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
	p->vm.fd = -1;
	p->vp.vcpu.fd = -1;
	p->id = atomic_fetch_add(&next_partition_id, 1);

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
	ret = vmm_router_create(&p->router);
	if (ret)
		goto fail_mem;
	*out = p;
	return 0;

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
	hv_features_get(&p->hv.features, false);
	ret = vmm_vm_create(kvm, &p->vm);
	if (ret)
		return ret;
	ret = part_view_init(&p->view, &p->mem, &p->vm,
			     kvm->max_memslots > 0 && (unsigned)kvm->max_memslots < PART_MAX_SLOTS ?
			     (unsigned)kvm->max_memslots : PART_MAX_SLOTS);
	if (ret)
		goto fail_vm;
	ret = part_view_commit(&p->view);
	if (ret)
		goto fail_view;
	ret = vmm_vm_trap_msrs(&p->vm, HV_SYNTHETIC_MSR_FIRST, PART_TRAPPED_MSR_COUNT);
	if (ret)
		goto fail_view;
	ret = setup_vcpu(p);
	if (ret)
		goto fail_vcpu;

	p->vp.index = 0;
	p->vp.router = p->router;
	p->vp.owner = p;
	p->vp.dctx.vp_index = 0;
	p->vp.dctx.vtl = 0;
	p->vp.dctx.sender = p->id;
	p->vp.dctx.gpa_is_protected = gpa_is_protected;
	p->vp.dctx.opaque = &p->view;
	ret = part_services_create(p);
	if (ret)
		goto fail_vcpu;
	pr_info("partition %llu: %s, %llu MiB RAM, entry %#llx, image [%#llx, %#llx)",
		(unsigned long long)p->id, p->cfg.image_path, (unsigned long long)(p->mem.size >> 20),
		(unsigned long long)p->image.entry, (unsigned long long)p->image.base,
		(unsigned long long)p->image.end);
	return 0;

fail_vcpu:
	vmm_vcpu_destroy(&p->vp.vcpu);
fail_view:
	part_view_fini(&p->view);
fail_vm:
	vmm_vm_destroy(&p->vm);
	return ret;
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
	vmm_vcpu_destroy(&p->vp.vcpu);
	part_view_fini(&p->view);
	vmm_vm_destroy(&p->vm);
	vmm_router_destroy(p->router);
	part_mem_free(&p->mem);
	dev_console_fini(&p->console);
	free(p);
}
