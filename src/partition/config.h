/* SPDX-License-Identifier: MIT */
/*
 * A run's partitions and the SynIC connections between them, from the command line or from an
 * INI file (docs/partitions.md): [partition NAME] and [connection ID] sections.
 */
#ifndef PART_CONFIG_H
#define PART_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "partition/partition.h"

#define PART_CONFIG_MAX 64u
#define PART_CONN_MAX   64u
#define PART_CONFIG_STR 256u

/* A connection the root sets up: `from` may post messages / signal events to `to`'s SINT. */
struct part_connection {
	uint32_t id;            /* the ConnectionId of HvCallPostMessage / HvCallSignalEvent */
	unsigned from;          /* partition index in the set */
	unsigned to;
	uint32_t vp;            /* target VP */
	uint8_t sint;           /* target SINT (0..15) */
	uint16_t flag_base;     /* SignalEvent: FlagNumber is relative to this event flag */
};

/* The partitions of a run and the connections between them, shared read-only by all of them. */
struct part_fabric {
	struct partition **parts;
	unsigned nparts;
	const struct part_connection *conn;
	unsigned nconn;
};

struct part_config_set {
	struct part_config part[PART_CONFIG_MAX];
	unsigned count;
	struct part_connection conn[PART_CONN_MAX];
	unsigned nconn;
	char names[PART_CONFIG_MAX][64];
	char prefixes[PART_CONFIG_MAX][72];
	char images[PART_CONFIG_MAX][PART_CONFIG_STR];
	char kernels[PART_CONFIG_MAX][PART_CONFIG_STR];
	char cmdlines[PART_CONFIG_MAX][PART_CONFIG_STR];
};

/*
 * Parse an INI file into set. `default_sk` is the secure kernel for "secure-kernel = default"
 * (and for partitions that do not say). Errors: "LINE: problem" in why.
 */
int part_config_load(const char *path, const char *default_sk, struct part_config_set *set,
		     char *why, size_t why_len);
/* The same from a string (tests). */
int part_config_parse(const char *text, const char *default_sk, struct part_config_set *set,
		      char *why, size_t why_len);

#endif /* PART_CONFIG_H */
