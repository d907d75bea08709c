/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: hypercalls. Two modes, chosen by bit 0 of the first byte.
 *
 * Engine mode (bit 0 clear): hc_execute (src/hypercall/hc.c) with a table holding the shape of
 * every implemented call's descriptor (code, rep, varhead, input/output sizes) plus two
 * descriptors whose shape the input chooses, all served by a checking handler, against 16 pages
 * of fabricated guest memory (some pages refused as "protected") and fuzzed RCX/RDX/R8. Checks:
 *   - RAX is a TLFS status hvrun knows, reserved result bits are 0, reps completed <= rep count;
 *   - the handler runs only for a valid control value and valid lists, and sees a copy of exactly
 *     the guest's input (or RDX:R8 for a fast call) and a zeroed output buffer of the right size;
 *   - guest memory changes only in the output header and the rep elements this call completed.
 *
 * Partition mode (bit 0 set): the real handlers (Get/SetVpRegisters, EnablePartitionVtl,
 * EnableVpVtl, ModifyVtlProtectionMask, PostMessage, SignalEvent, StartVirtualProcessor,
 * GetVpIndexFromApicId, NotifyLongSpinWait) through hc_execute on a KVM-less partition
 * (fuzz_part.h), a sequence of calls from VTL0 or VTL1 with fuzzed inputs. Checks, besides the
 * result encoding: a call from VTL0 never changes VTL1 private memory, VTL0's protections, the
 * VSM configuration, or VTL1's synthetic registers.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "fuzz_part.h"
#include "hvrun/abi.h"
#include "hypercall/calls.h"
#include "hypercall/hc.h"
#include "vtl/vtl.h"

static const int errnos[] = { 0, -ENOSYS, -EBADMSG, -EDOM, -EINVAL, -EACCES, -EPERM, -EBADFD, -ENOMEM,
			      -ENOSPC, -ESRCH, -ECHILD, -ENOENT, -EADDRNOTAVAIL, -ENOTCONN, -ENOBUFS,
			      -EBUSY, -EPROTO, -ENOTSUP, -ERANGE, -ENOTRECOVERABLE, -EALREADY, -ETIMEDOUT,
			      -EIO, 1, -12345 };

static void check_result(uint64_t rax, const struct hc_control *ctl, bool rep)
{
	uint16_t status = (uint16_t)rax;
	unsigned reps = (unsigned)(rax >> 32) & 0xfff;

	CHECK(strcmp(hc_status_name(status), "UNKNOWN_STATUS") != 0);
	CHECK((rax & 0xffff0000ull) == 0 && (rax >> 44) == 0);
	if (!rep)
		CHECK(reps == 0);
	else
		CHECK(reps <= ctl->rep_count);
}

/* ---- engine mode ---- */

#define GMEM_PAGES 16
#define GMEM_SIZE (GMEM_PAGES * HC_PAGE_SIZE)

static uint8_t gmem[GMEM_SIZE] __attribute__((aligned(4096)));
static uint8_t gmem_before[GMEM_SIZE];
static uint16_t denied_pages;         /* bit n: page n refuses access (a VTL protection) */

struct engine_call {                  /* what the checking handler is told to do and saw */
	int ret;
	uint16_t reps_done;
	bool ran;
	uint32_t in_len, out_len;
	uint8_t in_copy[HC_PAGE_SIZE];
	uint8_t out_fill;
};

static int engine_access(void *ctx, uint64_t gpa, uint32_t len, bool write, void **hva)
{
	(void)ctx;
	(void)write;
	if (gpa >= GMEM_SIZE || len > GMEM_SIZE - gpa)
		return -EINVAL;
	for (uint64_t pg = gpa / HC_PAGE_SIZE; pg <= (gpa + len - 1) / HC_PAGE_SIZE; pg++)
		if (denied_pages & (1u << pg))
			return -EACCES;
	*hva = gmem + gpa;
	return 0;
}

static int checking_handler(struct hc_args *a)
{
	struct engine_call *e = a->env;

	e->ran = true;
	e->in_len = a->in_len;
	e->out_len = a->out_len;
	CHECK(a->in_len <= HC_PAGE_SIZE && a->out_len <= HC_PAGE_SIZE);
	memcpy(e->in_copy, a->in, a->in_len);
	for (uint32_t i = 0; i < a->out_len; i++)
		CHECK(a->out[i] == 0);
	memset(a->out, e->out_fill, a->out_len);
	a->reps_done = e->reps_done;
	return e->ret;
}

static uint64_t pick_gpa(struct fuzz_in *in)
{
	uint8_t sel = (uint8_t)fuzz_take(in, 1);
	uint64_t off = fuzz_take(in, 2);

	switch (sel % 8) {
	case 0: case 1: case 2:
		return (uint64_t)(sel >> 3) % GMEM_PAGES * HC_PAGE_SIZE + (off & 0xff8);   /* aligned, in memory */
	case 3:
		return (uint64_t)(sel >> 3) % GMEM_PAGES * HC_PAGE_SIZE + HC_PAGE_SIZE - 8 * (1 + (off & 7));
	case 4:
		return off;                                                               /* anything low */
	case 5:
		return (1ull << 36) - HC_PAGE_SIZE + (off & 0xff8);                       /* end of GPA space */
	case 6:
		return fuzz_take(in, 8);
	default:
		return GMEM_SIZE + (off & ~7ull);                                         /* past memory */
	}
}

static void engine_mode(struct fuzz_in *in)
{
	const struct hc_call *real[] = {
		&hc_call_notify_long_spin_wait, &hc_call_modify_vtl_protection_mask,
		&hc_call_enable_partition_vtl, &hc_call_enable_vp_vtl, &hc_call_get_vp_registers,
		&hc_call_set_vp_registers, &hc_call_post_message, &hc_call_signal_event,
		&hc_call_start_virtual_processor, &hc_call_get_vp_index_from_apic_id,
	};
	enum { NREAL = sizeof(real) / sizeof(real[0]) };
	static struct hc_call shapes[NREAL + 2];
	const struct hc_call *list[NREAL + 2];
	static struct hc_table table;
	static struct engine_call e;
	size_t n = 0;

	for (size_t i = 0; i < NREAL; i++) {
		shapes[n] = *real[i];
		shapes[n].fn = checking_handler;
		list[n] = &shapes[n];
		n++;
	}
	for (int k = 0; k < 2; k++) {     /* two descriptors of any shape, at codes no real call uses */
		uint8_t f = (uint8_t)fuzz_take(in, 1);
		shapes[n] = (struct hc_call){
			.code = (uint16_t)(0x100 + k * 0x80 + (f & 0x7f)), .name = "fuzz",
			.rep = f & 0x80, .varhead = fuzz_take(in, 1) & 1,
			.in_size = (uint16_t)(fuzz_take(in, 2) % 4200), .rep_in_size = (uint16_t)(fuzz_take(in, 2) % 600),
			.out_size = (uint16_t)(fuzz_take(in, 2) % 4200), .rep_out_size = (uint16_t)(fuzz_take(in, 2) % 600),
			.fn = checking_handler,
		};
		list[n] = &shapes[n];
		n++;
	}
	CHECK(hc_table_init(&table, list, n) == 0);

	for (int round = 0; round < 4 && in->n; round++) {
		struct hc_mem mem = { .access = engine_access, .gpa_limit = 1ull << 36 };
		struct hc_regs regs;
		struct hc_control ctl;
		const struct hc_call *call, *c;
		uint64_t rax, ctl_raw;
		uint8_t how = (uint8_t)fuzz_take(in, 1);

		/* The control value: a real or fuzz code with plausible rep fields, or raw bits. */
		if (how & 1) {
			ctl_raw = fuzz_take(in, 8);
		} else {
			const struct hc_call *pick = list[fuzz_take(in, 1) % n];
			ctl_raw = pick->code | (uint64_t)(fuzz_take(in, 2) & 0xfff) << HV_HYPERCALL_REP_COUNT_SHIFT |
				  (uint64_t)(fuzz_take(in, 2) & 0xfff) << HV_HYPERCALL_REP_START_SHIFT;
			if (how & 2)
				ctl_raw |= HV_HYPERCALL_FAST_BIT;
			if (how & 4)
				ctl_raw |= (uint64_t)(fuzz_take(in, 1) & 0x3ff) << HV_HYPERCALL_VARHEAD_SHIFT;
		}
		regs = (struct hc_regs){ .rcx = ctl_raw, .rdx = pick_gpa(in), .r8 = pick_gpa(in) };
		denied_pages = (uint16_t)fuzz_take(in, 2);
		for (size_t i = 0; i < GMEM_SIZE; i += 64)
			memset(gmem + i, (int)(fuzz_take(in, 1) ^ (i >> 6)), 64);
		memcpy(gmem_before, gmem, GMEM_SIZE);
		memset(&e, 0, sizeof(e));
		e.ret = errnos[fuzz_take(in, 1) % (sizeof(errnos) / sizeof(errnos[0]))];
		e.reps_done = (uint16_t)fuzz_take(in, 2);
		e.out_fill = (uint8_t)(fuzz_take(in, 1) | 1);

		rax = hc_execute(&table, &regs, &mem, &e, &call);
		hc_decode_control(ctl_raw, &ctl);
		c = hc_table_lookup(&table, ctl.code);
		/* The entry that ran: none when the control value has reserved bits (refused first). */
		CHECK(call == ((ctl_raw & HV_HYPERCALL_RSVD_MASK) ? NULL : c));
		check_result(rax, &ctl, c && c->rep);
		if (!c) {
			CHECK((uint16_t)rax == HV_STATUS_INVALID_HYPERCALL_CODE || (uint16_t)rax == HV_STATUS_INVALID_HYPERCALL_INPUT);
			CHECK(!e.ran);
		}
		if (!e.ran) {
			CHECK((uint16_t)rax != HV_STATUS_SUCCESS);
			CHECK(!memcmp(gmem, gmem_before, GMEM_SIZE));
			continue;
		}
		/* It ran: the control value and the lists were valid. */
		CHECK(!(ctl_raw & HV_HYPERCALL_RSVD_MASK) && !ctl.nested);
		CHECK(c->rep ? ctl.rep_count && ctl.rep_start < ctl.rep_count : !ctl.rep_count && !ctl.rep_start);
		CHECK(!ctl.varhead || c->varhead);
		uint64_t in_len = c->in_size + 8ull * ctl.varhead + (c->rep ? (uint64_t)ctl.rep_count * c->rep_in_size : 0);
		uint64_t out_len = c->out_size + (c->rep ? (uint64_t)ctl.rep_count * c->rep_out_size : 0);
		CHECK(e.out_len == out_len);
		if (ctl.fast) {
			/* A fast call's handler sees exactly RDX:R8, whatever the call's input size. */
			CHECK(in_len <= 16 && out_len == 0 && e.in_len == 16);
			CHECK(!memcmp(e.in_copy, &regs.rdx, 8) && !memcmp(e.in_copy + 8, &regs.r8, 8));
			CHECK(!memcmp(gmem, gmem_before, GMEM_SIZE));
			continue;
		}
		CHECK(e.in_len == in_len);
		if (in_len) {
			CHECK(!(regs.rdx & 7) && (regs.rdx & 0xfff) + in_len <= HC_PAGE_SIZE && regs.rdx + in_len <= GMEM_SIZE);
			CHECK(!memcmp(e.in_copy, gmem_before + regs.rdx, in_len));
		}
		if (out_len) {
			CHECK(!(regs.r8 & 7) && (regs.r8 & 0xfff) + out_len <= HC_PAGE_SIZE && regs.r8 + out_len <= GMEM_SIZE);
			if (in_len)
				CHECK(regs.rdx >= regs.r8 + out_len || regs.r8 >= regs.rdx + in_len);
		}
		/* Memory: only the output header and the completed elements changed. */
		unsigned reps = (unsigned)(rax >> 32) & 0xfff;
		for (uint64_t a = 0; a < GMEM_SIZE; a++) {
			bool may = false;
			if (out_len && a >= regs.r8 && a < regs.r8 + c->out_size)
				may = true;
			if (out_len && c->rep && reps > ctl.rep_start &&
			    a >= regs.r8 + c->out_size + (uint64_t)ctl.rep_start * c->rep_out_size &&
			    a < regs.r8 + c->out_size + (uint64_t)reps * c->rep_out_size)
				may = true;
			if (!may && gmem[a] != gmem_before[a]) {
				fprintf(stderr, "byte %#llx changed (out %#llx len %llu reps %u..%u)\n",
					(unsigned long long)a, (unsigned long long)regs.r8,
					(unsigned long long)out_len, ctl.rep_start, reps);
				abort();
			}
		}
		if (!c->rep)
			CHECK((uint16_t)rax == hc_status_from_errno(e.ret));
	}
}

/* ---- partition mode ---- */

static int view_access(void *ctx, uint64_t gpa, uint32_t len, bool write, void **hva)
{
	if (!ctx)
		return -EINVAL;
	return part_view_access(ctx, gpa, len, write, hva);
}

static const uint16_t codes[] = {
	HVCALL_NOTIFY_LONG_SPIN_WAIT, HVCALL_MODIFY_VTL_PROTECTION_MASK, HVCALL_ENABLE_PARTITION_VTL,
	HVCALL_ENABLE_VP_VTL, HVCALL_GET_VP_REGISTERS, HVCALL_SET_VP_REGISTERS, HVCALL_POST_MESSAGE,
	HVCALL_SIGNAL_EVENT, HVCALL_START_VIRTUAL_PROCESSOR, HVCALL_GET_VP_INDEX_FROM_APIC_ID,
};

/* GPAs worth trying: the in/out pages, VTL1 memory, the hypercall page, the hole, RAM's end. */
static uint64_t pick_part_gpa(struct fuzz_in *in)
{
	uint8_t sel = (uint8_t)fuzz_take(in, 1);
	uint64_t off = fuzz_take(in, 2) & 0xff8;

	switch (sel % 8) {
	case 0: case 1: return 0x100000 + (uint64_t)(sel >> 3 & 3) * 0x1000 + off;
	case 2: return HVRUN_VTL1_BASE + (uint64_t)(sel >> 3 & 7) * 0x1000 + off;
	case 3: return 0x7000 + off;                                  /* VTL0's hypercall page */
	case 4: return FUZZ_RAM_SIZE - 0x1000 + off;                  /* the last page of RAM */
	case 5: return 0xFEE00000 + off;                              /* the MMIO hole */
	case 6: return (uint64_t)(sel >> 3) << 12 | off;              /* low RAM, boot area */
	default: return fuzz_take(in, 8);
	}
}

static void partition_mode(struct fuzz_in *in, uint8_t flags)
{
	static struct fuzz_vtl1_state saved;
	struct fuzz_part_opts o = {
		.nvps = 1 + ((flags >> 1) & 1), .vtl1 = flags & 4, .vtl1_vcpu = flags & 8,
		.hypercall_page = true, .protection = flags & 16,
	};
	struct fuzz_part fp;

	fuzz_part_init(&fp, &o);
	for (int round = 0; round < 8 && in->n; round++) {
		struct partition *p = fp.p;
		uint8_t how = (uint8_t)fuzz_take(in, 1);
		uint8_t vtl = (how & 1) && part_vtl_enabled(p, 1) && p->vps[0].vp.vcpu[1].fd >= 0 ? 1 : 0;
		struct part_vp *pvp = &p->vps[0];
		struct kvm_run *run = pvp->vp.vcpu[vtl].run;
		struct vmm_vp_state st = { .regs = &run->s.regs.regs, .sregs = &run->s.regs.sregs,
					   .valid = VMM_STATE_ALL };
		struct hv_message msg;
		struct vmm_exit exit = { .msg = &msg, .state = &st, .vp = &pvp->vp };
		struct vmm_reply reply = { .action = VMM_ACT_RESUME };
		struct hc_env env = { .p = p, .exit = &exit, .vtl = vtl, .reply = &reply };
		struct hc_mem mem = { .access = view_access, .ctx = part_view_of(p, vtl), .gpa_limit = 1ull << 36 };
		struct hc_regs regs;
		struct hc_control ctl;
		const struct hc_call *call;
		uint64_t rax, ctl_raw;
		size_t fill;

		memset(&msg, 0, sizeof(msg));
		pvp->vp.active_vtl = vtl;
		if (how & 2) {
			ctl_raw = fuzz_take(in, 8);
		} else {
			ctl_raw = codes[fuzz_take(in, 1) % (sizeof(codes) / sizeof(codes[0]))] |
				  (uint64_t)(fuzz_take(in, 1) % 40) << HV_HYPERCALL_REP_COUNT_SHIFT |
				  (uint64_t)(fuzz_take(in, 1) % 40) << HV_HYPERCALL_REP_START_SHIFT;
			if (how & 4)
				ctl_raw |= HV_HYPERCALL_FAST_BIT;
		}
		regs = (struct hc_regs){ .rcx = ctl_raw, .rdx = pick_part_gpa(in), .r8 = pick_part_gpa(in) };
		if (how & 8)
			regs.r8 = regs.rdx + 0x1000;
		if (how & 4) {
			regs.rdx = fuzz_take(in, 8);
			regs.r8 = fuzz_take(in, 8);
		}
		/* The input parameters: as many bytes as the fuzzer gives, at RDX in RAM or VTL1 memory. */
		fill = fuzz_take(in, 2) % 512;
		{
			uint8_t *dst = NULL;
			if (regs.rdx < FUZZ_RAM_SIZE)
				dst = fp.ram + regs.rdx;
			else if (regs.rdx >= HVRUN_VTL1_BASE && regs.rdx - HVRUN_VTL1_BASE < FUZZ_VTL1_SIZE)
				dst = fp.vtl1 + (regs.rdx - HVRUN_VTL1_BASE);
			if (dst) {
				size_t room = regs.rdx < FUZZ_RAM_SIZE ? FUZZ_RAM_SIZE - regs.rdx :
					      FUZZ_VTL1_SIZE - (regs.rdx - HVRUN_VTL1_BASE);
				for (size_t i = 0; i < fill && i < room; i++)
					dst[i] = (uint8_t)fuzz_take(in, 1);
			}
		}
		/* Register names a Get/SetVpRegisters might touch come from the caller's state. */
		run->s.regs.regs.rax = fuzz_take(in, 8);
		if (vtl == 0)
			fuzz_vtl1_save(&fp, &saved);

		rax = hc_execute(&p->hv.calls, &regs, &mem, &env, &call);
		hc_decode_control(ctl_raw, &ctl);
		check_result(rax, &ctl, call && call->rep);
		if (vtl == 0)
			fuzz_vtl1_check(&fp, &saved, false);
		CHECK(!(st.dirty & ~VMM_STATE_ALL));
		pvp->vp.switch_to = -1;
		if (reply.action == VMM_ACT_STOP)
			break;
	}
	fuzz_part_fini(&fp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags;

	if (size < 2)
		return 0;
	flags = (uint8_t)fuzz_take(&in, 1);
	if (flags & 1)
		partition_mode(&in, flags);
	else
		engine_mode(&in);
	return 0;
}
