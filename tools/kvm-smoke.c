/*
 * kvm-smoke.c - minimal check that /dev/kvm works (used with tools/kvm-nested).
 *
 * Build:  cc -O2 -Wall -o kvm-smoke tools/kvm-smoke.c
 * Usage:  kvm-smoke [--bench N]
 *
 * Checks, in order:
 *   1. /dev/kvm opens and KVM_GET_API_VERSION returns 12;
 *   2. KVM_CHECK_EXTENSION for a few capabilities (reported, not required);
 *   3. a real-mode guest running "mov al,0x42; out 0xf4,al; hlt" exits with
 *      KVM_EXIT_IO on port 0xf4 with data 0x42, then KVM_EXIT_HLT (required);
 *   4. user-space MSR exits via KVM_X86_SET_MSR_FILTER (reported);
 *   5. vmcall / vmmcall in the guest (reported);
 *   6. round-trip cost of N (default 10000) I/O exits (reported).
 * Every result is a line starting with "KVM-SMOKE: ".  Exit status 0 when the
 * required checks (1 and 3) pass, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE 0x10000
#define CODE_GPA 0x1000

static int kvm_fd = -1;
static int run_size;

struct vm {
	int fd, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
};

static void vm_close(struct vm *v)
{
	if (v->run && v->run != MAP_FAILED)
		munmap(v->run, run_size);
	if (v->mem && v->mem != MAP_FAILED)
		munmap(v->mem, MEM_SIZE);
	if (v->vcpu >= 0)
		close(v->vcpu);
	if (v->fd >= 0)
		close(v->fd);
	memset(v, 0, sizeof(*v));
	v->fd = v->vcpu = -1;
}

/* Create a VM with MEM_SIZE bytes at GPA 0, one vCPU in real mode at
 * CS=0:IP=CODE_GPA, running the given code. */
static int vm_open(struct vm *v, const uint8_t *code, size_t len)
{
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	memset(v, 0, sizeof(*v));
	v->fd = v->vcpu = -1;
	v->fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (v->fd < 0) {
		printf("KVM-SMOKE: KVM_CREATE_VM failed: %s\n", strerror(errno));
		return -1;
	}
	v->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED) {
		printf("KVM-SMOKE: mmap guest memory failed: %s\n", strerror(errno));
		return -1;
	}
	memcpy(v->mem + CODE_GPA, code, len);
	memset(&region, 0, sizeof(region));
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (uintptr_t)v->mem;
	if (ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		printf("KVM-SMOKE: KVM_SET_USER_MEMORY_REGION failed: %s\n", strerror(errno));
		return -1;
	}
	v->vcpu = ioctl(v->fd, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0) {
		printf("KVM-SMOKE: KVM_CREATE_VCPU failed: %s\n", strerror(errno));
		return -1;
	}
	v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED) {
		printf("KVM-SMOKE: mmap kvm_run failed: %s\n", strerror(errno));
		return -1;
	}
	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs) < 0) {
		printf("KVM-SMOKE: KVM_GET_SREGS failed: %s\n", strerror(errno));
		return -1;
	}
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) < 0) {
		printf("KVM-SMOKE: KVM_SET_SREGS failed: %s\n", strerror(errno));
		return -1;
	}
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rflags = 0x2;
	if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0) {
		printf("KVM-SMOKE: KVM_SET_REGS failed: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* KVM_RUN, giving up after RUN_TIMEOUT seconds (SIGALRM makes it -EINTR). */
#define RUN_TIMEOUT 20
static int vm_run(struct vm *v)
{
	struct kvm_regs regs;
	int r, e;

	alarm(RUN_TIMEOUT);
	r = ioctl(v->vcpu, KVM_RUN, 0);
	e = errno;
	alarm(0);
	if (r < 0 && e == EINTR) {
		memset(&regs, 0, sizeof(regs));
		ioctl(v->vcpu, KVM_GET_REGS, &regs);
		printf("KVM-SMOKE: KVM_RUN did not return within %d s (guest rip=0x%llx)\n",
		       RUN_TIMEOUT, (unsigned long long)regs.rip);
		return -1;
	}
	if (r < 0) {
		printf("KVM-SMOKE: KVM_RUN failed: %s\n", strerror(e));
		return -1;
	}
	return (int)v->run->exit_reason;
}

static uint32_t io_data(struct vm *v)
{
	uint32_t d = 0;

	memcpy(&d, (uint8_t *)v->run + v->run->io.data_offset, v->run->io.size);
	return d;
}

static int is_out(struct vm *v, uint16_t port)
{
	return v->run->exit_reason == KVM_EXIT_IO &&
	       v->run->io.direction == KVM_EXIT_IO_OUT && v->run->io.port == port;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void check_caps(void)
{
	static const struct {
		const char *name;
		long cap;
	} caps[] = {
		{ "KVM_CAP_IRQCHIP", KVM_CAP_IRQCHIP },
		{ "KVM_CAP_SYNC_REGS", KVM_CAP_SYNC_REGS },
		{ "KVM_CAP_X86_USER_SPACE_MSR", KVM_CAP_X86_USER_SPACE_MSR },
		{ "KVM_CAP_X86_MSR_FILTER", KVM_CAP_X86_MSR_FILTER },
		{ "KVM_CAP_READONLY_MEM", KVM_CAP_READONLY_MEM },
		{ "KVM_CAP_IMMEDIATE_EXIT", KVM_CAP_IMMEDIATE_EXIT },
		{ "KVM_CAP_EXIT_HYPERCALL", KVM_CAP_EXIT_HYPERCALL },
		{ "KVM_CAP_NESTED_STATE", KVM_CAP_NESTED_STATE },
		{ "KVM_CAP_NR_MEMSLOTS", KVM_CAP_NR_MEMSLOTS },
		{ "KVM_CAP_MAX_VCPUS", KVM_CAP_MAX_VCPUS },
	};
	int vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	size_t i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		int r = ioctl(kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap);
		int rv = vm >= 0 ? ioctl(vm, KVM_CHECK_EXTENSION, caps[i].cap) : -1;

		printf("KVM-SMOKE: cap %s=%d (vm: %d)\n", caps[i].name, r, rv);
	}
	if (vm >= 0) {
		int r = ioctl(vm, KVM_CREATE_IRQCHIP, 0);

		printf("KVM-SMOKE: KVM_CREATE_IRQCHIP %s\n",
		       r == 0 ? "ok" : strerror(errno));
		close(vm);
	}
}

/* mov al,0x42; out 0xf4,al; hlt */
static int test_io(void)
{
	static const uint8_t code[] = { 0xb0, 0x42, 0xe6, 0xf4, 0xf4 };
	struct vm v;
	int ok = 0;

	if (vm_open(&v, code, sizeof(code)) == 0) {
		int r = vm_run(&v);

		if (r == KVM_EXIT_IO && is_out(&v, 0xf4) && v.run->io.size == 1 &&
		    io_data(&v) == 0x42) {
			r = vm_run(&v);
			if (r == KVM_EXIT_HLT)
				ok = 1;
			else
				printf("KVM-SMOKE: io: expected KVM_EXIT_HLT, got exit %d\n", r);
		} else if (r >= 0) {
			printf("KVM-SMOKE: io: expected KVM_EXIT_IO port 0xf4 data 0x42, got exit %d\n", r);
		}
	}
	vm_close(&v);
	printf("KVM-SMOKE: io-exit %s\n", ok ? "ok" : "FAILED");
	return ok;
}

/* mov ecx,0x174; rdmsr; out 0xf4,eax; hlt -- with MSR 0x174 reads denied by
 * an MSR filter so that they exit to user space. */
static void test_msr(void)
{
	static const uint8_t code[] = { 0x66, 0xb9, 0x74, 0x01, 0x00, 0x00,
					0x0f, 0x32, 0x66, 0xe7, 0xf4, 0xf4 };
	struct kvm_enable_cap cap;
	struct kvm_msr_filter filter;
	uint8_t deny = 0;
	struct vm v;
	const char *res = "FAILED";

	if (vm_open(&v, code, sizeof(code)) < 0)
		goto out;
	memset(&cap, 0, sizeof(cap));
	cap.cap = KVM_CAP_X86_USER_SPACE_MSR;
	cap.args[0] = KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN;
	if (ioctl(v.fd, KVM_ENABLE_CAP, &cap) < 0) {
		printf("KVM-SMOKE: msr: KVM_ENABLE_CAP(X86_USER_SPACE_MSR): %s\n", strerror(errno));
		goto out;
	}
	memset(&filter, 0, sizeof(filter));
	filter.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
	filter.ranges[0].flags = KVM_MSR_FILTER_READ;
	filter.ranges[0].base = 0x174;
	filter.ranges[0].nmsrs = 1;
	filter.ranges[0].bitmap = &deny;
	if (ioctl(v.fd, KVM_X86_SET_MSR_FILTER, &filter) < 0) {
		printf("KVM-SMOKE: msr: KVM_X86_SET_MSR_FILTER: %s\n", strerror(errno));
		goto out;
	}
	if (vm_run(&v) != KVM_EXIT_X86_RDMSR || v.run->msr.index != 0x174) {
		printf("KVM-SMOKE: msr: expected KVM_EXIT_X86_RDMSR 0x174, got exit %u\n",
		       v.run->exit_reason);
		goto out;
	}
	v.run->msr.error = 0;
	v.run->msr.data = 0x1122334455667788ull;
	if (vm_run(&v) != KVM_EXIT_IO || !is_out(&v, 0xf4) || v.run->io.size != 4 ||
	    io_data(&v) != 0x55667788) {
		printf("KVM-SMOKE: msr: expected out 0xf4 eax=0x55667788, got exit %u\n",
		       v.run->exit_reason);
		goto out;
	}
	res = "ok";
out:
	vm_close(&v);
	printf("KVM-SMOKE: msr-filter-exit %s\n", res);
}

/* mov eax,1000; <insn>; hlt -- KVM handles the (unknown) hypercall in the
 * kernel, returning -KVM_ENOSYS (-1000) in eax. */
static void test_hypercall(const char *name, uint8_t modrm)
{
	uint8_t code[] = { 0x66, 0xb8, 0xe8, 0x03, 0x00, 0x00,
			   0x0f, 0x01, modrm, 0xf4 };
	struct kvm_regs regs;
	struct vm v;
	int r;

	if (vm_open(&v, code, sizeof(code)) < 0) {
		printf("KVM-SMOKE: %s FAILED (setup)\n", name);
		goto out;
	}
	r = vm_run(&v);
	if (ioctl(v.vcpu, KVM_GET_REGS, &regs) < 0)
		memset(&regs, 0, sizeof(regs));
	if (r == KVM_EXIT_HLT && (uint32_t)regs.rax == (uint32_t)-1000)
		printf("KVM-SMOKE: %s ok (eax=-KVM_ENOSYS, rip=0x%llx)\n", name,
		       (unsigned long long)regs.rip);
	else
		printf("KVM-SMOKE: %s FAILED (exit %d, rax=0x%llx, rip=0x%llx)\n", name,
		       r, (unsigned long long)regs.rax, (unsigned long long)regs.rip);
out:
	vm_close(&v);
}

/* mov al,0x42; 1: out 0xf4,al; jmp 1b */
static void bench_io(long n)
{
	static const uint8_t code[] = { 0xb0, 0x42, 0xe6, 0xf4, 0xeb, 0xfc };
	struct vm v;
	double t0, t1;
	long i;

	if (vm_open(&v, code, sizeof(code)) < 0)
		goto out;
	if (vm_run(&v) != KVM_EXIT_IO) /* warm-up */
		goto fail;
	alarm(RUN_TIMEOUT + n / 100);
	t0 = now();
	for (i = 0; i < n; i++)
		if (ioctl(v.vcpu, KVM_RUN, 0) < 0 || !is_out(&v, 0xf4))
			break;
	t1 = now();
	alarm(0);
	if (i < n) {
		printf("KVM-SMOKE: bench stopped after %ld exits: %s\n", i,
		       errno == EINTR ? "timeout" : strerror(errno));
		goto fail;
	}
	printf("KVM-SMOKE: bench %ld io exits in %.3f s = %.1f us/exit\n", n,
	       t1 - t0, (t1 - t0) * 1e6 / n);
	goto out;
fail:
	printf("KVM-SMOKE: bench FAILED (exit %u)\n", v.run ? v.run->exit_reason : 0);
out:
	vm_close(&v);
}

int main(int argc, char **argv)
{
	long bench = 10000;
	int api, ok;

	struct sigaction sa;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	if (argc == 3 && strcmp(argv[1], "--bench") == 0) {
		bench = atol(argv[2]);
	} else if (argc != 1) {
		fprintf(stderr, "usage: %s [--bench N]\n", argv[0]);
		return 2;
	}
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		printf("KVM-SMOKE: open /dev/kvm failed: %s\n", strerror(errno));
		return 1;
	}
	api = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	printf("KVM-SMOKE: KVM_GET_API_VERSION=%d %s\n", api, api == 12 ? "ok" : "FAILED");
	if (api != 12)
		return 1;
	run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0) {
		printf("KVM-SMOKE: KVM_GET_VCPU_MMAP_SIZE failed: %s\n", strerror(errno));
		return 1;
	}
	check_caps();
	ok = test_io();
	test_msr();
	test_hypercall("vmcall", 0xc1);
	test_hypercall("vmmcall", 0xd9);
	if (bench > 0)
		bench_io(bench);
	printf("KVM-SMOKE: %s\n", ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}
