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
# A missed target is reported, not an error; a failed build or run is.
#
#   bash bench/serve/run.sh
#   LOAD_SECONDS=10 CPU_SECONDS=60 bash bench/serve/run.sh
set -euo pipefail

load_s="${LOAD_SECONDS:-10}"
cpu_s="${CPU_SECONDS:-60}"
conns="${LOAD_CONNS:-8}"
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

# guard N INTERVAL: N no-op checks.
guard() {
	printf 'def noop():\n    return True\n\nfor i in range(%d):\n    check("c%%d" %% i, noop, interval = "%s")\n' "$1" "$2" > "$tmp/g$1-$2.star"
	echo "$tmp/g$1-$2.star"
}

# serve_on PORT SCRIPT: starts serve, waits for /readyz.
serve_on() {
	"$tmp/infra-guard" serve --listen "127.0.0.1:$1" --log-level warn --watch=false "$2" &
	pids+=($!)
	for _ in $(seq 1 200); do
		if curl -fsS -o /dev/null "http://127.0.0.1:$1/readyz" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "bench/serve/run.sh: serve on port $1 did not become ready" >&2
	exit 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

echo "== 1. /healthz, $conns connections, ${load_s}s each" >&2
"$tmp/baseline" 127.0.0.1:19500 &
pids+=($!)
sleep 0.5
echo -n "baseline (net/http \"ok\"):      "
"$tmp/load" -c "$conns" -d "${load_s}s" http://127.0.0.1:19500/healthz
serve_on 19501 "$(guard 1000 30s)"
sleep 6 # every check's first result, spread over 5 s
echo -n "serve, 1,000 checks loaded:     "
"$tmp/load" -c "$conns" -d "${load_s}s" http://127.0.0.1:19501/healthz
kill "${pids[0]}" "${pids[1]}"; wait "${pids[0]}" "${pids[1]}" 2>/dev/null || true
pids=()

echo "== 2. scheduler CPU over ${cpu_s}s, checks every 30s" >&2
hz="$(getconf CLK_TCK)"
serve_on 19502 "$(guard 1 30s)"
one=${pids[-1]}
serve_on 19503 "$(guard 1000 30s)"
thousand=${pids[-1]}
sleep 6
a1=$(cpu_ticks "$one"); a2=$(cpu_ticks "$thousand")
sleep "$cpu_s"
b1=$(cpu_ticks "$one"); b2=$(cpu_ticks "$thousand")
awk -v a="$a1" -v b="$b1" -v hz="$hz" -v s="$cpu_s" 'BEGIN { printf "serve, 1 check:                 %.3f %% of one core\n", 100 * (b - a) / hz / s }'
awk -v a="$a2" -v b="$b2" -v hz="$hz" -v s="$cpu_s" 'BEGIN { printf "serve, 1,000 checks:            %.3f %% of one core\n", 100 * (b - a) / hz / s }'
echo "RSS, 1 check:                   $(( $(rss_kib "$one") / 1024 )) MiB"
kill "$one" "$thousand"; wait "$one" "$thousand" 2>/dev/null || true
pids=()

echo "== 3. RSS with full history (1,000 checks every 200ms, 100 results each after 20 s)" >&2
serve_on 19504 "$(guard 1000 200ms)"
sleep 26
hist=$(curl -fsS http://127.0.0.1:19504/api/v1/checks/c999 | grep -c '"status"' || true)
echo "RSS, 1,000 checks, full history: $(( $(rss_kib "${pids[-1]}") / 1024 )) MiB  (c999 holds $((hist - 2)) results)"
echo -n "/healthz meanwhile:             "
"$tmp/load" -c "$conns" -d "${load_s}s" http://127.0.0.1:19504/healthz
