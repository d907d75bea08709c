/* SPDX-License-Identifier: MIT */
/*
 * Per-thread seccomp filters for hvrun's roles (docs/security.md#seccomp). The lists were found
 * with `strace -f` of the whole guest suite (tools/kvm-nested) and trimmed to what hvrun's own
 * code and glibc need after set-up; every entry says why it is there.
 */
#include "vmm/sandbox.h"

#include <errno.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif

/* How an entry restricts its arguments. */
enum arg_rule {
	ANY,            /* no restriction */
	STD_FD,         /* A0 is 1 (stdout) or 2 (stderr) */
	NO_EXEC,        /* A2 (prot) lacks PROT_EXEC: mmap, mprotect */
	OWN_KICK,       /* tgkill: A0 is this process, A2 is SIGUSR1 (the VP kick) or SIGABRT */
	DENY_EACCES,    /* never allowed: fails with EACCES instead of killing (file opens) */
	KVM_IOCTLS,     /* ioctl: A1 is one of vcpu_ioctls[] (add_ioctls) */
};

struct entry {
	int nr;
	const char *name;
	enum arg_rule rule;
};

#define E(sys, rule) { SCMP_SYS(sys), #sys, rule }

/* Both roles. */
static const struct entry common[] = {
	E(futex, ANY),               /* mutexes, rwlocks (router), condition variables, pthread_join */
	E(restart_syscall, ANY),     /* the kernel restarts an interrupted futex wait with it */
	E(rt_sigreturn, ANY),        /* return from the SIGUSR1 kick and SIGINT/SIGTERM/SIGALRM handlers */
	E(rt_sigprocmask, ANY),      /* pthread_create/exit, abort(); cannot install a handler */
	E(getpid, ANY),              /* pthread_kill() in the signal handler */
	E(gettid, ANY),              /* pthread_kill()/raise() */
	E(tgkill, OWN_KICK),         /* the stop kick to a VP thread; abort() on an assertion */
	E(write, STD_FD),            /* guest console (stdout), log and reports (stderr) */
	E(writev, STD_FD),           /* stdio may gather a line and its prefix */
	E(newfstatat, STD_FD),       /* stdio sizes its buffer on the first write: fstat(1 or 2) */
	E(fstat, STD_FD),            /* the same on C libraries that use fstat */
	E(mmap, NO_EXEC),            /* malloc (thread arena), a new vCPU's kvm_run; never executable */
	E(mprotect, NO_EXEC),        /* malloc grows a thread arena; never makes memory executable */
	E(munmap, ANY),              /* free, teardown of RAM, overlay pages and kvm_run areas */
	E(madvise, ANY),             /* free, and a finished thread's stack (MADV_DONTNEED) */
	E(brk, ANY),                 /* malloc/free on the main heap */
	E(close, ANY),               /* teardown of vCPU and VM fds (and failed VTL enables) */
	E(clock_gettime, ANY),       /* time stamps where the vDSO is not used (valgrind) */
	E(sched_yield, ANY),         /* spinning mutexes */
	E(exit, ANY),                /* a thread ends */
	E(exit_group, ANY),          /* the process ends */
	E(openat, DENY_EACCES),      /* glibc probes files (sysconf reads /sys/.../cpu/online) */
	E(open, DENY_EACCES),
};

/*
 * VP threads: the KVM ioctls of src/vmm/kvm.c that are used while a guest runs. VTL1 is enabled
 * at run time (HvCallEnablePartitionVtl/EnableVpVtl), so creating a VM and a vCPU is among them;
 * KVM_GET_API_VERSION, KVM_CHECK_EXTENSION and KVM_GET_VCPU_MMAP_SIZE (open time) are not.
 */
struct kvm_request {
	unsigned long nr;
	const char *name;
};
#define R(req) { req, #req }

static const struct kvm_request vcpu_ioctls[] = {
	R(KVM_RUN),
	R(KVM_GET_REGS), R(KVM_SET_REGS),
	R(KVM_GET_SREGS), R(KVM_SET_SREGS),
	R(KVM_GET_MSRS), R(KVM_SET_MSRS),
	R(KVM_GET_VCPU_EVENTS), R(KVM_SET_VCPU_EVENTS),
	R(KVM_GET_DEBUGREGS), R(KVM_SET_DEBUGREGS),
	R(KVM_INTERRUPT),              /* the userspace interrupt controller delivers a vector */
	R(KVM_GET_TSC_KHZ),
	R(KVM_SET_CPUID2),
	R(KVM_SET_USER_MEMORY_REGION), /* protections and overlays change memory slots */
	R(KVM_CREATE_VM),              /* EnablePartitionVtl (machine type 0 only) */
	R(KVM_SET_TSS_ADDR),
	R(KVM_ENABLE_CAP),             /* KVM_CAP_X86_USER_SPACE_MSR for the new VM */
	R(KVM_X86_SET_MSR_FILTER),
	R(KVM_CREATE_VCPU),            /* EnableVpVtl */
	R(KVM_GET_SUPPORTED_CPUID),    /* the new vCPU's CPUID table */
	R(KVM_HAS_DEVICE_ATTR),        /* the new vCPU's TSC offset = VTL0's (KVM_VCPU_TSC_OFFSET) */
	R(KVM_GET_DEVICE_ATTR),
	R(KVM_SET_DEVICE_ATTR),
};

/* What src/vmm/kvm.c asks only while opening /dev/kvm, before any role is entered. */
static const struct kvm_request setup_ioctls[] = {
	R(KVM_GET_API_VERSION), R(KVM_CHECK_EXTENSION), R(KVM_GET_VCPU_MMAP_SIZE),
};

static const struct entry vcpu_only[] = {
	E(ioctl, KVM_IOCTLS),        /* only the requests in vcpu_ioctls[] */
	E(sched_getaffinity, ANY),   /* sysconf(_SC_NPROCESSORS_ONLN) once /sys cannot be opened */
};

#if SANDBOX_ASAN
/*
 * AddressSanitizer/LeakSanitizer builds only (build-san): the runtime reports errors and checks
 * for leaks at exit, which needs to read /proc/self/maps, stop the other threads with ptrace from
 * a helper thread and symbolize. Release builds never get these.
 */
static const struct entry sanitizer[] = {
	E(read, ANY), E(lseek, ANY), E(getdents, ANY), E(getdents64, ANY), E(readlink, ANY),
	E(clone, ANY), E(ptrace, ANY), E(wait4, ANY), E(prctl, ANY), E(sigaltstack, ANY),
	E(rt_sigaction, ANY), E(sched_getaffinity, ANY), E(getppid, ANY), E(fstat, ANY),
	E(newfstatat, ANY), E(mremap, ANY), E(fcntl, ANY),
};
#endif

/* SCMP_A0() and friends leave datum_b out, which clang's -Wmissing-field-initializers refuses. */
static struct scmp_arg_cmp eq(unsigned arg, uint64_t value)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = SCMP_CMP_EQ, .datum_a = value, .datum_b = 0 };
}

static struct scmp_arg_cmp masked_eq(unsigned arg, uint64_t mask, uint64_t value)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = mask, .datum_b = value };
}

const char *vmm_sandbox_role_name(enum vmm_thread_role role)
{
	return role == VMM_ROLE_VCPU ? "vcpu" : "main";
}

/* ioctl(fd, cmd, arg) with cmd one of vcpu_ioctls; the kernel reads cmd as 32 bits. */
static int add_ioctls(scmp_filter_ctx ctx)
{
	for (size_t i = 0; i < sizeof(vcpu_ioctls) / sizeof(vcpu_ioctls[0]); i++) {
		int ret;

		if (vcpu_ioctls[i].nr == KVM_CREATE_VM)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2,
					       masked_eq(1, 0xffffffffu, KVM_CREATE_VM),
					       eq(2, 0));
		else
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					       masked_eq(1, 0xffffffffu, vcpu_ioctls[i].nr));
		if (ret)
			return ret;
	}
	return 0;
}

static int add(scmp_filter_ctx ctx, const struct entry *e, pid_t pid)
{
	uint32_t allow = SCMP_ACT_ALLOW;
	int ret;

	switch (e->rule) {
	case ANY:
		return seccomp_rule_add(ctx, allow, e->nr, 0);
	case STD_FD:
		ret = seccomp_rule_add(ctx, allow, e->nr, 1, eq(0, 1));
		return ret ? ret : seccomp_rule_add(ctx, allow, e->nr, 1, eq(0, 2));
	case NO_EXEC:
		return seccomp_rule_add(ctx, allow, e->nr, 1, masked_eq(2, PROT_EXEC, 0));
	case OWN_KICK:
		ret = seccomp_rule_add(ctx, allow, e->nr, 2, eq(0, (uint64_t)pid),
				       eq(2, SIGUSR1));
		return ret ? ret : seccomp_rule_add(ctx, allow, e->nr, 2, eq(0, (uint64_t)pid),
						   eq(2, SIGABRT));
	case DENY_EACCES:
#if SANDBOX_ASAN
		/* LeakSanitizer reads /proc/self/task and /proc/self/maps at exit. */
		return seccomp_rule_add(ctx, allow, e->nr, 0);
#else
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), e->nr, 0);
#endif
	case KVM_IOCTLS:
		return add_ioctls(ctx);
	}
	return -EINVAL;
}

static int add_all(scmp_filter_ctx ctx, const struct entry *list, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++) {
		int ret = add(ctx, &list[i], pid);
		/* -EEXIST: the same call with the same action is already in (sanitizer extras). */
		if (ret && ret != -EEXIST)
			return ret;
	}
	return 0;
}

int vmm_sandbox_enter(enum vmm_thread_role role)
{
	scmp_filter_ctx ctx;
	pid_t pid = getpid();
	int ret;

	if (role != VMM_ROLE_MAIN && role != VMM_ROLE_VCPU)
		return -EINVAL;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	/* The filter covers this thread only (no TSYNC); NO_NEW_PRIVS is set, as seccomp requires. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (!ret)
		ret = add_all(ctx, common, sizeof(common) / sizeof(common[0]), pid);
	if (!ret && role == VMM_ROLE_VCPU)
		ret = add_all(ctx, vcpu_only, sizeof(vcpu_only) / sizeof(vcpu_only[0]), pid);
#if SANDBOX_ASAN
	if (!ret)
		ret = add_all(ctx, sanitizer, sizeof(sanitizer) / sizeof(sanitizer[0]), pid);
	/* isatty(2) before a report (colours). */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, masked_eq(1, 0xffffffffu, TCGETS));
#endif
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret > 0 ? -ret : ret;
}

size_t vmm_sandbox_kvm_requests(bool run_time, const char **names, size_t max)
{
	const struct kvm_request *list = run_time ? vcpu_ioctls : setup_ioctls;
	size_t n = run_time ? sizeof(vcpu_ioctls) / sizeof(vcpu_ioctls[0]) :
			      sizeof(setup_ioctls) / sizeof(setup_ioctls[0]);

	for (size_t i = 0; i < n && i < max; i++)
		names[i] = list[i].name;
	return n < max ? n : max;
}

size_t vmm_sandbox_allowed(enum vmm_thread_role role, const char **names, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (common[i].rule != DENY_EACCES && n < max)
			names[n++] = common[i].name;
	if (role == VMM_ROLE_VCPU)
		for (size_t i = 0; i < sizeof(vcpu_only) / sizeof(vcpu_only[0]); i++)
			if (n < max)
				names[n++] = vcpu_only[i].name;
	return n;
}
