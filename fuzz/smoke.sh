#!/bin/sh
# SPDX-License-Identifier: MIT
# Smoke run of one libFuzzer target (the 'fuzz' meson test suite):
#   smoke.sh TARGET CORPUS_DIR SECONDS      (HVRUN_FUZZ_SECONDS in the environment overrides)
# Fuzzes for SECONDS from the committed corpus without writing to it (new inputs go to a
# temporary directory that is removed), then runs every committed input once more (regressions).
# A crash, leak, timeout or sanitizer report fails the test and leaves the reproducer next to the
# target in the build directory (crash-*, leak-*, timeout-*). -error_exitcode=1: libFuzzer's
# default (77) would read as SKIP to meson.
set -eu
exe=$1 corpus=$2 secs=${HVRUN_FUZZ_SECONDS:-${3:-20}}   # tools/test sets HVRUN_FUZZ_SECONDS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hvrun-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 -timeout_exitcode=1 \
	-print_final_stats=1 -artifact_prefix="$tmp/" "$tmp" "$corpus" || {
	# keep the reproducer next to the target (the build directory), not in the source tree
	cp "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* "$(dirname "$exe")" 2>/dev/null || true
	echo "smoke: $exe failed; reproducers (if any) copied to $(dirname "$exe")" >&2
	exit 1
}
"$exe" -error_exitcode=1 -runs=0 "$corpus"
