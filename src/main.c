/* SPDX-License-Identifier: MIT */
/* hvrun: parse the command line, create the partition, run it, and exit with its status. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "cli.h"
#include "partition/loader.h"
#include "partition/partition.h"
#include "vmm/exitcode.h"
#include "vmm/kvm.h"
#include "vmm/log.h"

static struct partition *volatile running;
static volatile sig_atomic_t timed_out;

static void on_signal(int sig)
{
	struct partition *p = running;

	if (sig == SIGALRM)
		timed_out = 1;
	if (p)
		part_request_stop(p, sig == SIGALRM ? HVRUN_EXIT_TIMEOUT : HVRUN_EXIT_SIGNAL_BASE + sig);
}

static int install_signals(double timeout)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: KVM_RUN must return EINTR so the VP loop sees the stop. */
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

int main(int argc, char **argv)
{
	struct hvrun_options opts;
	struct part_config cfg;
	struct vmm_kvm kvm;
	struct partition *p;
	char err[256], sk_path[4096];
	bool usage;
	int status, ret;

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
			  opts.verbosity == 0 ? VMM_LOG_WARN :
			  opts.verbosity == 1 ? VMM_LOG_INFO : VMM_LOG_DEBUG);
	vmm_log_set_trace(opts.trace);

	part_loader_host_report();
	memset(&cfg, 0, sizeof(cfg));
	if (!opts.no_secure_kernel) {
		if (opts.secure_kernel) {
			cfg.secure_kernel = opts.secure_kernel;
		} else if (part_loader_find_secure_kernel(sk_path, sizeof(sk_path)) == 0) {
			cfg.secure_kernel = sk_path;
		} else {
			pr_err("no secure kernel found (set HVRUN_SECURE_KERNEL, pass --secure-kernel PATH, "
			       "or boot VTL0 alone with --no-secure-kernel)");
			return HVRUN_EXIT_USAGE;
		}
	}
	cfg.vtl1_mem_size = opts.vtl1_mem_size;
	cfg.image_path = opts.image;
	cfg.mem_size = opts.mem_size;
	cfg.cmdline = opts.cmdline;
	cfg.hv_vendor_id = opts.hv_vendor_id;
	cfg.console_out = stdout;

	/* The image is checked before KVM is touched: a bad image is a usage error on any host. */
	ret = part_create(&cfg, &p, &usage);
	if (ret)
		return usage ? HVRUN_EXIT_USAGE : HVRUN_EXIT_HOST_ERROR;
	if (vmm_kvm_open(&kvm, NULL)) {
		part_destroy(p);
		return HVRUN_EXIT_HOST_ERROR;
	}
	if (part_start(p, &kvm)) {
		part_destroy(p);
		vmm_kvm_close(&kvm);
		return HVRUN_EXIT_HOST_ERROR;
	}
	running = p;
	ret = install_signals(opts.timeout);
	if (ret) {
		pr_err("cannot install signal handlers: %s", strerror(-ret));
		status = HVRUN_EXIT_HOST_ERROR;
	} else if (part_run(p, &status)) {
		status = HVRUN_EXIT_HOST_ERROR;
	}
	running = NULL;
	if (timed_out && status == HVRUN_EXIT_TIMEOUT)
		pr_warn("guest stopped after the %g s timeout", opts.timeout);
	pr_info("partition %llu exited with status %d", (unsigned long long)p->id, status);
	part_destroy(p);
	vmm_kvm_close(&kvm);
	return status;
}
