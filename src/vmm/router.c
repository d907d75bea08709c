/* SPDX-License-Identifier: MIT */
/* Service registry and message delivery: message type (+ port/GPA range) -> one service. */
#include "vmm/router.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/exitcode.h"
#include "vmm/log.h"
#include "vmm/msg.h"

struct router_entry {
	const struct vmm_service *svc;
	void *opaque;
};

/*
 * Claims are kept sorted by (message type, base), defaults (size 0) apart, so that a lookup is a
 * binary search: ranged claims of one type never overlap, so the one with the greatest base not
 * above the key is the only candidate. Every exit looks up; registration is rare.
 */
struct vmm_router {
	pthread_rwlock_t lock;
	struct router_entry *entries;
	size_t count;
	size_t cap;
	struct router_entry *defaults;
	size_t ndefaults;
	size_t defaults_cap;
	uint64_t generation;     /* bumped by every change, under the write lock; read atomically */
};

bool vmm_msg_key(const struct hv_message *msg, uint64_t *key)
{
	switch (msg->header.message_type) {
	case HVMSG_X64_IO_PORT_INTERCEPT:
		*key = vmm_msg_io(msg)->port;
		return true;
	case HVMSG_UNMAPPED_GPA:
		*key = vmm_msg_mem(msg)->gpa;
		return true;
	case HVMSG_GPA_INTERCEPT:
		*key = VMM_GPA_KEY((vmm_msg_intercept(msg)->execution_state & HV_EXEC_STATE_VTL_MASK) >>
				   HV_EXEC_STATE_VTL_SHIFT, vmm_msg_mem(msg)->gpa & ((1ull << 56) - 1));
		return true;
	case HVMSG_X64_MSR_INTERCEPT:
		*key = vmm_msg_msr(msg)->msr;
		return true;
	default:
		*key = 0;
		return false;
	}
}

static bool type_is_ranged(uint32_t type)
{
	return type == HVMSG_X64_IO_PORT_INTERCEPT || type == HVMSG_UNMAPPED_GPA ||
	       type == HVMSG_GPA_INTERCEPT || type == HVMSG_X64_MSR_INTERCEPT;
}

int vmm_router_create(struct vmm_router **out)
{
	struct vmm_router *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	if (pthread_rwlock_init(&r->lock, NULL)) {
		free(r);
		return -ENOMEM;
	}
	r->generation = 1;       /* a cache with generation 0 is empty */
	*out = r;
	return 0;
}

void vmm_router_destroy(struct vmm_router *router)
{
	if (!router)
		return;
	pthread_rwlock_destroy(&router->lock);
	free(router->entries);
	free(router->defaults);
	free(router);
}

/* Half-open ranges [a, a+as) and [b, b+bs) overlap; sizes are non-zero and do not wrap. */
static bool ranges_overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

static bool entry_conflicts(const struct vmm_service *a, const struct vmm_service *b)
{
	if (a->msg_type != b->msg_type)
		return false;
	if (!type_is_ranged(a->msg_type))
		return true;            /* one service per non-ranged type */
	if (a->size == 0 || b->size == 0)
		return a->size == b->size;  /* one default per ranged type */
	return ranges_overlap(a->base, a->size, b->base, b->size);
}

/* A ranged type's default claims every key no ranged service claims. */
static bool is_default(const struct vmm_service *svc)
{
	return type_is_ranged(svc->msg_type) && svc->size == 0;
}

static bool sorts_before(const struct vmm_service *svc, uint32_t type, uint64_t base)
{
	return svc->msg_type < type || (svc->msg_type == type && svc->base <= base);
}

/* Index of the first claim that sorts after (type, base). Caller holds the lock. */
static size_t upper_bound(const struct vmm_router *router, uint32_t type, uint64_t base)
{
	size_t lo = 0, hi = router->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sorts_before(router->entries[mid].svc, type, base))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int table_insert(struct router_entry **table, size_t *count, size_t *cap, size_t at,
			const struct vmm_service *svc, void *opaque)
{
	if (*count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct router_entry *e = realloc(*table, ncap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		*table = e;
		*cap = ncap;
	}
	memmove(&(*table)[at + 1], &(*table)[at], (*count - at) * sizeof(**table));
	(*table)[at] = (struct router_entry){ .svc = svc, .opaque = opaque };
	(*count)++;
	return 0;
}

static int table_remove(struct router_entry *table, size_t *count, const struct vmm_service *svc,
			void *opaque)
{
	for (size_t i = 0; i < *count; i++) {
		if (table[i].svc == svc && table[i].opaque == opaque) {
			memmove(&table[i], &table[i + 1], (*count - i - 1) * sizeof(table[0]));
			(*count)--;
			return 0;
		}
	}
	return -ENOENT;
}

int vmm_router_register(struct vmm_router *router, const struct vmm_service *svc, void *opaque)
{
	int ret = 0;

	if (!router || !svc || !svc->handle || !svc->name)
		return -EINVAL;
	if (svc->state_mask & ~VMM_STATE_ALL)
		return -EINVAL;
	if (type_is_ranged(svc->msg_type)) {
		if (svc->size && svc->base + svc->size < svc->base)
			return -EINVAL;
		if (svc->msg_type == HVMSG_X64_IO_PORT_INTERCEPT && svc->base + svc->size > 0x10000)
			return -EINVAL;
		if (svc->msg_type == HVMSG_X64_MSR_INTERCEPT && svc->base + svc->size > 0x100000000ull)
			return -EINVAL;
	} else if (svc->base || svc->size) {
		return -EINVAL;
	}

	pthread_rwlock_wrlock(&router->lock);
	for (size_t i = 0; i < router->count + router->ndefaults; i++) {
		const struct vmm_service *other = i < router->count ? router->entries[i].svc :
					      router->defaults[i - router->count].svc;
		if (entry_conflicts(other, svc)) {
			pr_debug("router: %s overlaps %s", svc->name, other->name);
			ret = -EEXIST;
			goto out;
		}
	}
	if (is_default(svc))
		ret = table_insert(&router->defaults, &router->ndefaults, &router->defaults_cap,
				   router->ndefaults, svc, opaque);
	else
		ret = table_insert(&router->entries, &router->count, &router->cap,
				   upper_bound(router, svc->msg_type, svc->base), svc, opaque);
	if (!ret)
		__atomic_add_fetch(&router->generation, 1, __ATOMIC_RELEASE);
out:
	pthread_rwlock_unlock(&router->lock);
	return ret;
}

int vmm_router_unregister(struct vmm_router *router, const struct vmm_service *svc, void *opaque)
{
	int ret;

	if (!router || !svc)
		return -EINVAL;
	pthread_rwlock_wrlock(&router->lock);
	ret = table_remove(router->entries, &router->count, svc, opaque);
	if (ret)
		ret = table_remove(router->defaults, &router->ndefaults, svc, opaque);
	if (!ret)
		__atomic_add_fetch(&router->generation, 1, __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&router->lock);
	return ret;
}

/* Caller holds the lock. A ranged claim wins over the type's default. */
static const struct router_entry *find_entry(const struct vmm_router *router, uint32_t type, bool ranged,
					     uint64_t key)
{
	size_t i = upper_bound(router, type, key);

	if (i > 0) {
		const struct router_entry *e = &router->entries[i - 1];

		if (e->svc->msg_type == type && (!ranged || key - e->svc->base < e->svc->size))
			return e;
	}
	for (i = 0; i < router->ndefaults; i++)
		if (router->defaults[i].svc->msg_type == type)
			return &router->defaults[i];
	return NULL;
}

bool vmm_router_cache_current(struct vmm_router *router, const struct vmm_route_cache *cache)
{
	return cache->generation == __atomic_load_n(&router->generation, __ATOMIC_ACQUIRE);
}

const struct vmm_service *vmm_router_lookup(struct vmm_router *router, const struct hv_message *msg)
{
	const struct router_entry *e;

	uint64_t key;
	bool ranged = vmm_msg_key(msg, &key);

	pthread_rwlock_rdlock(&router->lock);
	e = find_entry(router, msg->header.message_type, ranged, key);
	pthread_rwlock_unlock(&router->lock);
	return e ? e->svc : NULL;
}

static const char *action_name(const struct vmm_reply *reply)
{
	switch (reply->action) {
	case VMM_ACT_RESUME: return "resume";
	case VMM_ACT_INJECT: return "inject";
	case VMM_ACT_STOP: return "stop";
	}
	return "?";
}

int vmm_router_dispatch(struct vmm_router *router, struct vmm_exit *exit,
			vmm_state_loader_fn load, void *load_ctx, struct vmm_reply *reply)
{
	struct vmm_route_cache *cache = exit->cache;
	uint32_t type = exit->msg->header.message_type;
	struct router_entry entry = { 0 };
	uint64_t key;
	bool ranged = vmm_msg_key(exit->msg, &key);
	bool routed;
	int ret;

	*reply = (struct vmm_reply){ .action = VMM_ACT_RESUME };
	if (cache && cache->key == key && cache->type == type && vmm_router_cache_current(router, cache)) {
		entry = (struct router_entry){ .svc = cache->svc, .opaque = cache->opaque };
		routed = true;
	} else {
		const struct router_entry *found;

		pthread_rwlock_rdlock(&router->lock);
		found = find_entry(router, type, ranged, key);
		if (found)
			entry = *found;
		if (found && cache)
			*cache = (struct vmm_route_cache){
				.generation = __atomic_load_n(&router->generation, __ATOMIC_RELAXED),
				.type = type, .key = key, .svc = found->svc, .opaque = found->opaque,
			};
		pthread_rwlock_unlock(&router->lock);
		routed = found != NULL;
	}
	if (!routed) {
		*reply = (struct vmm_reply){
			.action = VMM_ACT_STOP,
			.status = HVRUN_EXIT_UNHANDLED,
			.reason = "no service handles this message",
		};
		ret = 0;
		goto trace;
	}
	/*
	 * The lock is not held across the call: a handler may (un)register services, e.g. when the
	 * guest moves an overlay page. Services stay valid until the partition's VPs have stopped.
	 */
	if ((exit->state->valid & entry.svc->state_mask) != entry.svc->state_mask) {
		if (!load) {
			ret = -EFAULT;
			goto trace;
		}
		ret = load(load_ctx, exit->state, entry.svc->state_mask & ~exit->state->valid);
		if (ret)
			goto trace;
	}
	exit->state->dirty = 0;
	ret = entry.svc->handle(entry.opaque, exit, reply);
	if (!ret && (exit->state->dirty & ~entry.svc->state_mask)) {
		pr_err("service %s wrote register state it did not declare", entry.svc->name);
		ret = -EPERM;
	}
trace:
	if (vmm_log_trace_enabled()) {
		char desc[256];
		vmm_msg_describe(exit->msg, desc, sizeof(desc));
		if (ret)
			vmm_trace("vp%u %s -> %s: error %d", vmm_msg_intercept(exit->msg)->vp_index, desc,
				  routed ? entry.svc->name : "(none)", ret);
		else
			vmm_trace("vp%u %s -> %s: %s%s%s", vmm_msg_intercept(exit->msg)->vp_index, desc,
				  routed ? entry.svc->name : "(none)", action_name(reply),
				  reply->reason ? " " : "", reply->reason ? reply->reason : "");
	}
	return ret;
}
