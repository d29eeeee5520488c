#!/usr/bin/env bash
# Compares `infra-guard run bench/small.star` with a minimal Go+Starlark
# program doing the same work (bench/baseline), against the targets in
# docs/design.md: median wall time at most 1.6x the baseline's, peak RSS
# at most 10 MiB. Missing a target is reported, not an error; a failed build
# or run is an error.
#
# Both programs are built as releases are (.goreleaser.yaml, Dockerfile):
# CGO_ENABLED=0, -trimpath, -ldflags "-s -w". A cgo build is dynamically
# linked, and the loader and libc cost it about 1.5 MiB and a millisecond
# that no user pays.
#
#   bash bench/run.sh            # 30 runs of each
#   BENCH_RUNS=100 bash bench/run.sh
set -euo pipefail

runs="${BENCH_RUNS:-30}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
	echo "bench/run.sh: BENCH_RUNS must be a positive integer, got '$runs'" >&2
	exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "building infra-guard, baseline and timeit ..." >&2
release=(env CGO_ENABLED=0 go build -trimpath -ldflags "-s -w")
"${release[@]}" -o "$tmp/infra-guard" .
"${release[@]}" -o "$tmp/baseline" ./bench/baseline
go build -o "$tmp/timeit" ./bench/timeit

guard=("$tmp/infra-guard" run --log-level warn bench/small.star)
base=("$tmp/baseline" bench/baseline/small.star)
startup=("$tmp/infra-guard" version)

# One checked run of each, so a broken script fails here with its output
# rather than as a bare exit code in the middle of the timing.
out="$("${base[@]}")" || { echo "bench/run.sh: the baseline failed (exit $?)" >&2; exit 1; }
if [[ "$out" != "12 checks,"* ]]; then
	echo "bench/run.sh: the baseline ran, but printed '$out', not '12 checks, …'" >&2
	exit 1
fi
code=0
out="$("${guard[@]}" 2>&1)" || code=$?
# 0, 1 and 2 are verdicts on this machine (ok, warning, critical); 3 means
# a check or the script went wrong, anything else a crash.
if ((code > 2)); then
	printf 'bench/run.sh: infra-guard exited %d:\n%s\n' "$code" "$out" >&2
	exit 1
fi
checks="$(grep -cE '^(OK|WARN|FAIL|UNKNOWN|SKIP) ' <<<"$out" || true)"
if [[ "$checks" != 12 ]]; then
	printf 'bench/run.sh: infra-guard reported %s checks, not 12:\n%s\n' "$checks" "$out" >&2
	exit 1
fi

read -r load1 _ </proc/loadavg
cores="$(nproc)"
echo "timing $runs runs of each, interleaved (load average $load1 on $cores cores) ..." >&2

# Runs alternate between the commands, so load changes hit all of them.
mapfile -t lines < <("$tmp/timeit" -n "$runs" -ok 0,1,2 -- "${base[@]}" -- "${guard[@]}" -- "${startup[@]}")
if ((${#lines[@]} != 4)); then
	echo "bench/run.sh: timeit failed" >&2
	exit 1
fi

# shellcheck source=bench/field.sh
source "$root/bench/field.sh"
base_ms="$(field median_ms "${lines[0]}")"
base_kib="$(field peak_rss_kib "${lines[0]}")"
guard_ms="$(field median_ms "${lines[1]}")"
guard_kib="$(field peak_rss_kib "${lines[1]}")"
start_ms="$(field median_ms "${lines[2]}")"
start_kib="$(field peak_rss_kib "${lines[2]}")"
floor_kib="$(field rss_floor_kib "${lines[3]}")"

awk -v runs="$runs" -v bms="$base_ms" -v bkib="$base_kib" -v gms="$guard_ms" -v gkib="$guard_kib" \
	-v sms="$start_ms" -v skib="$start_kib" -v fkib="$floor_kib" -v load="$load1" -v cores="$cores" '
BEGIN {
	ratio = gms / bms
	rss = gkib / 1024
	printf "small guard (12 checks), %d runs each\n", runs
	printf "                           median   peak RSS\n"
	printf "baseline                %7.2f ms %6.1f MiB\n", bms, bkib / 1024
	printf "infra-guard             %7.2f ms %6.1f MiB\n", gms, rss
	printf "  (infra-guard version) %7.2f ms %6.1f MiB   startup alone, for reference\n", sms, skib / 1024
	printf "ratio         %.2fx (target <= 1.6): %s   RSS target <= 10 MiB: %s\n", ratio,
		ratio <= 1.6 ? "ok" : "MISSED", rss <= 10 ? "ok" : "MISSED"
	if (bkib <= fkib * 1.1 || gkib <= fkib * 1.1)
		printf "note: peak RSS cannot measure below %.1f MiB here (timeit'"'"'s own RSS counts into a child'"'"'s maxrss); a figure near it is an upper bound\n", fkib / 1024
	if (load > cores / 2)
		printf "note: load average %s on %d cores when timing started; the figures may be noisy\n", load, cores
}'
