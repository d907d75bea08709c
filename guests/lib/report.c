/* SPDX-License-Identifier: MIT */
/* PASS/FAIL/SKIP/ERROR lines, nested prefixes and an escalating overall status. */
#include "report.h"

#include <stdarg.h>
#include <stddef.h>

#include "printf.h"
#include "string.h"

#define PREFIX_MAX 128
#define PREFIX_DEPTH 16

static char prefix[PREFIX_MAX];
static size_t prefix_ends[PREFIX_DEPTH];
static unsigned prefix_depth;
static unsigned tests, failures, skipped;
static enum report_status status = REPORT_RUNNING;
static bool quiet;

void report_quiet(bool on)
{
	quiet = on;
}

static void escalate(enum report_status s)
{
	if (s > status)
		status = s;
}

void report_prefix_push(const char *p)
{
	size_t len = strlen(prefix);

	/* Past PREFIX_DEPTH levels a push only counts, so that pushes and pops stay paired. */
	if (prefix_depth < PREFIX_DEPTH) {
		prefix_ends[prefix_depth] = len;
		snprintf(prefix + len, sizeof(prefix) - len, "%s: ", p);
	}
	prefix_depth++;
}

void report_prefix_pop(void)
{
	if (!prefix_depth)
		return;
	prefix_depth--;
	if (prefix_depth < PREFIX_DEPTH)
		prefix[prefix_ends[prefix_depth]] = '\0';
}

/* One printf per line: one burst of console output, not three. */
static void line(const char *tag, const char *fmt, va_list ap)
{
	char text[512];

	vsnprintf(text, sizeof(text), fmt, ap);
	printf("%s: %s%s\n", tag, prefix, text);
}

bool report(bool cond, const char *fmt, ...)
{
	va_list ap;

	tests++;
	if (!cond)
		failures++;
	escalate(cond ? REPORT_SUCCESS : REPORT_FAILURE);
	if (cond && quiet)
		return cond;
	va_start(ap, fmt);
	line(cond ? "PASS" : "FAIL", fmt, ap);
	va_end(ap);
	return cond;
}

void report_skip(const char *fmt, ...)
{
	va_list ap;

	tests++;
	skipped++;
	escalate(REPORT_SKIP);
	va_start(ap, fmt);
	line("SKIP", fmt, ap);
	va_end(ap);
}

void report_error(const char *fmt, ...)
{
	va_list ap;

	escalate(REPORT_ERROR);
	va_start(ap, fmt);
	line("ERROR", fmt, ap);
	va_end(ap);
}

void report_info(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	line("INFO", fmt, ap);
	va_end(ap);
}

enum report_status report_status(void)
{
	return status;
}

int report_summary(void)
{
	if (status == REPORT_RUNNING) {
		printf("ERROR: no test reported\n");
		escalate(REPORT_ERROR);
	}
	printf("SUMMARY: %u tests, %u failures, %u skipped\n", tests, failures, skipped);
	switch (status) {
	case REPORT_SUCCESS:
		return REPORT_EXIT_SUCCESS;
	case REPORT_SKIP:
		return REPORT_EXIT_SKIP;
	case REPORT_FAILURE:
		return REPORT_EXIT_FAILURE;
	case REPORT_RUNNING:
	case REPORT_ERROR:
	default:
		return REPORT_EXIT_ERROR;
	}
}
