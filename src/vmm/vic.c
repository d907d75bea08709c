/* SPDX-License-Identifier: MIT */
/* Userspace interrupt bookkeeping with local-APIC priority rules (IRR, ISR, TPR, auto-EOI). */
#include "vmm/vic.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static bool test_bit(const uint64_t *b, unsigned n)
{
	return b[n / 64] >> (n % 64) & 1;
}

static void set_bit(uint64_t *b, unsigned n)
{
	b[n / 64] |= 1ull << (n % 64);
}

static void clear_bit(uint64_t *b, unsigned n)
{
	b[n / 64] &= ~(1ull << (n % 64));
}

static int highest(const uint64_t *b)
{
	for (int w = 3; w >= 0; w--)
		if (b[w])
			return w * 64 + 63 - __builtin_clzll(b[w]);
	return -1;
}

int vmm_vic_init(struct vmm_vic *v)
{
	memset(v, 0, sizeof(*v));
	if (pthread_mutex_init(&v->lock, NULL))
		return -ENOMEM;
	if (pthread_cond_init(&v->wake, NULL)) {
		pthread_mutex_destroy(&v->lock);
		return -ENOMEM;
	}
	return 0;
}

void vmm_vic_fini(struct vmm_vic *v)
{
	pthread_cond_destroy(&v->wake);
	pthread_mutex_destroy(&v->lock);
}

int vmm_vic_raise(struct vmm_vic *v, uint8_t vector, bool auto_eoi)
{
	int fresh;

	if (vector < 16)
		return -EINVAL;          /* 0-15 are exceptions, never external interrupts */
	pthread_mutex_lock(&v->lock);
	fresh = !test_bit(v->irr, vector);
	set_bit(v->irr, vector);
	if (fresh)
		__atomic_add_fetch(&v->pending, 1, __ATOMIC_RELEASE);
	if (auto_eoi)
		set_bit(v->auto_eoi, vector);
	else
		clear_bit(v->auto_eoi, vector);
	v->raised++;
	pthread_cond_broadcast(&v->wake);
	pthread_mutex_unlock(&v->lock);
	return fresh;
}

/* Caller holds the lock. */
static int deliverable_locked(const struct vmm_vic *v)
{
	int irr = highest(v->irr), isr = highest(v->isr);

	if (irr < 0)
		return -1;
	if ((irr >> 4) <= (v->tpr >> 4))
		return -1;
	if (isr >= 0 && (irr >> 4) <= (isr >> 4))
		return -1;
	return irr;
}

int vmm_vic_deliverable(struct vmm_vic *v)
{
	int r;

	pthread_mutex_lock(&v->lock);
	r = deliverable_locked(v);
	pthread_mutex_unlock(&v->lock);
	return r;
}

void vmm_vic_ack(struct vmm_vic *v, uint8_t vector)
{
	pthread_mutex_lock(&v->lock);
	if (test_bit(v->irr, vector)) {
		clear_bit(v->irr, vector);
		__atomic_sub_fetch(&v->pending, 1, __ATOMIC_RELEASE);
		if (!test_bit(v->auto_eoi, vector))
			set_bit(v->isr, vector);
		v->injected++;
	}
	pthread_mutex_unlock(&v->lock);
}

void vmm_vic_eoi(struct vmm_vic *v)
{
	int isr;

	pthread_mutex_lock(&v->lock);
	isr = highest(v->isr);
	if (isr >= 0)
		clear_bit(v->isr, (unsigned)isr);
	v->eois++;
	pthread_cond_broadcast(&v->wake);   /* a lower-priority pending vector may now be deliverable */
	pthread_mutex_unlock(&v->lock);
}

void vmm_vic_set_tpr(struct vmm_vic *v, uint8_t tpr)
{
	pthread_mutex_lock(&v->lock);
	v->tpr = tpr;
	pthread_cond_broadcast(&v->wake);
	pthread_mutex_unlock(&v->lock);
}

uint8_t vmm_vic_tpr(struct vmm_vic *v)
{
	uint8_t t;

	pthread_mutex_lock(&v->lock);
	t = v->tpr;
	pthread_mutex_unlock(&v->lock);
	return t;
}

int vmm_vic_wait(struct vmm_vic *v, volatile int *stop, unsigned poll_ms)
{
	int r;

	pthread_mutex_lock(&v->lock);
	while ((r = deliverable_locked(v)) < 0 && !*stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)poll_ms * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&v->wake, &v->lock, &ts);
	}
	pthread_mutex_unlock(&v->lock);
	return r >= 0 ? 1 : 0;
}

void vmm_vic_kick(struct vmm_vic *v)
{
	pthread_mutex_lock(&v->lock);
	pthread_cond_broadcast(&v->wake);
	pthread_mutex_unlock(&v->lock);
}
