/* SPDX-License-Identifier: MIT */
/* The pure hypercall engine: every TLFS rule about the input value and parameter pages lives here. */
#include "hypercall/hc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int hc_decode_control(uint64_t control, struct hc_control *out)
{
	memset(out, 0, sizeof(*out));
	out->code = (uint16_t)(control & HV_HYPERCALL_CODE_MASK);
	out->fast = !!(control & HV_HYPERCALL_FAST_BIT);
	out->nested = !!(control & HV_HYPERCALL_NESTED_BIT);
	out->varhead = (uint16_t)((control & HV_HYPERCALL_VARHEAD_MASK) >> HV_HYPERCALL_VARHEAD_SHIFT);
	out->rep_count = (uint16_t)((control & HV_HYPERCALL_REP_COUNT_MASK) >> HV_HYPERCALL_REP_COUNT_SHIFT);
	out->rep_start = (uint16_t)((control & HV_HYPERCALL_REP_START_MASK) >> HV_HYPERCALL_REP_START_SHIFT);
	return (control & HV_HYPERCALL_RSVD_MASK) ? -EBADMSG : 0;
}

uint64_t hc_result(uint16_t status, uint16_t reps_completed)
{
	return (uint64_t)status | ((uint64_t)(reps_completed & 0xfff) << HV_HYPERCALL_RESULT_REPS_SHIFT);
}

uint16_t hc_status_from_errno(int err)
{
	switch (err) {
	case 0: return HV_STATUS_SUCCESS;
	case -ENOSYS: return HV_STATUS_INVALID_HYPERCALL_CODE;
	case -EBADMSG: return HV_STATUS_INVALID_HYPERCALL_INPUT;
	case -EDOM: return HV_STATUS_INVALID_ALIGNMENT;
	case -EINVAL: return HV_STATUS_INVALID_PARAMETER;
	case -EACCES: return HV_STATUS_ACCESS_DENIED;
	case -EPERM: return HV_STATUS_OPERATION_DENIED;
	case -EBADFD: return HV_STATUS_INVALID_PARTITION_STATE;
	case -ENOMEM:
	case -ENOSPC: return HV_STATUS_INSUFFICIENT_MEMORY;
	case -ESRCH: return HV_STATUS_INVALID_PARTITION_ID;
	case -ECHILD: return HV_STATUS_INVALID_VP_INDEX;
	case -ENOENT: return HV_STATUS_NOT_FOUND;
	case -EADDRNOTAVAIL: return HV_STATUS_INVALID_PORT_ID;
	case -ENOTCONN: return HV_STATUS_INVALID_CONNECTION_ID;
	case -ENOBUFS: return HV_STATUS_INSUFFICIENT_BUFFERS;
	case -EBUSY: return HV_STATUS_INVALID_VP_STATE;
	case -EPROTO: return HV_STATUS_INVALID_SYNIC_STATE;
	case -ENOTSUP: return HV_STATUS_FEATURE_UNAVAILABLE;
	case -ERANGE: return HV_STATUS_INVALID_REGISTER_VALUE;
	case -ENOTRECOVERABLE: return HV_STATUS_INVALID_VTL_STATE;
	case -EALREADY: return HV_STATUS_VTL_ALREADY_ENABLED;
	case -ETIMEDOUT: return HV_STATUS_TIME_OUT;
	default: return HV_STATUS_OPERATION_FAILED;
	}
}

const char *hc_status_name(uint16_t status)
{
	switch (status) {
	case HV_STATUS_SUCCESS: return "SUCCESS";
	case HV_STATUS_INVALID_HYPERCALL_CODE: return "INVALID_HYPERCALL_CODE";
	case HV_STATUS_INVALID_HYPERCALL_INPUT: return "INVALID_HYPERCALL_INPUT";
	case HV_STATUS_INVALID_ALIGNMENT: return "INVALID_ALIGNMENT";
	case HV_STATUS_INVALID_PARAMETER: return "INVALID_PARAMETER";
	case HV_STATUS_ACCESS_DENIED: return "ACCESS_DENIED";
	case HV_STATUS_INVALID_PARTITION_STATE: return "INVALID_PARTITION_STATE";
	case HV_STATUS_OPERATION_DENIED: return "OPERATION_DENIED";
	case HV_STATUS_INSUFFICIENT_MEMORY: return "INSUFFICIENT_MEMORY";
	case HV_STATUS_INVALID_PARTITION_ID: return "INVALID_PARTITION_ID";
	case HV_STATUS_INVALID_VP_INDEX: return "INVALID_VP_INDEX";
	case HV_STATUS_NOT_FOUND: return "NOT_FOUND";
	case HV_STATUS_INVALID_PORT_ID: return "INVALID_PORT_ID";
	case HV_STATUS_INVALID_CONNECTION_ID: return "INVALID_CONNECTION_ID";
	case HV_STATUS_INSUFFICIENT_BUFFERS: return "INSUFFICIENT_BUFFERS";
	case HV_STATUS_INVALID_VP_STATE: return "INVALID_VP_STATE";
	case HV_STATUS_INVALID_SYNIC_STATE: return "INVALID_SYNIC_STATE";
	case HV_STATUS_FEATURE_UNAVAILABLE: return "FEATURE_UNAVAILABLE";
	case HV_STATUS_INVALID_REGISTER_VALUE: return "INVALID_REGISTER_VALUE";
	case HV_STATUS_INVALID_VTL_STATE: return "INVALID_VTL_STATE";
	case HV_STATUS_TIME_OUT: return "TIME_OUT";
	case HV_STATUS_VTL_ALREADY_ENABLED: return "VTL_ALREADY_ENABLED";
	case HV_STATUS_OPERATION_FAILED: return "OPERATION_FAILED";
	default: return "UNKNOWN_STATUS";
	}
}

int hc_table_init(struct hc_table *t, const struct hc_call *const *list, size_t n)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		const struct hc_call *c = list[i];
		if (!c || !c->fn || !c->name || c->code >= HC_TABLE_SIZE)
			return -EINVAL;
		if (t->calls[c->code])
			return -EEXIST;
		t->calls[c->code] = c;
	}
	return 0;
}

const struct hc_call *hc_table_lookup(const struct hc_table *t, uint16_t code)
{
	if (code >= HC_TABLE_SIZE)
		return NULL;
	return t->calls[code];
}

/*
 * A parameter list: 8-byte aligned, inside one page and inside the GPA space (the TLFS status
 * for each of these is INVALID_ALIGNMENT). Inside the GPA space but not memory is checked later.
 */
static int check_list(uint64_t gpa, uint32_t len, uint64_t gpa_limit)
{
	if (gpa & 7)
		return -EDOM;
	if (gpa_limit && gpa >= gpa_limit)
		return -EDOM;
	if ((gpa & (HC_PAGE_SIZE - 1)) + len > HC_PAGE_SIZE)
		return -EDOM;
	return 0;
}

uint64_t hc_execute(const struct hc_table *t, const struct hc_regs *regs, const struct hc_mem *mem,
		    void *env, const struct hc_call **call)
{
	uint8_t in_buf[HC_PAGE_SIZE], out_buf[HC_PAGE_SIZE];
	struct hc_control ctl;
	const struct hc_call *c;
	struct hc_args args;
	uint64_t in_len, out_len;
	void *in_hva = NULL, *out_hva = NULL;
	int ret;

	*call = NULL;
	if (hc_decode_control(regs->rcx, &ctl))
		return hc_result(HV_STATUS_INVALID_HYPERCALL_INPUT, 0);
	c = hc_table_lookup(t, ctl.code);
	if (!c)
		return hc_result(HV_STATUS_INVALID_HYPERCALL_CODE, 0);
	*call = c;
	if (ctl.nested)
		return hc_result(HV_STATUS_INVALID_HYPERCALL_INPUT, 0);   /* no L0/L1 nesting here */
	if (c->rep) {
		if (ctl.rep_count == 0 || ctl.rep_start >= ctl.rep_count)
			return hc_result(HV_STATUS_INVALID_HYPERCALL_INPUT, 0);
	} else if (ctl.rep_count || ctl.rep_start) {
		return hc_result(HV_STATUS_INVALID_HYPERCALL_INPUT, 0);
	}
	if (ctl.varhead && !c->varhead)
		return hc_result(HV_STATUS_INVALID_HYPERCALL_INPUT, 0);

	in_len = c->in_size + 8ull * ctl.varhead + (c->rep ? (uint64_t)ctl.rep_count * c->rep_in_size : 0);
	out_len = c->out_size + (c->rep ? (uint64_t)ctl.rep_count * c->rep_out_size : 0);
	if (in_len > HC_PAGE_SIZE || out_len > HC_PAGE_SIZE)
		return hc_result(HV_STATUS_INVALID_HYPERCALL_INPUT, 0);

	if (ctl.fast) {
		/* Fast calls carry input in RDX:R8 and cannot return output without XMM support. */
		if (in_len > HC_FAST_INPUT_MAX || out_len)
			return hc_result(HV_STATUS_INVALID_HYPERCALL_INPUT, 0);
		memcpy(in_buf, &regs->rdx, 8);
		memcpy(in_buf + 8, &regs->r8, 8);
		in_len = HC_FAST_INPUT_MAX;     /* the handler sees exactly RDX:R8 */
	} else {
		if (in_len && (ret = check_list(regs->rdx, (uint32_t)in_len, mem->gpa_limit)))
			return hc_result(hc_status_from_errno(ret), 0);
		if (out_len && (ret = check_list(regs->r8, (uint32_t)out_len, mem->gpa_limit)))
			return hc_result(hc_status_from_errno(ret), 0);
		if (in_len && out_len && regs->rdx < regs->r8 + out_len && regs->r8 < regs->rdx + in_len)
			return hc_result(HV_STATUS_INVALID_PARAMETER, 0);
		if (in_len) {
			ret = mem->access(mem->ctx, regs->rdx, (uint32_t)in_len, false, &in_hva);
			if (ret)
				return hc_result(hc_status_from_errno(ret), 0);
			/* One copy: the handler never rereads guest memory another VP may change. */
			memcpy(in_buf, in_hva, in_len);
		}
		if (out_len) {
			ret = mem->access(mem->ctx, regs->r8, (uint32_t)out_len, true, &out_hva);
			if (ret)
				return hc_result(hc_status_from_errno(ret), 0);
		}
	}

	/* Only the bytes a call may read or write are initialised: the rest is never touched. */
	memset(out_buf, 0, out_len);
	args = (struct hc_args){
		.ctl = &ctl, .in = in_buf, .in_len = (uint32_t)in_len,
		.out = out_buf, .out_len = (uint32_t)out_len,
		.reps_done = ctl.rep_start, .env = env,
	};
	ret = c->fn(&args);
	if (!c->rep)
		args.reps_done = 0;
	else if (!ret)
		args.reps_done = ctl.rep_count;   /* success means every element was processed */
	else if (args.reps_done > ctl.rep_count || args.reps_done < ctl.rep_start)
		args.reps_done = ctl.rep_start;   /* a handler bug must not report impossible progress */

	if (out_hva) {
		/* Write the header, and only the rep elements this call completed. */
		memcpy(out_hva, out_buf, c->out_size);
		if (c->rep && args.reps_done > ctl.rep_start) {
			size_t from = c->out_size + (size_t)ctl.rep_start * c->rep_out_size;
			size_t to = c->out_size + (size_t)args.reps_done * c->rep_out_size;
			memcpy((uint8_t *)out_hva + from, out_buf + from, to - from);
		}
	}
	return hc_result(hc_status_from_errno(ret), args.reps_done);
}
