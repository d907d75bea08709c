/* SPDX-License-Identifier: MIT */
/*
 * Two one-page "drivers" for the HVCI checks: .hvci is hashed by hvrun onto the secure kernel's
 * allow list, .hvci_bad is not. Each page must stay byte-for-byte as loaded until it is sealed.
 */
#include "hvci.h"

__attribute__((section(".hvci"), noinline, used)) uint64_t hvci_driver_entry(uint64_t x)
{
	return x ^ HVCI_DRIVER_MAGIC;
}

__attribute__((section(".hvci_bad"), noinline, used)) uint64_t hvci_bad_driver_entry(uint64_t x)
{
	return x ^ HVCI_BAD_DRIVER_MAGIC;
}
