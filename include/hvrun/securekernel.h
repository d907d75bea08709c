/* SPDX-License-Identifier: MIT */
/*
 * The secure-kernel service ABI: what VTL0 passes in the (shared) registers on a VtlCall and
 * what comes back (docs/guests.md). hvrun itself does not interpret it; the testkernel and the
 * secure kernel in guests/ both include it.
 *
 * Call:   RDI = service, RSI/RDX/R8 = arguments, then VtlCall (hypercall page + 0x10, RCX = 0).
 * Return: RAX = SK_OK or an SK_E_* status, RCX = result value; RDX/R8 extra results.
 * GPAs passed in must be VTL0 RAM the caller may access; outputs must be writable by VTL0.
 */
#ifndef HVRUN_SECUREKERNEL_H
#define HVRUN_SECUREKERNEL_H

#define SK_SVC_PING           0u   /* RCX = SK_PING_MAGIC */
#define SK_SVC_HMAC           1u   /* RSI buffer GPA, RDX length, R8 output GPA (32 bytes) */
#define SK_SVC_HMAC_VERIFY    2u   /* RSI buffer GPA, RDX length, R8 MAC GPA (32 bytes): RCX 1 match */
#define SK_SVC_HVCI_PROTECT   3u   /* RSI page GPA: hashed, checked against the allow list, made R+X */
#define SK_SVC_INTERCEPT_LOG  4u   /* RCX count, RDX last GPA, R8 last RIP of VTL0 violations */
#define SK_SVC_STATUS         5u   /* RCX SK_STATUS_* bits */
#define SK_SVC_MEASURE        6u   /* R8 output GPA (32 bytes): SHA-256 of the SK's code and read-only
                                      data, hashed in VTL1 now; RCX = bytes hashed */

#define SK_PING_MAGIC         0x534b4f4bu   /* "SKOK" */

#define SK_OK                 0u
#define SK_E_INVALID          1u   /* bad argument: length, alignment, not VTL0 RAM */
#define SK_E_ACCESS           2u   /* VTL0 may not access that memory (or write it) */
#define SK_E_DENIED           3u   /* refused by policy (hash not on the allow list) */
#define SK_E_NO_SERVICE       4u

#define SK_STATUS_SELFTEST_OK   (1u << 0)
#define SK_STATUS_SECRETS_SCRUBBED (1u << 1)
#define SK_STATUS_KERNEL_CODE_PROTECTED (1u << 2)
#define SK_STATUS_TRUSTLET      (1u << 3)   /* hashing runs at VTL1 CPL3 */

#define SK_HMAC_MAX_LEN       (64u * 1024u)

/* hvrun's exit status when the secure kernel refuses to start (bad loader block, self-test). */
#define HVRUN_EXIT_SK_FAILURE 118

#endif /* HVRUN_SECUREKERNEL_H */
