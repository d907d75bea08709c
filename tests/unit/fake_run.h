/* SPDX-License-Identifier: MIT */
/* Test helpers: fabricated struct kvm_run buffers holding a flat 64-bit CPL0 guest state. */
#ifndef TEST_FAKE_RUN_H
#define TEST_FAKE_RUN_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvm.h>

/* Like KVM's mapping on x86: struct kvm_run, then the port I/O data page at 4096. */
#define FAKE_RUN_SIZE 8192u
#define FAKE_RUN_IO_OFFSET 4096u

static inline struct kvm_run *fake_run_new(void)
{
	struct kvm_run *run = aligned_alloc(4096, FAKE_RUN_SIZE);
	struct kvm_sregs *s;

	memset(run, 0, FAKE_RUN_SIZE);
	s = &run->s.regs.sregs;
	s->cs = (struct kvm_segment){ .selector = 0x08, .limit = 0xffffffff, .type = 11, .present = 1,
				      .s = 1, .l = 1, .g = 1 };
	s->ss = (struct kvm_segment){ .selector = 0x10, .limit = 0xffffffff, .type = 3, .present = 1,
				      .s = 1, .db = 1, .g = 1 };
	s->ds = s->es = s->ss;
	s->cr0 = 0x80010033;   /* PE MP ET NE WP PG, as hvrun boots */
	s->cr4 = 0x620;
	s->efer = 0xd00;
	run->s.regs.regs.rip = 0x101234;
	run->s.regs.regs.rflags = 0x2;
	return run;
}

static inline void fake_run_io(struct kvm_run *run, uint16_t port, int out, uint8_t size,
			       uint32_t count, uint64_t first_value)
{
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
	run->io.size = size;
	run->io.port = port;
	run->io.count = count;
	run->io.data_offset = FAKE_RUN_IO_OFFSET;
	memset((uint8_t *)run + FAKE_RUN_IO_OFFSET, 0, 1024);
	for (uint32_t i = 0; i < count && (uint64_t)(i + 1) * size <= 1024; i++) {
		uint64_t v = first_value + i;
		memcpy((uint8_t *)run + FAKE_RUN_IO_OFFSET + (size_t)i * size, &v, size);
	}
}

static inline void fake_run_mmio(struct kvm_run *run, uint64_t gpa, int write, uint32_t len, uint64_t value)
{
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.is_write = (uint8_t)write;
	run->mmio.len = len;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (write)
		memcpy(run->mmio.data, &value, len <= 8 ? len : 8);
}

static inline void fake_run_msr(struct kvm_run *run, uint32_t index, int write, uint64_t value)
{
	run->exit_reason = write ? KVM_EXIT_X86_WRMSR : KVM_EXIT_X86_RDMSR;
	run->msr.index = index;
	run->msr.data = write ? value : 0;
	run->msr.error = 0;
}

#endif /* TEST_FAKE_RUN_H */
