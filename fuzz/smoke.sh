#!/bin/sh
# SPDX-License-Identifier: MIT
# Smoke run of one libFuzzer target (the 'fuzz' meson test suite):
#   smoke.sh TARGET CORPUS_DIR SECONDS
# Fuzzes for SECONDS from the committed corpus without writing to it (new inputs go to a
# temporary directory that is removed), then runs every committed input once more (regressions).
# A crash, leak, timeout or sanitizer report fails the test and leaves the reproducer in the
# build directory (crash-*, leak-*, timeout-*).
set -eu
exe=$1 corpus=$2 secs=${3:-20}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hvrun-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$tmp" "$corpus"
"$exe" -runs=0 "$corpus"
