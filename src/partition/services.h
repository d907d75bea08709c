/* SPDX-License-Identifier: MIT */
/* The ordered list of service modules every partition gets; created in order, destroyed in reverse. */
#ifndef PART_SERVICES_H
#define PART_SERVICES_H

#include <stddef.h>

struct partition;

struct part_module {
	const char *name;
	int (*create)(struct partition *p, void **state);
	void (*destroy)(struct partition *p, void *state);
};

/* Create every module in order; on failure destroys those created and returns -errno. */
int part_services_create(struct partition *p);
void part_services_destroy(struct partition *p);

/* Register n services with the same opaque; all or none. Unregister in reverse. */
struct vmm_service;
int part_register_services(struct partition *p, const struct vmm_service *svcs, size_t n, void *opaque);
void part_unregister_services(struct partition *p, const struct vmm_service *svcs, size_t n, void *opaque);

/* Module descriptors (each defined by its own module). */
extern const struct part_module dev_uart_module;
extern const struct part_module dev_debugcon_module;
extern const struct part_module dev_debugexit_module;
extern const struct part_module dev_unclaimed_module;
extern const struct part_module part_halt_module;
extern const struct part_module part_fault_module;
extern const struct part_module hv_msr_module;
extern const struct part_module hypercall_module;
extern const struct part_module vtl_module;

#endif /* PART_SERVICES_H */
