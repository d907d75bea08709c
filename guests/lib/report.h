/* SPDX-License-Identifier: MIT */
/*
 * Test reporting in the manner of kvm-unit-tests and XTF.
 *
 *   report(cond, "name")        prints "PASS: <prefixes>name" or "FAIL: <prefixes>name", returns cond
 *   report_skip("why")          prints "SKIP: <prefixes>why"; counts as a test and as skipped
 *   report_error("what")        prints "ERROR: <prefixes>what": the test or its environment is
 *                               broken (not the code under test); counts as no test
 *   report_info("text")         prints "INFO: <prefixes>text"; changes nothing
 *   report_prefix_push("ctx")   later lines read "PASS: ctx: name"; report_prefix_pop() undoes it
 *   report_summary()            prints "SUMMARY: N tests, M failures, K skipped" and returns the
 *                               exit status below; `return report_summary();` from guest_main
 *   report_quiet(true)          PASS and INFO lines are counted but not printed (every test's
 *                               console output costs port exits); FAIL, SKIP, ERROR and the
 *                               summary still are. Guests turn it on for "quiet" on the command line
 *
 * The overall status only escalates: running < success < skip < error < failure. A guest that
 * reports nothing at all ends in error ("no test reported"), like XTF.
 *
 * Exit statuses (what hvrun exits with, unchanged). 77 and 99 are the codes meson's test harness
 * reads as SKIP and ERROR, and none of them collides with hvrun's own statuses (2, 120..128):
 */
#ifndef GUEST_REPORT_H
#define GUEST_REPORT_H

#include <stdbool.h>

#define REPORT_EXIT_SUCCESS 0    /* every test passed */
#define REPORT_EXIT_FAILURE 1    /* at least one report() failed */
#define REPORT_EXIT_SKIP    77   /* no failure and no error, but something was skipped */
#define REPORT_EXIT_ERROR   99   /* no failure, but report_error() was called or nothing reported */

enum report_status {
	REPORT_RUNNING = 0,
	REPORT_SUCCESS,
	REPORT_SKIP,
	REPORT_ERROR,
	REPORT_FAILURE,
};

bool report(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prefixes nest up to a total of 128 bytes; a longer one is cut. */
void report_prefix_push(const char *prefix);
void report_prefix_pop(void);

void report_quiet(bool on);

enum report_status report_status(void);
int report_summary(void);

#endif /* GUEST_REPORT_H */
