/* SPDX-License-Identifier: MIT */
/* The message router: owns the service registry and delivers each intercept message to one service. */
#ifndef VMM_ROUTER_H
#define VMM_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "hv/message.h"

/* Register groups a service may declare it needs (and may write back). */
#define VMM_STATE_GPRS   (1u << 0)   /* struct kvm_regs: RAX..R15, RIP, RFLAGS */
#define VMM_STATE_SREGS  (1u << 1)   /* struct kvm_sregs: segments, CRs, EFER, tables */
#define VMM_STATE_ALL    (VMM_STATE_GPRS | VMM_STATE_SREGS)

/* The guest state a service sees: only the groups in its state_mask are guaranteed valid. */
struct vmm_vp_state {
	struct kvm_regs *regs;
	struct kvm_sregs *sregs;
	uint32_t valid;
	uint32_t dirty;          /* groups the service changed; written back on resume */
};

struct vp;

/*
 * A one-entry lookup cache a VP keeps for itself: the last (type, key) it routed and the claim
 * that took it, good while the router's registrations are unchanged (generation). Exits repeat
 * (a UART line, a polling loop, a hypercall loop), and a hit skips the lookup and its lock.
 */
struct vmm_route_cache {
	uint64_t generation;     /* 0: empty */
	uint32_t type;
	uint64_t key;
	const struct vmm_service *svc;
	void *opaque;
};

/* One routed message and the context it arrived in. */
struct vmm_exit {
	const struct hv_message *msg;
	struct vmm_vp_state *state;
	struct vp *vp;           /* the VP that exited (opaque to the router) */
	struct vmm_route_cache *cache;   /* NULL: look up every time */
};

enum vmm_action {
	VMM_ACT_RESUME,          /* continue the guest; dirty register groups are written back */
	VMM_ACT_INJECT,          /* inject exception `vector` (with error_code if valid), continue */
	VMM_ACT_STOP,            /* stop the partition with `status` */
};

struct vmm_reply {
	enum vmm_action action;
	uint64_t data;           /* result of a read: port IN, MMIO read, RDMSR */
	uint8_t vector;
	bool error_code_valid;
	uint32_t error_code;
	int status;              /* process exit status for VMM_ACT_STOP */
	const char *reason;      /* static text for the trace and the stop report */
};

/* A handler returns 0 with *reply filled, or a negative errno (hvrun-internal failure). */
typedef int (*vmm_service_fn)(void *opaque, const struct vmm_exit *exit, struct vmm_reply *reply);

/*
 * A service claims one message type. For port I/O (key = port), guest-physical accesses
 * (key = GPA) and MSR accesses (key = MSR index) it claims the half-open range [base, base + size); size 0 makes it the default
 * for keys no ranged service claims.
 */
struct vmm_service {
	const char *name;
	uint32_t msg_type;
	uint64_t base;
	uint64_t size;
	uint32_t state_mask;     /* VMM_STATE_* the handler reads or writes */
	vmm_service_fn handle;
};

/*
 * Threads: registration and lookup are safe from any thread; a handler runs without the router
 * lock held, so it may register or unregister services (its own included). A service must stay
 * valid until every VP of the partition has stopped.
 */

/* Loads the groups in `mask` into state (the VP layer provides it; tests fake it). */
typedef int (*vmm_state_loader_fn)(void *ctx, struct vmm_vp_state *state, uint32_t mask);

struct vmm_router;

int vmm_router_create(struct vmm_router **out);
void vmm_router_destroy(struct vmm_router *router);

/* -EEXIST if the range overlaps a registered one (or a second default), -EINVAL on bad input. */
int vmm_router_register(struct vmm_router *router, const struct vmm_service *svc, void *opaque);
int vmm_router_unregister(struct vmm_router *router, const struct vmm_service *svc, void *opaque);

/* Is the cache's route still good: has no service been (un)registered since it was filled? */
bool vmm_router_cache_current(struct vmm_router *router, const struct vmm_route_cache *cache);

/* The service that would receive msg, or NULL. */
const struct vmm_service *vmm_router_lookup(struct vmm_router *router, const struct hv_message *msg);

/*
 * Deliver one message. Makes sure the service's declared state is loaded, calls it, and checks
 * that it wrote back only what it declared. An unclaimed message is answered with a stop
 * (HVRUN_EXIT_UNHANDLED). Returns 0 or a negative errno from the service or the loader.
 */
int vmm_router_dispatch(struct vmm_router *router, struct vmm_exit *exit,
			vmm_state_loader_fn load, void *load_ctx, struct vmm_reply *reply);

/*
 * GpaIntercept messages are keyed by VTL and GPA: each VTL has its own overlays at the same GPA,
 * and a VTL0 protection fault must not reach a VTL1 overlay's service.
 */
#define VMM_GPA_KEY(vtl, gpa) ((uint64_t)(vtl) << 56 | (gpa))

/* The routing key of a message (port, GPA or MSR index), and whether the type is ranged. */
bool vmm_msg_key(const struct hv_message *msg, uint64_t *key);

#endif /* VMM_ROUTER_H */
