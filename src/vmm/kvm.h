/* SPDX-License-Identifier: MIT */
/* The thin KVM layer: every ioctl hvrun issues goes through these functions. */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

struct vmm_kvm {
	int fd;
	size_t run_size;          /* KVM_GET_VCPU_MMAP_SIZE */
	int max_memslots;
	int has_readonly_mem;
};

struct vmm_vm {
	int fd;
	const struct vmm_kvm *kvm;
};

struct vmm_vcpu {
	int fd;
	uint32_t id;
	struct kvm_run *run;
	size_t run_size;
};

/* Opens /dev/kvm and checks the API version and every capability hvrun needs. */
int vmm_kvm_open(struct vmm_kvm *kvm, const char *path);
void vmm_kvm_close(struct vmm_kvm *kvm);
/* Can /dev/kvm be opened at all? (tests use this to decide on SKIP) */
int vmm_kvm_available(const char *path);

int vmm_kvm_supported_cpuid(const struct vmm_kvm *kvm, struct kvm_cpuid2 **out);

int vmm_vm_create(const struct vmm_kvm *kvm, struct vmm_vm *vm);
void vmm_vm_destroy(struct vmm_vm *vm);
int vmm_vm_set_memory(struct vmm_vm *vm, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size,
		      void *hva);
/* Send MSR accesses in [first, first + count) to userspace (KVM_EXIT_X86_RDMSR/WRMSR). */
int vmm_vm_trap_msrs(struct vmm_vm *vm, uint32_t first, uint32_t count);

int vmm_vcpu_create(struct vmm_vm *vm, uint32_t id, struct vmm_vcpu *vcpu);
void vmm_vcpu_destroy(struct vmm_vcpu *vcpu);
int vmm_vcpu_set_cpuid(struct vmm_vcpu *vcpu, const struct kvm_cpuid2 *cpuid);
int vmm_vcpu_get_regs(struct vmm_vcpu *vcpu, struct kvm_regs *regs);
int vmm_vcpu_set_regs(struct vmm_vcpu *vcpu, const struct kvm_regs *regs);
int vmm_vcpu_get_sregs(struct vmm_vcpu *vcpu, struct kvm_sregs *sregs);
int vmm_vcpu_set_sregs(struct vmm_vcpu *vcpu, const struct kvm_sregs *sregs);
int vmm_vcpu_get_msrs(struct vmm_vcpu *vcpu, const uint32_t *index, uint64_t *value, unsigned n);
int vmm_vcpu_set_msrs(struct vmm_vcpu *vcpu, const uint32_t *index, const uint64_t *value, unsigned n);
int vmm_vcpu_inject_exception(struct vmm_vcpu *vcpu, uint8_t vector, int has_error, uint32_t error);
/*
 * Make `dst`'s guest TSC equal `src`'s (vCPUs of different VMs start their TSCs at different
 * times): copies the TSC offset (KVM_VCPU_TSC_OFFSET), or the TSC value where that is missing.
 */
int vmm_vcpu_sync_tsc(struct vmm_vcpu *dst, struct vmm_vcpu *src);
/* KVM_INTERRUPT: queue an external interrupt (userspace interrupt controller). */
int vmm_vcpu_interrupt(struct vmm_vcpu *vcpu, uint8_t vector);
int vmm_vcpu_get_debugregs(struct vmm_vcpu *vcpu, struct kvm_debugregs *dr);
int vmm_vcpu_set_debugregs(struct vmm_vcpu *vcpu, const struct kvm_debugregs *dr);
/* The guest TSC frequency in kHz (KVM_GET_TSC_KHZ), or a negative errno. */
int vmm_vcpu_tsc_khz(struct vmm_vcpu *vcpu);
/* KVM_RUN once. Returns 0 on an exit to handle, -EINTR when interrupted, or another -errno. */
int vmm_vcpu_run(struct vmm_vcpu *vcpu);

#endif /* VMM_KVM_H */
