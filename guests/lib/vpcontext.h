/* SPDX-License-Identifier: MIT */
/*
 * The running VP's state as an HV_INITIAL_VP_CONTEXT (EnableVpVtl, StartVirtualProcessor): its
 * segments decoded from the live GDT, descriptor tables, control registers, EFER and PAT.
 */
#ifndef GUEST_VPCONTEXT_H
#define GUEST_VPCONTEXT_H

#include <stdint.h>

#include "hv/message.h"
#include "io.h"
#include "string.h"

#define VPCTX_MSR_EFER    0xC0000080u
#define VPCTX_MSR_PAT     0x277u
#define VPCTX_TSS_BUSY_64 0xbu

#define VPCTX_DEFINE_SEG_READ(name, insn)                                   \
	static inline uint16_t vpctx_read_##name(void)                      \
	{                                                                   \
		uint16_t v;                                                 \
		__asm__ volatile(insn : "=r"(v));                           \
		return v;                                                   \
	}
VPCTX_DEFINE_SEG_READ(es, "movw %%es, %0")
VPCTX_DEFINE_SEG_READ(fs, "movw %%fs, %0")
VPCTX_DEFINE_SEG_READ(gs, "movw %%gs, %0")
VPCTX_DEFINE_SEG_READ(ldtr, "sldt %0")
#undef VPCTX_DEFINE_SEG_READ

/* A segment as the CPU holds it, decoded from the live GDT (hv_x64_segment attribute layout). */
static inline void vpctx_seg_from_gdt(struct hv_x64_segment *s, uint16_t sel)
{
	struct desc_ptr g;
	const uint8_t *d8;
	uint64_t d;
	uint32_t limit, hi;

	memset(s, 0, sizeof(*s));
	s->selector = sel;
	if (!(sel & ~7u))
		return;                          /* null selector: unusable (attributes 0) */
	sgdt(&g);
	d8 = (const uint8_t *)(uintptr_t)(g.base + (sel & ~7u));
	memcpy(&d, d8, 8);
	s->base = ((d >> 16) & 0xffffff) | ((d >> 56) & 0xff) << 24;
	limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	if (d & (1ull << 55))
		limit = limit << 12 | 0xfff;     /* G: 4 KiB granularity */
	s->limit = limit;
	s->attributes = (uint16_t)(((d >> 40) & 0xff) | ((d >> 52) & 0xf) << 12);
	if (!(d & (1ull << 44))) {               /* system descriptor: 16 bytes, base 63:32 after */
		memcpy(&hi, d8 + 8, 4);
		s->base |= (uint64_t)hi << 32;
	}
}

/* This VP's state, to start another VP or VTL at rip with rsp (RFLAGS 0x2: interrupts off). */
static inline void vpctx_capture(struct hv_initial_vp_context *c, uint64_t rip, uint64_t rsp)
{
	struct desc_ptr idt, gdt;

	memset(c, 0, sizeof(*c));
	c->rip = rip;
	c->rsp = rsp;
	c->rflags = 0x2;
	vpctx_seg_from_gdt(&c->cs, read_cs());
	vpctx_seg_from_gdt(&c->ds, read_ds());
	vpctx_seg_from_gdt(&c->es, vpctx_read_es());
	vpctx_seg_from_gdt(&c->fs, vpctx_read_fs());
	vpctx_seg_from_gdt(&c->gs, vpctx_read_gs());
	vpctx_seg_from_gdt(&c->ss, read_ss());
	vpctx_seg_from_gdt(&c->tr, read_tr());
	/* A loaded TR is busy; the GDT copy may say "available". */
	c->tr.attributes = (uint16_t)((c->tr.attributes & ~0xfu) | VPCTX_TSS_BUSY_64);
	vpctx_seg_from_gdt(&c->ldtr, vpctx_read_ldtr());
	sidt(&idt);
	sgdt(&gdt);
	c->idtr.limit = idt.limit;
	c->idtr.base = idt.base;
	c->gdtr.limit = gdt.limit;
	c->gdtr.base = gdt.base;
	c->efer = rdmsr(VPCTX_MSR_EFER);
	c->cr0 = read_cr0();
	c->cr3 = read_cr3();
	c->cr4 = read_cr4();
	c->msr_cr_pat = rdmsr(VPCTX_MSR_PAT);
}

#endif /* GUEST_VPCONTEXT_H */
