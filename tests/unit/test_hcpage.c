/* SPDX-License-Identifier: MIT */
/* Unit tests for the hypercall page: exact trampoline bytes, decoded control flow, offsets and 0xCC fill. */
#include "hv/hcpage.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv/tlfs.h"
#include "hvrun/abi.h"

#define PAGE 4096u

static uint8_t page[PAGE];

/* The instructions the trampolines may use, and nothing else. */
enum op { OP_BAD, OP_MOV_CS_EAX, OP_TEST_AL, OP_JNZ, OP_MOV_RCX_RAX, OP_MOV_ECX_IMM, OP_OUT, OP_RET, OP_UD2 };

struct insn {
	enum op op;
	unsigned len;
	uint32_t imm;
	unsigned target;          /* OP_JNZ */
};

static struct insn decode(const uint8_t *p, unsigned off)
{
	const uint8_t *b = p + off;

	if (b[0] == 0x8c && b[1] == 0xc8)
		return (struct insn){ OP_MOV_CS_EAX, 2, 0, 0 };
	if (b[0] == 0xa8)
		return (struct insn){ OP_TEST_AL, 2, b[1], 0 };
	if (b[0] == 0x75)
		return (struct insn){ OP_JNZ, 2, b[1], off + 2 + (unsigned)(int8_t)b[1] };
	if (b[0] == 0x48 && b[1] == 0x89 && b[2] == 0xc8)
		return (struct insn){ OP_MOV_RCX_RAX, 3, 0, 0 };
	if (b[0] == 0xb9)
		return (struct insn){ OP_MOV_ECX_IMM, 5, (uint32_t)b[1] | (uint32_t)b[2] << 8 |
							 (uint32_t)b[3] << 16 | (uint32_t)b[4] << 24, 0 };
	if (b[0] == 0xe6)
		return (struct insn){ OP_OUT, 2, b[1], 0 };
	if (b[0] == 0xc3)
		return (struct insn){ OP_RET, 1, 0, 0 };
	if (b[0] == 0x0f && b[1] == 0x0b)
		return (struct insn){ OP_UD2, 2, 0, 0 };
	return (struct insn){ OP_BAD, 1, 0, 0 };
}

/*
 * Walk one trampoline from its entry: mov %cs,%eax; test $3,%al; jnz ud; [VTL part]; out; ret; ud: ud2.
 * Checks both paths by following the decoded jump. Returns the trampoline's length.
 */
static unsigned walk(unsigned entry, uint8_t port, int vtl_code)
{
	unsigned off = entry, ud_target, ret_end;
	struct insn i;

	i = decode(page, off);
	assert_int_equal(i.op, OP_MOV_CS_EAX);
	off += i.len;
	i = decode(page, off);
	assert_int_equal(i.op, OP_TEST_AL);
	assert_int_equal(i.imm, 3);          /* CPL = CS.RPL */
	off += i.len;
	i = decode(page, off);
	assert_int_equal(i.op, OP_JNZ);
	ud_target = i.target;
	off += i.len;
	if (vtl_code >= 0) {
		i = decode(page, off);
		assert_int_equal(i.op, OP_MOV_RCX_RAX);
		off += i.len;
		i = decode(page, off);
		assert_int_equal(i.op, OP_MOV_ECX_IMM);
		assert_int_equal(i.imm, (uint32_t)vtl_code);
		off += i.len;
	}
	i = decode(page, off);
	assert_int_equal(i.op, OP_OUT);
	assert_int_equal(i.imm, port);
	off += i.len;
	i = decode(page, off);
	assert_int_equal(i.op, OP_RET);
	off += i.len;
	ret_end = off;
	/* the CPL != 0 path lands exactly on the ud2 right after the ret */
	assert_int_equal(ud_target, ret_end);
	i = decode(page, ud_target);
	assert_int_equal(i.op, OP_UD2);
	return ud_target + i.len - entry;
}

static bool inside(unsigned off, unsigned start, unsigned len)
{
	return off >= start && off < start + len;
}

static void test_fill_outside_trampolines(void **state)
{
	unsigned len0, len1, len2;

	(void)state;
	memset(page, 0, sizeof(page));
	hv_hcpage_fill(page, HVRUN_PORT_HYPERCALL);
	len0 = walk(HV_HCPAGE_HYPERCALL_OFFSET, HVRUN_PORT_HYPERCALL, -1);
	len1 = walk(HV_HCPAGE_VTL_CALL_OFFSET, HVRUN_PORT_HYPERCALL, HVCALL_VTL_CALL);
	len2 = walk(HV_HCPAGE_VTL_RETURN_OFFSET, HVRUN_PORT_HYPERCALL, HVCALL_VTL_RETURN);
	assert_int_equal(len0, 11);
	assert_int_equal(len1, 19);
	assert_int_equal(len2, 19);
	/* the trampolines do not overlap */
	assert_true(HV_HCPAGE_HYPERCALL_OFFSET + len0 <= HV_HCPAGE_VTL_CALL_OFFSET);
	assert_true(HV_HCPAGE_VTL_CALL_OFFSET + len1 <= HV_HCPAGE_VTL_RETURN_OFFSET);
	for (unsigned off = 0; off < PAGE; off++) {
		bool in = inside(off, HV_HCPAGE_HYPERCALL_OFFSET, len0) ||
			  inside(off, HV_HCPAGE_VTL_CALL_OFFSET, len1) ||
			  inside(off, HV_HCPAGE_VTL_RETURN_OFFSET, len2);
		if (!in && page[off] != 0xcc)
			fail_msg("byte %#x is %#x, not int3", off, page[off]);
	}
}

static void test_hypercall_trampoline_bytes(void **state)
{
	static const uint8_t want[] = { 0x8c, 0xc8, 0xa8, 0x03, 0x75, 0x03, 0xe6, 0xeb, 0xc3, 0x0f, 0x0b };

	(void)state;
	memset(page, 0, sizeof(page));
	hv_hcpage_fill(page, 0xeb);
	assert_int_equal(HV_HCPAGE_HYPERCALL_OFFSET, 0);
	assert_memory_equal(page, want, sizeof(want));
	assert_int_equal(page[sizeof(want)], 0xcc);
}

static void test_vtl_trampoline_bytes(void **state)
{
	static const uint8_t call[] = { 0x8c, 0xc8, 0xa8, 0x03, 0x75, 0x0b, 0x48, 0x89, 0xc8, 0xb9, 0x11, 0x00,
					0x00, 0x00, 0xe6, 0xeb, 0xc3, 0x0f, 0x0b };
	uint8_t ret[sizeof(call)];

	(void)state;
	memcpy(ret, call, sizeof(call));
	ret[10] = 0x12;
	memset(page, 0, sizeof(page));
	hv_hcpage_fill(page, 0xeb);
	assert_memory_equal(page + HV_HCPAGE_VTL_CALL_OFFSET, call, sizeof(call));
	assert_memory_equal(page + HV_HCPAGE_VTL_RETURN_OFFSET, ret, sizeof(ret));
	assert_int_equal(page[HV_HCPAGE_VTL_CALL_OFFSET - 1], 0xcc);
	assert_int_equal(page[HV_HCPAGE_VTL_CALL_OFFSET + sizeof(call)], 0xcc);
	assert_int_equal(page[HV_HCPAGE_VTL_RETURN_OFFSET + sizeof(ret)], 0xcc);
}

static void test_other_port(void **state)
{
	(void)state;
	memset(page, 0, sizeof(page));
	hv_hcpage_fill(page, 0x42);
	walk(HV_HCPAGE_HYPERCALL_OFFSET, 0x42, -1);
	walk(HV_HCPAGE_VTL_CALL_OFFSET, 0x42, HVCALL_VTL_CALL);
	walk(HV_HCPAGE_VTL_RETURN_OFFSET, 0x42, HVCALL_VTL_RETURN);
	assert_int_equal(page[7], 0x42);
}

static void test_vsm_code_offsets(void **state)
{
	uint64_t v = HV_HCPAGE_VSM_CODE_OFFSETS;

	(void)state;
	assert_int_equal(v & 0xfff, HV_HCPAGE_VTL_CALL_OFFSET);
	assert_int_equal((v >> 12) & 0xfff, HV_HCPAGE_VTL_RETURN_OFFSET);
	assert_int_equal(v >> 24, 0);
	assert_int_equal(v, 0x30010);
	/* the offsets name the trampolines that load those call codes */
	memset(page, 0, sizeof(page));
	hv_hcpage_fill(page, HVRUN_PORT_HYPERCALL);
	walk((unsigned)(v & 0xfff), HVRUN_PORT_HYPERCALL, HVCALL_VTL_CALL);
	walk((unsigned)((v >> 12) & 0xfff), HVRUN_PORT_HYPERCALL, HVCALL_VTL_RETURN);
}

static void test_no_vmcall_or_vmmcall(void **state)
{
	(void)state;
	for (unsigned port = 0; port < 256; port++) {
		memset(page, 0, sizeof(page));
		hv_hcpage_fill(page, (uint8_t)port);
		for (unsigned off = 0; off + 2 < PAGE; off++) {
			if (page[off] == 0x0f && page[off + 1] == 0x01 && (page[off + 2] == 0xc1 || page[off + 2] == 0xd9))
				fail_msg("vmcall/vmmcall at %#x (port %#x)", off, port);
		}
	}
	/* the page ends in int3 filler, never runs off into a partial instruction */
	assert_int_equal(page[PAGE - 1], 0xcc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_outside_trampolines),
		cmocka_unit_test(test_hypercall_trampoline_bytes),
		cmocka_unit_test(test_vtl_trampoline_bytes),
		cmocka_unit_test(test_other_port),
		cmocka_unit_test(test_vsm_code_offsets),
		cmocka_unit_test(test_no_vmcall_or_vmmcall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
