/* SPDX-License-Identifier: MIT */
/*
 * The trustlet: VTL1 user-mode code (like LsaIso in Isolated User Mode) that owns the HMAC key
 * and does every hash. It runs at CPL3, where this platform executes natively, and touches only
 * its own pages, the shared read-only image and the read-only VTL0 window. It must not call
 * anything that does I/O or touches kernel data.
 */
#include "sk.h"

#include "crypto/sha256.h"
#include "string.h"

/* The trustlet's state: its own (user) pages, never mapped in VTL0. */
struct tl_state tl_state __attribute__((section(".data.user"))) = { .key_set = false };

struct kat {
	const char *name;
	const char *key;        /* NULL: a SHA-256 test; "\xaa*131": 131 bytes of 0xaa */
	unsigned key_len;
	const char *msg;
	const char *expect;     /* hex */
};

/* FIPS 180-4 examples, RFC 4231 test cases 1, 2 and 6, and the well-known "quick brown fox". */
#ifdef SK_BREAK_SELFTEST
#define ABC_DIGEST "bb7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" /* broken on purpose */
#else
#define ABC_DIGEST "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#endif
static const struct kat kats[] = {
	{ "SHA-256(\"\")", NULL, 0, "",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "SHA-256(\"abc\")", NULL, 0, "abc", ABC_DIGEST },
	{ "SHA-256(448-bit message)", NULL, 0, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "HMAC-SHA256(\"key\", quick brown fox)", "key", 3, "The quick brown fox jumps over the lazy dog",
	  "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" },
	{ "HMAC-SHA256 RFC 4231 case 1", "\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b"
	  "\x0b\x0b\x0b\x0b", 20, "Hi There",
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "HMAC-SHA256 RFC 4231 case 2", "Jefe", 4, "what do ya want for nothing?",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "HMAC-SHA256 RFC 4231 case 6 (131-byte key)", NULL, 131,
	  "Test Using Larger Than Block-Size Key - Hash Key First",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
};
#define N_KATS (sizeof(kats) / sizeof(kats[0]))

const char *tl_selftest_name(uint64_t index)
{
	return index < N_KATS ? kats[index].name : "?";
}

unsigned tl_selftest_count(void)
{
	return N_KATS;
}

static unsigned hexval(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

static uint64_t selftest(struct tl_request *req)
{
	for (unsigned i = 0; i < N_KATS; i++) {
		const struct kat *k = &kats[i];
		uint8_t got[32], want[32], key[131];

		for (unsigned j = 0; j < 32; j++)
			want[j] = (uint8_t)(hexval(k->expect[2 * j]) << 4 | hexval(k->expect[2 * j + 1]));
		if (k->key_len == 0) {
			sha256(k->msg, strlen(k->msg), got);
		} else {
			if (k->key)
				memcpy(key, k->key, k->key_len);
			else
				memset(key, 0xaa, k->key_len);
			hmac_sha256(key, k->key_len, k->msg, strlen(k->msg), got);
		}
		if (crypto_memcmp(got, want, 32)) {
			req->fail_detail = i;
			return 1 + i;
		}
	}
	return 0;
}

/* 1 + the index of the allow-list entry equal to digest, 0 if none; no early exit. */
static uint64_t allow_list_match(const uint8_t digest[32])
{
	uint64_t result = 0;

	for (uint32_t i = 0; i < tl_state.allow_count && i < HVRUN_LOADER_ALLOW_MAX; i++) {
		uint32_t d = (uint32_t)crypto_memcmp(digest, tl_state.allow[i], 32);
		uint64_t eq = ((d - 1) >> 31) & 1;          /* d is 0..255: 1 iff equal */
		uint64_t none = result == 0;
		result |= (eq & none) * (i + 1);
	}
	return result;
}

uint64_t tl_main(struct tl_request *req)
{
	uint8_t mac[32];

	switch (req->op) {
	case TL_OP_SELFTEST:
		return selftest(req);
	case TL_OP_HMAC:
		if (!tl_state.key_set)
			return ~0ull;
		hmac_sha256(tl_state.key, sizeof(tl_state.key), (const void *)(uintptr_t)req->src, req->len,
			    req->out);
		return 0;
	case TL_OP_HMAC_VERIFY: {
		uint32_t d;
		if (!tl_state.key_set)
			return ~0ull;
		hmac_sha256(tl_state.key, sizeof(tl_state.key), (const void *)(uintptr_t)req->src, req->len, mac);
		d = (uint32_t)crypto_memcmp(mac, (const void *)(uintptr_t)req->aux, 32);
		crypto_wipe(mac, sizeof(mac));
		return ((d - 1) >> 31) & 1;
	}
	case TL_OP_HVCI_CHECK:
		sha256((const void *)(uintptr_t)req->src, SK_PAGE_SIZE, req->out);
		return allow_list_match(req->out);
	case TL_OP_MEASURE:
		sha256((const void *)(uintptr_t)req->src, req->len, req->out);
		return 0;
	default:
		return ~0ull;
	}
}
