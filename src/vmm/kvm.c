/* SPDX-License-Identifier: MIT */
/* Owner of every KVM ioctl: capability checks with fix-it messages, VMs, vCPUs, memory, run. */
#include "vmm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/log.h"

#define KVM_TSS_ADDR 0xfffbd000ul

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r < 0 && errno == EAGAIN);
	return r < 0 ? -errno : r;
}

int vmm_kvm_available(const char *path)
{
	int fd = open(path ? path : "/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

struct cap_need {
	int cap;
	const char *name;
	const char *why;
};

static const struct cap_need required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest memory slots" },
	{ KVM_CAP_SYNC_REGS, "KVM_CAP_SYNC_REGS", "cheap register access on every exit" },
	{ KVM_CAP_X86_USER_SPACE_MSR, "KVM_CAP_X86_USER_SPACE_MSR", "Hyper-V synthetic MSRs" },
	{ KVM_CAP_X86_MSR_FILTER, "KVM_CAP_X86_MSR_FILTER", "Hyper-V synthetic MSRs" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "the Hyper-V CPUID leaves" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", "running 64-bit guests" },
};

int vmm_kvm_open(struct vmm_kvm *kvm, const char *path)
{
	const char *dev = path ? path : "/dev/kvm";
	int ret;

	memset(kvm, 0, sizeof(*kvm));
	kvm->fd = open(dev, O_RDWR | O_CLOEXEC);
	if (kvm->fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			pr_err("%s does not exist: load the kvm module (modprobe kvm_intel or kvm_amd) "
			       "and enable virtualization in the firmware", dev);
		else if (ret == -EACCES)
			pr_err("cannot open %s: permission denied (run as root or join the kvm group)", dev);
		else
			pr_err("cannot open %s: %s", dev, strerror(-ret));
		return ret;
	}
	ret = xioctl(kvm->fd, KVM_GET_API_VERSION, NULL);
	if (ret != KVM_API_VERSION) {
		pr_err("%s speaks KVM API %d, hvrun needs %d: upgrade the kernel", dev, ret, KVM_API_VERSION);
		ret = -ENOTSUP;
		goto fail;
	}
	pr_info("loader: %s speaks KVM API %d", dev, ret);
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		int have = xioctl(kvm->fd, KVM_CHECK_EXTENSION, (void *)(long)required_caps[i].cap) > 0;
		pr_info("loader: %s (%s): %s", required_caps[i].name, required_caps[i].why,
			have ? "yes" : "MISSING");
		if (!have) {
			pr_err("KVM lacks %s (needed for %s): use a kernel with it (Linux 5.10 or later)",
			       required_caps[i].name, required_caps[i].why);
			ret = -ENOTSUP;
			goto fail;
		}
	}
	ret = xioctl(kvm->fd, KVM_CHECK_EXTENSION, (void *)(long)KVM_CAP_SYNC_REGS);
	if ((ret & (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) != (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) {
		pr_err("KVM_CAP_SYNC_REGS does not cover REGS and SREGS (%#x)", ret);
		ret = -ENOTSUP;
		goto fail;
	}
	kvm->max_memslots = xioctl(kvm->fd, KVM_CHECK_EXTENSION, (void *)(long)KVM_CAP_NR_MEMSLOTS);
	kvm->has_readonly_mem = xioctl(kvm->fd, KVM_CHECK_EXTENSION, (void *)(long)KVM_CAP_READONLY_MEM) > 0;
	ret = xioctl(kvm->fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if (ret < (int)sizeof(struct kvm_run)) {
		pr_err("KVM_GET_VCPU_MMAP_SIZE returned %d", ret);
		ret = ret < 0 ? ret : -EINVAL;
		goto fail;
	}
	kvm->run_size = (size_t)ret;
	return 0;
fail:
	close(kvm->fd);
	kvm->fd = -1;
	return ret;
}

void vmm_kvm_close(struct vmm_kvm *kvm)
{
	if (kvm->fd >= 0)
		close(kvm->fd);
	kvm->fd = -1;
}

int vmm_kvm_supported_cpuid(const struct vmm_kvm *kvm, struct kvm_cpuid2 **out)
{
	for (unsigned n = 64; n <= 1024; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		int ret;

		if (!c)
			return -ENOMEM;
		c->nent = n;
		ret = xioctl(kvm->fd, KVM_GET_SUPPORTED_CPUID, c);
		if (ret == 0) {
			*out = c;
			return 0;
		}
		free(c);
		if (ret != -E2BIG)
			return ret;
	}
	return -E2BIG;
}

int vmm_vm_create(const struct vmm_kvm *kvm, struct vmm_vm *vm)
{
	int ret;

	vm->kvm = kvm;
	vm->fd = xioctl(kvm->fd, KVM_CREATE_VM, (void *)0);
	if (vm->fd < 0) {
		ret = vm->fd;
		pr_err("KVM_CREATE_VM failed: %s", strerror(-ret));
		return ret;
	}
	ret = xioctl(vm->fd, KVM_SET_TSS_ADDR, (void *)KVM_TSS_ADDR);
	if (ret < 0) {
		pr_err("KVM_SET_TSS_ADDR failed: %s", strerror(-ret));
		close(vm->fd);
		vm->fd = -1;
		return ret;
	}
	return 0;
}

void vmm_vm_destroy(struct vmm_vm *vm)
{
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
}

int vmm_vm_set_memory(struct vmm_vm *vm, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size,
		      void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};
	int ret = xioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);

	if (ret < 0)
		pr_err("KVM_SET_USER_MEMORY_REGION slot %u [%#llx, +%#llx) failed: %s", slot,
		       (unsigned long long)gpa, (unsigned long long)size, strerror(-ret));
	return ret < 0 ? ret : 0;
}

int vmm_vm_trap_msrs(struct vmm_vm *vm, uint32_t first, uint32_t count)
{
	static uint8_t deny_bitmap[0x200 / 8];  /* all zero: every MSR in the range exits */
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args[0] = KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN,
	};
	struct kvm_msr_filter filter = {
		.flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
		.ranges[0] = {
			.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			.nmsrs = count,
			.base = first,
			.bitmap = deny_bitmap,
		},
	};
	int ret;

	if (count == 0 || count > sizeof(deny_bitmap) * 8)
		return -EINVAL;
	ret = xioctl(vm->fd, KVM_ENABLE_CAP, &cap);
	if (ret < 0) {
		pr_err("enabling KVM_CAP_X86_USER_SPACE_MSR failed: %s", strerror(-ret));
		return ret;
	}
	ret = xioctl(vm->fd, KVM_X86_SET_MSR_FILTER, &filter);
	if (ret < 0)
		pr_err("KVM_X86_SET_MSR_FILTER failed: %s", strerror(-ret));
	return ret < 0 ? ret : 0;
}

int vmm_vcpu_create(struct vmm_vm *vm, uint32_t id, struct vmm_vcpu *vcpu)
{
	int ret;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->id = id;
	vcpu->fd = xioctl(vm->fd, KVM_CREATE_VCPU, (void *)(unsigned long)id);
	if (vcpu->fd < 0) {
		ret = vcpu->fd;
		pr_err("KVM_CREATE_VCPU %u failed: %s", id, strerror(-ret));
		return ret;
	}
	vcpu->run_size = vm->kvm->run_size;
	vcpu->run = mmap(NULL, vcpu->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = -errno;
		pr_err("mmap of the vCPU run area failed: %s", strerror(-ret));
		close(vcpu->fd);
		vcpu->fd = -1;
		vcpu->run = NULL;
		return ret;
	}
	vcpu->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	return 0;
}

void vmm_vcpu_destroy(struct vmm_vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

int vmm_vcpu_set_cpuid(struct vmm_vcpu *vcpu, const struct kvm_cpuid2 *cpuid)
{
	int ret = xioctl(vcpu->fd, KVM_SET_CPUID2, (void *)cpuid);

	if (ret < 0)
		pr_err("KVM_SET_CPUID2 failed: %s", strerror(-ret));
	return ret < 0 ? ret : 0;
}

int vmm_vcpu_get_regs(struct vmm_vcpu *vcpu, struct kvm_regs *regs)
{
	int ret = xioctl(vcpu->fd, KVM_GET_REGS, regs);
	return ret < 0 ? ret : 0;
}

int vmm_vcpu_set_regs(struct vmm_vcpu *vcpu, const struct kvm_regs *regs)
{
	int ret = xioctl(vcpu->fd, KVM_SET_REGS, (void *)regs);
	return ret < 0 ? ret : 0;
}

int vmm_vcpu_get_sregs(struct vmm_vcpu *vcpu, struct kvm_sregs *sregs)
{
	int ret = xioctl(vcpu->fd, KVM_GET_SREGS, sregs);
	return ret < 0 ? ret : 0;
}

int vmm_vcpu_set_sregs(struct vmm_vcpu *vcpu, const struct kvm_sregs *sregs)
{
	int ret = xioctl(vcpu->fd, KVM_SET_SREGS, (void *)sregs);
	return ret < 0 ? ret : 0;
}

/*
 * A kvm_msrs header followed by room for VMM_MSR_BATCH entries. A union rather than a struct
 * that embeds kvm_msrs (whose flexible array must be last) keeps the code ISO C for clang too.
 */
#define VMM_MSR_BATCH 16
union vmm_msr_buf {
	struct kvm_msrs hdr;
	unsigned char raw[sizeof(struct kvm_msrs) + VMM_MSR_BATCH * sizeof(struct kvm_msr_entry)];
};

int vmm_vcpu_get_msrs(struct vmm_vcpu *vcpu, const uint32_t *index, uint64_t *value, unsigned n)
{
	union vmm_msr_buf m;
	int ret;

	if (n > VMM_MSR_BATCH)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = n;
	for (unsigned i = 0; i < n; i++)
		m.hdr.entries[i].index = index[i];
	ret = xioctl(vcpu->fd, KVM_GET_MSRS, &m);
	if (ret < 0)
		return ret;
	if ((unsigned)ret != n)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		value[i] = m.hdr.entries[i].data;
	return 0;
}

int vmm_vcpu_set_msrs(struct vmm_vcpu *vcpu, const uint32_t *index, const uint64_t *value, unsigned n)
{
	union vmm_msr_buf m;
	int ret;

	if (n > VMM_MSR_BATCH)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = n;
	for (unsigned i = 0; i < n; i++) {
		m.hdr.entries[i].index = index[i];
		m.hdr.entries[i].data = value[i];
	}
	ret = xioctl(vcpu->fd, KVM_SET_MSRS, &m);
	if (ret < 0)
		return ret;
	return (unsigned)ret == n ? 0 : -EINVAL;
}

int vmm_vcpu_inject_exception(struct vmm_vcpu *vcpu, uint8_t vector, int has_error, uint32_t error)
{
	struct kvm_vcpu_events ev;
	int ret = xioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev);

	if (ret < 0)
		return ret;
	ev.exception.injected = 1;
	ev.exception.nr = vector;
	ev.exception.has_error_code = has_error ? 1 : 0;
	ev.exception.error_code = error;
	ev.flags = 0;
	ret = xioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev);
	return ret < 0 ? ret : 0;
}

int vmm_vcpu_get_debugregs(struct vmm_vcpu *vcpu, struct kvm_debugregs *dr)
{
	int ret = xioctl(vcpu->fd, KVM_GET_DEBUGREGS, dr);
	return ret < 0 ? ret : 0;
}

int vmm_vcpu_set_debugregs(struct vmm_vcpu *vcpu, const struct kvm_debugregs *dr)
{
	int ret = xioctl(vcpu->fd, KVM_SET_DEBUGREGS, (void *)dr);
	return ret < 0 ? ret : 0;
}

int vmm_vcpu_sync_tsc(struct vmm_vcpu *dst, struct vmm_vcpu *src)
{
	uint64_t offset;
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL,
		.attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uint64_t)(uintptr_t)&offset,
	};
	uint32_t tsc = 0x10;   /* IA32_TIME_STAMP_COUNTER */
	uint64_t value;

	if (xioctl(src->fd, KVM_HAS_DEVICE_ATTR, &attr) == 0 &&
	    xioctl(src->fd, KVM_GET_DEVICE_ATTR, &attr) == 0 &&
	    xioctl(dst->fd, KVM_SET_DEVICE_ATTR, &attr) == 0)
		return 0;
	if (vmm_vcpu_get_msrs(src, &tsc, &value, 1))
		return -EIO;
	return vmm_vcpu_set_msrs(dst, &tsc, &value, 1);
}

int vmm_vcpu_interrupt(struct vmm_vcpu *vcpu, uint8_t vector)
{
	struct kvm_interrupt irq = { .irq = vector };
	int ret = xioctl(vcpu->fd, KVM_INTERRUPT, &irq);

	return ret < 0 ? ret : 0;
}

int vmm_vcpu_tsc_khz(struct vmm_vcpu *vcpu)
{
	return xioctl(vcpu->fd, KVM_GET_TSC_KHZ, NULL);
}

int vmm_vcpu_run(struct vmm_vcpu *vcpu)
{
	int r = ioctl(vcpu->fd, KVM_RUN, 0);

	return r < 0 ? -errno : 0;
}
