/* SPDX-License-Identifier: MIT */
/*
 * The runtime's IDT and catch_exception(): faults raised at CPL0 are delivered through the
 * guest's IDT, recorded, and execution resumes after the call. The Hyper-V tests rely on this.
 * No `int n`/`int3` here: the platform cannot emulate them at CPL0.
 */
#include "guest.h"
#include "idt.h"

#define NONCANONICAL 0x8000000000000000ull
#define ABOVE_4G     0x100000000ull          /* not mapped by hvrun's identity map */
#define RFLAGS_STATUS 0x8d5ull               /* CF PF AF ZF SF OF */

static uint64_t fault_rip;                   /* address of the faulting instruction */

static void do_nothing(void *arg)
{
	*(int *)arg = 42;
}

static void do_ud2(void *arg)
{
	(void)arg;
	__asm__ volatile("leaq 1f(%%rip), %%rax\n\t"
			 "movq %%rax, %0\n"
			 "1:\tud2"
			 : "=m"(fault_rip) : : "rax", "memory");
}

static void do_noncanonical_load(void *arg)
{
	uint64_t v;

	(void)arg;
	__asm__ volatile("movabsq %2, %%rcx\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "movq %%rax, %1\n"
			 "1:\tmovq (%%rcx), %0"
			 : "=r"(v), "=m"(fault_rip) : "i"(NONCANONICAL) : "rax", "rcx", "memory");
}

static void do_divide_by_zero(void *arg)
{
	(void)arg;
	__asm__ volatile("xorl %%edx, %%edx\n\t"
			 "xorl %%ecx, %%ecx\n\t"
			 "movl $1, %%eax\n\t"
			 "leaq 1f(%%rip), %%rsi\n\t"
			 "movq %%rsi, %0\n"
			 "1:\tdivl %%ecx"
			 : "=m"(fault_rip) : : "rax", "rcx", "rdx", "rsi", "memory");
}

static void do_page_fault_write(void *arg)
{
	(void)arg;
	__asm__ volatile("movabsq %1, %%rcx\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "movq %%rax, %0\n"
			 "1:\tmovl $1, (%%rcx)"
			 : "=m"(fault_rip) : "i"(ABOVE_4G + 0x1234) : "rax", "rcx", "memory");
}

/*
 * Trashes every callee-saved register, then faults: catch_exception must restore them. RBP is not
 * in the clobber list (it may be the frame pointer); that is fine only because the asm never
 * falls through: ud2 always leaves through the exception.
 */
static void do_clobber_and_fault(void *arg)
{
	(void)arg;
	__asm__ volatile("movq $-1, %%rbx\n\t"
			 "movq $-1, %%r12\n\t"
			 "movq $-1, %%r13\n\t"
			 "movq $-1, %%r14\n\t"
			 "movq $-1, %%r15\n\t"
			 "movq $-1, %%rbp\n\t"
			 "ud2"
			 : : : "rbx", "r12", "r13", "r14", "r15", "memory");
}

struct nested {
	int inner_vector;
	struct exc_info inner;
	int after;
};

static void do_nested(void *arg)
{
	struct nested *n = arg;

	n->inner_vector = catch_exception(do_ud2, NULL, &n->inner);
	n->after = 1;
}

static void test_no_exception(void)
{
	struct exc_info info;
	int side = 0;
	int v = catch_exception(do_nothing, &side, &info);

	report(v == -1 && info.vector == -1, "no exception: returns -1 (%d)", v);
	report(side == 42, "no exception: fn ran to completion");
}

static void test_ud(void)
{
	struct exc_info info;
	int v = catch_exception(do_ud2, NULL, &info);

	report(v == EXC_UD, "ud2 raises #UD, vector 6 (%d)", v);
	report(info.vector == EXC_UD && !info.has_error_code, "#UD recorded, no error code");
	report(info.rip == fault_rip, "#UD RIP is the ud2 (%#lx, expected %#lx)", info.rip, fault_rip);
	report(info.rsp > HVRUN_STACK_BASE && info.rsp < HVRUN_STACK_TOP,
	       "#UD RSP on hvrun's stack (%#lx)", info.rsp);
	report(!(info.rflags & (1u << 9)), "#UD taken with IF=0 (RFLAGS %#lx)", info.rflags);
}

static void test_gp(void)
{
	struct exc_info info;
	int v = catch_exception(do_noncanonical_load, NULL, &info);

	report(v == EXC_GP, "non-canonical load raises #GP, vector 13 (%d)", v);
	report(info.has_error_code && info.error_code == 0, "#GP error code 0 (%#lx)",
	       info.error_code);
	report(info.rip == fault_rip, "#GP RIP is the load (%#lx, expected %#lx)", info.rip,
	       fault_rip);
}

static void test_de(void)
{
	struct exc_info info;
	int v = catch_exception(do_divide_by_zero, NULL, &info);

	report(v == EXC_DE && info.rip == fault_rip, "divide by zero raises #DE, vector 0 (%d)", v);
}

static void test_pf(void)
{
	struct exc_info info;
	int v = catch_exception(do_page_fault_write, NULL, &info);

	report(v == EXC_PF, "write above 4 GiB raises #PF, vector 14 (%d)", v);
	report(info.cr2 == ABOVE_4G + 0x1234, "#PF CR2 is the address (%#lx)", info.cr2);
	/* Error code: P=0 (not present), W/R=1 (write), U/S=0 (supervisor). */
	report(info.has_error_code && (info.error_code & 7) == 2, "#PF error code: not present, write, "
	       "supervisor (%#lx)", info.error_code);
	report(info.rip == fault_rip, "#PF RIP is the store");
}

static void test_state_restored(void)
{
	uint64_t rsp_before = read_rsp();
	uint64_t flags_before = read_rflags();
	volatile uint64_t canary = 0x0123456789abcdefull;
	int v = 0;

	for (int i = 0; i < 3; i++)
		v |= catch_exception(do_clobber_and_fault, NULL, NULL) != EXC_UD;
	report(!v, "repeated catches, info NULL");
	report(read_rsp() == rsp_before, "RSP balanced after catches");
	/* Compare the system flags (IF, DF, TF, AC, ...) only: arithmetic flags change anyway. */
	report((read_rflags() & ~RFLAGS_STATUS) == (flags_before & ~RFLAGS_STATUS),
	       "RFLAGS system flags restored (%#lx)", read_rflags());
	report(canary == 0x0123456789abcdefull, "stack locals intact");
}

static void test_nested(void)
{
	struct nested n = { .inner_vector = 0, .after = 0 };
	struct exc_info outer;
	int v = catch_exception(do_nested, &n, &outer);

	report(n.inner_vector == EXC_UD && n.inner.vector == EXC_UD, "nested: inner catch gets #UD");
	report(v == -1 && n.after == 1, "nested: outer sees no exception, fn completed");

	/* After a nested catch the outer handler state must be back: this #GP goes to the outer. */
	v = catch_exception(do_noncanonical_load, NULL, &outer);
	report(v == EXC_GP, "catching still works after nesting (%d)", v);
}

static void test_idt(void)
{
	struct desc_ptr idtr;

	sidt(&idtr);
	report(idtr.limit == 256 * 16 - 1 && idtr.base >= (uintptr_t)__image_start &&
	       idtr.base < (uintptr_t)__image_end, "IDT loaded (base %#lx limit %#x)", idtr.base,
	       idtr.limit);
}

int guest_main(const struct hvrun_boot_info *bi)
{
	(void)bi;
	report_prefix_push("exceptions");
	idt_install();
	test_idt();
	test_no_exception();
	test_ud();
	test_gp();
	test_de();
	test_pf();
	test_state_restored();
	test_nested();
	report_prefix_pop();
	return report_summary();
}
