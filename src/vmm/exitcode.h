/* SPDX-License-Identifier: MIT */
/* hvrun's own process exit statuses (docs/hvrun.md has the table); guest statuses pass through. */
#ifndef VMM_EXITCODE_H
#define VMM_EXITCODE_H

#define HVRUN_EXIT_OK            0    /* guest wrote 0 to the debug-exit port, or hlt with IF=0 */
#define HVRUN_EXIT_USAGE         2    /* bad command line or unusable image; nothing was booted */
#define HVRUN_EXIT_RESET         119  /* the guest wrote HV_X64_MSR_RESET: partition reset requested */
#define HVRUN_EXIT_TRIPLE_FAULT  120  /* KVM_EXIT_SHUTDOWN: triple fault */
#define HVRUN_EXIT_BAD_STATE     121  /* KVM_EXIT_FAIL_ENTRY: invalid guest state */
#define HVRUN_EXIT_KVM_INTERNAL  122  /* KVM_EXIT_INTERNAL_ERROR, e.g. emulation failure */
#define HVRUN_EXIT_UNHANDLED     123  /* an exit or message no service handles, or a service failed */
#define HVRUN_EXIT_TIMEOUT       124  /* --timeout expired, like timeout(1) */
#define HVRUN_EXIT_HOST_ERROR    125  /* hvrun could not run the guest: no KVM, out of memory, ... */
#define HVRUN_EXIT_SIGNAL_BASE   128  /* stopped by SIGINT/SIGTERM: 128 + signal number */

#endif /* VMM_EXITCODE_H */
