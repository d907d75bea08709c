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

/* Carry out what the new register values ask for; -EBUSY if an overlay GPA is taken. */
static int apply_effects(struct partition *p, uint8_t vtl, const struct hv_partition_vtl *pv,
			 const struct hv_vp_vtl *vv, uint32_t effects, struct vmm_reply *reply)
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
		ret = overlay_update(p, &hv->simp[vtl], vtl, vv->synic.simp);
	if (!ret && (effects & HV_EFFECT_SIEFP))
		ret = overlay_update(p, &hv->siefp[vtl], vtl, vv->synic.siefp);
	if (!ret && (effects & HV_EFFECT_EOM) && hv->simp[vtl].placed) {
		struct hv_message *slots = (struct hv_message *)hv->simp[vtl].page;
		for (unsigned i = 0; i < HV_SINT_COUNT; i++)
			hv_synic_redeliver(&slots[i], &hv->sint_queue[vtl][i]);
	}
	if (!ret && (effects & HV_EFFECT_RESET)) {
		reply->action = VMM_ACT_STOP;
		reply->status = HVRUN_EXIT_RESET;
		reply->reason = "guest requested a partition reset (HV_X64_MSR_RESET)";
	}
	return ret;
}

int hv_synic_post(struct partition *p, uint8_t vtl, unsigned sint, const struct hv_message *m)
{
	struct part_hv *hv = &p->hv;

	if (vtl >= HV_MAX_VTL || sint >= HV_SINT_COUNT)
		return -EINVAL;
	if (!hv->simp[vtl].placed)
		return -EPROTO;
	return hv_synic_deliver((struct hv_message *)hv->simp[vtl].page + sint, &hv->sint_queue[vtl][sint], m);
}

static void msr_ctx(struct partition *p, uint8_t vtl, struct hv_partition_vtl *pv, struct hv_vp_vtl *vv,
		    struct hv_msr_ctx *c)
{
	/* VTL1's own pages may also lie in its private memory (the only VTL that has one). */
	const struct part_mem *priv = vtl > 0 ? &p->vtl1_mem : NULL;

	*c = (struct hv_msr_ctx){
		.pvtl = pv,
		.vpvtl = vv,
		.features = &p->hv.features,
		.vp_index = p->vp.index,
		.ram_size = p->mem.size,
		.private_base = priv ? priv->gpa_base : 0,
		.private_size = priv ? priv->size : 0,
		.tsc_hz = p->tsc_hz,
		.ref_time = part_ref_time(p),
	};
}

int hv_synthetic_msr(struct partition *p, uint8_t vtl, uint32_t msr, bool write, uint64_t *value,
		     struct vmm_reply *reply)
{
	struct hv_partition_vtl pv;
	struct hv_vp_vtl vv;
	struct hv_msr_ctx c;
	uint32_t effects = 0;
	int ret;

	if (vtl >= HV_MAX_VTL)
		return -EINVAL;
	/* Work on copies: the registers change only if every effect could be carried out. */
	pv = p->hv.vtl[vtl];
	vv = p->hv.vp[vtl];
	msr_ctx(p, vtl, &pv, &vv, &c);
	if (!write)
		return hv_msr_read(&c, msr, value);
	ret = hv_msr_write(&c, msr, *value, &effects);
	if (ret)
		return ret;
	ret = apply_effects(p, vtl, &pv, &vv, effects, reply);
	if (ret == -EBUSY)
		return -EPERM;          /* the GPA already holds another overlay */
	if (ret)
		return ret;
	p->hv.vtl[vtl] = pv;
	p->hv.vp[vtl] = vv;
	return 0;
}

static int msr_handle(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	struct partition *p = opaque;
	const struct hv_x64_msr_intercept *m = vmm_msg_msr(exit->msg);
	bool write = vmm_msg_is_write(exit->msg);
	uint64_t value = (m->rdx << 32) | (m->rax & 0xffffffffu);
	int ret;

	reply->action = VMM_ACT_RESUME;
	ret = hv_synthetic_msr(p, msg_vtl(exit->msg), m->msr, write, &value, reply);
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

static void overlays_free(struct partition *p)
{
	struct part_hv *hv = &p->hv;

	for (unsigned v = 0; v < HV_MAX_VTL; v++) {
		struct part_overlay_page *all[] = { &hv->hcpage[v], &hv->tscpage[v], &hv->simp[v], &hv->siefp[v] };
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
			if (all[i]->placed && !all[i]->writable)
				vmm_router_unregister(p->router, &all[i]->svc, all[i]);
			if (all[i]->placed && part_view_of(p, (uint8_t)v))
				part_view_clear_overlay(part_view_of(p, (uint8_t)v), all[i]->page);
			if (all[i]->page)
				munmap(all[i]->page, PART_PAGE_SIZE);
			memset(all[i], 0, sizeof(*all[i]));
		}
	}
}

static int hv_module_create(struct partition *p, void **state)
{
	struct part_hv *hv = &p->hv;
	int ret;

	*state = NULL;
	for (unsigned v = 0; v < HV_MAX_VTL; v++) {
		hv_partition_vtl_reset(&hv->vtl[v]);
		hv_vp_vtl_reset(&hv->vp[v]);
		hv->hcpage[v].page = page_alloc();
		hv->tscpage[v].page = page_alloc();
		hv->simp[v].page = page_alloc();
		hv->siefp[v].page = page_alloc();
		if (!hv->hcpage[v].page || !hv->tscpage[v].page || !hv->simp[v].page || !hv->siefp[v].page) {
			overlays_free(p);
			return -ENOMEM;
		}
		hv_hcpage_fill(hv->hcpage[v].page, HVRUN_PORT_HYPERCALL);
		hv->simp[v].writable = true;
		hv->siefp[v].writable = true;
	}
	ret = part_register_services(p, &msr_service, 1, p);
	if (ret)
		overlays_free(p);
	return ret;
}

static void hv_module_destroy(struct partition *p, void *state)
{
	(void)state;
	part_unregister_services(p, &msr_service, 1, p);
	overlays_free(p);
}

const struct part_module hv_msr_module = {
	.name = "hv-msr",
	.create = hv_module_create,
	.destroy = hv_module_destroy,
};
