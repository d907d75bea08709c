/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the exit path without KVM. Fabricated struct kvm_run contents (every exit reason,
 * string port I/O with any count, size and data offset, MMIO, MSR, fatal exits, debug exits, the
 * hypercall port with fuzzed registers and execution state) go through vmm_decode_exit, then
 * vmm_router_dispatch with the real service list (src/partition/services.c) on a KVM-less
 * partition (fuzz_part.h), then vp_apply_reply back into the run area, as vp.c's handle_exit does.
 *
 * Input: one byte of partition options, then exits (see read_exit). Checks:
 *   - decoding fails only for an inconsistent run area (bad I/O size, data outside the mapping,
 *     bad MMIO length, index past the count) and never reads past the mapping (ASan: the run area
 *     is a heap block of exactly FUZZ_RUN_SIZE bytes);
 *   - every message has a known type, a payload inside the message, and is answered by a service
 *     or by the router's stop; replies are well-formed and vp_apply_reply accepts them;
 *   - an exit from VTL0 never changes VTL1 private memory, VTL0's protections, the VSM
 *     configuration or VTL1's synthetic registers.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "fuzz_part.h"
#include "hvrun/abi.h"
#include "vmm/decode.h"
#include "vmm/msg.h"

static const uint32_t reasons[] = {
	KVM_EXIT_IO, KVM_EXIT_IO, KVM_EXIT_IO, KVM_EXIT_MMIO, KVM_EXIT_MMIO, KVM_EXIT_X86_RDMSR,
	KVM_EXIT_X86_WRMSR, KVM_EXIT_HLT, KVM_EXIT_SHUTDOWN, KVM_EXIT_FAIL_ENTRY, KVM_EXIT_INTERNAL_ERROR,
	KVM_EXIT_DEBUG, KVM_EXIT_UNKNOWN, KVM_EXIT_EXCEPTION, KVM_EXIT_HYPERCALL, KVM_EXIT_IRQ_WINDOW_OPEN,
	KVM_EXIT_NMI, KVM_EXIT_SYSTEM_EVENT, KVM_EXIT_X86_BUS_LOCK, KVM_EXIT_DIRTY_RING_FULL,
	KVM_EXIT_INTR, KVM_EXIT_SET_TPR, KVM_EXIT_TPR_ACCESS, KVM_EXIT_EPR, KVM_EXIT_IOAPIC_EOI,
	KVM_EXIT_HYPERV, KVM_EXIT_XEN, KVM_EXIT_AP_RESET_HOLD, KVM_EXIT_X86_BUS_LOCK + 100,
};

static uint16_t pick_port(struct fuzz_in *in)
{
	uint8_t sel = (uint8_t)fuzz_take(in, 1);

	switch (sel % 8) {
	case 0: case 1: return HVRUN_PORT_HYPERCALL;
	case 2: return HVRUN_PORT_UART0 + (sel >> 3) % 8;
	case 3: return HVRUN_PORT_DEBUGCON;
	case 4: return (sel & 0x80) ? HVRUN_PORT_DEBUG_EXIT : 0x80;
	default: return (uint16_t)fuzz_take(in, 2);
	}
}

static uint64_t pick_gpa(struct fuzz_in *in)
{
	uint8_t sel = (uint8_t)fuzz_take(in, 1);
	uint64_t off = fuzz_take(in, 2) & 0xfff;

	switch (sel % 8) {
	case 0: return 0x7000 + off;                              /* VTL0's hypercall page overlay */
	case 1: return HVRUN_VTL1_BASE + off;                     /* VTL1's (and VTL1 memory) */
	case 2: return (uint64_t)(sel >> 3) << 16 | off;          /* RAM (maybe protected) */
	case 3: return FUZZ_RAM_SIZE - 8 + (off & 15);            /* end of RAM */
	case 4: return 0xFEE00000 + off;                          /* the MMIO hole */
	case 5: return HVRUN_VTL1_BASE + FUZZ_VTL1_SIZE - 8 + (off & 15);
	default: return fuzz_take(in, 8);
	}
}

static uint32_t pick_msr(struct fuzz_in *in)
{
	uint8_t sel = (uint8_t)fuzz_take(in, 1);

	if (sel < 0xc0)
		return HV_SYNTHETIC_MSR_FIRST + (uint32_t)(fuzz_take(in, 2) & 0x1ff);
	return (uint32_t)fuzz_take(in, 4);
}

/* Fill run with one exit described by the input. */
static void read_exit(struct fuzz_in *in, struct kvm_run *run)
{
	struct kvm_regs *r = &run->s.regs.regs;
	struct kvm_sregs *s = &run->s.regs.sregs;
	uint8_t st = (uint8_t)fuzz_take(in, 1);

	fuzz_run_reset(run);
	/* Execution state: mostly 64-bit CPL0, sometimes not. */
	if (st & 0x01)
		s->ss.dpl = s->cs.dpl = 3;
	if (st & 0x02)
		s->cr0 &= ~1ull;
	if (st & 0x04)
		s->efer &= ~(1ull << 10);
	if (st & 0x08)
		s->cs.l = 0;
	if (st & 0x10)
		r->rflags |= 0x100;
	r->rax = fuzz_take(in, 8);
	r->rcx = fuzz_take(in, 8);
	r->rdx = fuzz_take(in, 8);
	r->r8 = fuzz_take(in, 8);
	if (st & 0x20) {
		r->rbx = fuzz_take(in, 8);
		r->rsi = fuzz_take(in, 8);
		r->rdi = fuzz_take(in, 8);
	}
	run->exit_reason = reasons[fuzz_take(in, 1) % (sizeof(reasons) / sizeof(reasons[0]))];
	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint8_t f = (uint8_t)fuzz_take(in, 1);
		static const uint8_t sizes[] = { 1, 2, 4, 1, 0, 3, 8, 255 };
		run->io.direction = f & 1 ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
		run->io.size = sizes[(f >> 1) & 7];
		run->io.port = pick_port(in);
		run->io.count = f & 0x10 ? (uint32_t)fuzz_take(in, 4) : 1 + (uint32_t)(fuzz_take(in, 1) & 0x1f) * !!(f & 0x20);
		run->io.data_offset = f & 0x40 ? (uint64_t)fuzz_take(in, 8) : 4096 + (fuzz_take(in, 2) & 0x1fff);
		for (unsigned i = 0; i < 64; i++) {
			uint64_t off = run->io.data_offset + i;
			if (off < FUZZ_RUN_SIZE && off >= sizeof(*run))
				((uint8_t *)run)[off] = (uint8_t)fuzz_take(in, 1);
		}
		break;
	}
	case KVM_EXIT_MMIO: {
		uint8_t f = (uint8_t)fuzz_take(in, 1);
		static const uint32_t lens[] = { 1, 2, 4, 8, 8, 4, 0, 9 };
		uint64_t v = fuzz_take(in, 8);
		run->mmio.phys_addr = pick_gpa(in);
		run->mmio.len = lens[f & 7];
		run->mmio.is_write = (f >> 3) & 1;
		memcpy(run->mmio.data, &v, 8);
		break;
	}
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		run->msr.index = pick_msr(in);
		run->msr.data = fuzz_take(in, 8);
		run->msr.reason = (uint32_t)fuzz_take(in, 1);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		run->internal.suberror = (uint32_t)fuzz_take(in, 4);
		run->internal.ndata = (uint32_t)fuzz_take(in, 4);
		for (unsigned i = 0; i < 16; i++)
			run->internal.data[i] = fuzz_take(in, 8);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		run->fail_entry.hardware_entry_failure_reason = fuzz_take(in, 8);
		run->fail_entry.cpu = (uint32_t)fuzz_take(in, 4);
		break;
	case KVM_EXIT_DEBUG:
		run->debug.arch.exception = (uint32_t)fuzz_take(in, 4);
		run->debug.arch.dr6 = fuzz_take(in, 8);
		run->debug.arch.pc = fuzz_take(in, 8);
		break;
	default:
		break;
	}
}

static bool known_type(uint32_t t)
{
	return (t & HVMSG_HYPERVISOR_MASK) && strcmp(vmm_msg_type_name(t), "Unknown") != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_vtl1_state saved;
	struct fuzz_in in = { data, size };
	struct fuzz_part_opts o;
	struct fuzz_part fp;
	uint8_t flags;

	if (size < 2)
		return 0;
	flags = (uint8_t)fuzz_take(&in, 1);
	o = (struct fuzz_part_opts){
		.nvps = 1 + (flags & 1), .vtl1 = flags & 2, .vtl1_vcpu = flags & 4,
		.hypercall_page = flags & 8, .protection = flags & 16,
	};
	fuzz_part_init(&fp, &o);

	for (int k = 0; k < 16 && in.n; k++) {
		struct partition *p = fp.p;
		uint8_t who = (uint8_t)fuzz_take(&in, 1);
		struct part_vp *pvp = &p->vps[(who & 1) % p->nvps];
		uint8_t vtl = (who & 2) && pvp->vp.vcpu[1].fd >= 0 ? 1 : 0;
		struct vmm_vcpu *c = &pvp->vp.vcpu[vtl];
		struct kvm_run *run = c->run;
		uint32_t n;
		bool stop = false;

		pvp->vp.active_vtl = vtl;
		read_exit(&in, run);
		n = vmm_decode_count(run);
		if (vtl == 0)
			fuzz_vtl1_save(&fp, &saved);
		for (uint32_t i = 0; i < n && i < 16; i++) {
			struct vmm_vp_state st = { .regs = &run->s.regs.regs, .sregs = &run->s.regs.sregs,
						   .valid = VMM_STATE_ALL };
			struct hv_message msg;
			/* The VP's route cache, as vp.c passes it: repeats take the cached route. */
			struct vmm_exit exit = { .msg = &msg, .state = &st, .vp = &pvp->vp,
						 .cache = &pvp->vp.route_cache };
			struct vmm_reply reply;
			bool inject;
			int ret;

			memset(&msg, 0xcc, sizeof(msg));
			ret = vmm_decode_exit(run, FUZZ_RUN_SIZE, &pvp->vp.dctx[vtl], i, &msg);
			if (ret) {
				if (run->exit_reason != KVM_EXIT_IO && run->exit_reason != KVM_EXIT_MMIO)
					fprintf(stderr, "decode of exit %u (index %u of %u) failed: %d\n",
						run->exit_reason, i, n, ret);
				CHECK(ret == -EINVAL);
				CHECK(run->exit_reason == KVM_EXIT_IO || run->exit_reason == KVM_EXIT_MMIO);
				break;
			}
			{
				/* The VP's segment memo only saves work: without it, the same bytes. */
				struct vmm_decode_ctx plain = pvp->vp.dctx[vtl];
				struct hv_message again;
				plain.memo = NULL;
				memset(&again, 0x33, sizeof(again));
				CHECK(vmm_decode_exit(run, FUZZ_RUN_SIZE, &plain, i, &again) == 0);
				CHECK(memcmp(&again, &msg, sizeof(msg)) == 0);
			}
			CHECK(known_type(msg.header.message_type));
			CHECK(msg.header.payload_size <= HV_MESSAGE_PAYLOAD_SIZE);
			CHECK(msg.header.sender == p->id);
			{
				char desc[256];
				memset(desc, 0x5a, sizeof(desc));
				vmm_msg_describe(&msg, desc, sizeof(desc));   /* the --trace and stop-report text */
				CHECK(memchr(desc, 0, sizeof(desc)) != NULL);
			}
			ret = vmm_router_dispatch(p->router, &exit, NULL, NULL, &reply);
			CHECK(ret <= 0);
			/* Whatever the handler (un)registered, a cached route is what a lookup finds now. */
			if (pvp->vp.route_cache.type == msg.header.message_type) {
				uint64_t key;
				vmm_msg_key(&msg, &key);
				if (pvp->vp.route_cache.key == key && vmm_router_lookup(p->router, &msg) != pvp->vp.route_cache.svc)
					CHECK(!vmm_router_cache_current(p->router, &pvp->vp.route_cache));
			}
			if (ret) {
				stop = true;          /* handle_exit stops the partition with 123 */
				break;
			}
			CHECK(reply.action == VMM_ACT_RESUME || reply.action == VMM_ACT_INJECT ||
			      reply.action == VMM_ACT_STOP);
			if (reply.action == VMM_ACT_STOP) {
				CHECK(reply.status >= 0 && reply.status <= 255);
				stop = true;
				break;
			}
			if (reply.action == VMM_ACT_INJECT)
				CHECK(reply.vector < 32);
			CHECK(!(st.dirty & ~VMM_STATE_ALL));
			CHECK(vp_apply_reply(run, FUZZ_RUN_SIZE, i, &reply, st.dirty, &inject) == 0);
		}
		if (vtl == 0)
			fuzz_vtl1_check(&fp, &saved, true);
		/* A VTL switch would happen here (do_switch); the next exit names its VTL itself. */
		pvp->vp.switch_to = -1;
		if (stop)
			break;
	}
	fuzz_part_fini(&fp);
	return 0;
}
