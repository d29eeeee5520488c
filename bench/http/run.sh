#!/usr/bin/env bash
# Times `infra-guard run` (default flags) on guards of 200 and 1,000
# http_check checks against one server that answers every request after
# 200 ms, against the targets in docs/design.md: 200 checks in at most 0.35 s,
# 1,000 in at most 0.6 s, peak RSS at most 40 MiB at 1,000 — on all CPUs
# and pinned to one (taskset -c 0). Missing a target is reported, not an
# error; a failed build, a failed check or a failed run is an error.
# bench/http/baseline, N plain net/http GETs with nothing else, is timed
# alongside as the floor any Go program doing this work has here.
#
#   bash bench/http/run.sh             # 5 timed runs of each
#   BENCH_RUNS=20 bash bench/http/run.sh
set -euo pipefail

runs="${BENCH_RUNS:-5}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
	echo "bench/http/run.sh: BENCH_RUNS must be a positive integer, got '$runs'" >&2
	exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
tmp="$(mktemp -d)"
server_pid=""
cleanup() {
	if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "building infra-guard, the server and timeit ..." >&2
go build -o "$tmp/infra-guard" .
go build -o "$tmp/server" ./bench/http/server
go build -o "$tmp/timeit" ./bench/timeit
go build -o "$tmp/baseline" ./bench/http/baseline

"$tmp/server" -delay 200ms >"$tmp/addr" &
server_pid=$!
for _ in $(seq 50); do [[ -s "$tmp/addr" ]] && break; sleep 0.1; done
addr="$(head -1 "$tmp/addr")"
if [[ -z "$addr" ]]; then echo "bench/http/run.sh: the server did not start" >&2; exit 1; fi

gen() { # gen N: a guard with N http_check checks against the server
	cat <<STAR
URL = "http://$addr/health"

def probe():
    r = http_check(URL)
    return ok() if r.ok else fail(r.error or "status %d" % r.status)

for i in range($1):
    check("http-%d" % i, probe)
STAR
}
pinned=(taskset -c 0)
if ! taskset -c 0 true 2>/dev/null; then
	echo "bench/http/run.sh: taskset -c 0 does not work here; the pinned rows are skipped" >&2
	pinned=()
fi

read -r load1 _ </proc/loadavg
echo "timing $runs runs of each (load average $load1 on $(nproc) cores) ..." >&2
printf '%-30s %9s %7s %10s   %s\n' "" "median" "ratio" "peak RSS" "targets"
for n in 200 1000; do
	gen "$n" >"$tmp/guard$n.star"
	# One checked run first, so a broken guard fails here with its output.
	code=0
	out="$("$tmp/infra-guard" run "$tmp/guard$n.star" 2>&1)" || code=$?
	if ((code != 0)) || [[ "$(grep -c '^OK ' <<<"$out")" != "$n" ]]; then
		printf 'bench/http/run.sh: %d checks: exit %d, not %d OK lines:\n%s\n' "$n" "$code" "$n" "$(tail -5 <<<"$out")" >&2
		exit 1
	fi
	target=0.35
	((n == 1000)) && target=0.6
	for mode in all pinned baseline; do
		cmd=("$tmp/infra-guard" run "$tmp/guard$n.star")
		if [[ "$mode" == baseline ]]; then
			cmd=("$tmp/baseline" "http://$addr/health" "$n")
		fi
		if [[ "$mode" == pinned ]]; then
			((${#pinned[@]})) || continue
			cmd=("${pinned[@]}" "${cmd[@]}")
		fi
		out="$("$tmp/timeit" -n "$runs" -- "${cmd[@]}")"
		line="${out%%$'\n'*}"
		ms="$(sed -E 's/.*median_ms=([0-9.]+).*/\1/' <<<"$line")"
		kib="$(sed -E 's/.*peak_rss_kib=([0-9]+).*/\1/' <<<"$line")"
		label="$n checks"
		[[ "$mode" == pinned ]] && label="$n checks, taskset -c 0"
		[[ "$mode" == baseline ]] && label="  plain net/http, $n GETs"
		awk -v label="$label" -v ms="$ms" -v kib="$kib" -v target="$target" -v n="$n" -v mode="$mode" 'BEGIN {
			s = ms / 1000; rss = kib / 1024
			verdict = sprintf("time <= %ss: %s", target, s <= target ? "ok" : "MISSED")
			if (n == 1000) verdict = verdict sprintf(", RSS <= 40 MiB: %s", rss <= 40 ? "ok" : "MISSED")
			if (mode == "baseline") verdict = "reference: no Starlark, scheduler or retries"
			printf "%-30s %7.3f s %6.2fx %6.1f MiB   %s\n", label, s, s / 0.2, rss, verdict
		}'
	done
done
