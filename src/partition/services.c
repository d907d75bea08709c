/* SPDX-License-Identifier: MIT */
/* Explicit, ordered service registration: the only list of what a partition serves. */
#include "partition/services.h"

#include "partition/partition.h"
#include "vmm/log.h"

static const struct part_module *const modules[] = {
	&part_fault_module,       /* shutdown, bad state, internal errors: stop with a report */
	&part_halt_module,        /* hlt with IF=0 stops the partition */
	&dev_debugexit_module,    /* port 0xF4 */
	&dev_debugcon_module,     /* port 0xE9 */
	&dev_uart_module,         /* ports 0x3F8-0x3FF */
	&hv_msr_module,           /* Hyper-V synthetic MSRs and their overlay pages */
	&hypercall_module,        /* the hypercall page's calls */
	&vtl_module,              /* VSM: protection intercepts for VTL1 */
	&dev_unclaimed_module,    /* defaults: unclaimed ports, MMIO and MSRs */
};

_Static_assert(sizeof(modules) / sizeof(modules[0]) <= PART_MAX_MODULES, "too many modules");

int part_services_create(struct partition *p)
{
	p->nmodules = 0;
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
		int ret = modules[i]->create(p, &p->module_state[i]);
		if (ret) {
			pr_err("service %s failed to start: %d", modules[i]->name, ret);
			part_services_destroy(p);
			return ret;
		}
		p->nmodules++;
	}
	return 0;
}

void part_services_destroy(struct partition *p)
{
	while (p->nmodules) {
		p->nmodules--;
		modules[p->nmodules]->destroy(p, p->module_state[p->nmodules]);
		p->module_state[p->nmodules] = NULL;
	}
}

int part_register_services(struct partition *p, const struct vmm_service *svcs, size_t n, void *opaque)
{
	for (size_t i = 0; i < n; i++) {
		int ret = vmm_router_register(p->router, &svcs[i], opaque);
		if (ret) {
			part_unregister_services(p, svcs, i, opaque);
			return ret;
		}
	}
	return 0;
}

void part_unregister_services(struct partition *p, const struct vmm_service *svcs, size_t n, void *opaque)
{
	while (n-- > 0)
		vmm_router_unregister(p->router, &svcs[n], opaque);
}
