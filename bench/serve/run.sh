#!/usr/bin/env bash
# Measures infra-guard serve against the targets of issue 15, on this
# machine, each beside a baseline measured in the same run:
#   1. /healthz throughput and p99 latency with 1,000 checks loaded, from a
#      Go load generator on 127.0.0.1 (target >= 20,000 req/s, p99 <= 2 ms);
#      baseline: a bare net/http handler answering "ok".
#   2. CPU the scheduler uses for 1,000 no-op checks every 30 s (target
#      <= 1 % of one core); baseline: the same serve with 1 check.
#   3. RSS with 1,000 checks and a full history of 100 results each
#      (target <= 80 MiB); baseline: the same serve with 1 check.
# With BEFORE=<git revision>, serve built from that revision is measured
# beside the working tree's in every phase, for before/after figures from
# one run. A missed target is reported, not an error; a failed build or
# run is.
#
#   bash bench/serve/run.sh
#   BEFORE=HEAD~3 bash bench/serve/run.sh
#   LOAD_SECONDS=10 CPU_SECONDS=120 ROUNDS=3 bash bench/serve/run.sh
set -euo pipefail

load_s="${LOAD_SECONDS:-10}"
cpu_s="${CPU_SECONDS:-60}"
conns="${LOAD_CONNS:-8}"
rounds="${ROUNDS:-2}"
before="${BEFORE:-}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
tmp="$(mktemp -d)"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "building infra-guard, load and baseline ..." >&2
go build -o "$tmp/infra-guard" .
go build -o "$tmp/load" ./bench/serve/load
go build -o "$tmp/baseline" ./bench/serve/baseline
# versions: the builds to measure, labelled.
versions=(serve)
if [ -n "$before" ]; then
	echo "building infra-guard at $before ..." >&2
	mkdir "$tmp/src-before"
	git archive "$before" | tar -x -C "$tmp/src-before"
	(cd "$tmp/src-before" && go build -o "$tmp/infra-guard-before" .)
	versions=(before serve)
fi
declare -A port port_pid cpu_pid cpu_pct rss_mib a b
bin() { if [ "$1" = before ]; then echo "$tmp/infra-guard-before"; else echo "$tmp/infra-guard"; fi; }

# guard N INTERVAL: N no-op checks.
guard() {
	printf 'def noop():\n    return True\n\nfor i in range(%d):\n    check("c%%d" %% i, noop, interval = "%s")\n' "$1" "$2" > "$tmp/g$1-$2.star"
	echo "$tmp/g$1-$2.star"
}

# serve_on VERSION PORT SCRIPT: starts serve, waits for /readyz; its pid
# is ${pids[-1]}.
serve_on() {
	"$(bin "$1")" serve --listen "127.0.0.1:$2" --log-level warn --watch=false "$3" &
	pids+=($!)
	for _ in $(seq 1 200); do
		if curl -fsS -o /dev/null "http://127.0.0.1:$2/readyz" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "bench/serve/run.sh: serve on port $2 did not become ready" >&2
	exit 1
}

stop_all() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait "${pids[@]}" 2>/dev/null || true
	pids=()
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
label() { printf '%-34s' "$1"; }

echo "load average at the start: $(load_avg)"

echo "== 1. /healthz, $conns connections, ${load_s}s each, $rounds rounds in turn" >&2
"$tmp/baseline" 127.0.0.1:19500 &
pids+=($!)
base_pid=${pids[-1]}
n=1
for v in "${versions[@]}"; do
	port[$v]=$((19500 + n))
	n=$((n + 1))
	serve_on "$v" "${port[$v]}" "$(guard 1000 30s)"
	port_pid[$v]=${pids[-1]}
done
sleep 6 # every check's first result, spread over 5 s
healthz=()
for _ in $(seq 1 "$rounds"); do
	label "baseline (net/http \"ok\"):"
	"$tmp/load" -c "$conns" -d "${load_s}s" -pid "$base_pid" http://127.0.0.1:19500/healthz
	for v in "${versions[@]}"; do
		label "$v, 1,000 checks loaded:"
		out=$("$tmp/load" -c "$conns" -d "${load_s}s" -pid "${port_pid[$v]}" "http://127.0.0.1:${port[$v]}/healthz")
		echo "$out"
		[ "$v" = serve ] && healthz+=("$out")
	done
done
label "baseline, net/http's client:"
"$tmp/load" -client net/http -c "$conns" -d "${load_s}s" -pid "$base_pid" http://127.0.0.1:19500/healthz
echo "load average: $(load_avg)"
stop_all

echo "== 2. scheduler CPU over ${cpu_s}s, checks every 30s, side by side" >&2
hz="$(getconf CLK_TCK)"
serve_on serve 19510 "$(guard 1 30s)"
one=${pids[-1]}
n=1
for v in "${versions[@]}"; do
	serve_on "$v" $((19510 + n)) "$(guard 1000 30s)"
	cpu_pid[$v]=${pids[-1]}
	n=$((n + 1))
done
sleep 6
a[one]=$(cpu_ticks "$one")
for v in "${versions[@]}"; do a[$v]=$(cpu_ticks "${cpu_pid[$v]}"); done
sleep "$cpu_s"
b[one]=$(cpu_ticks "$one")
for v in "${versions[@]}"; do b[$v]=$(cpu_ticks "${cpu_pid[$v]}"); done
pct() { awk -v a="$1" -v b="$2" -v hz="$hz" -v s="$cpu_s" 'BEGIN { printf "%.3f", 100 * (b - a) / hz / s }'; }
label "serve, 1 check:"
echo "$(pct "${a[one]}" "${b[one]}") % of one core"
for v in "${versions[@]}"; do
	label "$v, 1,000 checks:"
	echo "$(pct "${a[$v]}" "${b[$v]}") % of one core"
	cpu_pct[$v]=$(pct "${a[$v]}" "${b[$v]}")
done
label "RSS, serve, 1 check:"
echo "$(($(rss_kib "$one") / 1024)) MiB"
echo "load average: $(load_avg)"
stop_all

echo "== 3. RSS with full history (1,000 checks every 200ms until each holds 100 results), one at a time" >&2
# held: how many results c999 (among the last to start) holds.
held() { echo $(($(curl -fsS http://127.0.0.1:19520/api/v1/checks/c999 | grep -c '"status"' || true) - 2)); }
for v in "${versions[@]}"; do
	serve_on "$v" 19520 "$(guard 1000 200ms)"
	t0=$SECONDS
	sleep 20 # 100 runs at 200 ms, on an idle machine
	while [ "$(held)" -lt 100 ] && [ $((SECONDS - t0)) -lt 120 ]; do sleep 1; done
	sleep 5 # the last checks' 100th result
	rss_mib[$v]=$(($(rss_kib "${pids[-1]}") / 1024))
	label "RSS, $v, full history:"
	echo "${rss_mib[$v]} MiB  (c999 holds $(held) results after $((SECONDS - t0)) s)"
	label "$v, /healthz meanwhile:"
	"$tmp/load" -c "$conns" -d "${load_s}s" -pid "${pids[-1]}" http://127.0.0.1:19520/healthz
	stop_all
done
echo "load average at the end: $(load_avg)"

echo "== targets (serve, this run)"
for out in "${healthz[@]}"; do
	# "16218 req/s  p50 402µs  p99 3.45ms ...": p99 in ms.
	echo "$out" | awk '{ p = $6; ms = p + 0; if (p ~ /µs$/) ms /= 1000; else if (p !~ /ms$/) ms *= 1000
		printf "/healthz %d req/s: %s (>= 20,000); p99 %.2f ms: %s (<= 2 ms)\n", $1, ($1 >= 20000 ? "met" : "MISSED"), ms, (ms <= 2 ? "met" : "MISSED") }'
done
awk -v p="${cpu_pct[serve]}" 'BEGIN { printf "scheduler CPU %.3f %% of a core: %s (<= 1 %%)\n", p, (p <= 1 ? "met" : "MISSED") }'
awk -v m="${rss_mib[serve]}" 'BEGIN { printf "RSS %d MiB: %s (<= 80 MiB)\n", m, (m <= 80 ? "met" : "MISSED") }'
