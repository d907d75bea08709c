/* SPDX-License-Identifier: MIT */
/* Router tests: registration rules, range lookup, dispatch contract, with fake services. */
#include "vmm/router.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/exitcode.h"
#include "vmm/msg.h"

static int calls;
static void *last_opaque;

static int svc_resume(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	(void)exit;
	calls++;
	last_opaque = opaque;
	reply->action = VMM_ACT_RESUME;
	reply->data = 0x1234;
	return 0;
}

static int svc_write_gprs(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	(void)opaque;
	calls++;
	exit->state->regs->rax = 42;
	exit->state->dirty |= VMM_STATE_GPRS;
	reply->action = VMM_ACT_RESUME;
	return 0;
}

static int svc_fail(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply)
{
	(void)opaque;
	(void)exit;
	(void)reply;
	calls++;
	return -EIO;
}

static struct hv_message io_msg(uint16_t port)
{
	struct hv_message m;
	struct hv_x64_io_port_intercept *io = (struct hv_x64_io_port_intercept *)m.payload.bytes;

	memset(&m, 0, sizeof(m));
	m.header.message_type = HVMSG_X64_IO_PORT_INTERCEPT;
	io->port = port;
	io->access_info = 1;
	return m;
}

static struct hv_message typed_msg(uint32_t type)
{
	struct hv_message m;

	memset(&m, 0, sizeof(m));
	m.header.message_type = type;
	return m;
}

#define IO_SVC(nm, b, s) { .name = nm, .msg_type = HVMSG_X64_IO_PORT_INTERCEPT, .base = b, .size = s, \
			   .handle = svc_resume }

static const struct vmm_service uart = IO_SVC("uart", 0x3f8, 8);
static const struct vmm_service overlap = IO_SVC("overlap", 0x3fc, 4);
static const struct vmm_service adjacent = IO_SVC("adjacent", 0x400, 1);
static const struct vmm_service below = IO_SVC("below", 0x3f0, 8);
static const struct vmm_service dflt = IO_SVC("default", 0, 0);
static const struct vmm_service dflt2 = IO_SVC("default2", 0, 0);

static int setup(void **state)
{
	struct vmm_router *r;

	assert_int_equal(vmm_router_create(&r), 0);
	*state = r;
	calls = 0;
	last_opaque = NULL;
	return 0;
}

static int teardown(void **state)
{
	vmm_router_destroy(*state);
	return 0;
}

static void test_ranges_and_overlap(void **state)
{
	struct vmm_router *r = *state;
	struct hv_message m;

	assert_int_equal(vmm_router_register(r, &uart, NULL), 0);
	assert_int_equal(vmm_router_register(r, &overlap, NULL), -EEXIST);
	assert_int_equal(vmm_router_register(r, &uart, NULL), -EEXIST);
	assert_int_equal(vmm_router_register(r, &adjacent, NULL), 0);
	assert_int_equal(vmm_router_register(r, &below, NULL), 0);

	m = io_msg(0x3f8);
	assert_ptr_equal(vmm_router_lookup(r, &m), &uart);
	m = io_msg(0x3ff);
	assert_ptr_equal(vmm_router_lookup(r, &m), &uart);
	m = io_msg(0x400);
	assert_ptr_equal(vmm_router_lookup(r, &m), &adjacent);
	m = io_msg(0x3f7);
	assert_ptr_equal(vmm_router_lookup(r, &m), &below);
	m = io_msg(0x401);
	assert_null(vmm_router_lookup(r, &m));
}

static void test_default_claims_the_rest(void **state)
{
	struct vmm_router *r = *state;
	struct hv_message m;

	assert_int_equal(vmm_router_register(r, &dflt, NULL), 0);
	assert_int_equal(vmm_router_register(r, &dflt2, NULL), -EEXIST);
	assert_int_equal(vmm_router_register(r, &uart, NULL), 0);
	m = io_msg(0x3f9);
	assert_ptr_equal(vmm_router_lookup(r, &m), &uart);
	m = io_msg(0x80);
	assert_ptr_equal(vmm_router_lookup(r, &m), &dflt);
	m = io_msg(0xffff);
	assert_ptr_equal(vmm_router_lookup(r, &m), &dflt);
}

static void test_invalid_registrations(void **state)
{
	struct vmm_router *r = *state;
	struct vmm_service bad;

	assert_int_equal(vmm_router_register(r, NULL, NULL), -EINVAL);
	bad = uart;
	bad.handle = NULL;
	assert_int_equal(vmm_router_register(r, &bad, NULL), -EINVAL);
	bad = uart;
	bad.name = NULL;
	assert_int_equal(vmm_router_register(r, &bad, NULL), -EINVAL);
	bad = uart;
	bad.state_mask = 0x80;
	assert_int_equal(vmm_router_register(r, &bad, NULL), -EINVAL);
	bad = uart;
	bad.base = 0xfff0;
	bad.size = 0x20;        /* past port 0xffff */
	assert_int_equal(vmm_router_register(r, &bad, NULL), -EINVAL);
	bad = (struct vmm_service){ .name = "gpa", .msg_type = HVMSG_UNMAPPED_GPA,
				    .base = UINT64_MAX - 1, .size = 4, .handle = svc_resume };
	assert_int_equal(vmm_router_register(r, &bad, NULL), -EINVAL);
	bad = (struct vmm_service){ .name = "halt", .msg_type = HVMSG_X64_HALT, .base = 1, .size = 1,
				    .handle = svc_resume };
	assert_int_equal(vmm_router_register(r, &bad, NULL), -EINVAL);
	bad = (struct vmm_service){ .name = "msr", .msg_type = HVMSG_X64_MSR_INTERCEPT,
				    .base = 0xffffffff, .size = 2, .handle = svc_resume };
	assert_int_equal(vmm_router_register(r, &bad, NULL), -EINVAL);
}

static void test_one_service_per_plain_type(void **state)
{
	struct vmm_router *r = *state;
	static const struct vmm_service h1 = { .name = "h1", .msg_type = HVMSG_X64_HALT, .handle = svc_resume };
	static const struct vmm_service h2 = { .name = "h2", .msg_type = HVMSG_X64_HALT, .handle = svc_resume };
	struct hv_message m = typed_msg(HVMSG_X64_HALT);

	assert_int_equal(vmm_router_register(r, &h1, NULL), 0);
	assert_int_equal(vmm_router_register(r, &h2, NULL), -EEXIST);
	assert_ptr_equal(vmm_router_lookup(r, &m), &h1);
}

static void test_unregister(void **state)
{
	struct vmm_router *r = *state;
	int a, b;
	struct hv_message m = io_msg(0x3f8);

	assert_int_equal(vmm_router_register(r, &uart, &a), 0);
	assert_int_equal(vmm_router_register(r, &dflt, &b), 0);
	assert_int_equal(vmm_router_unregister(r, &uart, &b), -ENOENT);  /* wrong opaque */
	assert_int_equal(vmm_router_unregister(r, &uart, &a), 0);
	assert_ptr_equal(vmm_router_lookup(r, &m), &dflt);
	assert_int_equal(vmm_router_unregister(r, &uart, &a), -ENOENT);
	/* The range is free again. */
	assert_int_equal(vmm_router_register(r, &overlap, NULL), 0);
}

static void test_msr_ranges(void **state)
{
	struct vmm_router *r = *state;
	static const struct vmm_service syn = { .name = "synmsr", .msg_type = HVMSG_X64_MSR_INTERCEPT,
						.base = 0x40000000, .size = 0x200, .handle = svc_resume };
	static const struct vmm_service gp = { .name = "gp", .msg_type = HVMSG_X64_MSR_INTERCEPT,
					       .handle = svc_resume };
	struct hv_message m = typed_msg(HVMSG_X64_MSR_INTERCEPT);
	struct hv_x64_msr_intercept *msr = (struct hv_x64_msr_intercept *)m.payload.bytes;

	assert_int_equal(vmm_router_register(r, &syn, NULL), 0);
	assert_int_equal(vmm_router_register(r, &gp, NULL), 0);
	msr->msr = 0x40000001;
	assert_ptr_equal(vmm_router_lookup(r, &m), &syn);
	msr->msr = 0x40000200;
	assert_ptr_equal(vmm_router_lookup(r, &m), &gp);
	msr->msr = 0xc0000080;
	assert_ptr_equal(vmm_router_lookup(r, &m), &gp);
}

static void test_dispatch_unclaimed_stops(void **state)
{
	struct vmm_router *r = *state;
	struct hv_message m = io_msg(0x80);
	struct vmm_vp_state st = { .valid = VMM_STATE_ALL };
	struct vmm_exit ex = { .msg = &m, .state = &st };
	struct vmm_reply reply;

	assert_int_equal(vmm_router_dispatch(r, &ex, NULL, NULL, &reply), 0);
	assert_int_equal(reply.action, VMM_ACT_STOP);
	assert_int_equal(reply.status, HVRUN_EXIT_UNHANDLED);
	assert_non_null(reply.reason);
	assert_int_equal(calls, 0);
}

static void test_dispatch_calls_service_with_opaque(void **state)
{
	struct vmm_router *r = *state;
	struct hv_message m = io_msg(0x3fa);
	struct vmm_vp_state st = { .valid = VMM_STATE_ALL };
	struct vmm_exit ex = { .msg = &m, .state = &st };
	struct vmm_reply reply;
	int tag;

	assert_int_equal(vmm_router_register(r, &uart, &tag), 0);
	assert_int_equal(vmm_router_dispatch(r, &ex, NULL, NULL, &reply), 0);
	assert_int_equal(calls, 1);
	assert_ptr_equal(last_opaque, &tag);
	assert_int_equal(reply.action, VMM_ACT_RESUME);
	assert_int_equal(reply.data, 0x1234);
}

static uint32_t loaded_mask;

static int fake_loader(void *ctx, struct vmm_vp_state *st, uint32_t mask)
{
	assert_ptr_equal(ctx, &loaded_mask);
	loaded_mask |= mask;
	st->valid |= mask;
	return 0;
}

static void test_dispatch_loads_declared_state_only(void **state)
{
	struct vmm_router *r = *state;
	static const struct vmm_service hc = { .name = "hc", .msg_type = HVMSG_HYPERCALL_INTERCEPT,
					       .state_mask = VMM_STATE_GPRS, .handle = svc_write_gprs };
	struct hv_message m = typed_msg(HVMSG_HYPERCALL_INTERCEPT);
	struct kvm_regs regs = { 0 };
	struct vmm_vp_state st = { .regs = &regs, .valid = 0 };
	struct vmm_exit ex = { .msg = &m, .state = &st };
	struct vmm_reply reply;

	loaded_mask = 0;
	assert_int_equal(vmm_router_register(r, &hc, NULL), 0);
	assert_int_equal(vmm_router_dispatch(r, &ex, fake_loader, &loaded_mask, &reply), 0);
	assert_int_equal(loaded_mask, VMM_STATE_GPRS);
	assert_int_equal(regs.rax, 42);
	assert_int_equal(st.dirty, VMM_STATE_GPRS);
	/* Without a loader, missing state is an error, not a call with garbage. */
	st.valid = 0;
	calls = 0;
	assert_int_equal(vmm_router_dispatch(r, &ex, NULL, NULL, &reply), -EFAULT);
	assert_int_equal(calls, 0);
}

static void test_dispatch_rejects_undeclared_writes(void **state)
{
	struct vmm_router *r = *state;
	static const struct vmm_service sneaky = { .name = "sneaky", .msg_type = HVMSG_HYPERCALL_INTERCEPT,
						   .state_mask = 0, .handle = svc_write_gprs };
	struct hv_message m = typed_msg(HVMSG_HYPERCALL_INTERCEPT);
	struct kvm_regs regs = { 0 };
	struct vmm_vp_state st = { .regs = &regs, .valid = VMM_STATE_ALL };
	struct vmm_exit ex = { .msg = &m, .state = &st };
	struct vmm_reply reply;

	assert_int_equal(vmm_router_register(r, &sneaky, NULL), 0);
	assert_int_equal(vmm_router_dispatch(r, &ex, NULL, NULL, &reply), -EPERM);
}

static void test_dispatch_propagates_service_error(void **state)
{
	struct vmm_router *r = *state;
	static const struct vmm_service f = { .name = "f", .msg_type = HVMSG_X64_HALT, .handle = svc_fail };
	struct hv_message m = typed_msg(HVMSG_X64_HALT);
	struct vmm_vp_state st = { .valid = VMM_STATE_ALL };
	struct vmm_exit ex = { .msg = &m, .state = &st };
	struct vmm_reply reply;

	assert_int_equal(vmm_router_register(r, &f, NULL), 0);
	assert_int_equal(vmm_router_dispatch(r, &ex, NULL, NULL, &reply), -EIO);
	assert_int_equal(calls, 1);
}

/*
 * The sorted table against a brute-force model: 40 port ranges and 10 MSR ranges registered in a
 * scrambled order, every third one unregistered again, a default for ports only; every port and
 * the MSRs around each range must route exactly as a linear scan says.
 */
#define MODEL_N 50

static struct hv_message msr_msg(uint32_t index)
{
	struct hv_message m = typed_msg(HVMSG_X64_MSR_INTERCEPT);

	((struct hv_x64_msr_intercept *)m.payload.bytes)->msr = index;
	return m;
}

static const struct vmm_service *model_lookup(const struct vmm_service *svcs, const bool *live,
					      const struct vmm_service *def, uint32_t type, uint64_t key)
{
	for (int i = 0; i < MODEL_N; i++)
		if (live[i] && svcs[i].msg_type == type && key >= svcs[i].base &&
		    key - svcs[i].base < svcs[i].size)
			return &svcs[i];
	return type == HVMSG_X64_IO_PORT_INTERCEPT ? def : NULL;
}

static void test_lookup_matches_linear_model(void **state)
{
	struct vmm_router *r = *state;
	static struct vmm_service svcs[MODEL_N];
	bool live[MODEL_N] = { false };
	struct hv_message m;

	for (int i = 0; i < MODEL_N; i++) {
		bool port = i < 40;

		svcs[i] = (struct vmm_service){
			.name = "model",
			.msg_type = port ? HVMSG_X64_IO_PORT_INTERCEPT : HVMSG_X64_MSR_INTERCEPT,
			/* gaps between claims, sizes 1..7, MSRs high up to test 32-bit keys */
			.base = port ? 0x100 + (uint64_t)i * 16 : 0x40000000u + (uint64_t)(i - 40) * 64,
			.size = 1 + (uint64_t)(i % 7),
			.handle = svc_resume,
		};
	}
	for (int k = 0; k < MODEL_N; k++) {
		int i = (k * 17) % MODEL_N;   /* 17 is coprime with 50: a permutation */

		assert_int_equal(vmm_router_register(r, &svcs[i], NULL), 0);
		live[i] = true;
		if (k == 20)
			assert_int_equal(vmm_router_register(r, &dflt, NULL), 0);
	}
	for (int i = 0; i < MODEL_N; i += 3) {
		assert_int_equal(vmm_router_unregister(r, &svcs[i], NULL), 0);
		live[i] = false;
	}
	assert_int_equal(vmm_router_unregister(r, &svcs[0], NULL), -ENOENT);
	for (uint32_t port = 0; port < 0x10000; port++) {
		m = io_msg((uint16_t)port);
		assert_ptr_equal(vmm_router_lookup(r, &m),
				 model_lookup(svcs, live, &dflt, HVMSG_X64_IO_PORT_INTERCEPT, port));
	}
	for (uint32_t idx = 0x3fffffff; idx < 0x40000000u + 11 * 64; idx++) {
		m = msr_msg(idx);
		assert_ptr_equal(vmm_router_lookup(r, &m),
				 model_lookup(svcs, live, &dflt, HVMSG_X64_MSR_INTERCEPT, idx));
	}
	assert_int_equal(vmm_router_unregister(r, &dflt, NULL), 0);
	m = io_msg(0x80);
	assert_null(vmm_router_lookup(r, &m));
}

/*
 * The route cache: a repeat of the same (type, key) is served from it (shown by planting an
 * opaque only the cache holds), another key is looked up, and any registration change makes
 * the router ignore it: a new claim on the cached port takes the next exit.
 */
static void test_route_cache(void **state)
{
	struct vmm_router *r = *state;
	struct hv_message m = io_msg(0x80);
	struct vmm_vp_state st = { .valid = VMM_STATE_ALL };
	struct vmm_route_cache cache = { 0 };
	struct vmm_exit ex = { .msg = &m, .state = &st, .cache = &cache };
	static const struct vmm_service port80 = IO_SVC("port80", 0x80, 1);
	struct vmm_reply reply;
	int tag_default, tag_planted, tag_80, tag_uart;

	assert_int_equal(vmm_router_register(r, &dflt, &tag_default), 0);
	assert_int_equal(vmm_router_register(r, &uart, &tag_uart), 0);
	assert_int_equal(vmm_router_dispatch(r, &ex, NULL, NULL, &reply), 0);
	assert_ptr_equal(last_opaque, &tag_default);
	assert_true(cache.generation != 0);
	assert_ptr_equal(cache.svc, &dflt);
	assert_int_equal(cache.key, 0x80);

	cache.opaque = &tag_planted;                  /* only a cache hit can deliver this */
	assert_int_equal(vmm_router_dispatch(r, &ex, NULL, NULL, &reply), 0);
	assert_ptr_equal(last_opaque, &tag_planted);

	m = io_msg(0x3f8);                            /* another key: looked up, cache refilled */
	assert_int_equal(vmm_router_dispatch(r, &ex, NULL, NULL, &reply), 0);
	assert_ptr_equal(last_opaque, &tag_uart);
	assert_ptr_equal(cache.svc, &uart);

	m = io_msg(0x80);
	assert_int_equal(vmm_router_dispatch(r, &ex, NULL, NULL, &reply), 0);
	assert_ptr_equal(last_opaque, &tag_default);
	assert_int_equal(vmm_router_register(r, &port80, &tag_80), 0);
	assert_int_equal(vmm_router_dispatch(r, &ex, NULL, NULL, &reply), 0);
	assert_ptr_equal(last_opaque, &tag_80);       /* the registration invalidated the cache */
	assert_int_equal(vmm_router_unregister(r, &port80, &tag_80), 0);
	assert_int_equal(vmm_router_dispatch(r, &ex, NULL, NULL, &reply), 0);
	assert_ptr_equal(last_opaque, &tag_default);  /* and so did the unregistration */

	assert_int_equal(vmm_router_unregister(r, &dflt, &tag_default), 0);
	assert_int_equal(vmm_router_dispatch(r, &ex, NULL, NULL, &reply), 0);
	assert_int_equal(reply.action, VMM_ACT_STOP); /* nothing claims 0x80 any more */
	assert_int_equal(reply.status, HVRUN_EXIT_UNHANDLED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ranges_and_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_claims_the_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_registrations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_service_per_plain_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msr_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_unclaimed_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_calls_service_with_opaque, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_loads_declared_state_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_rejects_undeclared_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_propagates_service_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_matches_linear_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_cache, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
