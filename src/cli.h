/* SPDX-License-Identifier: MIT */
/* hvrun's command line: getopt_long parsing into options, pure (no KVM, no exit()). */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_MAX_IMAGES 64
#define CLI_MAX_VPS 16

struct hvrun_options {
	const char *image;           /* the first IMAGE */
	const char *images[CLI_MAX_IMAGES];
	unsigned nimages;
	unsigned smp;                /* --smp N: VPs per partition (1 = default) */
	const char *config;          /* --config FILE */
	bool no_sandbox;             /* --no-sandbox: no seccomp filters (debugging) */
	uint64_t mem_size;
	double timeout;          /* seconds; 0 = none */
	bool trace;
	int verbosity;           /* -1 quiet, 0 default, 1+ verbose */
	const char *cmdline;
	const char *hv_vendor_id;
	const char *secure_kernel;   /* --secure-kernel PATH */
	bool no_secure_kernel;       /* --no-secure-kernel */
	uint64_t vtl1_mem_size;      /* --vtl1-memory SIZE; 0 = default */
};

enum cli_result {
	CLI_RUN,                 /* options parsed: boot the image */
	CLI_DONE,                /* --help or --version printed: exit 0 */
	CLI_USAGE,               /* error written to err: exit 2 */
};

enum cli_result cli_parse(int argc, char **argv, struct hvrun_options *opts, FILE *out,
			  char *err, size_t err_len);
void cli_usage(FILE *out);
/* "2.5", "10s", "1m", "1h", "1d" (timeout(1) syntax) -> seconds. */
int cli_parse_duration(const char *s, double *out);

#endif /* CLI_H */
