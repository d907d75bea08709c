/* SPDX-License-Identifier: MIT */
/* The fuzz targets' KVM-less partition (fuzz_part.h). */
#define _GNU_SOURCE
#include "fuzz_part.h"
#include "fuzz_input.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hvrun/abi.h"
#include "partition/services.h"
#include "vmm/log.h"
#include "vtl/vtl.h"

static int classify(void *opaque, uint64_t gpa)
{
	return part_view_classify(opaque, gpa, NULL) != PART_GPA_UNMAPPED;
}

void fuzz_run_reset(struct kvm_run *run)
{
	struct kvm_sregs *s = &run->s.regs.sregs;

	memset(run, 0, FUZZ_RUN_SIZE);
	s->cs = (struct kvm_segment){ .selector = 0x08, .limit = 0xffffffff, .type = 11, .present = 1,
				      .s = 1, .l = 1, .g = 1 };
	s->ss = (struct kvm_segment){ .selector = 0x10, .limit = 0xffffffff, .type = 3, .present = 1,
				      .s = 1, .db = 1, .g = 1 };
	s->ds = s->es = s->fs = s->gs = s->ss;
	s->cr0 = 0x80010033;
	s->cr4 = 0x620;
	s->efer = 0xd00;
	run->s.regs.regs.rip = 0x101234;
	run->s.regs.regs.rflags = 0x2;
	run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
}

static int enable_view(struct fuzz_part *fp, uint8_t vtl)
{
	struct partition *p = fp->p;
	struct part_vtl *v = &p->vtl[vtl];

	v->vm.fd = -1;
	v->vm.kvm = &fp->kvm;
	if (part_view_init(&v->view, &p->mem, NULL, 512))
		return -1;
	if (vtl && part_view_add_region(&v->view, HVRUN_VTL1_BASE, FUZZ_VTL1_SIZE, fp->vtl1))
		return -1;
	if (part_view_commit(&v->view))
		return -1;
	v->enabled = true;
	return 0;
}

static int add_vcpu(struct fuzz_part *fp, unsigned vp, uint8_t vtl)
{
	struct vmm_vcpu *c = &fp->p->vps[vp].vp.vcpu[vtl];
	struct vp *v = &fp->p->vps[vp].vp;

	fp->run[vp][vtl] = aligned_alloc(4096, FUZZ_RUN_SIZE);
	if (!fp->run[vp][vtl])
		return -1;
	fuzz_run_reset(fp->run[vp][vtl]);
	c->fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	c->id = vp;
	c->run = fp->run[vp][vtl];
	c->run_size = FUZZ_RUN_SIZE;
	v->dctx[vtl].sender = fp->p->id;
	v->dctx[vtl].gpa_is_protected = classify;
	v->dctx[vtl].opaque = &fp->p->vtl[vtl].view;
	return c->fd < 0 ? -1 : 0;
}

int fuzz_part_init(struct fuzz_part *fp, const struct fuzz_part_opts *o)
{
	struct partition *p;
	unsigned nvps = o->nvps >= 1 && o->nvps <= FUZZ_MAX_VPS ? o->nvps : 1;

	memset(fp, 0, sizeof(*fp));
	vmm_log_set_level(VMM_LOG_ERROR);
	fp->kvm = (struct vmm_kvm){ .fd = -1, .run_size = FUZZ_RUN_SIZE, .max_memslots = 512 };
	fp->p = p = calloc(1, sizeof(*p));
	/* Allocated once and reused (fresh 2 MiB blocks cost page faults on every input). */
	static uint8_t *ram, *vtl1;
	if (!ram)
		ram = malloc(FUZZ_RAM_SIZE);
	if (!vtl1)
		vtl1 = malloc(FUZZ_VTL1_SIZE);
	fp->ram = ram;
	fp->vtl1 = vtl1;
	fp->console = fopen("/dev/null", "we");
	if (!p || !fp->ram || !fp->vtl1 || !fp->console)
		abort();
	memset(fp->ram, 0, FUZZ_RAM_SIZE);
	memset(fp->vtl1, 0, FUZZ_VTL1_SIZE);
	p->id = 7;
	p->kvm = &fp->kvm;
	p->cfg.name = "fuzz";
	p->gpa_bits = 36;
	for (unsigned v = 0; v < HV_MAX_VTL; v++)
		p->vtl[v].vm.fd = -1;
	part_mem_wrap(&p->mem, fp->ram, 0, FUZZ_RAM_SIZE);
	part_mem_wrap(&p->vtl1_mem, fp->vtl1, HVRUN_VTL1_BASE, FUZZ_VTL1_SIZE);
	hv_features_get(&p->hv.features, true);
	if (dev_console_init(&p->console, fp->console, NULL) || vmm_router_create(&p->router))
		abort();
	p->vps = calloc(nvps, sizeof(*p->vps));
	if (!p->vps)
		abort();
	p->nvps = nvps;
	for (unsigned i = 0; i < nvps; i++) {
		vp_init(&p->vps[i].vp, i, p->router, p);
		if (vmm_vic_init(&p->vps[i].vic) || add_vcpu(fp, i, 0))
			abort();
	}
	if (enable_view(fp, 0))
		abort();
	if (o->vtl1 && enable_view(fp, 1))
		abort();
	if (o->vtl1 && o->vtl1_vcpu && add_vcpu(fp, 0, 1))
		abort();
	/* Connections 1 and 2 lead back into this partition (VP 0 SINT 2; VP 1 SINT 15, last flags). */
	fp->fabric_parts[0] = p;
	fp->conn[0] = (struct part_connection){ .id = 1, .from = 0, .to = 0, .vp = 0, .sint = 2 };
	fp->conn[1] = (struct part_connection){ .id = 2, .from = 0, .to = 0, .vp = 1, .sint = 15,
						.flag_base = 2040 };
	fp->fabric = (struct part_fabric){ .parts = fp->fabric_parts, .nparts = 1, .conn = fp->conn,
					   .nconn = 2 };
	p->cfg.fabric = &fp->fabric;
	if (part_services_create(p))
		abort();
	if (o->hypercall_page) {
		for (uint8_t v = 0; v < HV_MAX_VTL; v++) {
			uint64_t os = 0x8100000000000001ull, hc = (v ? HVRUN_VTL1_BASE : 0x7000) | 1;
			struct vmm_reply r;
			if (!part_vtl_enabled(p, v))
				continue;
			hv_synthetic_msr(p, &p->vps[0], v, HV_X64_MSR_GUEST_OS_ID, true, &os, &r);
			hv_synthetic_msr(p, &p->vps[0], v, HV_X64_MSR_HYPERCALL, true, &hc, &r);
		}
	}
	if (o->vtl1 && o->protection)
		vtl_register_set(p, &p->vps[0], 1, 1, HV_REG_VSM_PARTITION_CONFIG,
				 HV_VSM_CONFIG_ENABLE_VTL_PROTECTION | (0xfull << 1), 0);
	return 0;
}

void fuzz_part_fini(struct fuzz_part *fp)
{
	struct partition *p = fp->p;

	part_services_destroy(p);
	for (unsigned i = 0; i < p->nvps; i++) {
		for (unsigned v = 0; v < HV_MAX_VTL; v++) {
			struct vmm_vcpu *c = &p->vps[i].vp.vcpu[v];
			if (c->fd >= 0)
				close(c->fd);
			free(fp->run[i][v]);
		}
		vmm_vic_fini(&p->vps[i].vic);
	}
	for (unsigned v = HV_MAX_VTL; v-- > 0;) {
		if (p->vtl[v].enabled)
			part_view_fini(&p->vtl[v].view);
		if (p->vtl[v].vm.fd >= 0)
			close(p->vtl[v].vm.fd);
	}
	free(p->vps);
	vmm_router_destroy(p->router);
	dev_console_fini(&p->console);
	fclose(fp->console);
	free(p);
	memset(fp, 0, sizeof(*fp));
}

void fuzz_vtl1_save(const struct fuzz_part *fp, struct fuzz_vtl1_state *s)
{
	const struct partition *p = fp->p;

	memcpy(s->vtl1_mem, fp->vtl1, FUZZ_VTL1_SIZE);
	memcpy(s->prot0, p->vtl[0].view.prot, p->vtl[0].view.npages);
	memcpy(s->vsm_config, p->vsm.config, sizeof(s->vsm_config));
	s->hv1 = p->hv.vtl[1];
	for (unsigned i = 0; i < p->nvps; i++)
		s->vp_hv1[i] = p->vps[i].hv[1];
}

void fuzz_vtl1_check(const struct fuzz_part *fp, struct fuzz_vtl1_state *s, bool skip_assist)
{
	const struct partition *p = fp->p;

	for (unsigned i = 0; skip_assist && i < p->nvps; i++) {
		uint64_t a = p->vps[i].hv[1].vp_assist & ~0xfffull;
		if ((p->vps[i].hv[1].vp_assist & 1) && a >= HVRUN_VTL1_BASE && a - HVRUN_VTL1_BASE < FUZZ_VTL1_SIZE)
			memcpy(s->vtl1_mem + (a - HVRUN_VTL1_BASE), fp->vtl1 + (a - HVRUN_VTL1_BASE), 4096);
	}
	CHECK(!memcmp(s->vtl1_mem, fp->vtl1, FUZZ_VTL1_SIZE));
	CHECK(!memcmp(s->prot0, p->vtl[0].view.prot, p->vtl[0].view.npages));
	CHECK(!memcmp(s->vsm_config, p->vsm.config, sizeof(s->vsm_config)));
	CHECK(!memcmp(&s->hv1, &p->hv.vtl[1], sizeof(s->hv1)));
	for (unsigned i = 0; i < p->nvps; i++)
		CHECK(!memcmp(&s->vp_hv1[i], &p->vps[i].hv[1], sizeof(s->vp_hv1[i])));
}
