/* SPDX-License-Identifier: MIT */
/* hvrun: parse the command line, create the partitions, run each on its own thread, exit with their status. */
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cli.h"
#include "partition/config.h"
#include "partition/loader.h"
#include "partition/partition.h"
#include "vmm/exitcode.h"
#include "vmm/kvm.h"
#include "vmm/log.h"
#include "vmm/sandbox.h"

/* One partition of this run: created, started, run on a thread of its own. */
struct run_slot {
	struct partition *p;
	pthread_t thread;
	volatile sig_atomic_t running;
	int status;
};

static struct run_slot slots[PART_CONFIG_MAX];
static unsigned nslots;
static struct partition *fabric_parts[PART_CONFIG_MAX];
static struct part_fabric fabric;
static volatile sig_atomic_t timed_out;
static volatile sig_atomic_t stop_signal;   /* SIGINT/SIGTERM that stopped the run, for the report */

#define SIG_KICK SIGUSR1

static void on_kick(int sig)
{
	(void)sig;   /* only interrupts KVM_RUN (EINTR) */
}

static void on_signal(int sig)
{
	int status = sig == SIGALRM ? HVRUN_EXIT_TIMEOUT : HVRUN_EXIT_SIGNAL_BASE + sig;

	if (sig == SIGALRM)
		timed_out = 1;
	else
		stop_signal = sig;
	for (unsigned i = 0; i < nslots; i++) {
		if (!slots[i].running)
			continue;
		part_request_stop(slots[i].p, status);
		pthread_kill(slots[i].thread, SIG_KICK);   /* a running vCPU sees the stop now */
	}
}

static int install_signals(double timeout)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: KVM_RUN must return EINTR so the VP loop sees the stop. */
	sa.sa_handler = on_kick;
	if (sigaction(SIG_KICK, &sa, NULL))
		return -errno;
	sa.sa_handler = on_signal;
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) || sigaction(SIGALRM, &sa, NULL))
		return -errno;
	if (timeout > 0) {
		struct itimerval it = { 0 };
		it.it_value.tv_sec = (time_t)timeout;
		it.it_value.tv_usec = (suseconds_t)((timeout - (double)(time_t)timeout) * 1e6);
		if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
			it.it_value.tv_usec = 1;
		if (setitimer(ITIMER_REAL, &it, NULL))
			return -errno;
	}
	return 0;
}

static void *partition_thread(void *arg)
{
	struct run_slot *s = arg;

	if (part_run(s->p, &s->status))
		s->status = HVRUN_EXIT_HOST_ERROR;
	return NULL;
}

static void destroy_all(void)
{
	while (nslots) {
		nslots--;
		part_destroy(slots[nslots].p);
		slots[nslots].p = NULL;
	}
}

/* The partition configurations of this run: one per IMAGE, or the --config file's. */
static int build_configs(const struct hvrun_options *o, struct part_config_set *set, char *sk_path,
			 size_t sk_len)
{
	const char *sk = NULL;
	int ret;

	if (!o->no_secure_kernel) {
		if (o->secure_kernel) {
			sk = o->secure_kernel;
		} else if (part_loader_find_secure_kernel(sk_path, sk_len) == 0) {
			sk = sk_path;
		} else if (!o->config) {
			pr_err("no secure kernel found (set HVRUN_SECURE_KERNEL, pass --secure-kernel PATH, "
			       "or boot VTL0 alone with --no-secure-kernel)");
			return -ENOENT;
		}
	}
	memset(set, 0, sizeof(*set));
	if (o->config) {
		char why[256];
		ret = part_config_load(o->config, sk, set, why, sizeof(why));
		if (ret) {
			pr_err("%s: %s", o->config, why);
			return ret;
		}
	} else {
		for (unsigned i = 0; i < o->nimages; i++) {
			struct part_config *c = &set->part[set->count++];
			c->image_path = o->images[i];
			c->secure_kernel = sk;
			c->vp_count = o->smp;
			snprintf(set->names[i], sizeof(set->names[i]), "%s", o->images[i]);
			c->name = basename(set->names[i]);
		}
	}
	for (unsigned i = 0; i < set->count; i++) {
		struct part_config *c = &set->part[i];
		if (!c->mem_size)
			c->mem_size = o->mem_size;
		if (!c->vtl1_mem_size)
			c->vtl1_mem_size = o->vtl1_mem_size;
		if (!c->cmdline)
			c->cmdline = o->cmdline;
		c->hv_vendor_id = o->hv_vendor_id;
		c->sandbox = !o->no_sandbox;
		c->console_out = stdout;
		if (set->count > 1) {
			snprintf(set->prefixes[i], sizeof(set->prefixes[i]), "[%s] ", c->name);
			c->console_prefix = set->prefixes[i];
		}
	}
	return 0;
}

/* 0 if every partition exited 0, else the status of the first (in order) that did not. */
static int summary_status(void)
{
	for (unsigned i = 0; i < nslots; i++)
		if (slots[i].status != 0)
			return slots[i].status;
	return 0;
}

int main(int argc, char **argv)
{
	static struct part_config_set set;
	struct hvrun_options opts;
	struct vmm_kvm kvm;
	char err[256], sk_path[4096];
	bool usage;
	int ret, status;

	/*
	 * Give stdio its buffers now: left to itself, glibc sizes them on the first write with
	 * fstat/ioctl(TCGETS) calls that the VP threads' seccomp filter does not allow.
	 */
	static char out_buf[8192];
	setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));
	setvbuf(stderr, NULL, _IONBF, 0);

	switch (cli_parse(argc, argv, &opts, stdout, err, sizeof(err))) {
	case CLI_DONE:
		return 0;
	case CLI_USAGE:
		fprintf(stderr, "hvrun: %s (see hvrun --help)\n", err);
		return HVRUN_EXIT_USAGE;
	case CLI_RUN:
		break;
	}
	vmm_log_set_level(opts.verbosity < 0 ? VMM_LOG_ERROR :
			  opts.verbosity == 0 ? VMM_LOG_NOTICE :
			  opts.verbosity == 1 ? VMM_LOG_INFO : VMM_LOG_DEBUG);
	vmm_log_set_trace(opts.trace);
	part_loader_host_report();

	if (build_configs(&opts, &set, sk_path, sizeof(sk_path)))
		return HVRUN_EXIT_USAGE;
	/* Every image is checked before KVM is touched: a bad image is a usage error on any host. */
	for (unsigned i = 0; i < set.count; i++) {
		ret = part_create(&set.part[i], &slots[nslots].p, &usage);
		if (ret) {
			destroy_all();
			return usage ? HVRUN_EXIT_USAGE : HVRUN_EXIT_HOST_ERROR;
		}
		nslots++;
	}
	/* The root's connections between its children (HvCallPostMessage / HvCallSignalEvent). */
	for (unsigned i = 0; i < nslots; i++)
		fabric_parts[i] = slots[i].p;
	fabric = (struct part_fabric){ .parts = fabric_parts, .nparts = nslots, .conn = set.conn,
				       .nconn = set.nconn };
	for (unsigned i = 0; i < nslots; i++)
		slots[i].p->cfg.fabric = set.nconn ? &fabric : NULL;
	if (vmm_kvm_open(&kvm, NULL)) {
		destroy_all();
		return HVRUN_EXIT_HOST_ERROR;
	}
	for (unsigned i = 0; i < nslots; i++) {
		if (part_start(slots[i].p, &kvm)) {
			destroy_all();
			vmm_kvm_close(&kvm);
			return HVRUN_EXIT_HOST_ERROR;
		}
		part_announce(slots[i].p, nslots > 1);
	}
	ret = install_signals(opts.timeout);
	if (ret) {
		pr_err("cannot install signal handlers: %s", strerror(-ret));
		destroy_all();
		vmm_kvm_close(&kvm);
		return HVRUN_EXIT_HOST_ERROR;
	}
	for (unsigned i = 0; i < nslots; i++) {
		slots[i].status = HVRUN_EXIT_HOST_ERROR;
		if (part_thread_create(&slots[i].thread, partition_thread, &slots[i]) == 0)
			slots[i].running = 1;
		else
			pr_err("cannot start a thread for partition %u", i);
	}
	if (stop_signal)   /* arrived before the threads ran: on_signal saw no running slot */
		on_signal(stop_signal);
	if (!opts.no_sandbox && vmm_sandbox_enter(VMM_ROLE_MAIN) < 0) {
		pr_err("cannot enter the seccomp sandbox: stopping (use --no-sandbox to run without it)");
		for (unsigned i = 0; i < nslots; i++)
			if (slots[i].running)
				part_request_stop(slots[i].p, HVRUN_EXIT_HOST_ERROR);
	}
	for (unsigned i = 0; i < nslots; i++) {
		if (!slots[i].running)
			continue;
		pthread_join(slots[i].thread, NULL);
		slots[i].running = 0;
		if (nslots > 1 || opts.verbosity > 0)
			vmm_log(nslots > 1 ? VMM_LOG_NOTICE : VMM_LOG_INFO, "partition %llu (%s) exited with status %d",
				(unsigned long long)slots[i].p->id, slots[i].p->cfg.name, slots[i].status);
	}
	if (timed_out)
		pr_warn("stopped after the %g s timeout", opts.timeout);
	if (stop_signal)
		pr_warn("stopped by %s", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	status = summary_status();
	destroy_all();
	vmm_kvm_close(&kvm);
	return status;
}
