/* SPDX-License-Identifier: MIT */
/*
 * Hyper-V synthetic state of a partition: what hvrun implements (features), the per-VTL and
 * per-VP-per-VTL synthetic registers, and their TLFS read/write rules as pure functions.
 */
#ifndef HV_HV_H
#define HV_HV_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/message.h"
#include "hv/tlfs.h"

#define HV_MAX_VTL 2u           /* VTL0 and VTL1 */
#define HV_SINT_COUNT 16u

/* What hvrun implements, advertised through CPUID 0x40000003 (docs/cpuid.md). */
struct hv_features {
	uint32_t priv_eax;      /* partition privileges 31:0 */
	uint32_t priv_ebx;      /* partition privileges 63:32 */
	uint32_t ecx;
	uint32_t edx;
	uint32_t recommendations;  /* CPUID 0x40000004.EAX */
};

/* Partition-wide, private per VTL (TLFS vsm.md). */
struct hv_partition_vtl {
	uint64_t guest_os_id;
	uint64_t hypercall;     /* HV_X64_MSR_HYPERCALL as the guest reads it */
	uint64_t reference_tsc;
};

struct hv_synic {
	uint64_t scontrol;
	uint64_t siefp;
	uint64_t simp;
	uint64_t sirbp;
	uint64_t sint[HV_SINT_COUNT];
};

/* Per VP, private per VTL. */
struct hv_vp_vtl {
	uint64_t vp_assist;
	struct hv_synic synic;
	uint64_t icr;           /* HV_X64_MSR_ICR as last written */
	uint8_t tpr;            /* HV_X64_MSR_TPR */
	uint64_t eom_count;     /* EOM writes seen */
};

/* Side effects an MSR write asks the service to carry out (overlays, stop). */
#define HV_EFFECT_HYPERCALL_PAGE  (1u << 0)   /* hypercall MSR changed: place/move/remove overlay */
#define HV_EFFECT_REFERENCE_TSC   (1u << 1)   /* reference TSC MSR changed */
#define HV_EFFECT_SIMP            (1u << 2)
#define HV_EFFECT_SIEFP           (1u << 3)
#define HV_EFFECT_EOM             (1u << 4)
#define HV_EFFECT_RESET           (1u << 5)   /* guest asked for a partition reset */
#define HV_EFFECT_VP_ASSIST       (1u << 6)
#define HV_EFFECT_EOI             (1u << 7)   /* end of interrupt */
#define HV_EFFECT_ICR             (1u << 8)   /* send the IPI in vpvtl->icr */
#define HV_EFFECT_TPR             (1u << 9)   /* vpvtl->tpr changed */
#define HV_EFFECT_SINT            (1u << 10)  /* a SINT or SCONTROL changed: recheck pending SINTs */

/* Everything an MSR access may read or change, for one VP at one VTL. */
struct hv_msr_ctx {
	struct hv_partition_vtl *pvtl;
	struct hv_vp_vtl *vpvtl;
	const struct hv_features *features;
	uint32_t vp_index;
	uint64_t ram_size;      /* GPFNs must lie below ram_size, or in the private memory below */
	uint64_t private_base;  /* the VTL's private memory (VTL1), where its pages may lie too; */
	uint64_t private_size;  /* size 0: the VTL has none */
	uint64_t tsc_hz;
	uint64_t apic_hz;
	uint64_t ref_time;      /* TIME_REF_COUNT now, in 100 ns units */
};

/* The reset values of the synthetic registers (SINTs masked). */
void hv_vp_vtl_reset(struct hv_vp_vtl *v);
void hv_partition_vtl_reset(struct hv_partition_vtl *p);

/* 0, or -EPERM when the guest must get #GP (unknown MSR, not advertised, read-only, bad value). */
int hv_msr_read(const struct hv_msr_ctx *c, uint32_t msr, uint64_t *value);
int hv_msr_write(struct hv_msr_ctx *c, uint32_t msr, uint64_t value, uint32_t *effects);

struct partition;
struct vmm_reply;
/*
 * A synthetic MSR access by `vtl` of the partition's VP, with its effects carried out (overlays,
 * reset). -EPERM means #GP; registers are unchanged unless everything succeeded. A reset sets
 * reply->action to stop. Used by the MSR service and by HvCallSetVpRegisters.
 */
struct part_vp;
int hv_synthetic_msr(struct partition *p, struct part_vp *pvp, uint8_t vtl, uint32_t msr, bool write,
		     uint64_t *value, struct vmm_reply *reply);

/*
 * Post a message into SINT `sint` of the VP's SIM page at `vtl`: delivered now (1), queued (0),
 * -EPROTO when the SIM page is not enabled, -ENOBUFS when slot and queue are full.
 */
int hv_synic_post(struct partition *p, struct part_vp *pvp, uint8_t vtl, unsigned sint,
		  const struct hv_message *m);
/* Set event flag `flag` of SINT `sint` in the VP's SIEF page: 1 newly set, 0 already set, -EPROTO
 * when the SIEF page is not enabled. Raises the SINT when newly set. */
int hv_synic_signal(struct partition *p, struct part_vp *pvp, uint8_t vtl, unsigned sint, unsigned flag);

/* The features hvrun implements with or without VSM enabled for the partition. */
void hv_features_get(struct hv_features *f, bool vsm);

#endif /* HV_HV_H */
