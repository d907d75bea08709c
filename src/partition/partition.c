/* SPDX-License-Identifier: MIT */
/* Partition lifecycle: every create has a destroy, and a failed create unwinds what it built. */
#include "partition/partition.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "hv/tlfs.h"
#include "hvrun/abi.h"
#include "hv/cpuid.h"
#include "partition/boot.h"
#include "partition/loader.h"
#include "partition/services.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/sandbox.h"

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

	ret = vmm_vcpu_get_msrs(&p->vps[0].vp.vcpu[0], &tsc_msr, &guest_tsc, 1);
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

uint64_t part_ref_time(struct partition *p, struct part_vp *pvp)
{
	uint32_t tsc_msr = 0x10;    /* IA32_TIME_STAMP_COUNTER */
	uint64_t guest_tsc;

	if (!p->hv.clock_valid)
		return 0;
	/*
	 * The guest's own TSC, exactly what the reference TSC page scales: MSR and page then agree
	 * even where the host TSC drifts between CPUs (nested hosts). Costs one ioctl per read.
	 */
	if (pvp && !vmm_vcpu_get_msrs(&pvp->vp.vcpu[pvp->vp.active_vtl], &tsc_msr, &guest_tsc, 1))
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
	if (apic_id >= p->nvps)
		return -EINVAL;
	*index = apic_id;
	return 0;
}

struct part_vp *part_vp_get(struct partition *p, uint32_t index, struct part_vp *self)
{
	if (index == HV_VP_INDEX_SELF)
		return self;
	return index < p->nvps ? &p->vps[index] : NULL;
}

/* Async-signal-safe (signal handlers stop partitions through it): no locks. */
void part_vp_kick(struct part_vp *pvp)
{
	struct kvm_run *run = pvp->vp.vcpu[pvp->vp.active_vtl].run;

	if (!__atomic_load_n(&pvp->running, __ATOMIC_ACQUIRE) || pthread_equal(pvp->thread, pthread_self()))
		return;
	/* A kick landing just before KVM_RUN would be lost: immediate_exit makes KVM_RUN return at once. */
	if (run)
		run->immediate_exit = 1;
	pthread_kill(pvp->thread, SIGUSR1);
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
		.max_vps = p->nvps,   /* VPs this partition has */
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
	/* Each vCPU reports its own APIC ID (= VP index): KVM leaves these fields to userspace. */
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffffu) | (vcpu->id << 24);
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = vcpu->id;
	}
	ret = vmm_vcpu_set_cpuid(vcpu, cpuid);
	free(cpuid);
	return ret;
}

static int gpa_is_protected(void *opaque, uint64_t gpa);

/*
 * Put an initial VP context (EnableVpVtl, StartVirtualProcessor) into a vCPU: its registers, the
 * segments, tables, CR0/3/4 and EFER over the vCPU's reset sregs (so fields the context does not
 * carry stay valid), and PAT when non-zero. *applied gets the sregs KVM took. -ERANGE when KVM
 * refuses the context (an invalid guest state from the caller), else 0 or an ioctl's errno.
 */
static int load_initial_context(struct vmm_vcpu *vcpu, const struct kvm_regs *regs,
				const struct kvm_sregs *sregs, uint64_t pat, struct kvm_sregs *applied)
{
	uint32_t pat_msr = 0x277;
	struct kvm_sregs s;
	int ret = vmm_vcpu_get_sregs(vcpu, &s);

	if (ret)
		return ret;
	s.cs = sregs->cs; s.ds = sregs->ds; s.es = sregs->es; s.fs = sregs->fs; s.gs = sregs->gs;
	s.ss = sregs->ss; s.tr = sregs->tr; s.ldt = sregs->ldt;
	s.gdt = sregs->gdt; s.idt = sregs->idt;
	s.cr0 = sregs->cr0; s.cr3 = sregs->cr3; s.cr4 = sregs->cr4; s.efer = sregs->efer;
	if (vmm_vcpu_set_sregs(vcpu, &s) || vmm_vcpu_set_regs(vcpu, regs) ||
	    (pat && vmm_vcpu_set_msrs(vcpu, &pat_msr, &pat, 1)))
		return -ERANGE;
	*applied = s;
	return 0;
}

int part_vp_vtl_create(struct partition *p, struct part_vp *pvp, uint8_t vtl, const struct kvm_regs *regs,
		       const struct kvm_sregs *sregs, uint64_t pat)
{
	struct vmm_vcpu *vcpu;
	struct kvm_sregs s;
	int ret;

	if (!part_vtl_enabled(p, vtl))
		return -EINVAL;
	vcpu = &pvp->vp.vcpu[vtl];
	if (vcpu->fd >= 0)
		return -EALREADY;
	ret = vmm_vcpu_create(&p->vtl[vtl].vm, pvp->vp.index, vcpu);
	if (ret)
		goto fail;
	ret = set_cpuid(p, vcpu);
	if (ret)
		goto fail;
	ret = load_initial_context(vcpu, regs, sregs, pat, &s);
	if (ret)
		goto fail;
	/* One VP, one TSC: the VTLs' vCPUs live in different VMs, whose TSCs started apart. */
	if (vtl > 0 && pvp->vp.vcpu[0].fd >= 0 && vmm_vcpu_sync_tsc(vcpu, &pvp->vp.vcpu[0]))
		pr_warn("VP %u: cannot align VTL%u's TSC with VTL0's", pvp->vp.index, vtl);
	/* Keep the run area's sync copy right until the first exit refreshes it. */
	vcpu->run->s.regs.regs = *regs;
	vcpu->run->s.regs.sregs = s;
	pvp->vp.dctx[vtl].sender = p->id;
	pvp->vp.dctx[vtl].gpa_is_protected = gpa_is_protected;
	pvp->vp.dctx[vtl].opaque = &p->vtl[vtl].view;
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
	struct vmm_vcpu *vcpu = &p->vps[0].vp.vcpu[0];
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
	/* Keep the run area's sync copy right until the first exit refreshes it. */
	vcpu->run->s.regs.regs = regs;
	vcpu->run->s.regs.sregs = sregs;
	for (unsigned i = 0; i < p->nvps; i++) {
		struct vp *vp = &p->vps[i].vp;
		vp->dctx[0].sender = p->id;
		vp->dctx[0].gpa_is_protected = gpa_is_protected;
		vp->dctx[0].opaque = &p->vtl[0].view;
		vp->vic = &p->vps[i].vic;
		if (i == 0)
			continue;
		/* Every vCPU exists before VP0 runs; the others get their state when started. */
		ret = vmm_vcpu_create(&p->vtl[0].vm, i, &vp->vcpu[0]);
		if (!ret)
			ret = set_cpuid(p, &vp->vcpu[0]);
		if (ret)
			return ret;
	}
	return 0;
}

int part_vp_start(struct partition *p, uint32_t index, const struct kvm_regs *regs,
		  const struct kvm_sregs *sregs, uint64_t pat)
{
	struct part_vp *pvp = index < p->nvps ? &p->vps[index] : NULL;
	struct vmm_vcpu *c;
	struct kvm_sregs s;
	int ret = 0;

	if (!pvp)
		return -ECHILD;
	pthread_mutex_lock(&pvp->start_lock);
	if (pvp->start_requested || index == 0) {
		ret = -EBUSY;
		goto out;
	}
	c = &pvp->vp.vcpu[0];
	ret = load_initial_context(c, regs, sregs, pat, &s);
	if (ret)
		goto out;
	c->run->s.regs.regs = *regs;
	c->run->s.regs.sregs = s;
	pvp->start_requested = true;
	pthread_cond_broadcast(&pvp->start_cond);
out:
	pthread_mutex_unlock(&pvp->start_lock);
	return ret;
}

static unsigned max_slots(const struct partition *p)
{
	return p->kvm->max_memslots > 0 && (unsigned)p->kvm->max_memslots < PART_MAX_SLOTS ?
	       (unsigned)p->kvm->max_memslots : PART_MAX_SLOTS;
}

/*
 * Around a memory-slot update: keep every other VP out of the guest. VPs busy in hvrun (not in
 * KVM_RUN) do not matter: hvrun reaches guest memory through its own mapping, not the slots.
 */
static void quiesce_vps(void *ctx, bool begin)
{
	struct partition *p = ctx;
	struct vp *vps[64];
	unsigned n = p->nvps < 64 ? p->nvps : 64;
	struct vp *self = NULL;

	if (p->nvps < 2)
		return;
	if (!begin) {
		__atomic_store_n(&p->pausing, 0, __ATOMIC_SEQ_CST);
		pthread_mutex_unlock(&p->pause_lock);
		return;
	}
	pthread_mutex_lock(&p->pause_lock);
	__atomic_store_n(&p->pausing, 1, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < n; i++) {
		vps[i] = &p->vps[i].vp;
		if (pthread_equal(p->vps[i].thread, pthread_self()) && p->vps[i].running)
			self = vps[i];
		else
			part_vp_kick(&p->vps[i]);
	}
	vp_wait_out_of_guest(vps, n, self);
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
	v->view.quiesce = quiesce_vps;
	v->view.quiesce_ctx = p;
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
	for (unsigned i = 0; i < p->nvps; i++)
		vp_fini(&p->vps[i].vp);
	for (unsigned v = HV_MAX_VTL; v-- > 0;) {
		if (!p->vtl[v].enabled)
			continue;
		part_view_fini(&p->vtl[v].view);
		vmm_vm_destroy(&p->vtl[v].vm);
		p->vtl[v].enabled = false;
	}
}

static void vps_destroy(struct partition *p)
{
	for (unsigned i = 0; i < p->nvps; i++) {
		struct part_vp *pvp = &p->vps[i];
		vmm_vic_fini(&pvp->vic);
		pthread_cond_destroy(&pvp->start_cond);
		pthread_mutex_destroy(&pvp->start_lock);
		pthread_mutex_destroy(&pvp->synic_lock);
	}
	free(p->vps);
	p->vps = NULL;
	p->nvps = 0;
	pthread_mutex_destroy(&p->pause_lock);
}

static int vps_create(struct partition *p, unsigned n)
{
	if (pthread_mutex_init(&p->pause_lock, NULL))
		return -ENOMEM;
	p->vps = calloc(n, sizeof(*p->vps));
	if (!p->vps) {
		pthread_mutex_destroy(&p->pause_lock);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		struct part_vp *pvp = &p->vps[i];
		vp_init(&pvp->vp, i, p->router, p);
		pvp->vp.pausing = &p->pausing;
		if (vmm_vic_init(&pvp->vic) || pthread_mutex_init(&pvp->synic_lock, NULL) ||
		    pthread_mutex_init(&pvp->start_lock, NULL) || pthread_cond_init(&pvp->start_cond, NULL)) {
			p->nvps = i;
			vps_destroy(p);
			return -ENOMEM;
		}
		p->nvps = i + 1;
	}
	return 0;
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
	ret = vps_create(p, cfg->vp_count ? cfg->vp_count : 1);
	if (ret)
		goto fail_router;
	*out = p;
	return 0;

fail_router:
	vmm_router_destroy(p->router);
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

/* The first VP to stop decides the partition's status; the others are stopped after it. */
static void vp_stopped(struct partition *p, int status)
{
	bool expected = false;

	if (__atomic_compare_exchange_n(&p->stopping, &expected, true, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE)) {
		p->stop_status = status;
		part_request_stop(p, status);
	}
}

static int run_vp(struct part_vp *pvp)
{
	struct partition *p = pvp->vp.owner;
	int status, ret;

	/* Least privilege from here on: the thread may only run and serve its VP. */
	if (p->cfg.sandbox && (ret = vmm_sandbox_enter(VMM_ROLE_VCPU)) < 0) {
		pr_err("VP %u: cannot enter the seccomp sandbox (%d): use --no-sandbox to run without it",
		       pvp->vp.index, ret);
		vp_stopped(p, HVRUN_EXIT_HOST_ERROR);
		return ret;
	}
	pvp->thread = pthread_self();
	__atomic_store_n(&pvp->running, true, __ATOMIC_RELEASE);
	ret = vp_run(&pvp->vp, &status);
	__atomic_store_n(&pvp->running, false, __ATOMIC_RELEASE);
	vp_stopped(p, ret ? HVRUN_EXIT_HOST_ERROR : status);
	return ret;
}

/* A secondary VP: waits for HvCallStartVirtualProcessor (or the partition's end), then runs. */
static void *secondary_thread(void *arg)
{
	struct part_vp *pvp = arg;
	bool start;

	pthread_mutex_lock(&pvp->start_lock);
	while (!pvp->start_requested && !pvp->vp.stop_requested) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20000000L;       /* polled: a stop may come from a signal handler */
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&pvp->start_cond, &pvp->start_lock, &ts);
	}
	start = pvp->start_requested && !pvp->vp.stop_requested;
	pthread_mutex_unlock(&pvp->start_lock);
	if (start)
		run_vp(pvp);
	return NULL;
}

/*
 * 1 MiB instead of glibc's 8 MiB: the exit path is shallow (hypercall buffers of 8 KiB are the
 * deepest frame), and a stack mapping smaller than a huge page cannot be made 2 MiB resident
 * when transparent huge pages are "always".
 */
#define PART_THREAD_STACK (1u << 20)

int part_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int ret = pthread_attr_init(&attr);

	if (ret)
		return -ret;
	ret = pthread_attr_setstacksize(&attr, PART_THREAD_STACK);
	if (!ret)
		ret = pthread_create(thread, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return -ret;
}

int part_run(struct partition *p, int *status)
{
	pthread_t *threads = NULL;
	unsigned started = 0;
	int ret;

	if (p->nvps > 1) {
		threads = calloc(p->nvps, sizeof(*threads));
		if (!threads)
			return -ENOMEM;
		for (unsigned i = 1; i < p->nvps; i++) {
			if (part_thread_create(&threads[i], secondary_thread, &p->vps[i])) {
				pr_err("partition %llu: cannot create a thread for VP %u: stopping",
				       (unsigned long long)p->id, i);
				vp_stopped(p, HVRUN_EXIT_HOST_ERROR);
				break;
			}
			started = i;
		}
	}
	ret = run_vp(&p->vps[0]);
	part_request_stop(p, p->stop_status);
	for (unsigned i = 1; i <= started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	*status = p->stop_status;
	dev_console_flush(&p->console);
	return ret;
}

/* Async-signal-safe: flags, immediate_exit and thread kicks only. */
void part_request_stop(struct partition *p, int status)
{
	for (unsigned i = 0; i < p->nvps; i++) {
		if (!p->vps[i].vp.stop_requested)
			vp_request_stop(&p->vps[i].vp, status);
		part_vp_kick(&p->vps[i]);
	}
}

void part_destroy(struct partition *p)
{
	if (!p)
		return;
	part_services_destroy(p);
	vtls_destroy(p);
	vps_destroy(p);
	vmm_router_destroy(p->router);
	part_mem_free(&p->vtl1_mem);
	part_mem_free(&p->mem);
	dev_console_fini(&p->console);
	free(p);
}
