#!/bin/sh
# SPDX-License-Identifier: MIT
# Run a KVM benchmark program here when /dev/kvm is usable, else inside tools/kvm-nested (whose
# absolute times are emulation: only the program's own ratios mean anything).
#   nested.sh SOURCE_DIR PROGRAM [ARGS...]
# Exits 77 (SKIP) when neither works.
src=$1
shift
if "$src/tools/kvm-usable"; then
	exec "$@"
fi
cache=${HVRUN_NESTED_CACHE:-/var/cache/hvrun-nested}
if [ ! -r "$cache/initramfs.cpio.gz" ] || ! command -v qemu-system-x86_64 >/dev/null; then
	echo "SKIP: no usable /dev/kvm and tools/kvm-nested is not set up (tools/kvm-nested --setup)"
	exit 77
fi
echo "bench: no usable /dev/kvm here: running inside tools/kvm-nested (nested emulation: only ratios mean anything)"
exec "$src/tools/kvm-nested" --timeout 800 -- "$@"
