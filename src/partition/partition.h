/* SPDX-License-Identifier: MIT */
/* A child partition: its KVM VM, RAM, router, services, console and VPs, created and destroyed as one. */
#ifndef PART_PARTITION_H
#define PART_PARTITION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <pthread.h>
#include <stddef.h>

#include "dev/console.h"
#include "hv/hv.h"
#include "hv/refclock.h"
#include "hv/synic.h"
#include "hypercall/hc.h"
#include "partition/elf.h"
#include "partition/mem.h"
#include "partition/view.h"
#include "vmm/kvm.h"
#include "vmm/router.h"
#include "vmm/vic.h"
#include "vmm/vp.h"

#define PART_MAX_MODULES 32

struct part_config {
	const char *name;          /* for console prefixes and reports */
	unsigned vp_count;         /* VPs (--smp); 0 means 1 */
	const char *image_path;
	uint64_t mem_size;
	const char *cmdline;
	FILE *console_out;       /* stdout by default */
	const char *console_prefix;
	const char *hv_vendor_id;  /* NULL: "Microsoft Hv" */
	uint64_t vtl1_mem_size;    /* VTL1 private memory; 0: HVRUN_VTL1_MEM_DEFAULT */
	struct part_fabric *fabric;  /* SynIC connections to other partitions (NULL: none) */
	bool sandbox;              /* VP threads enter the seccomp "vcpu" role before running */
	const char *secure_kernel; /* VTL1 image the loader starts first; NULL: VTL0 alone */
};

struct part_fabric;

/* One VTL of the partition: its own KVM VM and its view of memory. */
struct part_vtl {
	bool enabled;
	struct vmm_vm vm;
	struct part_view view;
};

/* Partition-wide VSM state (src/vtl/ gives it meaning). */
struct part_vsm {
	uint64_t config[HV_MAX_VTL];       /* HvRegisterVsmPartitionConfig, as each VTL set it */
	uint64_t intercepts_delivered;
	uint64_t intercepts_dropped;       /* the higher VTL asked for no delivery channel */
	uint64_t protection_changes;       /* pages whose protection ModifyVtlProtectionMask set */
};

/* A page hvrun owns and overlays on guest RAM (hypercall page, reference TSC page, SynIC pages). */
struct part_overlay_page {
	uint8_t *page;                /* 4 KiB, page-aligned */
	uint64_t gpa;
	bool placed;
	bool writable;                /* guest may write it (SynIC pages) */
	struct vmm_service svc;       /* GpaIntercept for refused writes while placed */
};

/* The partition's Hyper-V state (TLFS per-VTL and per-VP-per-VTL registers). */
struct part_hv {
	struct hv_features features;
	struct hv_refclock clock;
	bool clock_valid;
	int64_t tsc_host_to_guest;    /* guest TSC = host TSC + this */
	struct hv_partition_vtl vtl[HV_MAX_VTL];
	struct part_overlay_page hcpage[HV_MAX_VTL];
	struct part_overlay_page tscpage[HV_MAX_VTL];
	struct hc_table calls;
	pthread_mutex_t lock;         /* partition-wide synthetic registers (MSR service) */
};

/* One VP of the partition: its vCPUs (struct vp) and its per-VP Hyper-V state. */
struct part_vp {
	struct vp vp;
	struct hv_vp_vtl hv[HV_MAX_VTL];             /* private per VP per VTL */
	struct part_view_tlb tlb[HV_MAX_VTL];        /* this VP's translations in each VTL's view */
	struct part_overlay_page simp[HV_MAX_VTL];
	struct part_overlay_page siefp[HV_MAX_VTL];
	struct hv_msg_queue sint_queue[HV_MAX_VTL][HV_SINT_COUNT];
	pthread_mutex_t synic_lock;   /* SIM/SIEF pages and queues: other VPs and partitions post here */
	struct vmm_vic vic;           /* VTL0's interrupts (SINTs, IPIs) */
	uint64_t spin_waits;          /* HvCallNotifyLongSpinWait count */
	/* A secondary VP waits for HvCallStartVirtualProcessor. */
	pthread_mutex_t start_lock;
	pthread_cond_t start_cond;
	bool start_requested;
	bool running;                 /* its thread is in vp_run */
	pthread_t thread;
};

static inline struct part_vp *part_vp_of(struct vp *vp)
{
	return (struct part_vp *)((char *)vp - offsetof(struct part_vp, vp));
}

struct partition {
	uint64_t id;
	char uuid[37];                /* libuuid, printed at start */
	struct part_config cfg;
	const struct vmm_kvm *kvm;
	struct part_mem mem;          /* RAM, shared by every VTL */
	struct part_mem vtl1_mem;     /* VTL1's private memory: mapped only in VTL1's VM */
	struct part_vtl vtl[HV_MAX_VTL];
	struct part_vsm vsm;
	struct part_image image;
	struct part_image sk_image;   /* the secure kernel, when cfg.secure_kernel is set */
	struct vmm_router *router;
	struct dev_console console;
	struct part_vp *vps;          /* VP 0 boots; the others wait for HvCallStartVirtualProcessor */
	unsigned nvps;
	bool stopping;                /* one VP stopped the partition: the others follow */
	int pausing;                  /* a memory update keeps the VPs out of the guest (atomic) */
	pthread_mutex_t pause_lock;   /* one memory update at a time */
	int stop_status;
	uint64_t tsc_hz;
	unsigned gpa_bits;            /* guest MAXPHYADDR (CPUID 0x80000008) */
	struct part_hv hv;
	void *module_state[PART_MAX_MODULES];
	unsigned nmodules;            /* modules created, for teardown in reverse */
};

/*
 * Create a partition from cfg: RAM and the loaded image, no KVM yet, so a bad image is reported
 * the same on any host. On failure everything created is released; returns -errno and `*usage`
 * tells whether the image/config was at fault (exit status 2) rather than the host.
 */
int part_create(const struct part_config *cfg, struct partition **out, bool *usage);
/* Create the KVM VM, vCPU, boot state and services. part_destroy() releases them. */
int part_start(struct partition *p, const struct vmm_kvm *kvm);
int part_run(struct partition *p, int *status);
/* Start a partition or VP thread (PART_THREAD_STACK of stack). 0 or a negative errno. */
int part_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg);
/* Print the partition's identity (id, UUID, image) at start: always when `loud`, else with -v. */
void part_announce(const struct partition *p, bool loud);
void part_request_stop(struct partition *p, int status);
void part_destroy(struct partition *p);

/* The memory view of an enabled VTL (NULL otherwise), and the reference time now (100 ns). */
struct part_view *part_view_of(struct partition *p, uint8_t vtl);
uint64_t part_ref_time(struct partition *p, struct part_vp *pvp);
/* Is `vtl` enabled in the partition? (VTL0 always is.) */
bool part_vtl_enabled(const struct partition *p, uint8_t vtl);
/* The VP whose local APIC has `apic_id` (-EINVAL if none). */
int part_vp_index_from_apic_id(const struct partition *p, uint32_t apic_id, uint32_t *index);
/* VP `index` (HV_VP_INDEX_SELF means `self`), or NULL. */
struct part_vp *part_vp_get(struct partition *p, uint32_t index, struct part_vp *self);
/* Wake VP `pvp` out of KVM_RUN or a halt so it sees new work (an interrupt, a stop). */
void part_vp_kick(struct part_vp *pvp);
/*
 * HvCallStartVirtualProcessor: VP `index` (not yet started) begins at `regs`/`sregs` in VTL0.
 * -ECHILD no such VP, -EBUSY already started.
 */
int part_vp_start(struct partition *p, uint32_t index, const struct kvm_regs *regs,
		  const struct kvm_sregs *sregs, uint64_t pat);

/*
 * Create VTL `vtl`'s KVM VM: all of RAM without protections, VTL1's private memory, and the
 * synthetic MSR trap. The VTL is enabled afterwards. -EALREADY if it already is.
 */
int part_vtl_create(struct partition *p, uint8_t vtl);
/* Create VP `pvp`'s vCPU in VTL `vtl`'s VM with the given initial state. */
int part_vp_vtl_create(struct partition *p, struct part_vp *pvp, uint8_t vtl, const struct kvm_regs *regs,
		       const struct kvm_sregs *sregs, uint64_t pat);

#endif /* PART_PARTITION_H */
