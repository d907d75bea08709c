/* SPDX-License-Identifier: MIT */
/* Command-line parsing for hvrun: every option, its validation, and the usage text. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hvrun/abi.h"
#include "partition/mem.h"

#ifndef HVRUN_VERSION
#define HVRUN_VERSION "unknown"
#endif

enum {
	OPT_TIMEOUT = 0x100,
	OPT_TRACE,
	OPT_VERSION,
	OPT_CMDLINE,
	OPT_HV_VENDOR_ID,
	OPT_SECURE_KERNEL,
	OPT_NO_SECURE_KERNEL,
	OPT_VTL1_MEMORY,
	OPT_SMP,
	OPT_CONFIG,
	OPT_NO_SANDBOX,
};

static const struct option long_options[] = {
	{ "memory", required_argument, NULL, 'm' },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "trace", no_argument, NULL, OPT_TRACE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "hv-vendor-id", required_argument, NULL, OPT_HV_VENDOR_ID },
	{ "secure-kernel", required_argument, NULL, OPT_SECURE_KERNEL },
	{ "no-secure-kernel", no_argument, NULL, OPT_NO_SECURE_KERNEL },
	{ "vtl1-memory", required_argument, NULL, OPT_VTL1_MEMORY },
	{ "smp", required_argument, NULL, OPT_SMP },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void cli_usage(FILE *out)
{
	fprintf(out,
		"Usage: hvrun [OPTIONS] IMAGE [IMAGE...]\n"
		"       hvrun [OPTIONS] --config FILE\n"
		"Boot each ELF64 guest IMAGE in a new child partition and exit with their status.\n"
		"\n"
		"  -m, --memory SIZE      guest RAM (K/M/G suffix; 2M..3G; default 64M)\n"
		"      --smp N            virtual processors per partition (default 1)\n"
		"      --config FILE      partitions and SynIC connections from an INI file\n"
		"      --timeout SECONDS  stop the guest after SECONDS (s/m/h/d suffix) and exit 124\n"
		"      --cmdline STRING   command line passed in the boot information block\n"
		"      --hv-vendor-id STR Hyper-V vendor signature in CPUID 0x40000000 (max 12 chars)\n"
		"      --secure-kernel PATH  VTL1 secure kernel to start first (default: the one\n"
		"                         built with hvrun)\n"
		"      --no-secure-kernel boot VTL0 alone (no VTL1 until the guest enables it)\n"
		"      --vtl1-memory SIZE VTL1 private memory (default 16M, at most 256M)\n"
		"      --trace            print one line per routed message to stderr\n"
		"      --no-sandbox       run without the per-thread seccomp filters (debugging)\n"
		"  -v, --verbose          more diagnostics (repeat for debug output)\n"
		"  -q, --quiet            errors only\n"
		"      --version          print the version and exit\n"
		"  -h, --help             print this help and exit\n"
		"\n"
		"Exit status: the guest's (debug-exit port 0xF4, or 0 for hlt with interrupts off);\n"
		"2 usage or image error; 118 secure kernel refused to start; 119 guest reset request;\n"
		"120 triple fault; 121 invalid guest state; 122 KVM internal\n"
		"error; 123 unhandled exit; 124 timeout; 125 host error; 128+N killed by signal N.\n"
		"See docs/hvrun.md.\n");
}

int cli_parse_duration(const char *s, double *out)
{
	char *end;
	double v, mul = 1;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	switch (*end) {
	case '\0': case 's': break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	default: return -EINVAL;
	}
	if (*end && end[1])
		return -EINVAL;
	v *= mul;
	if (v > 1e9)
		return -ERANGE;
	*out = v;
	return 0;
}

static enum cli_result usage_error(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum cli_result usage_error(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return CLI_USAGE;
}

enum cli_result cli_parse(int argc, char **argv, struct hvrun_options *o, FILE *out,
			  char *err, size_t err_len)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->mem_size = HVRUN_MEM_DEFAULT;
	o->smp = 1;
	optind = 0;      /* full re-initialisation: the parser may run more than once (tests) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:vqh", long_options, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (part_parse_size(optarg, &o->mem_size))
				return usage_error(err, err_len, "invalid memory size '%s'", optarg);
			if (o->mem_size < HVRUN_MEM_MIN || o->mem_size > HVRUN_MEM_MAX)
				return usage_error(err, err_len, "memory size '%s' is outside 2M..3G", optarg);
			if (o->mem_size & 0xfff)
				return usage_error(err, err_len, "memory size '%s' is not a multiple of 4K", optarg);
			break;
		case OPT_TIMEOUT:
			if (cli_parse_duration(optarg, &o->timeout))
				return usage_error(err, err_len, "invalid timeout '%s'", optarg);
			break;
		case OPT_TRACE:
			o->trace = true;
			break;
		case 'v':
			o->verbosity = o->verbosity < 0 ? 1 : o->verbosity + 1;
			break;
		case 'q':
			o->verbosity = -1;
			break;
		case OPT_CMDLINE:
			if (strlen(optarg) >= HVRUN_CMDLINE_MAX)
				return usage_error(err, err_len, "command line longer than %u bytes",
						   HVRUN_CMDLINE_MAX - 1);
			o->cmdline = optarg;
			break;
		case OPT_HV_VENDOR_ID:
			if (strlen(optarg) > 12)
				return usage_error(err, err_len, "--hv-vendor-id '%s' is longer than 12 characters",
						   optarg);
			o->hv_vendor_id = optarg;
			break;
		case OPT_SECURE_KERNEL:
			o->secure_kernel = optarg;
			break;
		case OPT_NO_SECURE_KERNEL:
			o->no_secure_kernel = true;
			break;
		case OPT_VTL1_MEMORY:
			if (part_parse_size(optarg, &o->vtl1_mem_size) || o->vtl1_mem_size < (1ull << 20) ||
			    o->vtl1_mem_size > HVRUN_VTL1_MEM_MAX || (o->vtl1_mem_size & 0xfff))
				return usage_error(err, err_len, "invalid VTL1 memory size '%s' (1M..256M)", optarg);
			break;
		case OPT_SMP: {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (!*optarg || *end || n < 1 || n > CLI_MAX_VPS)
				return usage_error(err, err_len, "invalid --smp '%s' (1..%u)", optarg, CLI_MAX_VPS);
			o->smp = (unsigned)n;
			break;
		}
		case OPT_CONFIG:
			o->config = optarg;
			break;
		case OPT_NO_SANDBOX:
			o->no_sandbox = true;
			break;
		case OPT_VERSION:
			fprintf(out, "hvrun %s\n", HVRUN_VERSION);
			return CLI_DONE;
		case 'h':
			cli_usage(out);
			return CLI_DONE;
		case ':':
			return usage_error(err, err_len, "option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt && optopt < 0x100)
				return usage_error(err, err_len, "unknown option '-%c'", optopt);
			return usage_error(err, err_len, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o->secure_kernel && o->no_secure_kernel)
		return usage_error(err, err_len, "--secure-kernel and --no-secure-kernel exclude each other");
	if (optind >= argc && !o->config)
		return usage_error(err, err_len, "no IMAGE given");
	if (argc - optind > (int)CLI_MAX_IMAGES)
		return usage_error(err, err_len, "more than %u IMAGEs", CLI_MAX_IMAGES);
	if (o->config && optind < argc)
		return usage_error(err, err_len, "give IMAGEs on the command line or in --config, not both");
	for (int i = optind; i < argc; i++)
		o->images[o->nimages++] = argv[i];
	o->image = o->nimages ? o->images[0] : NULL;
	return CLI_RUN;
}
