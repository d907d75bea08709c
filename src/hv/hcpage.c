/* SPDX-License-Identifier: MIT */
/*
 * Hypercall page contents. vmcall/vmmcall hang KVM on this platform, so each trampoline traps
 * with `out %al, $port`. A CPL check in front raises #UD for callers outside ring 0 as the TLFS
 * requires (a CPL3 `out` would raise #GP on its own, before hvrun could see it).
 */
#include "hv/hcpage.h"

#include <string.h>

#include "hv/tlfs.h"

/*
 *   8c c8           mov  %cs, %eax        RAX is the output register (reserved at the VTL trampolines)
 *   a8 03           test $3, %al
 *   75 xx           jnz  ud
 *   [48 89 c8       mov  %rcx, %rax       VTL trampolines: the caller's control input moves to RAX
 *    b9 NN 00 00 00 mov  $code, %ecx      and RCX becomes the call code, as on Hyper-V]
 *   e6 PP           out  %al, $port       the exit hvrun routes as a HypercallIntercept
 *   c3              ret
 * ud: 0f 0b         ud2
 */
static unsigned put_trampoline(uint8_t *p, uint8_t port, int vtl_code)
{
	unsigned n = 0;
	unsigned body = vtl_code >= 0 ? 3 + 5 + 2 + 1 : 2 + 1;

	p[n++] = 0x8c; p[n++] = 0xc8;
	p[n++] = 0xa8; p[n++] = 0x03;
	p[n++] = 0x75; p[n++] = (uint8_t)body;
	if (vtl_code >= 0) {
		p[n++] = 0x48; p[n++] = 0x89; p[n++] = 0xc8;
		p[n++] = 0xb9; p[n++] = (uint8_t)vtl_code; p[n++] = 0; p[n++] = 0; p[n++] = 0;
	}
	p[n++] = 0xe6; p[n++] = port;
	p[n++] = 0xc3;
	p[n++] = 0x0f; p[n++] = 0x0b;
	return n;
}

void hv_hcpage_fill(uint8_t page[4096], uint8_t port)
{
	memset(page, 0xcc, 4096);
	put_trampoline(page + HV_HCPAGE_HYPERCALL_OFFSET, port, -1);
	put_trampoline(page + HV_HCPAGE_VTL_CALL_OFFSET, port, HVCALL_VTL_CALL);
	put_trampoline(page + HV_HCPAGE_VTL_RETURN_OFFSET, port, HVCALL_VTL_RETURN);
}
