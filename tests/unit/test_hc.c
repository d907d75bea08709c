/* SPDX-License-Identifier: MIT */
/* Unit tests for the pure hypercall engine: control decoding, status mapping, table, parameter-page rules and rep calls. */
#include "hypercall/hc.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- fake guest memory: 4 pages at MEM_BASE, each with an attribute ---- */

#define MEM_BASE  0x100000ull
#define MEM_PAGES 4u
#define MEM_SIZE  (MEM_PAGES * HC_PAGE_SIZE)
#define PAGE(n)   (MEM_BASE + (uint64_t)(n) * HC_PAGE_SIZE)
#define FILL      0xa5u

enum pg_attr { PG_RW, PG_RO, PG_NOACCESS, PG_NOTMEM };

struct fake_mem {
	uint8_t buf[MEM_SIZE] __attribute__((aligned(4096)));
	uint8_t snap[MEM_SIZE];
	enum pg_attr attr[MEM_PAGES];
	unsigned accesses;
};

static struct fake_mem gm;

static int fake_access(void *ctx, uint64_t gpa, uint32_t len, bool write, void **hva)
{
	struct fake_mem *m = ctx;

	m->accesses++;
	*hva = NULL;
	if (len == 0 || gpa < MEM_BASE || gpa - MEM_BASE >= MEM_SIZE || len > MEM_SIZE - (gpa - MEM_BASE))
		return -EINVAL;
	for (uint64_t pg = (gpa - MEM_BASE) / HC_PAGE_SIZE; pg <= (gpa - MEM_BASE + len - 1) / HC_PAGE_SIZE; pg++) {
		if (m->attr[pg] == PG_NOTMEM)
			return -EINVAL;
		if (m->attr[pg] == PG_NOACCESS || (write && m->attr[pg] == PG_RO))
			return -EACCES;
	}
	*hva = m->buf + (gpa - MEM_BASE);
	return 0;
}

static const struct hc_mem mem = { .access = fake_access, .ctx = &gm };

static uint8_t *gva(uint64_t gpa)
{
	return gm.buf + (gpa - MEM_BASE);
}

static void snapshot(void)
{
	memcpy(gm.snap, gm.buf, MEM_SIZE);
}

static void assert_mem_untouched(void)
{
	assert_memory_equal(gm.buf, gm.snap, MEM_SIZE);
}

/* ---- fake calls ---- */

#define CODE_SIMPLE   0x0010
#define CODE_IN_ONLY  0x0011
#define CODE_VARHEAD  0x0012
#define CODE_REP      0x0013
#define CODE_TAMPER   0x0014
#define CODE_BIG_IN   0x0015
#define CODE_LAST     (HC_TABLE_SIZE - 1)

#define REP_HDR_IN    16u
#define REP_ELEM_IN   8u
#define REP_HDR_OUT   8u
#define REP_ELEM_OUT  8u

struct rec {
	unsigned calls;
	struct hc_control ctl;
	uint8_t in[HC_PAGE_SIZE];
	uint32_t in_len, out_len;
	uint16_t reps_done_at_entry;
	void *env;
	int ret;                  /* what the simple handlers return */
	int rep_fail_at;          /* rep handler: fail at this element (-1: never) */
	int rep_fail_err;
	int rep_bogus;            /* rep handler: report this progress and fail (-1: off) */
	uint64_t tamper_gpa;      /* tamper handler: guest input to overwrite */
	uint8_t in_after_tamper[16];
};

static struct rec rec;

static void record(struct hc_args *a)
{
	rec.calls++;
	rec.ctl = *a->ctl;
	memcpy(rec.in, a->in, a->in_len);
	rec.in_len = a->in_len;
	rec.out_len = a->out_len;
	rec.reps_done_at_entry = a->reps_done;
	rec.env = a->env;
}

static int fn_simple(struct hc_args *a)
{
	record(a);
	for (uint32_t i = 0; i < a->out_len; i++)
		a->out[i] = (uint8_t)(a->in[i % 16] ^ 0xff);
	return rec.ret;
}

static int fn_record(struct hc_args *a)
{
	record(a);
	return rec.ret;
}

static uint64_t rep_out_value(uint64_t in_elem)
{
	return in_elem ^ 0x0f0f0f0f0f0f0f0full;
}

static int fn_rep(struct hc_args *a)
{
	uint64_t hdr = 0x4844524844524844ull;

	record(a);
	/* scribble over the whole output, so copying anything but completed elements shows */
	memset(a->out, 0x5a, a->out_len);
	memcpy(a->out, &hdr, sizeof(hdr));
	if (rec.rep_bogus >= 0) {
		a->reps_done = (uint16_t)rec.rep_bogus;
		return -EINVAL;
	}
	for (; a->reps_done < a->ctl->rep_count; a->reps_done++) {
		uint64_t v;

		if ((int)a->reps_done == rec.rep_fail_at)
			return rec.rep_fail_err;
		memcpy(&v, a->in + REP_HDR_IN + (size_t)a->reps_done * REP_ELEM_IN, 8);
		v = rep_out_value(v);
		memcpy(a->out + REP_HDR_OUT + (size_t)a->reps_done * REP_ELEM_OUT, &v, 8);
	}
	return 0;
}

static int fn_tamper(struct hc_args *a)
{
	memset(gva(rec.tamper_gpa), 0xee, 16);
	record(a);
	memcpy(rec.in_after_tamper, a->in, 16);
	return 0;
}

static const struct hc_call call_simple = {
	.code = CODE_SIMPLE, .name = "simple", .in_size = 16, .out_size = 16, .fn = fn_simple,
};
static const struct hc_call call_in_only = {
	.code = CODE_IN_ONLY, .name = "in-only", .in_size = 16, .fn = fn_record,
};
static const struct hc_call call_varhead = {
	.code = CODE_VARHEAD, .name = "varhead", .varhead = true, .in_size = 8, .out_size = 8, .fn = fn_simple,
};
static const struct hc_call call_rep = {
	.code = CODE_REP, .name = "rep", .rep = true, .in_size = REP_HDR_IN, .rep_in_size = REP_ELEM_IN,
	.out_size = REP_HDR_OUT, .rep_out_size = REP_ELEM_OUT, .fn = fn_rep,
};
static const struct hc_call call_tamper = {
	.code = CODE_TAMPER, .name = "tamper", .in_size = 16, .fn = fn_tamper,
};
static const struct hc_call call_big_in = {
	.code = CODE_BIG_IN, .name = "big-in", .in_size = 24, .fn = fn_record,
};
static const struct hc_call call_last = {
	.code = CODE_LAST, .name = "last", .fn = fn_record,
};

static const struct hc_call *const all_calls[] = {
	&call_simple, &call_in_only, &call_varhead, &call_rep, &call_tamper, &call_big_in, &call_last,
};

static struct hc_table table;
static int env_token;

static int setup(void **state)
{
	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.rep_fail_at = -1;
	rec.rep_bogus = -1;
	memset(gm.attr, 0, sizeof(gm.attr));
	for (size_t i = 0; i < MEM_SIZE; i++)
		gm.buf[i] = (uint8_t)(FILL ^ (i * 7));
	gm.accesses = 0;
	snapshot();
	assert_int_equal(hc_table_init(&table, all_calls, sizeof(all_calls) / sizeof(all_calls[0])), 0);
	return 0;
}

static uint64_t ctl(uint16_t code, uint16_t rep_count, uint16_t rep_start)
{
	return code | (uint64_t)rep_count << 32 | (uint64_t)rep_start << 48;
}

static uint64_t exec(uint64_t rcx, uint64_t rdx, uint64_t r8, const struct hc_call **call)
{
	struct hc_regs regs = { .rcx = rcx, .rdx = rdx, .r8 = r8 };
	const struct hc_call *dummy;
	uint64_t r;

	r = hc_execute(&table, &regs, &mem, &env_token, call ? call : &dummy);
	/* RAX: only 15:0 status and 43:32 reps completed may be set */
	assert_int_equal(r & ~(0xffffull | (0xfffull << 32)), 0);
	return r;
}

static uint16_t status(uint64_t r)
{
	return (uint16_t)(r & 0xffff);
}

static unsigned reps(uint64_t r)
{
	return (unsigned)((r >> 32) & 0xfff);
}

/* A rejected call: this status, nothing done at all. */
static void assert_rejected(uint64_t r, uint16_t st)
{
	assert_int_equal(status(r), st);
	assert_int_equal(reps(r), 0);
	assert_int_equal(rec.calls, 0);
	assert_mem_untouched();
}

/* ---- hc_decode_control ---- */

static void test_decode_fields(void **state)
{
	struct hc_control c;
	uint64_t v;

	(void)state;
	memset(&c, 0xff, sizeof(c));
	assert_int_equal(hc_decode_control(0, &c), 0);
	assert_int_equal(c.code, 0);
	assert_false(c.fast);
	assert_false(c.nested);
	assert_int_equal(c.varhead, 0);
	assert_int_equal(c.rep_count, 0);
	assert_int_equal(c.rep_start, 0);

	v = 0xbeefull | HV_HYPERCALL_FAST_BIT | (0x155ull << 17) | HV_HYPERCALL_NESTED_BIT |
	    (0xabcull << 32) | (0x123ull << 48);
	assert_int_equal(hc_decode_control(v, &c), 0);
	assert_int_equal(c.code, 0xbeef);
	assert_true(c.fast);
	assert_true(c.nested);
	assert_int_equal(c.varhead, 0x155);
	assert_int_equal(c.rep_count, 0xabc);
	assert_int_equal(c.rep_start, 0x123);

	/* every non-reserved bit set: fields at their maximum */
	v = ~HV_HYPERCALL_RSVD_MASK;
	assert_int_equal(hc_decode_control(v, &c), 0);
	assert_int_equal(c.code, 0xffff);
	assert_true(c.fast);
	assert_true(c.nested);
	assert_int_equal(c.varhead, 0x3ff);
	assert_int_equal(c.rep_count, 0xfff);
	assert_int_equal(c.rep_start, 0xfff);

	/* fields do not bleed into each other */
	assert_int_equal(hc_decode_control(1ull << 17, &c), 0);
	assert_int_equal(c.varhead, 1);
	assert_false(c.fast);
	assert_int_equal(hc_decode_control(1ull << 32, &c), 0);
	assert_int_equal(c.rep_count, 1);
	assert_int_equal(c.varhead, 0);
	assert_int_equal(hc_decode_control(1ull << 48, &c), 0);
	assert_int_equal(c.rep_start, 1);
	assert_int_equal(c.rep_count, 0);
}

static void test_decode_reserved_bits(void **state)
{
	struct hc_control c;

	(void)state;
	for (unsigned bit = 0; bit < 64; bit++) {
		bool rsvd = (bit >= 27 && bit <= 30) || (bit >= 44 && bit <= 47) || bit >= 60;

		assert_int_equal(hc_decode_control(1ull << bit, &c), rsvd ? -EBADMSG : 0);
		assert_int_equal(hc_decode_control((1ull << bit) | 0x50, &c), rsvd ? -EBADMSG : 0);
	}
}

/* ---- hc_result / status mapping ---- */

static void test_result_encoding(void **state)
{
	(void)state;
	assert_int_equal(hc_result(HV_STATUS_SUCCESS, 0), 0);
	assert_int_equal(hc_result(HV_STATUS_INVALID_PARAMETER, 3), 0x0000000300000005ull);
	assert_int_equal(hc_result(0xffff, 0xfff), 0x00000fff0000ffffull);
	/* reps completed is 12 bits wide: nothing spills into 63:44 */
	assert_int_equal(hc_result(0, 0x1fff), 0xfffull << 32);
	assert_int_equal(hc_result(0x71, 0xf000), 0x71);
}

static void test_status_from_errno(void **state)
{
	static const struct { int err; uint16_t st; } map[] = {
		{ 0, HV_STATUS_SUCCESS },
		{ -ENOSYS, HV_STATUS_INVALID_HYPERCALL_CODE },
		{ -EBADMSG, HV_STATUS_INVALID_HYPERCALL_INPUT },
		{ -EDOM, HV_STATUS_INVALID_ALIGNMENT },
		{ -EINVAL, HV_STATUS_INVALID_PARAMETER },
		{ -EACCES, HV_STATUS_ACCESS_DENIED },
		{ -EPERM, HV_STATUS_OPERATION_DENIED },
		{ -EBADFD, HV_STATUS_INVALID_PARTITION_STATE },
		{ -ENOMEM, HV_STATUS_INSUFFICIENT_MEMORY },
		{ -ESRCH, HV_STATUS_INVALID_PARTITION_ID },
		{ -ECHILD, HV_STATUS_INVALID_VP_INDEX },
		{ -ENOENT, HV_STATUS_NOT_FOUND },
		{ -EADDRNOTAVAIL, HV_STATUS_INVALID_PORT_ID },
		{ -ENOTCONN, HV_STATUS_INVALID_CONNECTION_ID },
		{ -ENOBUFS, HV_STATUS_INSUFFICIENT_BUFFERS },
		{ -EBUSY, HV_STATUS_INVALID_VP_STATE },
		{ -EPROTO, HV_STATUS_INVALID_SYNIC_STATE },
		{ -ENOTSUP, HV_STATUS_FEATURE_UNAVAILABLE },
		{ -ERANGE, HV_STATUS_INVALID_REGISTER_VALUE },
		{ -ENOTRECOVERABLE, HV_STATUS_INVALID_VTL_STATE },
		{ -EALREADY, HV_STATUS_VTL_ALREADY_ENABLED },
		{ -ETIMEDOUT, HV_STATUS_TIME_OUT },
		{ -E2BIG, HV_STATUS_OPERATION_FAILED },
		{ -EIO, HV_STATUS_OPERATION_FAILED },
		{ -EEXIST, HV_STATUS_OPERATION_FAILED },
		{ 1, HV_STATUS_OPERATION_FAILED },
		{ -100000, HV_STATUS_OPERATION_FAILED },
	};

	(void)state;
	/* the status values themselves, as the TLFS numbers them */
	assert_int_equal(HV_STATUS_INVALID_HYPERCALL_CODE, 0x2);
	assert_int_equal(HV_STATUS_INVALID_HYPERCALL_INPUT, 0x3);
	assert_int_equal(HV_STATUS_INVALID_ALIGNMENT, 0x4);
	assert_int_equal(HV_STATUS_INVALID_PARAMETER, 0x5);
	assert_int_equal(HV_STATUS_ACCESS_DENIED, 0x6);
	assert_int_equal(HV_STATUS_INVALID_VTL_STATE, 0x51);
	assert_int_equal(HV_STATUS_VTL_ALREADY_ENABLED, 0x86);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		uint16_t st = hc_status_from_errno(map[i].err);

		if (st != map[i].st)
			fail_msg("errno %d -> status %#x, expected %#x", map[i].err, st, map[i].st);
		/* every status the engine produces has a name */
		assert_string_not_equal(hc_status_name(st), "UNKNOWN_STATUS");
	}
	assert_string_equal(hc_status_name(HV_STATUS_ACCESS_DENIED), "ACCESS_DENIED");
	assert_string_equal(hc_status_name(0x7777), "UNKNOWN_STATUS");
}

/* ---- the table ---- */

static void test_table(void **state)
{
	struct hc_table t;
	static const struct hc_call dup = { .code = CODE_SIMPLE, .name = "dup", .fn = fn_record };
	static const struct hc_call past = { .code = HC_TABLE_SIZE, .name = "past", .fn = fn_record };
	static const struct hc_call far = { .code = 0xffff, .name = "far", .fn = fn_record };
	static const struct hc_call nofn = { .code = 0x20, .name = "nofn" };
	const struct hc_call *list[3];

	(void)state;
	assert_int_equal(hc_table_init(&t, all_calls, sizeof(all_calls) / sizeof(all_calls[0])), 0);
	assert_ptr_equal(hc_table_lookup(&t, CODE_SIMPLE), &call_simple);
	assert_ptr_equal(hc_table_lookup(&t, CODE_REP), &call_rep);
	assert_ptr_equal(hc_table_lookup(&t, CODE_LAST), &call_last);
	assert_null(hc_table_lookup(&t, 0));
	assert_null(hc_table_lookup(&t, 0x20));
	assert_null(hc_table_lookup(&t, HC_TABLE_SIZE));
	assert_null(hc_table_lookup(&t, 0xffff));

	list[0] = &call_simple;
	list[1] = &call_rep;
	list[2] = &dup;
	assert_int_equal(hc_table_init(&t, list, 3), -EEXIST);
	list[2] = &past;
	assert_int_equal(hc_table_init(&t, list, 3), -EINVAL);
	list[2] = &far;
	assert_int_equal(hc_table_init(&t, list, 3), -EINVAL);
	list[2] = &nofn;
	assert_int_equal(hc_table_init(&t, list, 3), -EINVAL);
	list[2] = NULL;
	assert_int_equal(hc_table_init(&t, list, 3), -EINVAL);
	/* an empty table */
	assert_int_equal(hc_table_init(&t, list, 0), 0);
	assert_null(hc_table_lookup(&t, CODE_SIMPLE));
}

/* ---- hc_execute: control-value rules ---- */

static void test_exec_unknown_code(void **state)
{
	static const uint16_t codes[] = { 0x0000, 0x0001, 0x0020, HC_TABLE_SIZE, 0x8001, 0xffff };
	const struct hc_call *call;

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		call = &call_simple;
		assert_rejected(exec(codes[i], PAGE(0), PAGE(1), &call), HV_STATUS_INVALID_HYPERCALL_CODE);
		assert_null(call);
	}
	assert_int_equal(gm.accesses, 0);
}

static void test_exec_reserved_bits(void **state)
{
	static const unsigned bits[] = { 27, 28, 29, 30, 44, 45, 46, 47, 60, 61, 62, 63 };
	const struct hc_call *call;

	(void)state;
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		call = &call_simple;
		assert_rejected(exec(CODE_SIMPLE | (1ull << bits[i]), PAGE(0), PAGE(1), &call),
				HV_STATUS_INVALID_HYPERCALL_INPUT);
		assert_null(call);
	}
	assert_int_equal(gm.accesses, 0);
}

static void test_exec_nested(void **state)
{
	const struct hc_call *call = NULL;

	(void)state;
	assert_rejected(exec(CODE_SIMPLE | HV_HYPERCALL_NESTED_BIT, PAGE(0), PAGE(1), &call),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_ptr_equal(call, &call_simple);
	assert_int_equal(gm.accesses, 0);
}

static void test_exec_simple_with_rep_fields(void **state)
{
	(void)state;
	assert_rejected(exec(ctl(CODE_SIMPLE, 1, 0), PAGE(0), PAGE(1), NULL), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_rejected(exec(ctl(CODE_SIMPLE, 0, 1), PAGE(0), PAGE(1), NULL), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_rejected(exec(ctl(CODE_SIMPLE, 0xfff, 0xfff), PAGE(0), PAGE(1), NULL),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(gm.accesses, 0);
}

static void test_exec_rep_count_rules(void **state)
{
	(void)state;
	assert_rejected(exec(ctl(CODE_REP, 0, 0), PAGE(0), PAGE(1), NULL), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_rejected(exec(ctl(CODE_REP, 3, 3), PAGE(0), PAGE(1), NULL), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_rejected(exec(ctl(CODE_REP, 3, 4), PAGE(0), PAGE(1), NULL), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_rejected(exec(ctl(CODE_REP, 0, 5), PAGE(0), PAGE(1), NULL), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(gm.accesses, 0);
	/* start == count - 1 is the last valid start */
	assert_int_equal(exec(ctl(CODE_REP, 3, 2), PAGE(0), PAGE(1), NULL), hc_result(HV_STATUS_SUCCESS, 3));
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.reps_done_at_entry, 2);
}

static void test_exec_rep_lists_larger_than_a_page(void **state)
{
	(void)state;
	/* 16 + 8 * 0x800 bytes of input cannot fit in one page */
	assert_rejected(exec(ctl(CODE_REP, 0x800, 0), PAGE(0), PAGE(1), NULL), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(gm.accesses, 0);
}

static void test_exec_varhead_rules(void **state)
{
	(void)state;
	assert_rejected(exec(CODE_SIMPLE | (1ull << HV_HYPERCALL_VARHEAD_SHIFT), PAGE(0), PAGE(1), NULL),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_rejected(exec(CODE_REP | (3ull << HV_HYPERCALL_VARHEAD_SHIFT) | (1ull << 32), PAGE(0), PAGE(1), NULL),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(gm.accesses, 0);

	/* a call that takes one: 8-byte header + 2 QWORDs of variable header */
	for (unsigned i = 0; i < 24; i++)
		gva(PAGE(0))[i] = (uint8_t)(0x30 + i);
	snapshot();
	assert_int_equal(exec(CODE_VARHEAD | (2ull << HV_HYPERCALL_VARHEAD_SHIFT), PAGE(0), PAGE(1), NULL), 0);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.in_len, 24);
	assert_int_equal(rec.ctl.varhead, 2);
	assert_memory_equal(rec.in, gva(PAGE(0)), 24);

	/* the variable header counts for the page-crossing rule */
	rec.calls = 0;
	snapshot();
	assert_rejected(exec(CODE_VARHEAD | (2ull << HV_HYPERCALL_VARHEAD_SHIFT), PAGE(1) - 16, PAGE(2), NULL),
			HV_STATUS_INVALID_ALIGNMENT);
}

/* ---- hc_execute: parameter pages ---- */

static void test_exec_input_alignment(void **state)
{
	(void)state;
	for (uint64_t off = 1; off < 8; off++)
		assert_rejected(exec(CODE_SIMPLE, PAGE(0) + off, PAGE(1), NULL), HV_STATUS_INVALID_ALIGNMENT);
	/* 16 bytes starting 8 bytes before a page end cross it */
	assert_rejected(exec(CODE_SIMPLE, PAGE(1) - 8, PAGE(2), NULL), HV_STATUS_INVALID_ALIGNMENT);
	assert_int_equal(gm.accesses, 0);
	/* ending exactly at the page end is fine */
	assert_int_equal(exec(CODE_SIMPLE, PAGE(1) - 16, PAGE(2), NULL), 0);
	assert_int_equal(rec.calls, 1);
	assert_memory_equal(rec.in, gva(PAGE(1) - 16), 16);
}

static void test_exec_output_alignment(void **state)
{
	(void)state;
	for (uint64_t off = 1; off < 8; off++)
		assert_rejected(exec(CODE_SIMPLE, PAGE(0), PAGE(1) + off, NULL), HV_STATUS_INVALID_ALIGNMENT);
	assert_rejected(exec(CODE_SIMPLE, PAGE(0), PAGE(2) - 8, NULL), HV_STATUS_INVALID_ALIGNMENT);
	assert_int_equal(exec(CODE_SIMPLE, PAGE(0), PAGE(2) - 16, NULL), 0);
	assert_int_equal(rec.calls, 1);
}

static void test_exec_overlap(void **state)
{
	(void)state;
	assert_rejected(exec(CODE_SIMPLE, PAGE(0), PAGE(0), NULL), HV_STATUS_INVALID_PARAMETER);
	assert_rejected(exec(CODE_SIMPLE, PAGE(0), PAGE(0) + 8, NULL), HV_STATUS_INVALID_PARAMETER);
	assert_rejected(exec(CODE_SIMPLE, PAGE(0) + 8, PAGE(0), NULL), HV_STATUS_INVALID_PARAMETER);
	assert_int_equal(gm.accesses, 0);
	/* adjacent either way is not an overlap */
	assert_int_equal(exec(CODE_SIMPLE, PAGE(0), PAGE(0) + 16, NULL), 0);
	assert_int_equal(exec(CODE_SIMPLE, PAGE(0) + 16, PAGE(0), NULL), 0);
	assert_int_equal(rec.calls, 2);
}

static void test_exec_input_not_accessible(void **state)
{
	(void)state;
	/* not memory at all */
	assert_rejected(exec(CODE_SIMPLE, MEM_BASE + MEM_SIZE, PAGE(1), NULL), HV_STATUS_INVALID_PARAMETER);
	assert_rejected(exec(CODE_SIMPLE, 0x1000, PAGE(1), NULL), HV_STATUS_INVALID_PARAMETER);
	gm.attr[2] = PG_NOTMEM;
	assert_rejected(exec(CODE_SIMPLE, PAGE(2), PAGE(1), NULL), HV_STATUS_INVALID_PARAMETER);
	/* protected against reads */
	gm.attr[2] = PG_NOACCESS;
	assert_rejected(exec(CODE_SIMPLE, PAGE(2), PAGE(1), NULL), HV_STATUS_ACCESS_DENIED);
	/* read-only input is fine */
	gm.attr[2] = PG_RO;
	memset(gva(PAGE(2)), 0x42, 16);
	snapshot();
	assert_int_equal(exec(CODE_SIMPLE, PAGE(2), PAGE(1), NULL), 0);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.in[0], 0x42);
}

static void test_exec_output_not_writable(void **state)
{
	static const enum pg_attr attrs[] = { PG_RO, PG_NOACCESS, PG_NOTMEM };
	static const uint16_t expect[] = { HV_STATUS_ACCESS_DENIED, HV_STATUS_ACCESS_DENIED,
					   HV_STATUS_INVALID_PARAMETER };
	const struct hc_call *call;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		gm.attr[1] = attrs[i];
		call = NULL;
		/* nothing written anywhere: not the output, not the input */
		assert_rejected(exec(CODE_SIMPLE, PAGE(0), PAGE(1), &call), expect[i]);
		assert_ptr_equal(call, &call_simple);
		/* and for a rep call */
		assert_rejected(exec(ctl(CODE_REP, 4, 1), PAGE(0), PAGE(1), NULL), expect[i]);
	}
	assert_rejected(exec(CODE_SIMPLE, PAGE(0), MEM_BASE + MEM_SIZE + 0x1000, NULL), HV_STATUS_INVALID_PARAMETER);
}

/* ---- hc_execute: a successful simple call ---- */

static void test_exec_simple_success(void **state)
{
	const struct hc_call *call = NULL;
	uint64_t out = PAGE(1) + 0x100;

	(void)state;
	for (unsigned i = 0; i < 16; i++)
		gva(PAGE(0))[i] = (uint8_t)(0x10 + i);
	snapshot();
	assert_int_equal(exec(CODE_SIMPLE, PAGE(0), out, &call), 0);
	assert_ptr_equal(call, &call_simple);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.in_len, 16);
	assert_int_equal(rec.out_len, 16);
	assert_int_equal(rec.reps_done_at_entry, 0);
	assert_ptr_equal(rec.env, &env_token);
	assert_int_equal(rec.ctl.code, CODE_SIMPLE);
	assert_false(rec.ctl.fast);
	assert_memory_equal(rec.in, gva(PAGE(0)), 16);
	/* exactly the 16 output bytes changed */
	for (unsigned i = 0; i < 16; i++) {
		assert_int_equal(gva(out)[i], (uint8_t)((0x10 + i) ^ 0xff));
		gm.snap[out - MEM_BASE + i] = gva(out)[i];
	}
	assert_mem_untouched();
}

static void test_exec_handler_error_mapped(void **state)
{
	(void)state;
	rec.ret = -ECHILD;
	assert_int_equal(exec(CODE_SIMPLE, PAGE(0), PAGE(1), NULL), hc_result(HV_STATUS_INVALID_VP_INDEX, 0));
	rec.ret = -EALREADY;
	assert_int_equal(exec(CODE_IN_ONLY, PAGE(0), 0, NULL), hc_result(HV_STATUS_VTL_ALREADY_ENABLED, 0));
	rec.ret = -EIO;
	assert_int_equal(exec(CODE_IN_ONLY, PAGE(0), 0, NULL), hc_result(HV_STATUS_OPERATION_FAILED, 0));
	assert_int_equal(rec.calls, 3);
}

static void test_exec_no_parameters(void **state)
{
	const struct hc_call *call = NULL;

	(void)state;
	/* a call with no input and no output never touches memory, whatever RDX/R8 hold */
	assert_int_equal(exec(CODE_LAST, 0xdead0003, 0xbeef0005, &call), 0);
	assert_ptr_equal(call, &call_last);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.in_len, 0);
	assert_int_equal(rec.out_len, 0);
	assert_int_equal(gm.accesses, 0);
	/* an output-free call ignores R8 */
	assert_int_equal(exec(CODE_IN_ONLY, PAGE(0), 0x3, NULL), 0);
	assert_int_equal(rec.calls, 2);
	assert_mem_untouched();
}

/* ---- fast calls ---- */

static void test_exec_fast(void **state)
{
	const uint64_t rdx = 0x1122334455667788ull, r8 = 0x99aabbccddeeff00ull;

	(void)state;
	assert_int_equal(exec(CODE_IN_ONLY | HV_HYPERCALL_FAST_BIT, rdx, r8, NULL), 0);
	assert_int_equal(rec.calls, 1);
	assert_true(rec.ctl.fast);
	assert_int_equal(rec.in_len, 16);
	assert_int_equal(rec.out_len, 0);
	assert_memory_equal(rec.in, &rdx, 8);
	assert_memory_equal(rec.in + 8, &r8, 8);
	assert_int_equal(gm.accesses, 0);
	assert_mem_untouched();

	/* unaligned "GPAs" do not matter: they are data */
	assert_int_equal(exec(CODE_IN_ONLY | HV_HYPERCALL_FAST_BIT, 0x3, 0x5, NULL), 0);
	assert_int_equal(rec.in[0], 0x3);
	assert_int_equal(rec.in[8], 0x5);
	assert_int_equal(gm.accesses, 0);
}

static void test_exec_fast_rejections(void **state)
{
	(void)state;
	/* output needs XMM output support, which hvrun does not offer */
	assert_rejected(exec(CODE_SIMPLE | HV_HYPERCALL_FAST_BIT, PAGE(0), PAGE(1), NULL),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* more than RDX:R8 can carry */
	assert_rejected(exec(CODE_BIG_IN | HV_HYPERCALL_FAST_BIT, 1, 2, NULL), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_rejected(exec(CODE_VARHEAD | HV_HYPERCALL_FAST_BIT | (2ull << HV_HYPERCALL_VARHEAD_SHIFT), 1, 2, NULL),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(gm.accesses, 0);
}

/* ---- rep calls ---- */

#define REP_IN   PAGE(0)
#define REP_OUT  (PAGE(1) + 0x200)

static uint64_t rep_in_elem(unsigned i)
{
	return 0x1000000000000000ull + i * 0x0101010101ull;
}

static void rep_prepare(unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		uint64_t v = rep_in_elem(i);
		memcpy(gva(REP_IN) + REP_HDR_IN + i * REP_ELEM_IN, &v, 8);
	}
	snapshot();
}

static uint64_t out_elem(unsigned i)
{
	uint64_t v;

	memcpy(&v, gva(REP_OUT) + REP_HDR_OUT + i * REP_ELEM_OUT, 8);
	return v;
}

static uint64_t snap_out_elem(unsigned i)
{
	uint64_t v;

	memcpy(&v, gm.snap + (REP_OUT - MEM_BASE) + REP_HDR_OUT + i * REP_ELEM_OUT, 8);
	return v;
}

/* Elements in [from, to) hold results; every other one is untouched. */
static void assert_rep_out(unsigned count, unsigned from, unsigned to)
{
	for (unsigned i = 0; i < count + 2; i++) {
		if (i >= from && i < to)
			assert_int_equal(out_elem(i), rep_out_value(rep_in_elem(i)));
		else
			assert_int_equal(out_elem(i), snap_out_elem(i));
	}
}

static void test_exec_rep_success(void **state)
{
	const struct hc_call *call = NULL;
	uint64_t r, hdr;

	(void)state;
	rep_prepare(5);
	r = exec(ctl(CODE_REP, 5, 2), REP_IN, REP_OUT, &call);
	assert_int_equal(r, hc_result(HV_STATUS_SUCCESS, 5));
	assert_int_equal(reps(r), 5);
	assert_ptr_equal(call, &call_rep);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.reps_done_at_entry, 2);
	assert_int_equal(rec.ctl.rep_count, 5);
	assert_int_equal(rec.ctl.rep_start, 2);
	assert_int_equal(rec.in_len, REP_HDR_IN + 5 * REP_ELEM_IN);
	assert_int_equal(rec.out_len, REP_HDR_OUT + 5 * REP_ELEM_OUT);
	assert_memory_equal(rec.in, gva(REP_IN), rec.in_len);
	/* header written; elements 0 and 1 (before the start) and past the list untouched */
	memcpy(&hdr, gva(REP_OUT), 8);
	assert_int_equal(hdr, 0x4844524844524844ull);
	assert_rep_out(5, 2, 5);
	/* nothing else in guest memory moved */
	memcpy(gm.snap + (REP_OUT - MEM_BASE), gva(REP_OUT), REP_HDR_OUT + 5 * REP_ELEM_OUT);
	assert_mem_untouched();
}

static void test_exec_rep_from_zero(void **state)
{
	(void)state;
	rep_prepare(7);
	assert_int_equal(exec(ctl(CODE_REP, 7, 0), REP_IN, REP_OUT, NULL), hc_result(HV_STATUS_SUCCESS, 7));
	assert_int_equal(rec.reps_done_at_entry, 0);
	assert_rep_out(7, 0, 7);
}

static void test_exec_rep_partial_failure(void **state)
{
	uint64_t r;

	(void)state;
	rep_prepare(6);
	rec.rep_fail_at = 4;
	rec.rep_fail_err = -EINVAL;
	r = exec(ctl(CODE_REP, 6, 1), REP_IN, REP_OUT, NULL);
	assert_int_equal(r, hc_result(HV_STATUS_INVALID_PARAMETER, 4));
	assert_int_equal(reps(r), 4);
	/* only [1, 4) written; 0 and [4, 6) untouched even though the handler scribbled there */
	assert_rep_out(6, 1, 4);
}

static void test_exec_rep_fail_first(void **state)
{
	(void)state;
	rep_prepare(4);
	rec.rep_fail_at = 2;
	rec.rep_fail_err = -ERANGE;
	assert_int_equal(exec(ctl(CODE_REP, 4, 2), REP_IN, REP_OUT, NULL),
			 hc_result(HV_STATUS_INVALID_REGISTER_VALUE, 2));
	assert_rep_out(4, 0, 0);
}

static void test_exec_rep_bogus_progress(void **state)
{
	(void)state;
	rep_prepare(4);
	/* a handler claiming progress beyond the count, or before the start, reports the start */
	rec.rep_bogus = 9;
	assert_int_equal(exec(ctl(CODE_REP, 4, 1), REP_IN, REP_OUT, NULL), hc_result(HV_STATUS_INVALID_PARAMETER, 1));
	assert_rep_out(4, 0, 0);
	rec.rep_bogus = 0;
	assert_int_equal(exec(ctl(CODE_REP, 4, 1), REP_IN, REP_OUT, NULL), hc_result(HV_STATUS_INVALID_PARAMETER, 1));
	assert_rep_out(4, 0, 0);
}

/* ---- the handler sees a copy ---- */

static void test_exec_input_is_copied(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 16; i++)
		gva(PAGE(0) + 0x40)[i] = (uint8_t)(0x70 + i);
	rec.tamper_gpa = PAGE(0) + 0x40;
	assert_int_equal(exec(CODE_TAMPER, PAGE(0) + 0x40, 0, NULL), 0);
	assert_int_equal(rec.calls, 1);
	/* guest memory changed under the handler; its input did not */
	assert_int_equal(gva(PAGE(0) + 0x40)[0], 0xee);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(rec.in_after_tamper[i], 0x70 + i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_decode_fields, setup),
		cmocka_unit_test_setup(test_decode_reserved_bits, setup),
		cmocka_unit_test_setup(test_result_encoding, setup),
		cmocka_unit_test_setup(test_status_from_errno, setup),
		cmocka_unit_test_setup(test_table, setup),
		cmocka_unit_test_setup(test_exec_unknown_code, setup),
		cmocka_unit_test_setup(test_exec_reserved_bits, setup),
		cmocka_unit_test_setup(test_exec_nested, setup),
		cmocka_unit_test_setup(test_exec_simple_with_rep_fields, setup),
		cmocka_unit_test_setup(test_exec_rep_count_rules, setup),
		cmocka_unit_test_setup(test_exec_rep_lists_larger_than_a_page, setup),
		cmocka_unit_test_setup(test_exec_varhead_rules, setup),
		cmocka_unit_test_setup(test_exec_input_alignment, setup),
		cmocka_unit_test_setup(test_exec_output_alignment, setup),
		cmocka_unit_test_setup(test_exec_overlap, setup),
		cmocka_unit_test_setup(test_exec_input_not_accessible, setup),
		cmocka_unit_test_setup(test_exec_output_not_writable, setup),
		cmocka_unit_test_setup(test_exec_simple_success, setup),
		cmocka_unit_test_setup(test_exec_handler_error_mapped, setup),
		cmocka_unit_test_setup(test_exec_no_parameters, setup),
		cmocka_unit_test_setup(test_exec_fast, setup),
		cmocka_unit_test_setup(test_exec_fast_rejections, setup),
		cmocka_unit_test_setup(test_exec_rep_success, setup),
		cmocka_unit_test_setup(test_exec_rep_from_zero, setup),
		cmocka_unit_test_setup(test_exec_rep_partial_failure, setup),
		cmocka_unit_test_setup(test_exec_rep_fail_first, setup),
		cmocka_unit_test_setup(test_exec_rep_bogus_progress, setup),
		cmocka_unit_test_setup(test_exec_input_is_copied, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
