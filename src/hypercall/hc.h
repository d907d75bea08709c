/* SPDX-License-Identifier: MIT */
/*
 * The hypercall engine, pure: input-value decoding, the dispatch table (indexed by call code,
 * range- and NULL-checked), parameter-page checks and copies, result encoding, and the single
 * errno -> HV_STATUS translation.
 */
#ifndef HC_HC_H
#define HC_HC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/tlfs.h"

#define HC_PAGE_SIZE 4096u
#define HC_TABLE_SIZE 0x200u      /* call codes hvrun can dispatch: 0x0000..0x01FF */
#define HC_FAST_INPUT_MAX 16u     /* RDX + R8; XMM fast input is not offered */

struct hc_control {
	uint16_t code;
	bool fast;
	bool nested;
	uint16_t varhead;         /* variable header size in 8-byte units */
	uint16_t rep_count;
	uint16_t rep_start;
};

/* Decode the input value; -EBADMSG if a reserved bit is set. */
int hc_decode_control(uint64_t control, struct hc_control *out);
uint64_t hc_result(uint16_t status, uint16_t reps_completed);

/*
 * The one translation from internal errors to HV_STATUS. Handlers use these errnos:
 *   -ENOSYS INVALID_HYPERCALL_CODE   -EBADMSG INVALID_HYPERCALL_INPUT   -EDOM INVALID_ALIGNMENT
 *   -EINVAL INVALID_PARAMETER        -EACCES ACCESS_DENIED              -EPERM OPERATION_DENIED
 *   -EBADFD INVALID_PARTITION_STATE  -ENOMEM/-ENOSPC INSUFFICIENT_MEMORY -ESRCH INVALID_PARTITION_ID
 *   -ECHILD INVALID_VP_INDEX         -ENOENT NOT_FOUND                  -EADDRNOTAVAIL INVALID_PORT_ID
 *   -ENOTCONN INVALID_CONNECTION_ID  -ENOBUFS INSUFFICIENT_BUFFERS      -EBUSY INVALID_VP_STATE
 *   -EPROTO INVALID_SYNIC_STATE      -ENOTSUP FEATURE_UNAVAILABLE       -ERANGE INVALID_REGISTER_VALUE
 *   -ENOTRECOVERABLE INVALID_VTL_STATE  -EALREADY VTL_ALREADY_ENABLED   -ETIMEDOUT TIME_OUT
 *   anything else OPERATION_FAILED
 */
uint16_t hc_status_from_errno(int err);
const char *hc_status_name(uint16_t status);

/* One call as its handler sees it: copies of the parameter lists, never guest pointers. */
struct hc_args {
	const struct hc_control *ctl;
	const uint8_t *in;        /* header + variable header + all rep elements */
	uint32_t in_len;
	uint8_t *out;             /* zeroed; header + all rep elements */
	uint32_t out_len;
	uint16_t reps_done;       /* rep calls: absolute index of the next element to process */
	void *env;                /* the caller's context (the hypercall service's) */
};

typedef int (*hc_handler_fn)(struct hc_args *args);

struct hc_call {
	uint16_t code;
	const char *name;
	bool rep;
	bool varhead;             /* accepts a variable-size header */
	uint16_t in_size;         /* fixed input header */
	uint16_t rep_in_size;     /* bytes per input rep element */
	uint16_t out_size;        /* fixed output */
	uint16_t rep_out_size;    /* bytes per output rep element */
	hc_handler_fn fn;
};

struct hc_table {
	const struct hc_call *calls[HC_TABLE_SIZE];
};

/* Build a table from a list; -EEXIST on a duplicate code, -EINVAL on a code past the table. */
int hc_table_init(struct hc_table *t, const struct hc_call *const *list, size_t n);
const struct hc_call *hc_table_lookup(const struct hc_table *t, uint16_t code);

/* Guest memory as the calling VTL may access it. -EINVAL not memory, -EACCES protected. */
struct hc_mem {
	int (*access)(void *ctx, uint64_t gpa, uint32_t len, bool write, void **hva);
	void *ctx;
	uint64_t gpa_limit;       /* 1 << MAXPHYADDR: a list beyond it is INVALID_ALIGNMENT (TLFS) */
};

struct hc_regs {
	uint64_t rcx, rdx, r8;
};

/*
 * Run one hypercall: decode, look up, check rep/fast/alignment/page rules, copy the input in,
 * call the handler, copy the completed output out. Returns the RAX value (status and reps
 * completed) and, through *call, the entry that ran (NULL if none).
 */
uint64_t hc_execute(const struct hc_table *t, const struct hc_regs *regs, const struct hc_mem *mem,
		    void *env, const struct hc_call **call);

/* Register value as Get/SetVpRegisters carry it (HV_REGISTER_VALUE, 16 bytes). */
struct hv_register_value {
	uint64_t low;
	uint64_t high;
};
_Static_assert(sizeof(struct hv_register_value) == 16, "HV_REGISTER_VALUE");

#endif /* HC_HC_H */
