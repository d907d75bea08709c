/* SPDX-License-Identifier: MIT */
/*
 * A VP's virtual interrupt controller, kept in userspace so HLT and interrupt windows stay
 * visible to the router: pending (IRR) and in-service (ISR) vectors, TPR, auto-EOI vectors.
 * hvrun injects with KVM_INTERRUPT; the guest ends an interrupt with the Hyper-V EOI MSR.
 */
#ifndef VMM_VIC_H
#define VMM_VIC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vmm_vic {
	pthread_mutex_t lock;
	pthread_cond_t wake;        /* a vector became pending (a halted VP waits on it) */
	uint64_t irr[4];
	uint64_t isr[4];
	uint64_t auto_eoi[4];       /* vectors acknowledged without entering the ISR */
	uint8_t tpr;                /* task priority: 7:4 class */
	int pending;                /* vectors in IRR (atomic read without the lock: a fast path) */
	uint64_t raised, injected, eois;
};

int vmm_vic_init(struct vmm_vic *v);
void vmm_vic_fini(struct vmm_vic *v);

/* Make `vector` (16..255) pending; thread-safe. 1 if it was not pending yet, 0 if it was. */
int vmm_vic_raise(struct vmm_vic *v, uint8_t vector, bool auto_eoi);
/* Cheap, lock-free: is any vector pending at all? (A raise after it is seen through the kick.) */
static inline bool vmm_vic_any_pending(const struct vmm_vic *v)
{
	return __atomic_load_n(&v->pending, __ATOMIC_ACQUIRE) != 0;
}

/* The vector to deliver now (priority above TPR and the highest in service), or -1. */
int vmm_vic_deliverable(struct vmm_vic *v);
/* The guest took `vector`: IRR -> ISR (or straight out for auto-EOI vectors). */
void vmm_vic_ack(struct vmm_vic *v, uint8_t vector);
/* End of interrupt: clear the highest in-service vector. */
void vmm_vic_eoi(struct vmm_vic *v);
void vmm_vic_set_tpr(struct vmm_vic *v, uint8_t tpr);
uint8_t vmm_vic_tpr(struct vmm_vic *v);
/*
 * Wait until a vector is deliverable or *stop becomes non-zero (checked every `poll_ms`).
 * Returns 1 when a vector is deliverable, 0 when stopped.
 */
int vmm_vic_wait(struct vmm_vic *v, volatile int *stop, unsigned poll_ms);
/* Wake a waiter without raising anything (a stop request). */
void vmm_vic_kick(struct vmm_vic *v);

#endif /* VMM_VIC_H */
