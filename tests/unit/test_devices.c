/* SPDX-License-Identifier: MIT */
/* The partition's service list end to end without KVM: fabricated exits -> decode -> router -> service. */
#include "partition/services.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_run.h"
#include "hvrun/abi.h"
#include "partition/partition.h"
#include "vmm/decode.h"
#include "vmm/exitcode.h"

struct fixture {
	struct partition p;
	struct kvm_run *run;
	char *out;
	size_t out_len;
	FILE *f;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->f = open_memstream(&fx->out, &fx->out_len);
	assert_int_equal(dev_console_init(&fx->p.console, fx->f, NULL), 0);
	assert_int_equal(vmm_router_create(&fx->p.router), 0);
	fx->p.vps = calloc(1, sizeof(*fx->p.vps));
	fx->p.nvps = 1;
	vp_init(&fx->p.vps[0].vp, 0, fx->p.router, &fx->p);
	assert_int_equal(vmm_vic_init(&fx->p.vps[0].vic), 0);
	assert_int_equal(part_services_create(&fx->p), 0);
	fx->run = fake_run_new();
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	part_services_destroy(&fx->p);
	vmm_vic_fini(&fx->p.vps[0].vic);
	free(fx->p.vps);
	vmm_router_destroy(fx->p.router);
	dev_console_fini(&fx->p.console);
	fclose(fx->f);
	free(fx->out);
	free(fx->run);
	free(fx);
	return 0;
}

static struct vmm_reply route(struct fixture *fx)
{
	struct vmm_decode_ctx ctx = { 0 };
	struct hv_message m;
	struct vmm_vp_state st = { .regs = &fx->run->s.regs.regs, .sregs = &fx->run->s.regs.sregs,
				   .valid = VMM_STATE_ALL };
	struct vmm_exit ex = { .msg = &m, .state = &st, .vp = &fx->p.vps[0].vp };
	struct vmm_reply reply;

	assert_int_equal(vmm_decode_exit(fx->run, FAKE_RUN_SIZE, &ctx, 0, &m), 0);
	assert_int_equal(vmm_router_dispatch(fx->p.router, &ex, NULL, NULL, &reply), 0);
	return reply;
}

static void test_debug_exit_status_unchanged(void **state)
{
	struct fixture *fx = *state;
	struct vmm_reply r;

	fake_run_io(fx->run, HVRUN_PORT_DEBUG_EXIT, 1, 1, 1, 7);
	r = route(fx);
	assert_int_equal(r.action, VMM_ACT_STOP);
	assert_int_equal(r.status, 7);
	fake_run_io(fx->run, HVRUN_PORT_DEBUG_EXIT, 1, 4, 1, 0x1ff);
	r = route(fx);
	assert_int_equal(r.status, 0xff);       /* V & 0xff, no (V << 1) | 1 mangling */
	fake_run_io(fx->run, HVRUN_PORT_DEBUG_EXIT, 1, 1, 1, 0);
	assert_int_equal(route(fx).status, 0);
	fake_run_io(fx->run, HVRUN_PORT_DEBUG_EXIT, 0, 1, 1, 0);
	assert_int_equal(route(fx).action, VMM_ACT_RESUME);   /* reading does not stop */
}

static void test_debugcon_output_and_presence(void **state)
{
	struct fixture *fx = *state;

	fake_run_io(fx->run, HVRUN_PORT_DEBUGCON, 1, 1, 1, 'o');
	assert_int_equal(route(fx).action, VMM_ACT_RESUME);
	fake_run_io(fx->run, HVRUN_PORT_DEBUGCON, 1, 2, 1, ('\n' << 8) | 'k');
	assert_int_equal(route(fx).action, VMM_ACT_RESUME);
	fflush(fx->f);
	assert_string_equal(fx->out, "ok\n");
	fake_run_io(fx->run, HVRUN_PORT_DEBUGCON, 0, 1, 1, 0);
	assert_int_equal(route(fx).data, 0xe9);
}

static void test_uart_reaches_console(void **state)
{
	struct fixture *fx = *state;

	fake_run_io(fx->run, HVRUN_PORT_UART0, 1, 1, 1, 'u');
	route(fx);
	fake_run_io(fx->run, HVRUN_PORT_UART0, 1, 1, 1, '\n');
	route(fx);
	fflush(fx->f);
	assert_string_equal(fx->out, "u\n");
	fake_run_io(fx->run, HVRUN_PORT_UART0 + 5, 0, 1, 1, 0);
	assert_int_equal(route(fx).data, 0x60);
}

static void test_unclaimed_defaults(void **state)
{
	struct fixture *fx = *state;
	struct vmm_reply r;

	fake_run_io(fx->run, 0x80, 0, 1, 1, 0);
	r = route(fx);
	assert_int_equal(r.action, VMM_ACT_RESUME);
	assert_int_equal(r.data, 0xff);
	fake_run_io(fx->run, 0x1234, 0, 2, 1, 0);
	assert_int_equal(route(fx).data, 0xffff);
	fake_run_io(fx->run, 0x1234, 0, 4, 1, 0);
	assert_int_equal(route(fx).data, 0xffffffff);
	fake_run_io(fx->run, 0x80, 1, 1, 1, 0x55);
	assert_int_equal(route(fx).action, VMM_ACT_RESUME);

	fake_run_mmio(fx->run, 0xd0000000, 0, 8, 0);
	assert_int_equal(route(fx).data, ~0ull);
	fake_run_mmio(fx->run, 0xd0000000, 0, 2, 0);
	assert_int_equal(route(fx).data, 0xffff);
	fake_run_mmio(fx->run, 0xd0000000, 1, 4, 1);
	assert_int_equal(route(fx).action, VMM_ACT_RESUME);

	fake_run_msr(fx->run, 0xc0001234, 0, 0);
	r = route(fx);
	assert_int_equal(r.action, VMM_ACT_INJECT);
	assert_int_equal(r.vector, 13);
}

static void test_halt(void **state)
{
	struct fixture *fx = *state;
	struct vmm_reply r;

	fx->run->exit_reason = KVM_EXIT_HLT;
	fx->run->s.regs.regs.rflags = 0x2;
	r = route(fx);
	assert_int_equal(r.action, VMM_ACT_STOP);
	assert_int_equal(r.status, HVRUN_EXIT_OK);
	/* IF=1: the VP sleeps until an interrupt is deliverable (raised here first) or a stop */
	fx->run->s.regs.regs.rflags = 0x202;
	vmm_vic_raise(&fx->p.vps[0].vic, 0x40, false);
	r = route(fx);
	assert_int_equal(r.action, VMM_ACT_RESUME);
	assert_string_equal(r.reason, "hlt: woken by an interrupt");
	vmm_vic_ack(&fx->p.vps[0].vic, 0x40);
	fx->p.vps[0].vp.stop_requested = 1;
	r = route(fx);
	assert_int_equal(r.action, VMM_ACT_RESUME);
	assert_string_equal(r.reason, "hlt: woken by a stop");
	/*
	 * An interrupt injected with RIP on this very hlt (KVM reports RIP past the 1-byte hlt)
	 * wakes it at once, without anything pending; one injected elsewhere does not. (With the
	 * VP's stop still requested the wait below would return at once too, so clear it first.)
	 */
	fx->p.vps[0].vp.stop_requested = 0;
	fx->run->exit_reason = KVM_EXIT_HLT;
	fx->run->s.regs.regs.rip = 0x101235;
	fx->p.vps[0].vp.irq_rip = 0x101234;
	fx->p.vps[0].vp.irq_rip_valid = true;
	r = route(fx);
	assert_int_equal(r.action, VMM_ACT_RESUME);
	assert_string_equal(r.reason, "hlt: woken by the interrupt taken at it");
	assert_false(fx->p.vps[0].vp.irq_rip_valid);
	assert_int_equal(fx->p.vps[0].vp.hlt_rewakes, 1);
	/* elsewhere (here: on the instruction after the hlt): the hlt sleeps as usual */
	fx->p.vps[0].vp.irq_rip = 0x101235;
	fx->p.vps[0].vp.irq_rip_valid = true;
	vmm_vic_raise(&fx->p.vps[0].vic, 0x51, true);   /* above 0x40, still in service */
	r = route(fx);
	assert_string_equal(r.reason, "hlt: woken by an interrupt");
	assert_false(fx->p.vps[0].vp.irq_rip_valid);
	assert_int_equal(fx->p.vps[0].vp.hlt_rewakes, 1);
	vmm_vic_ack(&fx->p.vps[0].vic, 0x51);
	/* An open interrupt window needs nothing but a resume. */
	fx->run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
	assert_int_equal(route(fx).action, VMM_ACT_RESUME);
}

static void test_faults_stop_with_documented_status(void **state)
{
	struct fixture *fx = *state;

	fx->run->exit_reason = KVM_EXIT_SHUTDOWN;
	assert_int_equal(route(fx).status, HVRUN_EXIT_TRIPLE_FAULT);
	fx->run->exit_reason = KVM_EXIT_FAIL_ENTRY;
	assert_int_equal(route(fx).status, HVRUN_EXIT_BAD_STATE);
	fx->run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	fx->run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	fx->run->internal.ndata = 0;
	assert_int_equal(route(fx).status, HVRUN_EXIT_KVM_INTERNAL);
	fx->run->exit_reason = KVM_EXIT_NMI;
	assert_int_equal(route(fx).status, HVRUN_EXIT_UNHANDLED);
	/* A single-step exit has no service: the router stops with the unhandled status. */
	fx->run->exit_reason = KVM_EXIT_DEBUG;
	assert_int_equal(route(fx).status, HVRUN_EXIT_UNHANDLED);
}

static void test_teardown_unregisters_everything(void **state)
{
	struct fixture *fx = *state;
	struct hv_message m;
	struct vmm_decode_ctx ctx = { 0 };

	part_services_destroy(&fx->p);
	fake_run_io(fx->run, HVRUN_PORT_DEBUG_EXIT, 1, 1, 1, 0);
	assert_int_equal(vmm_decode_exit(fx->run, FAKE_RUN_SIZE, &ctx, 0, &m), 0);
	assert_null(vmm_router_lookup(fx->p.router, &m));
	fx->run->exit_reason = KVM_EXIT_HLT;
	assert_int_equal(vmm_decode_exit(fx->run, FAKE_RUN_SIZE, &ctx, 0, &m), 0);
	assert_null(vmm_router_lookup(fx->p.router, &m));
	/* And the list can be created again on the same router. */
	assert_int_equal(part_services_create(&fx->p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_debug_exit_status_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debugcon_output_and_presence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uart_reaches_console, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unclaimed_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_halt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults_stop_with_documented_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_unregisters_everything, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
