/* SPDX-License-Identifier: MIT */
/* Inline x86 helpers for guests: port I/O, MMIO, MSRs, CPUID, TSC and control registers. */
#ifndef GUEST_IO_H
#define GUEST_IO_H

#include <stddef.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

/* `rep outsb`: one instruction for the whole buffer (still one port exit per byte). */
static inline void outsb(uint16_t port, const void *buf, size_t n)
{
	__asm__ volatile("rep outsb" : "+S"(buf), "+c"(n) : "d"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

/*
 * MMIO accessors: one plain `mov` each, so an access to a GPA without memory becomes exactly one
 * MMIO exit of the given size (the compiler may otherwise fold the load into a cmp or split it).
 */
static inline uint8_t readb(uintptr_t addr)
{
	uint8_t v;

	__asm__ volatile("movb (%1), %0" : "=q"(v) : "r"(addr) : "memory");
	return v;
}

static inline uint16_t readw(uintptr_t addr)
{
	uint16_t v;

	__asm__ volatile("movw (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline uint32_t readl(uintptr_t addr)
{
	uint32_t v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline uint64_t readq(uintptr_t addr)
{
	uint64_t v;

	__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void writeb(uintptr_t addr, uint8_t v)
{
	__asm__ volatile("movb %0, (%1)" : : "q"(v), "r"(addr) : "memory");
}

static inline void writew(uintptr_t addr, uint16_t v)
{
	__asm__ volatile("movw %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

static inline void writel(uintptr_t addr, uint32_t v)
{
	__asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

static inline void writeq(uintptr_t addr, uint64_t v)
{
	__asm__ volatile("movq %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_count(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf)
			 : "memory");
	return r;
}

static inline struct cpuid_regs cpuid(uint32_t leaf)
{
	return cpuid_count(leaf, 0);
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

#define GUEST_DEFINE_CR(n)                                                      \
	static inline uint64_t read_cr##n(void)                                 \
	{                                                                       \
		uint64_t v;                                                     \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v) : : "memory"); \
		return v;                                                       \
	}                                                                       \
	static inline void write_cr##n(uint64_t v)                              \
	{                                                                       \
		__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");     \
	}

GUEST_DEFINE_CR(0)
GUEST_DEFINE_CR(2)
GUEST_DEFINE_CR(3)
GUEST_DEFINE_CR(4)
#undef GUEST_DEFINE_CR

static inline uint64_t read_rflags(void)
{
	uint64_t v;

	__asm__ volatile("pushfq; popq %0" : "=r"(v) : : "memory");
	return v;
}

static inline uint64_t read_rsp(void)
{
	uint64_t v;

	__asm__ volatile("movq %%rsp, %0" : "=r"(v));
	return v;
}

static inline uint16_t read_cs(void)
{
	uint16_t v;

	__asm__ volatile("movw %%cs, %0" : "=r"(v));
	return v;
}

static inline uint16_t read_ss(void)
{
	uint16_t v;

	__asm__ volatile("movw %%ss, %0" : "=r"(v));
	return v;
}

static inline uint16_t read_ds(void)
{
	uint16_t v;

	__asm__ volatile("movw %%ds, %0" : "=r"(v));
	return v;
}

static inline uint16_t read_tr(void)
{
	uint16_t v;

	__asm__ volatile("str %0" : "=r"(v));
	return v;
}

struct __attribute__((packed)) desc_ptr {
	uint16_t limit;
	uint64_t base;
};

static inline void sgdt(struct desc_ptr *p)
{
	__asm__ volatile("sgdt %0" : "=m"(*p));
}

static inline void sidt(struct desc_ptr *p)
{
	__asm__ volatile("sidt %0" : "=m"(*p));
}

static inline void lidt(const struct desc_ptr *p)
{
	__asm__ volatile("lidt %0" : : "m"(*p) : "memory");
}

static inline void cli(void)
{
	__asm__ volatile("cli" : : : "memory");
}

static inline void sti(void)
{
	__asm__ volatile("sti" : : : "memory");
}

/* Stops the VP for good when IF=0 (hvrun ends the run with status 0). */
static inline void cli_hlt(void)
{
	__asm__ volatile("cli; hlt" : : : "memory");
}

#endif /* GUEST_IO_H */
