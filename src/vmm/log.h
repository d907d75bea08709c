/* SPDX-License-Identifier: MIT */
/* The one printf-checked logger of hvrun: levels, quiet/verbose/trace switches. */
#ifndef VMM_LOG_H
#define VMM_LOG_H

#include <stdbool.h>

enum vmm_log_level {
	VMM_LOG_ERROR,
	VMM_LOG_WARN,
	VMM_LOG_NOTICE,          /* default verbosity: what a user running hvrun should see */
	VMM_LOG_INFO,
	VMM_LOG_DEBUG,
};

/* Messages at or below this level are printed (stderr). */
void vmm_log_set_level(enum vmm_log_level level);
enum vmm_log_level vmm_log_get_level(void);
void vmm_log_set_trace(bool on);

/* Set once at start-up (vmm_log_set_trace); inline because every exit asks. */
extern bool vmm_log_tracing;
static inline bool vmm_log_trace_enabled(void)
{
	return vmm_log_tracing;
}

void vmm_log(enum vmm_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * One line of --trace output (stderr), printed only when tracing is on: the arguments are not
 * even evaluated otherwise (hypercall handlers trace on every call).
 */
void vmm_trace_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define vmm_trace(...)                                  \
	do {                                            \
		if (vmm_log_trace_enabled())            \
			vmm_trace_line(__VA_ARGS__);    \
	} while (0)

#define pr_err(...)   vmm_log(VMM_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  vmm_log(VMM_LOG_WARN, __VA_ARGS__)
#define pr_notice(...) vmm_log(VMM_LOG_NOTICE, __VA_ARGS__)
#define pr_info(...)  vmm_log(VMM_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) vmm_log(VMM_LOG_DEBUG, __VA_ARGS__)

#endif /* VMM_LOG_H */
