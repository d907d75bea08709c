/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the --config INI parser (part_config_parse). The input is the file's text (cut at
 * the first NUL, as part_config_load refuses NULs); the first byte picks whether a default secure
 * kernel exists. A successful parse must describe a consistent set of partitions and connections;
 * a failure must name a line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partition/config.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int within(const char *p, const void *base, size_t len)
{
	return (const char *)p >= (const char *)base && (const char *)p < (const char *)base + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct part_config_set set;
	const char *default_sk;
	char why[256], *text;
	int ret;

	if (size == 0)
		return 0;
	default_sk = (data[0] & 1) ? "/fuzz/securekernel.elf" : NULL;
	text = malloc(size);        /* exactly the bytes (+ NUL): ASan sees any over-read */
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	memset(why, 0x5a, sizeof(why));
	ret = part_config_parse(text, default_sk, &set, why, sizeof(why));
	free(text);
	if (ret) {
		CHECK(ret < 0);
		CHECK(memchr(why, 0, sizeof(why)) != NULL);
		CHECK(!strncmp(why, "line ", 5));
		return 0;
	}
	CHECK(set.count >= 1 && set.count <= PART_CONFIG_MAX);
	CHECK(set.nconn <= PART_CONN_MAX);
	for (unsigned i = 0; i < set.count; i++) {
		const struct part_config *c = &set.part[i];
		CHECK(c->image_path && within(c->image_path, set.images, sizeof(set.images)));
		CHECK(memchr(c->image_path, 0, PART_CONFIG_STR) != NULL);
		CHECK(c->name == set.names[i] && set.names[i][0]);
		CHECK(!strpbrk(set.names[i], " \t[]"));
		CHECK(c->vp_count >= 1 && c->vp_count <= 16);
		CHECK(!c->secure_kernel || c->secure_kernel == default_sk ||
		      within(c->secure_kernel, set.kernels, sizeof(set.kernels)));
		CHECK(!c->cmdline || within(c->cmdline, set.cmdlines, sizeof(set.cmdlines)));
		for (unsigned j = 0; j < i; j++)
			CHECK(strcmp(set.names[i], set.names[j]) != 0);
	}
	for (unsigned i = 0; i < set.nconn; i++) {
		const struct part_connection *cn = &set.conn[i];
		CHECK(cn->id != 0 && cn->from < set.count && cn->to < set.count);
		CHECK(cn->sint < 16 && cn->flag_base < 2048 && cn->vp < set.part[cn->to].vp_count);
		for (unsigned j = 0; j < i; j++)
			CHECK(set.conn[j].id != cn->id);
	}
	return 0;
}
