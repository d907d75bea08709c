/* SPDX-License-Identifier: MIT */
/* The test kernel's two one-page "drivers" (hvci.c) and the linker symbols around them. */
#ifndef TESTKERNEL_HVCI_H
#define TESTKERNEL_HVCI_H

#include <stdint.h>

#define HVCI_DRIVER_MAGIC     0x4856434944525652ull   /* "HVCIDRVR" */
#define HVCI_BAD_DRIVER_MAGIC 0x4241444452495652ull   /* "BADDRIVR" */

uint64_t hvci_driver_entry(uint64_t x);
uint64_t hvci_bad_driver_entry(uint64_t x);

/* guests/testkernel/link.ld: each section is exactly one page. */
extern char __hvci_start[], __hvci_end[];
extern char __hvci_bad_start[], __hvci_bad_end[];

#endif /* TESTKERNEL_HVCI_H */
