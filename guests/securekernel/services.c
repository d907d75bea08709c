/* SPDX-License-Identifier: MIT */
/*
 * What VTL0 can ask of the secure kernel (include/hvrun/securekernel.h), the checks every
 * VTL0-supplied address goes through, HVCI's W^X for VTL0 code, and the intercept log.
 */
#include "sk.h"

#include "io.h"
#include "string.h"

#define MAX_SEALED 64u

uint32_t sk_status;
uint64_t sk_vtl0_ram_end;

/* Pages the secure kernel made read-only for VTL0: its kernel code and HVCI-approved pages. */
static struct { uint64_t base, size; } text[HVRUN_LOADER_MEMMAP_MAX];
static unsigned ntext;
static uint64_t sealed[MAX_SEALED];
static unsigned nsealed;

static struct {
	uint64_t count, last_gpa, last_rip;
} ilog;

static bool inside(uint64_t gpa, uint64_t len, uint64_t base, uint64_t size)
{
	return gpa >= base && len <= size && gpa - base <= size - len;
}

static bool overlaps(uint64_t gpa, uint64_t len, uint64_t base, uint64_t size)
{
	return gpa < base + size && base < gpa + len;
}

static bool in_map(uint64_t gpa, uint64_t len, uint32_t type)
{
	for (uint32_t i = 0; i < sk_lb->memmap_count; i++)
		if (sk_lb->memmap[i].type == type && inside(gpa, len, sk_lb->memmap[i].base, sk_lb->memmap[i].size))
			return true;
	return false;
}

static bool touches_map(uint64_t gpa, uint64_t len, uint32_t type)
{
	for (uint32_t i = 0; i < sk_lb->memmap_count; i++)
		if (sk_lb->memmap[i].type == type && overlaps(gpa, len, sk_lb->memmap[i].base, sk_lb->memmap[i].size))
			return true;
	return false;
}

static bool read_only_for_vtl0(uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < ntext; i++)
		if (overlaps(gpa, len, text[i].base, text[i].size))
			return true;
	for (unsigned i = 0; i < nsealed; i++)
		if (overlaps(gpa, len, sealed[i], SK_PAGE_SIZE))
			return true;
	return false;
}

/*
 * A VTL0 buffer is acceptable if it lies inside VTL0 RAM without wrapping, never touches VTL1
 * memory, and (for output) is writable by VTL0 itself: the secure kernel must not be a deputy
 * that writes where VTL0 could not.
 */
static uint32_t check_vtl0_range(uint64_t gpa, uint64_t len, bool write)
{
	uint64_t span = len ? len : 1;

	if (gpa + span < gpa)
		return SK_E_INVALID;
	if (touches_map(gpa, span, HVRUN_MEM_VTL1_PRIVATE) || touches_map(gpa, span, HVRUN_MEM_VTL1_IMAGE) ||
	    overlaps(gpa, span, sk_lb->vtl1_base, sk_lb->vtl1_size))
		return SK_E_ACCESS;
	if (!in_map(gpa, span, HVRUN_MEM_VTL0_RAM))
		return SK_E_INVALID;
	if (write && read_only_for_vtl0(gpa, span))
		return SK_E_ACCESS;
	return SK_OK;
}

void sk_services_init(void)
{
	for (uint32_t i = 0; i < sk_lb->memmap_count; i++) {
		const struct hvrun_memmap_entry *e = &sk_lb->memmap[i];
		if (e->type == HVRUN_MEM_VTL0_RAM && e->base + e->size > sk_vtl0_ram_end)
			sk_vtl0_ram_end = e->base + e->size;
		if (e->type == HVRUN_MEM_VTL0_TEXT && e->size) {
			text[ntext].base = e->base & ~SK_PAGE_MASK;
			text[ntext].size = ((e->base + e->size + SK_PAGE_MASK) & ~SK_PAGE_MASK) - text[ntext].base;
			ntext++;
		}
	}
}

/* Seal VTL0's kernel code read+execute (HVCI's W^X). */
bool sk_protect_kernel_code(unsigned *pages)
{
	uint64_t gpfns[64];
	unsigned n = 0;

	*pages = 0;
	for (unsigned i = 0; i < ntext; i++) {
		for (uint64_t a = text[i].base; a < text[i].base + text[i].size; a += SK_PAGE_SIZE) {
			if (check_vtl0_range(a, SK_PAGE_SIZE, false) != SK_OK)
				sk_fail("VTL0 code page %#lx is not VTL0 RAM", a);
			gpfns[n++] = a / SK_PAGE_SIZE;
			if (n == 64) {
				if (sk_modify_protection(HV_MAP_GPA_READABLE | HV_MAP_GPA_KX | HV_MAP_GPA_UX, gpfns, n))
					return false;
				*pages += n;
				n = 0;
			}
		}
	}
	if (n && sk_modify_protection(HV_MAP_GPA_READABLE | HV_MAP_GPA_KX | HV_MAP_GPA_UX, gpfns, n))
		return false;
	*pages += n;
	return true;
}

static void svc_hmac(bool verify, uint64_t *status, uint64_t *value)
{
	uint64_t buf = sk_vtl0.rsi, len = sk_vtl0.rdx, out = sk_vtl0.r8;
	struct tl_request *req = &tl_state.req;
	uint32_t st;
	uint64_t r;

	*value = 0;
	if (len > SK_HMAC_MAX_LEN) {
		*status = SK_E_INVALID;
		return;
	}
	st = check_vtl0_range(buf, len, false);
	if (st == SK_OK)
		st = check_vtl0_range(out, 32, !verify);
	if (st != SK_OK) {
		*status = st;
		return;
	}
	memset(req, 0, sizeof(*req));
	req->op = verify ? TL_OP_HMAC_VERIFY : TL_OP_HMAC;
	req->src = SK_VTL0_WINDOW + buf;
	req->len = len;
	req->aux = SK_VTL0_WINDOW + out;
	r = sk_trustlet_call(req);
	if (r == ~0ull) {
		*status = SK_E_DENIED;
		return;
	}
	if (verify) {
		*value = r;
	} else {
		memcpy((void *)(uintptr_t)out, req->out, 32);
		*value = 32;
	}
	memset(req->out, 0, sizeof(req->out));
	*status = SK_OK;
}

static void svc_hvci_protect(uint64_t *status, uint64_t *value)
{
	uint64_t page = sk_vtl0.rsi, gpfn;
	struct tl_request *req = &tl_state.req;
	uint32_t st;
	uint64_t r;
	uint16_t hv;

	*value = 0;
	if (page & SK_PAGE_MASK) {
		*status = SK_E_INVALID;
		return;
	}
	st = check_vtl0_range(page, SK_PAGE_SIZE, false);
	if (st != SK_OK) {
		*status = st;
		return;
	}
	for (unsigned i = 0; i < nsealed; i++) {
		if (sealed[i] == page) {
			*status = SK_OK;       /* already sealed: nothing changed since */
			return;
		}
	}
	memset(req, 0, sizeof(*req));
	req->op = TL_OP_HVCI_CHECK;
	req->src = SK_VTL0_WINDOW + page;
	r = sk_trustlet_call(req);
	if (r == 0 || r == ~0ull) {
		sk_log("HVCI: page %#lx (SHA-256 %02x%02x%02x%02x...) is not on the allow list: denied", page,
		       req->out[0], req->out[1], req->out[2], req->out[3]);
		*status = SK_E_DENIED;
		return;
	}
	if (nsealed == MAX_SEALED) {
		*status = SK_E_DENIED;
		return;
	}
	gpfn = page / SK_PAGE_SIZE;
	hv = sk_modify_protection(HV_MAP_GPA_READABLE | HV_MAP_GPA_KX | HV_MAP_GPA_UX, &gpfn, 1);
	if (hv != HV_STATUS_SUCCESS) {
		sk_log("HVCI: sealing page %#lx failed: hypercall status %#x", page, hv);
		*status = SK_E_ACCESS;
		return;
	}
	sealed[nsealed++] = page;
	sk_log("HVCI: page %#lx matches allow-list entry %lu: sealed R+X", page, r - 1);
	*value = r - 1;
	*status = SK_OK;
}

extern char __sk_shared_start[], __sk_shared_end[];

/*
 * SHA-256 of the secure kernel's code and read-only data as they are now, so that VTL0 can check
 * that nothing (a hostile VTL0, or hvrun acting for it) changed VTL1's code: the same digest before
 * and after means the same bytes.
 */
bool sk_measure(uint8_t digest[32], uint64_t *len)
{
	struct tl_request *req = &tl_state.req;

	memset(req, 0, sizeof(*req));
	req->op = TL_OP_MEASURE;
	req->src = (uintptr_t)__sk_shared_start;
	req->len = (uintptr_t)__sk_shared_end - (uintptr_t)__sk_shared_start;
	if (sk_trustlet_call(req) != 0)
		return false;
	memcpy(digest, req->out, 32);
	memset(req->out, 0, sizeof(req->out));
	*len = req->len;
	return true;
}

static void svc_measure(uint64_t *status, uint64_t *value)
{
	uint64_t out = sk_vtl0.r8;
	uint8_t digest[32];

	*value = 0;
	*status = check_vtl0_range(out, sizeof(digest), true);
	if (*status != SK_OK)
		return;
	if (!sk_measure(digest, value)) {
		*status = SK_E_DENIED;
		return;
	}
	memcpy((void *)(uintptr_t)out, digest, sizeof(digest));
}

void sk_handle_vtl_call(void)
{
	uint64_t status = SK_OK, value = 0;

	switch (sk_vtl0.rdi) {
	case SK_SVC_PING:
		value = SK_PING_MAGIC;
		break;
	case SK_SVC_HMAC:
		svc_hmac(false, &status, &value);
		break;
	case SK_SVC_HMAC_VERIFY:
		svc_hmac(true, &status, &value);
		break;
	case SK_SVC_HVCI_PROTECT:
		svc_hvci_protect(&status, &value);
		break;
	case SK_SVC_INTERCEPT_LOG:
		value = ilog.count;
		sk_vtl0.rdx = ilog.last_gpa;
		sk_vtl0.r8 = ilog.last_rip;
		break;
	case SK_SVC_STATUS:
		value = sk_status;
		break;
	case SK_SVC_MEASURE:
		svc_measure(&status, &value);
		break;
	default:
		status = SK_E_NO_SERVICE;
		break;
	}
	*(volatile uint64_t *)(sk_assist + HV_VP_ASSIST_RETURN_RAX) = status;
	*(volatile uint64_t *)(sk_assist + HV_VP_ASSIST_RETURN_RCX) = value;
}

/* A VTL0 access our protections refused (hvrun already dropped it): count it, keep the last one. */
void sk_handle_intercept(bool from_assist_page)
{
	volatile struct hv_message *m = from_assist_page ?
		(volatile struct hv_message *)(sk_assist + HV_VP_ASSIST_INTERCEPT_MSG) : &sk_simp[0];
	uint32_t type = m->header.message_type;

	if (type == HVMSG_GPA_INTERCEPT) {
		const volatile struct hv_x64_memory_intercept *mi = (const volatile void *)m->payload.bytes;
		static const char *const kind[] = { "read", "write", "execute" };
		uint8_t access = mi->header.access_type;

		ilog.count++;
		ilog.last_gpa = mi->gpa;
		ilog.last_rip = mi->header.rip;
		sk_log("intercept: VTL0 %s of protected GPA %#lx at RIP %#lx refused (%lu so far)",
		       access < 3 ? kind[access] : "access", ilog.last_gpa, ilog.last_rip, ilog.count);
	} else if (type != HVMSG_NONE) {
		sk_log("intercept: message type %#x ignored", type);
	}
	if (type != HVMSG_NONE) {
		uint8_t flags = m->header.message_flags;
		m->header.message_type = HVMSG_NONE;
		if (!from_assist_page && (flags & HV_MESSAGE_FLAG_PENDING))
			wrmsr(HV_X64_MSR_EOM, 0);
	}
	/* VTL0 resumes where it was: its RAX/RCX come back through the assist page. */
	*(volatile uint64_t *)(sk_assist + HV_VP_ASSIST_RETURN_RAX) = sk_vtl0.rax;
	*(volatile uint64_t *)(sk_assist + HV_VP_ASSIST_RETURN_RCX) = sk_vtl0.rcx;
}
