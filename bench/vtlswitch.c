/* SPDX-License-Identifier: MIT */
/*
 * The VTL switching design choice, measured on raw KVM: two VMs (VTL0, VTL1), one vCPU each,
 * a guest loop of `out` in both. Design A: one thread runs the active vCPU and switches which
 * vCPU it runs (hvrun's). Design B: one thread per vCPU, handing off through a futex. Prints the
 * median round trip of each and of a plain port exit, and the ratios.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct vm {
	int fd, vcpu;
	struct kvm_run *run;
	uint8_t *mem;
};

static int kvm;
static size_t run_size;

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* Real-mode guest at 0x1000: `1: out %al, $0x10; jmp 1b`. */
static int vm_create(struct vm *v)
{
	static const uint8_t code[] = { 0xe6, 0x10, 0xeb, 0xfc };
	struct kvm_userspace_memory_region r;
	struct kvm_sregs s;
	struct kvm_regs regs;

	v->fd = ioctl(kvm, KVM_CREATE_VM, 0);
	if (v->fd < 0)
		return -1;
	v->mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(v->mem + 0x1000, code, sizeof(code));
	r = (struct kvm_userspace_memory_region){ .slot = 0, .guest_phys_addr = 0, .memory_size = 0x10000,
						  .userspace_addr = (uint64_t)(uintptr_t)v->mem };
	if (ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -1;
	v->vcpu = ioctl(v->fd, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		return -1;
	v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (ioctl(v->vcpu, KVM_GET_SREGS, &s) < 0)
		return -1;
	s.cs.base = 0;
	s.cs.selector = 0;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &s) < 0)
		return -1;
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 2;
	return ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0 ? -1 : 0;
}

static int run_once(struct vm *v)
{
	if (ioctl(v->vcpu, KVM_RUN, 0) < 0 || v->run->exit_reason != KVM_EXIT_IO)
		return -1;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#define N 2000
static double samples[N];

static double median(void)
{
	qsort(samples, N, sizeof(samples[0]), cmp);
	return samples[N / 2];
}

/* Design B: each thread owns a vCPU; `turn` says whose it is (futex handoff). */
static struct vm vms[2];
static volatile int turn;
static int rounds;

static void futex_wait(volatile int *addr, int val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(volatile int *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *owner(void *arg)
{
	int me = (int)(intptr_t)arg;

	for (int i = 0; i < rounds; i++) {
		while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != me)
			futex_wait(&turn, !me);
		if (run_once(&vms[me]))
			exit(1);
		__atomic_store_n(&turn, !me, __ATOMIC_RELEASE);
		futex_wake(&turn);
	}
	return NULL;
}

int main(void)
{
	double pio, a, b;
	pthread_t t0, t1;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("SKIP: /dev/kvm: %s\n", strerror(errno));
		return 77;
	}
	run_size = (size_t)ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm_create(&vms[0]) || vm_create(&vms[1])) {
		perror("vm");
		return 1;
	}
	for (int i = 0; i < 100; i++)
		run_once(&vms[0]), run_once(&vms[1]);

	for (int i = 0; i < N; i++) {
		double t = now_ns();
		run_once(&vms[0]);
		samples[i] = now_ns() - t;
	}
	pio = median();

	/* Design A: one thread, alternating vCPUs (a call exit, then a return exit). */
	for (int i = 0; i < N; i++) {
		double t = now_ns();
		run_once(&vms[0]);
		run_once(&vms[1]);
		samples[i] = now_ns() - t;
	}
	a = median();

	/* Design B: two long-lived threads; five batches of N/5 round trips, the median batch. */
	rounds = N / 5;
	for (int i = 0; i < 5; i++) {
		double t = now_ns();
		turn = 0;
		pthread_create(&t0, NULL, owner, (void *)0);
		pthread_create(&t1, NULL, owner, (void *)1);
		pthread_join(t0, NULL);
		pthread_join(t1, NULL);
		samples[i] = (now_ns() - t) / rounds;
	}
	qsort(samples, 5, sizeof(samples[0]), cmp);
	b = samples[2];

	printf("vtl-switch: port exit %.1f us; round trip A (one thread, two vCPUs) %.1f us = %.2fx; "
	       "B (thread per vCPU, futex handoff) %.1f us = %.2fx\n",
	       pio / 1e3, a / 1e3, a / pio, b / 1e3, b / pio);
	printf("BENCH vtlswitch pio_ns=%.0f design_a_ns=%.0f design_b_ns=%.0f\n", pio, a, b);
	return 0;
}
