/* SPDX-License-Identifier: MIT */
/* The hypercall page hvrun writes: port-I/O trampolines that keep the TLFS x64 register convention. */
#ifndef HV_HCPAGE_H
#define HV_HCPAGE_H

#include <stdint.h>

/* Offsets of the trampolines (HvRegisterVsmCodePageOffsets reports the VTL ones). */
#define HV_HCPAGE_HYPERCALL_OFFSET   0x00u
#define HV_HCPAGE_VTL_CALL_OFFSET    0x10u
#define HV_HCPAGE_VTL_RETURN_OFFSET  0x30u
/* HvRegisterVsmCodePageOffsets: bits 11:0 call offset, 23:12 return offset. */
#define HV_HCPAGE_VSM_CODE_OFFSETS \
	((uint64_t)HV_HCPAGE_VTL_CALL_OFFSET | ((uint64_t)HV_HCPAGE_VTL_RETURN_OFFSET << 12))

/* Fill a 4 KiB page: trampolines at the offsets above, 0xCC everywhere else. */
void hv_hcpage_fill(uint8_t page[4096], uint8_t port);

#endif /* HV_HCPAGE_H */
