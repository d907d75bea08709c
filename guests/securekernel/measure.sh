#!/bin/sh
# SPDX-License-Identifier: MIT
# The line the secure kernel must print at boot for ELF (SK_SVC_MEASURE's digest), computed on the
# host from the file: SHA-256 of [__sk_shared_start, __sk_shared_end) as hvrun loads it, i.e. the
# code and read-only data sections with their gaps and the tail up to the page boundary zeroed.
#   measure.sh ELF OUT
set -eu
elf=$1 out=$2
sym() { nm "$elf" | awk -v s="$1" '$3 == s { print $1 }'; }
start=$(sym __sk_shared_start) end=$(sym __sk_shared_end)
[ -n "$start" ] && [ -n "$end" ] || { echo "measure.sh: $elf has no __sk_shared_start/end" >&2; exit 1; }
size=$((0x$end - 0x$start))
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# -O binary starts at the lowest loaded section (.text, at __sk_shared_start) and zero-fills gaps.
objcopy -O binary --only-section=.text --only-section=.user.text --only-section=.rodata "$elf" "$tmp"
[ "$(stat -c %s "$tmp")" -le "$size" ] || { echo "measure.sh: sections run past __sk_shared_end" >&2; exit 1; }
truncate -s "$size" "$tmp"
printf 'code and read-only data measured: %d bytes, SHA-256 %s...\n' "$size" \
	"$(sha256sum "$tmp" | cut -c1-16)" >"$out"
