/* SPDX-License-Identifier: MIT */
/*
 * Least privilege: per-thread seccomp filters (libseccomp) for hvrun's two kinds of threads once
 * set-up is over. docs/security.md lists every allowed system call of each role and why.
 *
 * Anything outside a role's list kills the whole process (SCMP_ACT_KILL_PROCESS, the shell shows
 * status 159, "Bad system call"), except opening files, which fails with EACCES (glibc probes
 * files, e.g. sysconf(_SC_NPROCESSORS_ONLN), and copes with a refusal).
 *
 * A filter applies to the calling thread and to threads it creates afterwards; it can never be
 * removed. So:
 *   - VMM_ROLE_VCPU: first thing in every thread that runs a VP (before part_run / vp_run);
 *   - VMM_ROLE_MAIN: in the main thread after the last pthread_create, before joining.
 */
#ifndef VMM_SANDBOX_H
#define VMM_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

enum vmm_thread_role {
	VMM_ROLE_MAIN,      /* waits for the VP threads, forwards signals, reports, tears down, exits */
	VMM_ROLE_VCPU,      /* runs a VP: KVM_RUN and the VM/vCPU ioctls of src/vmm/kvm.c */
};

/*
 * Install the calling thread's filter for `role`. 0, or a negative errno (nothing is installed
 * then: the caller must not run the guest unconfined without being told to, see --no-sandbox).
 */
int vmm_sandbox_enter(enum vmm_thread_role role);

/* "main" / "vcpu". */
const char *vmm_sandbox_role_name(enum vmm_thread_role role);

/*
 * The names of the system calls `role` allows, one per entry (for docs and tests); returns the
 * count written (at most max). Argument restrictions are described in docs/security.md.
 */
size_t vmm_sandbox_allowed(enum vmm_thread_role role, const char **names, size_t max);

/*
 * The KVM ioctl requests by name: those the vcpu role allows (run_time), or those src/vmm/kvm.c
 * makes only while opening /dev/kvm (set-up). A unit test checks that every request kvm.c makes
 * is in one of the two lists, so a new ioctl cannot be added without deciding which.
 */
size_t vmm_sandbox_kvm_requests(bool run_time, const char **names, size_t max);

#endif /* VMM_SANDBOX_H */
