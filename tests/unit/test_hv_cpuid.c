/* SPDX-License-Identifier: MIT */
/* Unit tests for the CPUID table builder: KVM leaves replaced by the Hyper-V leaves 0x40000000-0x40000006. */
#include "hv/cpuid.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define BASE_MAX 8u

static struct kvm_cpuid2 *base_new(void)
{
	struct kvm_cpuid2 *b = calloc(1, sizeof(*b) + BASE_MAX * sizeof(b->entries[0]));
	unsigned n = 0;

	assert_non_null(b);
	/* leaf 0: max leaf 0xd, "GenuineIntel" */
	b->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0xd, .ebx = 0x756e6547,
						     .ecx = 0x6c65746e, .edx = 0x49656e69 };
	/* leaf 1 with the hypervisor bit clear */
	b->entries[n++] = (struct kvm_cpuid_entry2){ .function = 1, .eax = 0x000806ec, .ebx = 0x00100800,
						     .ecx = 0x7ffafbbf, .edx = 0xbfebfbff };
	/* leaf 7: subleaf 1 listed first so a lookup must check the index */
	b->entries[n++] = (struct kvm_cpuid_entry2){ .function = 7, .index = 1,
						     .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0x1111 };
	b->entries[n++] = (struct kvm_cpuid_entry2){ .function = 7, .index = 0,
						     .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 1,
						     .ebx = 0x029c6fbf, .ecx = 0x40000000, .edx = 0xbc000400 };
	/* KVM's own paravirt leaves: "KVMKVMKVM\0\0\0" and its feature bits */
	b->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000000, .eax = 0x40000001,
						     .ebx = 0x4b4d564b, .ecx = 0x564b4d56, .edx = 0x4d };
	b->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000001, .eax = 0x01007afb };
	b->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000010, .eax = 2500000 };
	b->entries[n++] = (struct kvm_cpuid_entry2){ .function = 0x80000000, .eax = 0x80000008 };
	b->nent = n;
	return b;
}

static const struct hv_features test_features = {
	.priv_eax = 0x00000ae6, .priv_ebx = 0x00030000, .ecx = 0x12, .edx = 0x100, .recommendations = 0x20,
};

static struct kvm_cpuid2 *build(const char *vendor, uint32_t max_vps, uint32_t max_lps)
{
	struct kvm_cpuid2 *b = base_new(), *out = NULL;
	struct hv_cpuid_config cfg = {
		.vendor_id = vendor, .features = &test_features, .max_vps = max_vps, .max_lps = max_lps,
	};

	assert_int_equal(hv_cpuid_build(b, &cfg, &out), 0);
	assert_non_null(out);
	free(b);
	return out;
}

static const struct kvm_cpuid_entry2 *leaf(const struct kvm_cpuid2 *c, uint32_t fn)
{
	const struct kvm_cpuid_entry2 *e = hv_cpuid_find(c, fn);

	if (!e)
		fail_msg("leaf %#x missing", fn);
	return e;
}

static unsigned count_fn(const struct kvm_cpuid2 *c, uint32_t fn)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < c->nent; i++)
		n += c->entries[i].function == fn;
	return n;
}

static void test_base_leaves_kept_and_kvm_leaves_replaced(void **state)
{
	struct kvm_cpuid2 *b = base_new(), *c = build(NULL, 0, 0);

	(void)state;
	/* 8 base leaves - 3 KVM leaves + 7 Hyper-V leaves */
	assert_int_equal(c->nent, 12);
	for (uint32_t i = 0; i < c->nent; i++) {
		uint32_t fn = c->entries[i].function;
		assert_false(fn > HV_CPUID_MAX_LEAF && fn <= 0x4fffffff);
	}
	for (uint32_t fn = 0x40000000; fn <= 0x40000006; fn++)
		assert_int_equal(count_fn(c, fn), 1);
	/* KVM's signature and features are gone */
	assert_int_not_equal(leaf(c, 0x40000000)->ebx, 0x4b4d564b);
	assert_int_not_equal(leaf(c, 0x40000001)->eax, 0x01007afb);

	/* non-hypervisor leaves unchanged (leaf 1 apart from ECX[31]), indexes and flags kept */
	assert_memory_equal(leaf(c, 0), &b->entries[0], sizeof(b->entries[0]));
	assert_memory_equal(leaf(c, 0x80000000), &b->entries[7], sizeof(b->entries[0]));
	assert_int_equal(count_fn(c, 7), 2);
	for (uint32_t i = 0; i < c->nent; i++) {
		if (c->entries[i].function == 7 && c->entries[i].index == 1)
			assert_memory_equal(&c->entries[i], &b->entries[2], sizeof(b->entries[0]));
	}
	assert_memory_equal(leaf(c, 7), &b->entries[3], sizeof(b->entries[0]));
	free(b);
	free(c);
}

static void test_leaf1_hypervisor_bit(void **state)
{
	struct kvm_cpuid2 *c = build(NULL, 0, 0);
	const struct kvm_cpuid_entry2 *e = leaf(c, 1);

	(void)state;
	assert_int_equal(e->ecx, 0x7ffafbbfu | 0x80000000u);
	assert_int_equal(e->eax, 0x000806ec);
	assert_int_equal(e->ebx, 0x00100800);
	assert_int_equal(e->edx, 0xbfebfbff);
	free(c);
}

static void test_vendor_leaf_default(void **state)
{
	struct kvm_cpuid2 *c = build(NULL, 0, 0);
	const struct kvm_cpuid_entry2 *e = leaf(c, 0x40000000);
	char sig[13] = { 0 };

	(void)state;
	assert_true(e->eax >= 0x40000005);
	assert_int_equal(e->eax, HV_CPUID_MAX_LEAF);
	/* every leaf up to the advertised maximum exists */
	for (uint32_t fn = 0x40000000; fn <= e->eax; fn++)
		assert_non_null(hv_cpuid_find(c, fn));
	memcpy(sig, &e->ebx, 4);
	memcpy(sig + 4, &e->ecx, 4);
	memcpy(sig + 8, &e->edx, 4);
	assert_string_equal(sig, "Microsoft Hv");
	assert_int_equal(e->ebx, 0x7263694d);
	assert_int_equal(e->ecx, 0x666f736f);
	assert_int_equal(e->edx, 0x76482074);
	free(c);
}

static void test_vendor_leaf_custom(void **state)
{
	struct kvm_cpuid2 *c, *b = base_new(), *out = NULL;
	struct hv_cpuid_config cfg = { .vendor_id = "hvrun hvrun!", .features = &test_features };
	char sig[13] = { 0 };
	const struct kvm_cpuid_entry2 *e;

	(void)state;
	/* 12 characters: exactly fills EBX:ECX:EDX */
	c = build("hvrun hvrun!", 0, 0);
	e = leaf(c, 0x40000000);
	memcpy(sig, &e->ebx, 4);
	memcpy(sig + 4, &e->ecx, 4);
	memcpy(sig + 8, &e->edx, 4);
	assert_string_equal(sig, "hvrun hvrun!");
	free(c);

	/* short: zero padded */
	c = build("abc", 0, 0);
	e = leaf(c, 0x40000000);
	assert_int_equal(e->ebx, 'a' | 'b' << 8 | 'c' << 16);
	assert_int_equal(e->ecx, 0);
	assert_int_equal(e->edx, 0);
	assert_int_equal(e->eax, HV_CPUID_MAX_LEAF);
	free(c);

	c = build("", 0, 0);
	e = leaf(c, 0x40000000);
	assert_int_equal(e->ebx | e->ecx | e->edx, 0);
	free(c);

	/* 13 characters: refused */
	cfg.vendor_id = "hvrun hvrun!!";
	assert_int_equal(hv_cpuid_build(b, &cfg, &out), -EINVAL);
	cfg.vendor_id = "a much longer vendor string";
	assert_int_equal(hv_cpuid_build(b, &cfg, &out), -EINVAL);
	free(b);
}

static void test_bad_arguments(void **state)
{
	struct kvm_cpuid2 *b = base_new(), *out = NULL;
	struct hv_cpuid_config cfg = { .features = NULL };

	(void)state;
	assert_int_equal(hv_cpuid_build(b, &cfg, &out), -EINVAL);
	cfg.features = &test_features;
	assert_int_equal(hv_cpuid_build(NULL, &cfg, &out), -EINVAL);
	assert_null(out);
	free(b);
}

static void test_interface_and_version(void **state)
{
	struct kvm_cpuid2 *c = build(NULL, 0, 0);
	const struct kvm_cpuid_entry2 *e = leaf(c, 0x40000001);

	(void)state;
	assert_int_equal(e->eax, 0x31237648);
	assert_memory_equal(&e->eax, "Hv#1", 4);
	assert_int_equal(e->ebx, 0);
	assert_int_equal(e->ecx, 0);
	assert_int_equal(e->edx, 0);
	e = leaf(c, 0x40000002);
	assert_int_equal(e->eax, HV_HVRUN_BUILD);
	assert_int_equal(e->ebx, HV_HVRUN_MAJOR << 16 | HV_HVRUN_MINOR);
	free(c);
}

static void test_features_leaf(void **state)
{
	struct kvm_cpuid2 *c = build(NULL, 0, 0);
	const struct kvm_cpuid_entry2 *e = leaf(c, 0x40000003);
	struct hv_features real;

	(void)state;
	assert_int_equal(e->eax, test_features.priv_eax);
	assert_int_equal(e->ebx, test_features.priv_ebx);
	assert_int_equal(e->ecx, test_features.ecx);
	assert_int_equal(e->edx, test_features.edx);
	free(c);

	/* and with hvrun's own feature set (VSM on) */
	hv_features_get(&real, true);
	{
		struct kvm_cpuid2 *b = base_new(), *out = NULL;
		struct hv_cpuid_config cfg = { .features = &real };

		assert_int_equal(hv_cpuid_build(b, &cfg, &out), 0);
		e = leaf(out, 0x40000003);
		assert_int_equal(e->eax, real.priv_eax);
		assert_int_equal(e->ebx, real.priv_ebx);
		assert_true(e->ebx & HV_PRIV_ACCESS_VSM);
		assert_int_equal(leaf(out, 0x40000004)->eax, real.recommendations);
		free(out);
		free(b);
	}
}

static void test_recommendations_leaf(void **state)
{
	struct kvm_cpuid2 *c = build(NULL, 0, 0);
	const struct kvm_cpuid_entry2 *e = leaf(c, 0x40000004);

	(void)state;
	assert_int_equal(e->eax, test_features.recommendations);
	/* a spin-lock retry count is given (0 would mean "notify at once") */
	assert_int_not_equal(e->ebx, 0);
	free(c);
}

static void test_limits_and_hw_leaves(void **state)
{
	struct kvm_cpuid2 *c = build(NULL, 4, 8);
	const struct kvm_cpuid_entry2 *e = leaf(c, 0x40000005);

	(void)state;
	assert_int_equal(e->eax, 4);
	assert_int_equal(e->ebx, 8);
	assert_int_equal(e->edx, 0);
	e = leaf(c, 0x40000006);
	assert_int_equal(e->eax, 0);
	assert_int_equal(e->ebx, 0);
	assert_int_equal(e->ecx, 0);
	assert_int_equal(e->edx, 0);
	free(c);

	/* max_vps 0: the built-in default */
	c = build(NULL, 0, 0);
	assert_int_equal(leaf(c, 0x40000005)->eax, HV_CPUID_MAX_VPS);
	free(c);
}

static void test_hv_leaves_have_no_index_flags(void **state)
{
	struct kvm_cpuid2 *c = build(NULL, 0, 0);

	(void)state;
	for (uint32_t fn = 0x40000000; fn <= 0x40000006; fn++) {
		assert_int_equal(leaf(c, fn)->index, 0);
		assert_int_equal(leaf(c, fn)->flags, 0);
	}
	free(c);
}

static void test_find(void **state)
{
	struct kvm_cpuid2 *b = base_new();

	(void)state;
	assert_ptr_equal(hv_cpuid_find(b, 0), &b->entries[0]);
	assert_ptr_equal(hv_cpuid_find(b, 1), &b->entries[1]);
	/* index 0 only, even when another subleaf comes first */
	assert_ptr_equal(hv_cpuid_find(b, 7), &b->entries[3]);
	assert_null(hv_cpuid_find(b, 2));
	assert_null(hv_cpuid_find(b, 0x40000002));
	b->nent = 0;
	assert_null(hv_cpuid_find(b, 0));
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_leaves_kept_and_kvm_leaves_replaced),
		cmocka_unit_test(test_leaf1_hypervisor_bit),
		cmocka_unit_test(test_vendor_leaf_default),
		cmocka_unit_test(test_vendor_leaf_custom),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_interface_and_version),
		cmocka_unit_test(test_features_leaf),
		cmocka_unit_test(test_recommendations_leaf),
		cmocka_unit_test(test_limits_and_hw_leaves),
		cmocka_unit_test(test_hv_leaves_have_no_index_flags),
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
