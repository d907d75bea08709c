/* SPDX-License-Identifier: MIT */
/*
 * bench/spawn: run one command and report its exec-to-exit wall time, exit status and peak RSS.
 *
 *     spawn [--timeout SECONDS] [--no-thp] REPORT -- COMMAND [ARGS...]
 *
 * writes "status=N wall_ns=N maxrss_kib=N" to the file REPORT (status: the exit code, or
 * 128 + signal). The command's stdin, stdout and stderr are spawn's own.
 *
 * --no-thp runs the command with transparent huge pages disabled (PR_SET_THP_DISABLE, kept
 * across exec): one touched byte of guest RAM then costs 4 KiB of RSS, not 2 MiB, so peak RSS
 * no longer depends on where the kernel happened to align the guest RAM mapping.
 *
 * Why not measure from Python: ru_maxrss of a child is at least the peak RSS of the address
 * space it exec()ed from, and a (v)forked Python interpreter already has ~17 MiB resident, more
 * than the processes measured here. This small C program leaves a floor of about 1 MiB.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child;

static void on_alarm(int sig)
{
	(void)sig;
	if (child > 0)
		kill(child, SIGKILL);
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	const char *report;
	unsigned timeout = 0;
	int i = 1, wstatus, status, no_thp = 0;
	FILE *f;

	for (;;) {
		if (i + 1 < argc && !strcmp(argv[i], "--timeout")) {
			timeout = (unsigned)atoi(argv[i + 1]);
			i += 2;
		} else if (i < argc && !strcmp(argv[i], "--no-thp")) {
			no_thp = 1;
			i++;
		} else {
			break;
		}
	}
	if (argc - i < 3 || strcmp(argv[i + 1], "--")) {
		fprintf(stderr, "usage: spawn [--timeout SECONDS] [--no-thp] REPORT -- COMMAND [ARGS...]\n");
		return 2;
	}
	report = argv[i];
	argv += i + 2;

	signal(SIGALRM, on_alarm);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	child = fork();
	if (child < 0) {
		perror("spawn: fork");
		return 125;
	}
	if (child == 0) {
		signal(SIGALRM, SIG_DFL);
		if (no_thp && prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
			perror("spawn: PR_SET_THP_DISABLE");
		execvp(argv[0], argv);
		fprintf(stderr, "spawn: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (timeout)
		alarm(timeout);
	while (wait4(child, &wstatus, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("spawn: wait4");
			return 125;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	f = fopen(report, "w");
	if (!f) {
		perror(report);
		return 125;
	}
	fprintf(f, "status=%d wall_ns=%lld maxrss_kib=%ld\n", status,
		(long long)(t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec), ru.ru_maxrss);
	return fclose(f) ? 125 : 0;
}
