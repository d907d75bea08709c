/* SPDX-License-Identifier: MIT */
/*
 * Guest-suite runner: runs hvrun with the given arguments, then checks its exit status and that
 * stdout/stderr contain (or lack) given strings. Exits 77 (SKIP) when the case needs /dev/kvm
 * and it cannot be opened.
 *
 *   run_guest [--needs-kvm] [--status N] [--stdout STR]... [--stdout-file FILE]... [--stderr STR]...
 *             [--no-stdout STR]... [--no-stderr STR]...
 *             [--min-seconds S] [--limit SECONDS] [--signal SIG --after SECONDS [--after-stdout STR]]
 *             [--max-rss-kb KB] [--rss-growth-kb KB] -- HVRUN [ARGS...]
 *
 *   --stdout-file FILE      like --stdout, with STR the first line of FILE (a value computed at
 *                           build time, such as the digest the secure kernel must report)
 *   --signal SIG --after S  send SIG (INT, TERM, HUP, ... or a number) to hvrun S seconds after
 *                           it started, or after STR first appeared on its stdout with
 *                           --after-stdout (the guest is running then: set-up can be slow)
 *   --max-rss-kb KB         fail if hvrun's peak resident set (wait4 ru_maxrss = VmHWM) exceeds KB
 *   --rss-growth-kb KB      sample VmRSS every 100 ms once the guest has printed something; fail
 *                           if it grows by more than KB after that first sample (a leak per exit
 *                           shows up in a long exit storm)
 * The peak RSS is printed with the result line either way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHECKS 16

extern char **environ;

struct capture {
	char *buf;
	size_t len, cap;
};

static int append(struct capture *c, const char *data, size_t n)
{
	if (c->len + n + 1 > c->cap) {
		size_t cap = (c->cap ? c->cap * 2 : 4096) + n;
		char *b = realloc(c->buf, cap);
		if (!b)
			return -1;
		c->buf = b;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, data, n);
	c->len += n;
	c->buf[c->len] = 0;
	return 0;
}

/* SIGINT, INT, 2 -> 2; 0 if unknown. */
static int parse_signal(const char *s)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "INT", SIGINT }, { "TERM", SIGTERM }, { "HUP", SIGHUP }, { "QUIT", SIGQUIT },
		{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "ALRM", SIGALRM },
	};

	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (!strcmp(s, names[k].name))
			return names[k].sig;
	return atoi(s);
}

/* VmRSS of a running process in kB, or -1. */
static long vm_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The first line of path, without its newline, in storage that lives as long as the process. */
static const char *first_line(const char *path)
{
	static char lines[MAX_CHECKS][512];
	static int used;
	FILE *f;
	char *l;

	if (used == MAX_CHECKS || !(f = fopen(path, "r")))
		return NULL;
	l = lines[used];
	if (!fgets(l, sizeof(lines[0]), f) || !*l) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	l[strcspn(l, "\n")] = '\0';
	used++;
	return l;
}

int main(int argc, char **argv)
{
	const char *want_out[MAX_CHECKS], *want_err[MAX_CHECKS], *not_err[MAX_CHECKS], *not_out[MAX_CHECKS];
	int nout = 0, nerr = 0, nnot = 0, nnotout = 0, want_status = 0, needs_kvm = 0, i, failed = 0;
	double limit = 120, min_seconds = 0, start, elapsed, signal_after = -1;
	int signal_num = 0, signal_sent = 0;
	const char *signal_when = NULL;
	double signal_from = -1;
	long max_rss_kb = -1, rss_growth_kb = -1, rss_first = -1, rss_max = -1;
	double next_sample = 0;
	struct rusage ru;
	struct capture out = { 0 }, err = { 0 };
	int po[2], pe[2], status;
	posix_spawn_file_actions_t fa;
	pid_t pid;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--needs-kvm"))
			needs_kvm = 1;
		else if (!strcmp(argv[i], "--status") && i + 1 < argc)
			want_status = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--stdout") && i + 1 < argc && nout < MAX_CHECKS)
			want_out[nout++] = argv[++i];
		else if (!strcmp(argv[i], "--stdout-file") && i + 1 < argc && nout < MAX_CHECKS) {
			if (!(want_out[nout++] = first_line(argv[++i]))) {
				fprintf(stderr, "run_guest: cannot read a line from %s\n", argv[i]);
				return 99;
			}
		} else if (!strcmp(argv[i], "--stderr") && i + 1 < argc && nerr < MAX_CHECKS)
			want_err[nerr++] = argv[++i];
		else if (!strcmp(argv[i], "--no-stdout") && i + 1 < argc && nnotout < MAX_CHECKS)
			not_out[nnotout++] = argv[++i];
		else if (!strcmp(argv[i], "--no-stderr") && i + 1 < argc && nnot < MAX_CHECKS)
			not_err[nnot++] = argv[++i];
		else if (!strcmp(argv[i], "--limit") && i + 1 < argc)
			limit = atof(argv[++i]);
		else if (!strcmp(argv[i], "--min-seconds") && i + 1 < argc)
			min_seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--signal") && i + 1 < argc)
			signal_num = parse_signal(argv[++i]);
		else if (!strcmp(argv[i], "--after") && i + 1 < argc)
			signal_after = atof(argv[++i]);
		else if (!strcmp(argv[i], "--after-stdout") && i + 1 < argc)
			signal_when = argv[++i];
		else if (!strcmp(argv[i], "--max-rss-kb") && i + 1 < argc)
			max_rss_kb = atol(argv[++i]);
		else if (!strcmp(argv[i], "--rss-growth-kb") && i + 1 < argc)
			rss_growth_kb = atol(argv[++i]);
		else {
			fprintf(stderr, "run_guest: bad argument '%s'\n", argv[i]);
			return 99;
		}
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "run_guest: no command after --\n");
		return 99;
	}
	if ((signal_num > 0) != (signal_after >= 0)) {
		fprintf(stderr, "run_guest: --signal and --after go together\n");
		return 99;
	}
	if (needs_kvm) {
		int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			printf("SKIP: /dev/kvm cannot be opened (%s)\n", strerror(errno));
			return 77;
		}
		close(fd);
	}

	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
		return 99;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	start = now();
	if (posix_spawn(&pid, argv[i + 1], &fa, NULL, &argv[i + 1], environ)) {
		fprintf(stderr, "run_guest: cannot run %s\n", argv[i + 1]);
		return 99;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	for (int open_fds = 2; open_fds;) {
		struct pollfd pf[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
		int left = (int)((limit - (now() - start)) * 1000);
		double t = now() - start;
		if (signal_num > 0 && signal_from < 0 && (!signal_when || (out.buf && strstr(out.buf, signal_when))))
			signal_from = t;
		if (signal_num > 0 && !signal_sent && signal_from < 0 && left > 50)
			left = 50;                          /* poll stdout for --after-stdout */
		if (signal_num > 0 && !signal_sent && signal_from >= 0) {
			if (t >= signal_from + signal_after) {
				kill(pid, signal_num);
				signal_sent = 1;
				printf("run_guest: sent signal %d after %.3f s\n", signal_num, t);
			} else if ((int)((signal_from + signal_after - t) * 1000) + 1 < left) {
				left = (int)((signal_from + signal_after - t) * 1000) + 1;
			}
		}
		if (rss_growth_kb >= 0 && out.len) {
			if (t >= next_sample) {
				long kb = vm_rss_kb(pid);
				if (kb >= 0 && rss_first < 0)
					rss_first = kb;
				if (kb > rss_max)
					rss_max = kb;
				next_sample = t + 0.1;
			}
			if (left > 100)
				left = 100;
		}
		if (left <= 0 && t < limit)
			left = 1;
		if (left <= 0) {
			fprintf(stderr, "run_guest: hvrun still running after %g s: killing it\n", limit);
			kill(pid, SIGKILL);
			break;
		}
		if (poll(pf, 2, left) < 0 && errno != EINTR)
			break;
		for (int k = 0; k < 2; k++) {
			char chunk[4096];
			ssize_t n;
			if (!(pf[k].revents & (POLLIN | POLLHUP)) || pf[k].fd < 0)
				continue;
			n = read(pf[k].fd, chunk, sizeof(chunk));
			if (n > 0) {
				append(k ? &err : &out, chunk, (size_t)n);
			} else {
				close(pf[k].fd);
				if (k)
					pe[0] = -1;
				else
					po[0] = -1;
				open_fds--;
			}
		}
	}
	memset(&ru, 0, sizeof(ru));
	wait4(pid, &status, 0, &ru);
	elapsed = now() - start;
	printf("---- stdout ----\n%s---- stderr ----\n%s----\n", out.buf ? out.buf : "", err.buf ? err.buf : "");

	if (!WIFEXITED(status)) {
		printf("FAIL: hvrun did not exit normally (wait status %#x)\n", status);
		return 1;
	}
	if (WEXITSTATUS(status) != want_status) {
		printf("FAIL: exit status %d, expected %d\n", WEXITSTATUS(status), want_status);
		failed = 1;
	}
	for (int k = 0; k < nout; k++)
		if (!out.buf || !strstr(out.buf, want_out[k])) {
			printf("FAIL: stdout lacks \"%s\"\n", want_out[k]);
			failed = 1;
		}
	for (int k = 0; k < nerr; k++)
		if (!err.buf || !strstr(err.buf, want_err[k])) {
			printf("FAIL: stderr lacks \"%s\"\n", want_err[k]);
			failed = 1;
		}
	for (int k = 0; k < nnotout; k++)
		if (out.buf && strstr(out.buf, not_out[k])) {
			printf("FAIL: stdout contains \"%s\"\n", not_out[k]);
			failed = 1;
		}
	for (int k = 0; k < nnot; k++)
		if (err.buf && strstr(err.buf, not_err[k])) {
			printf("FAIL: stderr contains \"%s\"\n", not_err[k]);
			failed = 1;
		}
	if (elapsed < min_seconds) {
		printf("FAIL: finished after %.3f s, expected at least %g s\n", elapsed, min_seconds);
		failed = 1;
	}
	if (max_rss_kb >= 0 && ru.ru_maxrss > max_rss_kb) {
		printf("FAIL: peak RSS %ld kB, limit %ld kB\n", (long)ru.ru_maxrss, max_rss_kb);
		failed = 1;
	}
	if (rss_growth_kb >= 0) {
		printf("run_guest: VmRSS first sample %ld kB, highest %ld kB\n", rss_first, rss_max);
		if (rss_first >= 0 && rss_max - rss_first > rss_growth_kb) {
			printf("FAIL: VmRSS grew by %ld kB while running (limit %ld kB)\n", rss_max - rss_first,
			       rss_growth_kb);
			failed = 1;
		}
	}
	if (signal_num > 0 && !signal_sent) {
		printf("FAIL: hvrun ended before signal %d was due (%.3f s)\n", signal_num, elapsed);
		failed = 1;
	}
	printf("%s: exit %d after %.3f s, peak RSS %ld kB\n", failed ? "FAIL" : "PASS", WEXITSTATUS(status),
	       elapsed, (long)ru.ru_maxrss);
	free(out.buf);
	free(err.buf);
	return failed;
}
