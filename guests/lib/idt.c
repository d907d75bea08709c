/* SPDX-License-Identifier: MIT */
/* IDT set-up, exception dispatch and catch_exception() (setjmp in, longjmp out of the handler). */
#include "idt.h"

#include <stddef.h>

#include "guest.h"
#include "setjmp.h"
#include "x86.h"

#define IDT_ENTRIES     256
#define IDT_EXCEPTIONS  32
#define STUB_SIZE       16
#define GATE_INTR64     0x8Eu   /* present, DPL 0, 64-bit interrupt gate */

_Static_assert(offsetof(struct exc_frame, vector) == 15 * 8, "entry.S pushes 15 registers");
_Static_assert(sizeof(struct exc_frame) == 22 * 8, "entry.S frame");

extern char idt_stubs[];        /* entry.S: IDT_ENTRIES stubs of STUB_SIZE bytes */

static struct idt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));
static exc_handler_t handlers[IDT_ENTRIES];
static bool installed;

struct catch_ctx {
	jmp_buf jb;
	struct exc_info *info;
};
static struct catch_ctx *volatile catching;

static void set_gate(unsigned vec)
{
	uint64_t addr = (uintptr_t)idt_stubs + (uint64_t)vec * STUB_SIZE;
	struct idt_gate *g = &idt[vec];

	g->offset0 = (uint16_t)addr;
	g->selector = HVRUN_SEL_CODE64;
	g->ist = 0;
	g->type_attr = GATE_INTR64;
	g->offset1 = (uint16_t)(addr >> 16);
	g->offset2 = (uint32_t)(addr >> 32);
	g->reserved = 0;
}

void idt_install(void)
{
	struct desc_ptr p = { .limit = sizeof(idt) - 1, .base = (uintptr_t)idt };

	if (installed)
		return;
	for (unsigned v = 0; v < IDT_EXCEPTIONS; v++)
		set_gate(v);
	lidt(&p);
	installed = true;
}

void idt_set_handler(unsigned vector, exc_handler_t handler)
{
	if (vector >= IDT_ENTRIES)
		panic("idt_set_handler: vector %u out of range", vector);
	idt_install();
	handlers[vector] = handler;
	if (vector >= IDT_EXCEPTIONS && handler)
		set_gate(vector);
}

const char *exception_name(unsigned vector)
{
	static const char *const names[IDT_EXCEPTIONS] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", NULL,
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", NULL, NULL,
		NULL, NULL, NULL, NULL, "#HV", "#VC", "#SX", NULL,
	};

	if (vector < IDT_EXCEPTIONS && names[vector])
		return names[vector];
	return vector < IDT_EXCEPTIONS ? "reserved" : "interrupt";
}

bool exception_has_error_code(unsigned vector)
{
	switch (vector) {
	case 8: case 10: case 11: case 12: case 13: case 14: case 17: case 21: case 29: case 30:
		return true;
	default:
		return false;
	}
}

static GUEST_NORETURN void unhandled(const struct exc_frame *f)
{
	static bool dying;

	if (dying)   /* faulted while reporting a fault: leave without printing */
		exit(GUEST_EXIT_PANIC);
	dying = true;
	printf("PANIC: unhandled %s (vector %lu) error code %#lx at RIP %#lx\n",
	       exception_name((unsigned)f->vector), f->vector, f->error_code, f->rip);
	printf("  CS %#lx RFLAGS %#lx RSP %#lx SS %#lx CR2 %#lx\n", f->cs, f->rflags, f->rsp, f->ss,
	       f->vector == EXC_PF ? read_cr2() : 0);
	printf("  RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	printf("  RSI %016lx RDI %016lx RBP %016lx R8  %016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
	printf("  R9  %016lx R10 %016lx R11 %016lx R12 %016lx\n", f->r9, f->r10, f->r11, f->r12);
	printf("  R13 %016lx R14 %016lx R15 %016lx\n", f->r13, f->r14, f->r15);
	exit(GUEST_EXIT_PANIC);
}

/* Called by entry.S with interrupts disabled (interrupt gates). */
void exc_dispatch(struct exc_frame *f);
void exc_dispatch(struct exc_frame *f)
{
	unsigned vec = (unsigned)f->vector;
	struct catch_ctx *c = catching;

	if (vec < IDT_ENTRIES && handlers[vec] && handlers[vec](f))
		return;
	if (vec < IDT_EXCEPTIONS && c) {
		struct exc_info *info = c->info;

		info->vector = (int)vec;
		info->has_error_code = exception_has_error_code(vec);
		info->error_code = f->error_code;
		info->rip = f->rip;
		info->rsp = f->rsp;
		info->rflags = f->rflags;
		info->cr2 = vec == EXC_PF ? read_cr2() : 0;
		/*
		 * Unwind straight to catch_exception's setjmp: everything runs at CPL0 on one stack, so
		 * the abandoned frames need no iretq (longjmp restores RSP and RFLAGS itself).
		 */
		longjmp(c->jb, 1);
	}
	unhandled(f);
}

int catch_exception(void (*fn)(void *), void *arg, struct exc_info *info)
{
	struct exc_info local;
	struct catch_ctx ctx;
	struct catch_ctx *outer = catching;

	idt_install();
	ctx.info = info ? info : &local;
	ctx.info->vector = -1;
	ctx.info->has_error_code = false;
	ctx.info->error_code = 0;
	ctx.info->rip = ctx.info->rsp = ctx.info->rflags = ctx.info->cr2 = 0;
	if (setjmp(ctx.jb) == 0) {
		catching = &ctx;
		fn(arg);
		catching = outer;
		return -1;
	}
	catching = outer;
	return ctx.info->vector;
}
