#!/bin/bash
# SPDX-License-Identifier: MIT
# The documented long fuzzing run (docs/security.md#fuzzing):
#   fuzz/run-long.sh [BUILD_DIR] [SECONDS] [JOBS] [TARGET...]
# defaults: build-fuzz, 600 s, 2 targets at a time (the machine has 2 cores), every target.
# Each target fuzzes from a working copy of its committed corpus (fuzz/corpus/<target>) in
# fuzz/out/<target>/ (not committed), with its log in fuzz/out/<target>.log; crashes land in
# fuzz/out/<target>/crash-*. At the end one line per target gives executions, coverage (cov:,
# ft: from libFuzzer's final stats) and how many crash/leak/timeout reproducers were written.
# Minimise a reproducer with: build-fuzz/fuzz/fuzz_<target> -minimize_crash=1 -runs=10000 FILE
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build-fuzz}
secs=${2:-600}
jobs=${3:-2}
shift $(( $# < 3 ? $# : 3 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(elf hc exit msr view config)
[ -d "$build/fuzz" ] || { echo "run-long: no $build/fuzz: CC=clang meson setup $build -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-Wno-gnu-variable-sized-type-not-at-end" >&2; exit 2; }
out=$here/out
mkdir -p "$out"

run_one() {
	local t=$1 dir=$out/$1
	mkdir -p "$dir/corpus"
	cp -n "$here/corpus/$t/"* "$dir/corpus/" 2>/dev/null || true
	(cd "$dir" && "$build_abs/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
		-print_final_stats=1 -artifact_prefix="$dir/" corpus >"$out/$t.log" 2>&1)
	echo "$t: libFuzzer exit $?"
}
build_abs=$(cd "$build" && pwd)

running=0
for t in "${targets[@]}"; do
	run_one "$t" &
	running=$((running + 1))
	if [ $running -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

printf '%-8s %12s %8s %8s %8s %s\n' target execs cov ft corpus reproducers
for t in "${targets[@]}"; do
	log=$out/$t.log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
	n=$(ls "$out/$t"/crash-* "$out/$t"/leak-* "$out/$t"/timeout-* "$out/$t"/oom-* 2>/dev/null | wc -l)
	printf '%-8s %12s %8s %8s %8s %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$n"
done
