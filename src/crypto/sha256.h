/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 and HMAC-SHA256 (FIPS 180-4, RFC 2104), freestanding: hvrun hashes HVCI pages with it
 * and the guests' secure kernel links the same file.
 */
#ifndef CRYPTO_SHA256_H
#define CRYPTO_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32u
#define SHA256_BLOCK_SIZE  64u

struct sha256_ctx {
	uint32_t h[8];
	uint64_t bytes;
	uint8_t block[SHA256_BLOCK_SIZE];
	size_t fill;
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE]);
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);

void hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
		 uint8_t out[SHA256_DIGEST_SIZE]);

/* Constant-time comparison: 0 when equal. */
int crypto_memcmp(const void *a, const void *b, size_t len);
/* Zero memory in a way the compiler may not remove. */
void crypto_wipe(void *p, size_t len);

#endif /* CRYPTO_SHA256_H */
