/* SPDX-License-Identifier: MIT */
/*
 * The seccomp roles (src/vmm/sandbox.c): each case runs in a forked child so that a killed
 * process is what the test observes. A VCPU-role thread is killed by SIGSYS for socket(),
 * execve(), a non-KVM ioctl, an executable mapping, a write to a file descriptor other than 1 or
 * 2; it may still use the KVM ioctls (EBADF on a bad fd proves the call got through), futexes and
 * stdout. The filter is per thread: the process's other threads are not confined.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/kvm.h>

#include "vmm/sandbox.h"

/* Exit codes a child uses to tell what happened (anything else is a failure). */
#define CHILD_OK        0
#define CHILD_NO_FILTER 90    /* vmm_sandbox_enter failed */
#define CHILD_SURVIVED  91    /* a forbidden call returned instead of killing */
#define CHILD_BAD_RESULT 92   /* an allowed call did not behave as expected */

typedef int (*child_fn)(void);

struct thread_job {
	enum vmm_thread_role role;
	child_fn fn;
	int result;
};

static void *thread_main(void *arg)
{
	struct thread_job *job = arg;

	if (vmm_sandbox_enter(job->role)) {
		job->result = CHILD_NO_FILTER;
		return NULL;
	}
	job->result = job->fn();
	return NULL;
}

/*
 * Fork; in the child, start a thread that enters `role` and runs fn, then exit with its result
 * (the unconfined main thread does the exit). Returns the wait status.
 */
static int run_in_role(enum vmm_thread_role role, child_fn fn)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct thread_job job = { .role = role, .fn = fn, .result = -1 };
		pthread_t t;
		if (pthread_create(&t, NULL, thread_main, &job))
			_exit(99);
		pthread_join(t, NULL);
		_exit(job.result);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_killed_by_sigsys(int status)
{
	if (WIFEXITED(status))
		fail_msg("child exited with %d instead of being killed (90: no filter, 91: call returned)",
			 WEXITSTATUS(status));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void assert_child_ok(int status)
{
	if (WIFSIGNALED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), CHILD_OK);
}

/* ---- forbidden in the VCPU role ---- */

static int do_socket(void)
{
	socket(AF_INET, SOCK_STREAM, 0);
	return CHILD_SURVIVED;
}

static int do_execve(void)
{
	char *argv[] = { "/bin/true", NULL }, *envp[] = { NULL };

	execve("/bin/true", argv, envp);
	return CHILD_SURVIVED;
}

static int do_tty_ioctl(void)
{
	struct termios t;

	ioctl(0, TCGETS, &t);
	return CHILD_SURVIVED;
}

static int do_exec_mapping(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return CHILD_SURVIVED;
}

static int do_mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return CHILD_BAD_RESULT;
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
	return CHILD_SURVIVED;
}

static int do_write_other_fd(void)
{
	char c = 'x';

	write(5, &c, 1);
	return CHILD_SURVIVED;
}

static int do_kill_other(void)
{
	kill(1, SIGTERM);
	return CHILD_SURVIVED;
}

static void test_vcpu_forbidden_calls_kill_the_process(void **state)
{
	(void)state;
	assert_killed_by_sigsys(run_in_role(VMM_ROLE_VCPU, do_socket));
	assert_killed_by_sigsys(run_in_role(VMM_ROLE_VCPU, do_execve));
	assert_killed_by_sigsys(run_in_role(VMM_ROLE_VCPU, do_tty_ioctl));
	assert_killed_by_sigsys(run_in_role(VMM_ROLE_VCPU, do_exec_mapping));
	assert_killed_by_sigsys(run_in_role(VMM_ROLE_VCPU, do_mprotect_exec));
	assert_killed_by_sigsys(run_in_role(VMM_ROLE_VCPU, do_write_other_fd));
	assert_killed_by_sigsys(run_in_role(VMM_ROLE_VCPU, do_kill_other));
}

/* ---- allowed in the VCPU role ---- */

static int do_vcpu_allowed(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	struct kvm_regs regs;
	void *p;

	/* KVM ioctls get through to the kernel (EBADF on a bad fd, not a kill). */
	errno = 0;
	if (ioctl(-1, KVM_RUN, 0) != -1 || errno != EBADF)
		return CHILD_BAD_RESULT;
	if (ioctl(-1, KVM_GET_REGS, &regs) != -1 || errno != EBADF)
		return CHILD_BAD_RESULT;
	if (ioctl(-1, KVM_SET_USER_MEMORY_REGION, &regs) != -1 || errno != EBADF)
		return CHILD_BAD_RESULT;
	/* Opening a file is refused, not fatal. */
	if (open("/etc/hostname", O_RDONLY) != -1 || errno != EACCES)
		return CHILD_BAD_RESULT;
	/* malloc, mutexes, data mappings, stdout/stderr. */
	p = malloc(1 << 20);
	if (!p)
		return CHILD_BAD_RESULT;
	free(p);
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || munmap(p, 8192))
		return CHILD_BAD_RESULT;
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	if (write(2, "", 0) != 0)
		return CHILD_BAD_RESULT;
	return CHILD_OK;
}

static void test_vcpu_allowed_calls_work(void **state)
{
	(void)state;
	assert_child_ok(run_in_role(VMM_ROLE_VCPU, do_vcpu_allowed));
}

/* ---- the MAIN role has no KVM ioctls at all ---- */

static int do_main_kvm_run(void)
{
	ioctl(-1, KVM_RUN, 0);
	return CHILD_SURVIVED;
}

static int do_main_allowed(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || munmap(p, 4096))
		return CHILD_BAD_RESULT;
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	return close(-1) == -1 && errno == EBADF ? CHILD_OK : CHILD_BAD_RESULT;
}

static void test_main_role(void **state)
{
	(void)state;
	assert_killed_by_sigsys(run_in_role(VMM_ROLE_MAIN, do_main_kvm_run));
	assert_killed_by_sigsys(run_in_role(VMM_ROLE_MAIN, do_socket));
	assert_child_ok(run_in_role(VMM_ROLE_MAIN, do_main_allowed));
}

/* ---- per thread: the process's other threads stay unconfined ---- */

static int do_nothing(void)
{
	return CHILD_OK;
}

static void test_filter_is_per_thread(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct thread_job job = { .role = VMM_ROLE_VCPU, .fn = do_nothing, .result = -1 };
		pthread_t t;
		int s;
		if (pthread_create(&t, NULL, thread_main, &job))
			_exit(99);
		pthread_join(t, NULL);
		if (job.result != CHILD_OK)
			_exit(job.result);
		/* The confined thread has ended; this one never entered a role. */
		s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (s < 0)
			_exit(CHILD_BAD_RESULT);
		close(s);
		_exit(CHILD_OK);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_child_ok(status);
}

static void test_role_names_and_lists(void **state)
{
	const char *names[64];
	size_t n;
	bool ioctl_found = false;

	(void)state;
	assert_string_equal(vmm_sandbox_role_name(VMM_ROLE_MAIN), "main");
	assert_string_equal(vmm_sandbox_role_name(VMM_ROLE_VCPU), "vcpu");
	n = vmm_sandbox_allowed(VMM_ROLE_MAIN, names, 64);
	assert_true(n > 5);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(names[i], "ioctl");
	n = vmm_sandbox_allowed(VMM_ROLE_VCPU, names, 64);
	for (size_t i = 0; i < n; i++)
		ioctl_found |= !strcmp(names[i], "ioctl");
	assert_true(ioctl_found);
	assert_int_equal(vmm_sandbox_enter((enum vmm_thread_role)7), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_role_names_and_lists),
		cmocka_unit_test(test_vcpu_forbidden_calls_kill_the_process),
		cmocka_unit_test(test_vcpu_allowed_calls_work),
		cmocka_unit_test(test_main_role),
		cmocka_unit_test(test_filter_is_per_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
