/* SPDX-License-Identifier: MIT */
/*
 * hvreset: HV_X64_MSR_RESET = 1 ends the partition; hvrun exits with status 119
 * (HVRUN_EXIT_RESET). hvtest cannot do this itself: the write is the end of the run.
 */
#include "guest.h"
#include "hv/tlfs.h"

int guest_main(const struct hvrun_boot_info *bi)
{
	(void)bi;
	if (!(cpuid(HV_CPUID_FEATURES).eax & HV_PRIV_ACCESS_RESET)) {
		printf("FAIL: hvreset: AccessResetReg not advertised\n");
		return 1;
	}
	printf("hvreset: RESET MSR reads %#lx, writing 1\n", rdmsr(HV_X64_MSR_RESET));
	wrmsr(HV_X64_MSR_RESET, 1);
	/* Still running: the reset did not end the partition. */
	printf("FAIL: hvreset: still running after RESET = 1\n");
	return 1;
}
