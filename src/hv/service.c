/* SPDX-License-Identifier: MIT */
/*
 * The synthetic-MSR service: routes MsrIntercept messages for 0x40000000-0x400001FF to the TLFS
 * rules in msr.c and carries out their effects: hypercall, reference TSC and SynIC overlay pages.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hv/hcpage.h"
#include "hv/hv.h"
#include "hv/synic.h"
#include "hvrun/abi.h"
#include "partition/partition.h"
#include "partition/services.h"
#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/msg.h"

#define X86_GP_VECTOR 13

static uint8_t msg_vtl(const struct hv_message *m)
{
	return (uint8_t)((vmm_msg_intercept(m)->execution_state & HV_EXEC_STATE_VTL_MASK) >>
			 HV_EXEC_STATE_VTL_SHIFT);
}

/* Writes into a read-only overlay are refused with #GP, as the TLFS says for the hypercall page. */
static int overlay_write_handle(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	(void)opaque;
	if (!vmm_msg_is_write(exit->msg)) {
		reply->action = VMM_ACT_RESUME;
		reply->data = 0;
		return 0;
	}
	reply->action = VMM_ACT_INJECT;
	reply->vector = X86_GP_VECTOR;
	reply->error_code_valid = true;
	reply->error_code = 0;
	reply->reason = "write to a hypervisor overlay page: #GP";
	return 0;
}

/*
 * Place, move or remove an overlay after its MSR changed, then resync the VTL's memory slots.
 * Fails without changing anything when another overlay already occupies the GPA.
 */
static int overlay_update(struct partition *p, struct part_overlay_page *ov, uint8_t vtl, uint64_t msr_value)
{
	struct part_view *view = part_view_of(p, vtl);
	bool enable = msr_value & 1;
	uint64_t gpa = msr_value & ~0xfffull;
	int ret;

	if (!view)
		return -EINVAL;
	if (enable) {
		ret = part_view_set_overlay(view, ov->page, gpa, ov->writable);
		if (ret)
			return ret;
		if (ov->placed && !ov->writable)
			vmm_router_unregister(p->router, &ov->svc, ov);
		ov->gpa = gpa;
		ov->placed = true;
		if (!ov->writable) {
			ov->svc = (struct vmm_service){
				.name = "overlay", .msg_type = HVMSG_GPA_INTERCEPT,
				.base = VMM_GPA_KEY(vtl, gpa), .size = PART_PAGE_SIZE,
				.handle = overlay_write_handle,
			};
			ret = vmm_router_register(p->router, &ov->svc, ov);
			if (ret)
				return ret;
		}
	} else if (ov->placed) {
		if (!ov->writable)
			vmm_router_unregister(p->router, &ov->svc, ov);
		part_view_clear_overlay(view, ov->page);
		ov->placed = false;
	}
	return part_view_commit(view);
}

/* Caller holds pvp->synic_lock. Raise SINT `sint` of the VP at VTL0 if the guest may take it. */
static void raise_sint(struct part_vp *pvp, uint8_t vtl, unsigned sint)
{
	const struct hv_synic *syn = &pvp->hv[vtl].synic;
	uint64_t reg = syn->sint[sint];

	/* VTL1 has no interrupt delivery in hvrun: its messages wait for its next entry. */
	if (vtl != 0 || !(syn->scontrol & 1) || (reg & HV_SINT_MASKED) || (reg & 0xff) < 16)
		return;
	if (vmm_vic_raise(&pvp->vic, (uint8_t)(reg & 0xff), reg & HV_SINT_AUTO_EOI) >= 0)
		part_vp_kick(pvp);
}

/* Carry out what the new register values ask for; -EBUSY if an overlay GPA is taken. */
static int apply_effects(struct partition *p, struct part_vp *pvp, uint8_t vtl,
			 const struct hv_partition_vtl *pv, const struct hv_vp_vtl *vv, uint32_t effects,
			 struct vmm_reply *reply)
{
	struct part_hv *hv = &p->hv;
	int ret = 0;

	if (effects & HV_EFFECT_HYPERCALL_PAGE)
		ret = overlay_update(p, &hv->hcpage[vtl], vtl, pv->hypercall);
	if (!ret && (effects & HV_EFFECT_REFERENCE_TSC)) {
		if (pv->reference_tsc & 1)
			hv_refclock_fill_page(&hv->clock, (struct hv_reference_tsc_page *)hv->tscpage[vtl].page);
		ret = overlay_update(p, &hv->tscpage[vtl], vtl, pv->reference_tsc);
	}
	if (!ret && (effects & HV_EFFECT_SIMP))
		ret = overlay_update(p, &pvp->simp[vtl], vtl, vv->synic.simp);
	if (!ret && (effects & HV_EFFECT_SIEFP))
		ret = overlay_update(p, &pvp->siefp[vtl], vtl, vv->synic.siefp);
	if (!ret && (effects & HV_EFFECT_RESET)) {
		reply->action = VMM_ACT_STOP;
		reply->status = HVRUN_EXIT_RESET;
		reply->reason = "guest requested a partition reset (HV_X64_MSR_RESET)";
	}
	return ret;
}

/* Effects on interrupt state; run after the new register values are in place. */
static void apply_interrupt_effects(struct partition *p, struct part_vp *pvp, uint8_t vtl, uint32_t effects)
{
	struct hv_vp_vtl *vv = &pvp->hv[vtl];

	if (effects & HV_EFFECT_TPR)
		vmm_vic_set_tpr(&pvp->vic, vv->tpr);
	if (effects & HV_EFFECT_EOI)
		vmm_vic_eoi(&pvp->vic);
	if (effects & HV_EFFECT_ICR) {
		/* Fixed IPI: 19:18 shorthand (0 destination, 1 self, 2 all, 3 all but self). */
		unsigned shorthand = (vv->icr >> 18) & 3;
		uint32_t dest = (uint32_t)(vv->icr >> 32);
		for (unsigned i = 0; i < p->nvps; i++) {
			struct part_vp *t = &p->vps[i];
			bool hit = shorthand == 0 ? i == dest : shorthand == 1 ? t == pvp :
				   shorthand == 2 ? true : t != pvp;
			if (hit && vmm_vic_raise(&t->vic, (uint8_t)(vv->icr & 0xff), false) >= 0)
				part_vp_kick(t);
		}
	}
	if ((effects & (HV_EFFECT_EOM | HV_EFFECT_SINT)) && pvp->simp[vtl].placed) {
		struct hv_message *slots = (struct hv_message *)pvp->simp[vtl].page;
		pthread_mutex_lock(&pvp->synic_lock);
		for (unsigned i = 0; i < HV_SINT_COUNT; i++) {
			if (hv_synic_redeliver(&slots[i], &pvp->sint_queue[vtl][i]) > 0)
				raise_sint(pvp, vtl, i);
		}
		pthread_mutex_unlock(&pvp->synic_lock);
	}
}

int hv_synic_post(struct partition *p, struct part_vp *pvp, uint8_t vtl, unsigned sint,
		  const struct hv_message *m)
{
	int ret;

	(void)p;
	if (vtl >= HV_MAX_VTL || sint >= HV_SINT_COUNT)
		return -EINVAL;
	pthread_mutex_lock(&pvp->synic_lock);
	if (!pvp->simp[vtl].placed) {
		ret = -EPROTO;
	} else {
		ret = hv_synic_deliver((struct hv_message *)pvp->simp[vtl].page + sint,
				       &pvp->sint_queue[vtl][sint], m);
		if (ret > 0)
			raise_sint(pvp, vtl, sint);
	}
	pthread_mutex_unlock(&pvp->synic_lock);
	return ret;
}

int hv_synic_signal(struct partition *p, struct part_vp *pvp, uint8_t vtl, unsigned sint, unsigned flag)
{
	int ret;

	(void)p;
	if (vtl >= HV_MAX_VTL || sint >= HV_SINT_COUNT || flag >= 2048)
		return -EINVAL;
	pthread_mutex_lock(&pvp->synic_lock);
	if (!pvp->siefp[vtl].placed) {
		ret = -EPROTO;
	} else {
		/* The SIEF page: 16 arrays of 2048 flags, one per SINT; the guest clears with lock ops. */
		uint8_t *flags = pvp->siefp[vtl].page + sint * 256u;
		uint8_t bit = (uint8_t)(1u << (flag % 8)), old;
		old = __atomic_fetch_or(&flags[flag / 8], bit, __ATOMIC_ACQ_REL);
		ret = (old & bit) ? 0 : 1;
		if (ret)
			raise_sint(pvp, vtl, sint);
	}
	pthread_mutex_unlock(&pvp->synic_lock);
	return ret;
}

static void msr_ctx(struct partition *p, struct part_vp *pvp, uint8_t vtl, uint64_t ref_time,
		    struct hv_partition_vtl *pv, struct hv_vp_vtl *vv, struct hv_msr_ctx *c)
{
	/* VTL1's own pages may also lie in its private memory (the only VTL that has one). */
	const struct part_mem *priv = vtl > 0 ? &p->vtl1_mem : NULL;

	*c = (struct hv_msr_ctx){
		.pvtl = pv,
		.vpvtl = vv,
		.features = &p->hv.features,
		.vp_index = pvp->vp.index,
		.ram_size = p->mem.size,
		.private_base = priv ? priv->gpa_base : 0,
		.private_size = priv ? priv->size : 0,
		.tsc_hz = p->tsc_hz,
		.ref_time = ref_time,
	};
}

int hv_synthetic_msr(struct partition *p, struct part_vp *pvp, uint8_t vtl, uint32_t msr, bool write,
		     uint64_t *value, struct vmm_reply *reply)
{
	struct hv_partition_vtl pv;
	struct hv_vp_vtl vv;
	struct hv_msr_ctx c;
	uint32_t effects = 0;
	uint64_t ref_time;
	int ret;

	if (vtl >= HV_MAX_VTL || !pvp)
		return -EINVAL;
	/* Reading the clock costs an ioctl: only for the MSR that returns it, and not under the lock. */
	ref_time = msr == HV_X64_MSR_TIME_REF_COUNT && !write ? part_ref_time(p, pvp) : 0;
	/* Partition-wide registers are shared by the VPs' threads. */
	pthread_mutex_lock(&p->hv.lock);
	if (!write) {
		/* A read changes nothing: it looks at the registers themselves. */
		msr_ctx(p, pvp, vtl, ref_time, &p->hv.vtl[vtl], &pvp->hv[vtl], &c);
		ret = hv_msr_read(&c, msr, value);
		goto out;
	}
	/* Work on copies: the registers change only if every effect could be carried out. */
	pv = p->hv.vtl[vtl];
	vv = pvp->hv[vtl];
	msr_ctx(p, pvp, vtl, ref_time, &pv, &vv, &c);
	ret = hv_msr_write(&c, msr, *value, &effects);
	if (ret)
		goto out;
	ret = apply_effects(p, pvp, vtl, &pv, &vv, effects, reply);
	if (ret == -EBUSY)
		ret = -EPERM;          /* the GPA already holds another overlay */
	if (ret)
		goto out;
	p->hv.vtl[vtl] = pv;
	pvp->hv[vtl] = vv;
	apply_interrupt_effects(p, pvp, vtl, effects);
out:
	pthread_mutex_unlock(&p->hv.lock);
	return ret;
}

static int msr_handle(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	struct partition *p = opaque;
	const struct hv_x64_msr_intercept *m = vmm_msg_msr(exit->msg);
	bool write = vmm_msg_is_write(exit->msg);
	uint64_t value = (m->rdx << 32) | (m->rax & 0xffffffffu);
	int ret;

	reply->action = VMM_ACT_RESUME;
	ret = hv_synthetic_msr(p, part_vp_of(exit->vp), msg_vtl(exit->msg), m->msr, write, &value, reply);
	if (ret == -EPERM) {
		reply->action = VMM_ACT_INJECT;
		reply->vector = X86_GP_VECTOR;
		reply->error_code_valid = true;
		reply->reason = "synthetic MSR access refused: #GP";
		return 0;
	}
	if (!write)
		reply->data = value;
	return ret;
}

static const struct vmm_service msr_service = {
	.name = "hv-msr",
	.msg_type = HVMSG_X64_MSR_INTERCEPT,
	.base = HV_SYNTHETIC_MSR_FIRST,
	.size = HV_SYNTHETIC_MSR_COUNT,
	.handle = msr_handle,
};

static uint8_t *page_alloc(void)
{
	void *pg = mmap(NULL, PART_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return pg == MAP_FAILED ? NULL : pg;
}

static void overlay_free(struct partition *p, struct part_overlay_page *ov, uint8_t vtl)
{
	if (ov->placed && !ov->writable)
		vmm_router_unregister(p->router, &ov->svc, ov);
	if (ov->placed && part_view_of(p, vtl))
		part_view_clear_overlay(part_view_of(p, vtl), ov->page);
	if (ov->page)
		munmap(ov->page, PART_PAGE_SIZE);
	memset(ov, 0, sizeof(*ov));
}

static void overlays_free(struct partition *p)
{
	for (unsigned v = 0; v < HV_MAX_VTL; v++) {
		overlay_free(p, &p->hv.hcpage[v], (uint8_t)v);
		overlay_free(p, &p->hv.tscpage[v], (uint8_t)v);
		for (unsigned i = 0; i < p->nvps; i++) {
			overlay_free(p, &p->vps[i].simp[v], (uint8_t)v);
			overlay_free(p, &p->vps[i].siefp[v], (uint8_t)v);
		}
	}
}

static int hv_module_create(struct partition *p, void **state)
{
	struct part_hv *hv = &p->hv;
	int ret;

	*state = NULL;
	if (pthread_mutex_init(&hv->lock, NULL))
		return -ENOMEM;
	for (unsigned v = 0; v < HV_MAX_VTL; v++) {
		hv_partition_vtl_reset(&hv->vtl[v]);
		hv->hcpage[v].page = page_alloc();
		hv->tscpage[v].page = page_alloc();
		if (!hv->hcpage[v].page || !hv->tscpage[v].page)
			goto nomem;
		hv_hcpage_fill(hv->hcpage[v].page, HVRUN_PORT_HYPERCALL);
		for (unsigned i = 0; i < p->nvps; i++) {
			struct part_vp *pvp = &p->vps[i];
			hv_vp_vtl_reset(&pvp->hv[v]);
			pvp->simp[v].page = page_alloc();
			pvp->siefp[v].page = page_alloc();
			if (!pvp->simp[v].page || !pvp->siefp[v].page)
				goto nomem;
			pvp->simp[v].writable = true;
			pvp->siefp[v].writable = true;
		}
	}
	ret = part_register_services(p, &msr_service, 1, p);
	if (ret) {
		overlays_free(p);
		pthread_mutex_destroy(&hv->lock);
	}
	return ret;
nomem:
	overlays_free(p);
	pthread_mutex_destroy(&hv->lock);
	return -ENOMEM;
}

static void hv_module_destroy(struct partition *p, void *state)
{
	(void)state;
	part_unregister_services(p, &msr_service, 1, p);
	overlays_free(p);
	pthread_mutex_destroy(&p->hv.lock);
}

const struct part_module hv_msr_module = {
	.name = "hv-msr",
	.create = hv_module_create,
	.destroy = hv_module_destroy,
};
