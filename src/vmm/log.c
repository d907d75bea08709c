/* SPDX-License-Identifier: MIT */
/* The one logger: every diagnostic hvrun prints goes through vmm_log() or vmm_trace(). */
#include "vmm/log.h"

#include <stdarg.h>
#include <stdio.h>

static enum vmm_log_level log_level = VMM_LOG_NOTICE;
bool vmm_log_tracing;

void vmm_log_set_level(enum vmm_log_level level)
{
	log_level = level;
}

enum vmm_log_level vmm_log_get_level(void)
{
	return log_level;
}

void vmm_log_set_trace(bool on)
{
	vmm_log_tracing = on;
}

void vmm_log(enum vmm_log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[VMM_LOG_ERROR] = "hvrun: error: ",
		[VMM_LOG_WARN] = "hvrun: warning: ",
		[VMM_LOG_NOTICE] = "hvrun: ",
		[VMM_LOG_INFO] = "hvrun: ",
		[VMM_LOG_DEBUG] = "hvrun: debug: ",
	};
	va_list ap;

	if (level > log_level)
		return;
	/* One fprintf per line so lines from several vCPU threads do not interleave. */
	char line[1024];
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s%s\n", prefix[level], line);
}

void vmm_trace_line(const char *fmt, ...)
{
	va_list ap;
	char line[1024];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "trace: %s\n", line);
}
