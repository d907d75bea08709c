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

/* AddressSanitizer builds allow opening files (LeakSanitizer reads /proc): see sandbox.c. */
#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif

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
	char c = 'x';

	ioctl(0, TIOCSTI, &c);           /* push input into a terminal: never for hvrun */
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
	/* Opening a file is refused, not fatal (AddressSanitizer builds allow it: LeakSanitizer). */
#if !defined(ASAN_BUILD)
	if (open("/etc/hostname", O_RDONLY) != -1 || errno != EACCES)
		return CHILD_BAD_RESULT;
#endif
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

/* The contents of a file, or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/*
 * src/vmm/kvm.c, found through the build's compile_commands.json (its "directory" and "file"):
 * the test needs no path of its own.
 */
static char *read_kvm_c(void)
{
	static const char file_key[] = "\"file\": \"", dir_key[] = "\"directory\": \"";
	char path[4096], *db, *p, *result = NULL;

	snprintf(path, sizeof(path), "%s/../../compile_commands.json", HVRUN_TEST_BUILD_DIR);
	db = slurp(path);
	for (p = db; p && (p = strstr(p, file_key)); p++) {
		char *file = p + strlen(file_key), *end = strchr(file, '"'), *dir = NULL, *q;
		size_t len;
		if (!end)
			break;
		len = (size_t)(end - file);
		if (len < 13 || strncmp(end - 13, "src/vmm/kvm.c", 13))
			continue;
		for (q = p; q > db; q--)                 /* the same entry's "directory" */
			if (!strncmp(q, dir_key, strlen(dir_key))) {
				dir = q + strlen(dir_key);
				break;
			}
		if (!dir)
			break;
		if (file[0] == '/')
			snprintf(path, sizeof(path), "%.*s", (int)len, file);
		else
			snprintf(path, sizeof(path), "%.*s/%.*s", (int)(strchr(dir, '"') - dir), dir, (int)len, file);
		result = slurp(path);
		break;
	}
	free(db);
	return result;
}

static bool listed(const char *name, const char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return true;
	return false;
}

/*
 * Every ioctl request src/vmm/kvm.c makes must be either allowed in the vcpu role or known to be
 * made only while opening /dev/kvm: a new one fails here until sandbox.c classifies it (a VP
 * thread making an unlisted request would be killed by SIGSYS in the middle of a run).
 */
static void test_every_kvm_request_is_classified(void **state)
{
	const char *run_time[64], *setup[16];
	size_t nrun = vmm_sandbox_kvm_requests(true, run_time, 64);
	size_t nsetup = vmm_sandbox_kvm_requests(false, setup, 16);
	char *src = read_kvm_c(), *p;
	unsigned seen = 0;

	(void)state;
	if (!src)
		skip();
	assert_true(listed("KVM_RUN", run_time, nrun) && !listed("KVM_RUN", setup, nsetup));
	for (p = src; (p = strstr(p, "ioctl(")); p++) {
		char name[64];
		size_t k = 0;
		char *q = strchr(p, ',');
		if (!q || q - p > 40)
			continue;
		for (q++; *q == ' ' || *q == '\t' || *q == '\n'; q++)
			;
		if (strncmp(q, "KVM_", 4))
			continue;                          /* not a literal request (e.g. the xioctl wrapper) */
		while (k + 1 < sizeof(name) && (q[k] == '_' || (q[k] >= 'A' && q[k] <= 'Z') || (q[k] >= '0' && q[k] <= '9')))
			k++;
		memcpy(name, q, k);
		name[k] = 0;
		if (!listed(name, run_time, nrun) && !listed(name, setup, nsetup))
			fail_msg("src/vmm/kvm.c makes %s, which src/vmm/sandbox.c neither allows at run time nor "
				 "lists as set-up only", name);
		seen++;
	}
	assert_true(seen >= 20);
	free(src);
}

/* Each run-time request gets through the vcpu role's filter (EBADF on fd -1, not a kill). */
static int do_every_run_time_request(void)
{
	static const unsigned long reqs[] = {
		KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS, KVM_GET_MSRS,
		KVM_SET_MSRS, KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS,
		KVM_INTERRUPT, KVM_GET_TSC_KHZ, KVM_SET_CPUID2, KVM_SET_USER_MEMORY_REGION,
		KVM_SET_TSS_ADDR, KVM_ENABLE_CAP, KVM_X86_SET_MSR_FILTER, KVM_CREATE_VCPU,
		KVM_GET_SUPPORTED_CPUID, KVM_HAS_DEVICE_ATTR, KVM_GET_DEVICE_ATTR, KVM_SET_DEVICE_ATTR,
	};
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		errno = 0;
		if (ioctl(-1, reqs[i], 0) != -1 || errno != EBADF)
			return CHILD_BAD_RESULT;
	}
	return ioctl(-1, KVM_CREATE_VM, 0) == -1 && errno == EBADF ? CHILD_OK : CHILD_BAD_RESULT;
}

static int do_create_vm_with_type(void)
{
	ioctl(-1, KVM_CREATE_VM, 1);      /* only machine type 0 */
	return CHILD_SURVIVED;
}

static int do_setup_request(void)
{
	ioctl(-1, KVM_CHECK_EXTENSION, 0);
	return CHILD_SURVIVED;
}

static void test_vcpu_kvm_requests(void **state)
{
	(void)state;
	assert_child_ok(run_in_role(VMM_ROLE_VCPU, do_every_run_time_request));
	assert_killed_by_sigsys(run_in_role(VMM_ROLE_VCPU, do_create_vm_with_type));
	assert_killed_by_sigsys(run_in_role(VMM_ROLE_VCPU, do_setup_request));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_role_names_and_lists),
		cmocka_unit_test(test_vcpu_forbidden_calls_kill_the_process),
		cmocka_unit_test(test_vcpu_allowed_calls_work),
		cmocka_unit_test(test_main_role),
		cmocka_unit_test(test_filter_is_per_thread),
		cmocka_unit_test(test_vcpu_kvm_requests),
		cmocka_unit_test(test_every_kvm_request_is_classified),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
