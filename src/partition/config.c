/* SPDX-License-Identifier: MIT */
/* The INI configuration parser: every line is checked; an error names the line and the problem. */
#include "partition/config.h"

#include "hvrun/abi.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (256u * 1024u)

static int fail(char *why, size_t len, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *why, size_t len, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(why, len, "line %u: ", line);

	if (n >= 0 && (size_t)n < len) {
		va_start(ap, fmt);
		vsnprintf(why + n, len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	*out = strtoull(v, &end, 0);
	return errno || *end || *out > max ? -EINVAL : 0;
}

static int find_partition(const struct part_config_set *set, const char *name)
{
	for (unsigned i = 0; i < set->count; i++)
		if (!strcmp(set->names[i], name))
			return (int)i;
	return -1;
}

enum section { SEC_NONE, SEC_PARTITION, SEC_CONNECTION };

/* Connections name partitions; they are resolved once every section was read. */
struct pending_conn {
	char from[64], to[64];
	unsigned line;
};

static int partition_key(struct part_config_set *set, unsigned idx, const char *key, const char *val,
			 const char *default_sk, unsigned line, char *why, size_t wl)
{
	struct part_config *c = &set->part[idx];
	unsigned long long n;

	if (!strcmp(key, "image")) {
		snprintf(set->images[idx], PART_CONFIG_STR, "%s", val);
		c->image_path = set->images[idx];
	} else if (!strcmp(key, "memory")) {
		if (part_parse_size(val, &c->mem_size) || c->mem_size < HVRUN_MEM_MIN ||
		    c->mem_size > HVRUN_MEM_MAX || (c->mem_size & 0xfff))
			return fail(why, wl, line, "invalid memory size '%s' (2M..3G, 4K multiple)", val);
	} else if (!strcmp(key, "vtl1-memory")) {
		if (part_parse_size(val, &c->vtl1_mem_size) || c->vtl1_mem_size < (1ull << 20) ||
		    c->vtl1_mem_size > HVRUN_VTL1_MEM_MAX || (c->vtl1_mem_size & 0xfff))
			return fail(why, wl, line, "invalid VTL1 memory size '%s' (1M..256M)", val);
	} else if (!strcmp(key, "smp")) {
		if (parse_uint(val, 16, &n) || n == 0)
			return fail(why, wl, line, "invalid smp '%s' (1..16)", val);
		c->vp_count = (unsigned)n;
	} else if (!strcmp(key, "secure-kernel")) {
		if (!strcmp(val, "none")) {
			c->secure_kernel = NULL;
		} else if (!strcmp(val, "default")) {
			if (!default_sk)
				return fail(why, wl, line, "no default secure kernel is available");
			c->secure_kernel = default_sk;
		} else {
			snprintf(set->kernels[idx], PART_CONFIG_STR, "%s", val);
			c->secure_kernel = set->kernels[idx];
		}
	} else if (!strcmp(key, "cmdline")) {
		snprintf(set->cmdlines[idx], PART_CONFIG_STR, "%s", val);
		c->cmdline = set->cmdlines[idx];
	} else {
		return fail(why, wl, line, "unknown partition key '%s'", key);
	}
	return 0;
}

static int connection_key(struct part_connection *cn, struct pending_conn *pc, const char *key,
			  const char *val, unsigned line, char *why, size_t wl)
{
	unsigned long long n;

	if (!strcmp(key, "from")) {
		snprintf(pc->from, sizeof(pc->from), "%s", val);
	} else if (!strcmp(key, "to")) {
		snprintf(pc->to, sizeof(pc->to), "%s", val);
	} else if (!strcmp(key, "sint")) {
		if (parse_uint(val, 15, &n))
			return fail(why, wl, line, "invalid sint '%s' (0..15)", val);
		cn->sint = (uint8_t)n;
	} else if (!strcmp(key, "vp")) {
		if (parse_uint(val, 15, &n))
			return fail(why, wl, line, "invalid vp '%s'", val);
		cn->vp = (uint32_t)n;
	} else if (!strcmp(key, "flag")) {
		if (parse_uint(val, 2047, &n))
			return fail(why, wl, line, "invalid flag '%s' (0..2047)", val);
		cn->flag_base = (uint16_t)n;
	} else {
		return fail(why, wl, line, "unknown connection key '%s'", key);
	}
	return 0;
}

int part_config_parse(const char *text, const char *default_sk, struct part_config_set *set,
		      char *why, size_t wl)
{
	static struct pending_conn pending[PART_CONN_MAX];
	enum section sec = SEC_NONE;
	unsigned lineno = 0, cur = 0;
	const char *p = text;
	char line[1024];

	memset(set, 0, sizeof(*set));
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *s, *eq;
		int ret;

		lineno++;
		if (len >= sizeof(line))
			return fail(why, wl, lineno, "line too long");
		memcpy(line, p, len);
		line[len] = 0;
		p += len + (nl ? 1 : 0);
		s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']'), *name;
			if (!end || end[1])
				return fail(why, wl, lineno, "malformed section header");
			*end = 0;
			name = trim(s + 1);
			if (!strncmp(name, "partition", 9) && (name[9] == ' ' || name[9] == '\t')) {
				name = trim(name + 9);
				if (!*name || strlen(name) >= sizeof(set->names[0]) || strpbrk(name, " \t[]"))
					return fail(why, wl, lineno, "bad partition name '%s'", name);
				if (find_partition(set, name) >= 0)
					return fail(why, wl, lineno, "partition '%s' defined twice", name);
				if (set->count == PART_CONFIG_MAX)
					return fail(why, wl, lineno, "more than %u partitions", PART_CONFIG_MAX);
				cur = set->count++;
				snprintf(set->names[cur], sizeof(set->names[cur]), "%s", name);
				set->part[cur].name = set->names[cur];
				set->part[cur].vp_count = 1;
				set->part[cur].secure_kernel = default_sk;
				sec = SEC_PARTITION;
			} else if (!strncmp(name, "connection", 10) && (name[10] == ' ' || name[10] == '\t')) {
				unsigned long long id;
				if (parse_uint(trim(name + 10), 0xffffffffull, &id) || id == 0)
					return fail(why, wl, lineno, "bad connection id in [%s]", name);
				for (unsigned i = 0; i < set->nconn; i++)
					if (set->conn[i].id == id)
						return fail(why, wl, lineno, "connection %llu defined twice", id);
				if (set->nconn == PART_CONN_MAX)
					return fail(why, wl, lineno, "more than %u connections", PART_CONN_MAX);
				cur = set->nconn++;
				set->conn[cur] = (struct part_connection){ .id = (uint32_t)id, .sint = 2 };
				memset(&pending[cur], 0, sizeof(pending[cur]));
				pending[cur].line = lineno;
				sec = SEC_CONNECTION;
			} else {
				return fail(why, wl, lineno, "unknown section [%s]", name);
			}
			continue;
		}
		eq = strchr(s, '=');
		if (!eq)
			return fail(why, wl, lineno, "expected key = value");
		*eq = 0;
		if (sec == SEC_NONE)
			return fail(why, wl, lineno, "key outside a section");
		if (sec == SEC_PARTITION)
			ret = partition_key(set, cur, trim(s), trim(eq + 1), default_sk, lineno, why, wl);
		else
			ret = connection_key(&set->conn[cur], &pending[cur], trim(s), trim(eq + 1), lineno, why, wl);
		if (ret)
			return ret;
	}
	if (set->count == 0)
		return fail(why, wl, lineno, "no [partition NAME] section");
	for (unsigned i = 0; i < set->count; i++)
		if (!set->part[i].image_path)
			return fail(why, wl, lineno, "partition '%s' has no image", set->names[i]);
	for (unsigned i = 0; i < set->nconn; i++) {
		int from = find_partition(set, pending[i].from), to = find_partition(set, pending[i].to);
		if (from < 0 || to < 0)
			return fail(why, wl, pending[i].line, "connection %u: unknown partition '%s'",
				    set->conn[i].id, from < 0 ? pending[i].from : pending[i].to);
		if (set->conn[i].vp >= set->part[to].vp_count)
			return fail(why, wl, pending[i].line, "connection %u: partition '%s' has no VP %u",
				    set->conn[i].id, set->names[to], set->conn[i].vp);
		set->conn[i].from = (unsigned)from;
		set->conn[i].to = (unsigned)to;
	}
	return 0;
}

int part_config_load(const char *path, const char *default_sk, struct part_config_set *set,
		     char *why, size_t wl)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;
	int ret;

	if (!f) {
		snprintf(why, wl, "cannot open: %s", strerror(errno));
		return -errno;
	}
	buf = malloc(MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, MAX_FILE + 1, f);
	fclose(f);
	if (n > MAX_FILE) {
		free(buf);
		snprintf(why, wl, "larger than %u bytes", MAX_FILE);
		return -E2BIG;
	}
	buf[n] = 0;
	if (strlen(buf) != n) {
		free(buf);
		snprintf(why, wl, "contains a NUL byte: not a text file");
		return -EINVAL;
	}
	ret = part_config_parse(buf, default_sk, set, why, wl);
	free(buf);
	return ret;
}
