#!/usr/bin/env bash
# Times `infra-guard run` (default flags) on guards of 1,000 and 5,000
# http_check checks against one server that answers every request after
# 200 ms, against the targets in docs/design.md: 1,000 checks in at most
# 0.3 s, 5,000 in at most 0.5 s with a peak RSS at most 1.25x that of a
# plain net/http program making the same 5,000 GETs at once
# (bench/http/baseline); pinned to one core (taskset -c 0), within 1.2x of
# those. The commands of one size run interleaved, so a change in the
# machine's load hits them alike. Missing a target is reported, not an
# error; a failed build, a failed check or a failed run is an error.
#
#   bash bench/http/run.sh                       # 5 timed runs of each
#   BENCH_RUNS=20 bash bench/http/run.sh
#   BENCH_SIZES="200 1000" bash bench/http/run.sh
#   BENCH_OLD=/tmp/infra-guard-old bash bench/http/run.sh   # time another build alongside
set -euo pipefail

runs="${BENCH_RUNS:-5}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
	echo "bench/http/run.sh: BENCH_RUNS must be a positive integer, got '$runs'" >&2
	exit 2
fi
sizes="${BENCH_SIZES:-1000 5000}"
old="${BENCH_OLD:-}"
if [[ -n "$old" && ! -x "$old" ]]; then
	echo "bench/http/run.sh: BENCH_OLD=$old is not an executable" >&2
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

# Every check holds a connection, in infra-guard and in the server alike.
# Go raises the soft open-file limit to the hard one by itself; a hard
# limit too low for one wave is worth saying, since it lowers infra-guard's
# default concurrency (docs/design.md), and the baseline's requests fail.
largest=0
for n in $sizes; do ((n > largest)) && largest=$n; done
hard="$(ulimit -Hn)"
if [[ "$hard" != unlimited ]] && ((hard < 2 * largest + 256)); then
	echo "bench/http/run.sh: the hard open-file limit is $hard; $largest checks at once need about $((2 * largest + 256))," >&2
	echo "  so infra-guard's default concurrency is lower than $largest here (raise it with ulimit -Hn as root)" >&2
fi
# The server's accept backlog is net.core.somaxconn: when more connections
# arrive at once than it holds, the kernel drops SYNs and the client
# retries a second later, which shows as a run of 1.2 s instead of 0.2.
somaxconn="$(cat /proc/sys/net/core/somaxconn 2>/dev/null || echo 0)"
if ((somaxconn > 0 && somaxconn < largest)); then
	echo "bench/http/run.sh: net.core.somaxconn is $somaxconn, below $largest: watch the listen overflows below" >&2
fi
listen_overflows() { # TcpExt ListenOverflows + ListenDrops, 0 if unknown
	awk '/^TcpExt:/ { if (!h) { for (i = 2; i <= NF; i++) k[i] = $i; h = 1 } else for (i = 2; i <= NF; i++) if (k[i] == "ListenOverflows" || k[i] == "ListenDrops") s += $i }
		END { print s + 0 }' /proc/net/netstat 2>/dev/null || echo 0
}

echo "building infra-guard, the server, timeit and the baseline ..." >&2
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
    if not r.ok:
        print(r.error or "status %d" % r.status)  # to stderr, which timeit shows
        return fail(r.error or "status %d" % r.status)
    return ok()

for i in range($1):
    check("http-%d" % i, probe)
STAR
}
pin=(taskset -c 0)
if ! taskset -c 0 true 2>/dev/null; then
	echo "bench/http/run.sh: taskset -c 0 does not work here; the pinned rows are skipped" >&2
	pin=()
fi

read -r load1 _ </proc/loadavg
echo "timing $runs runs of each, interleaved (load average $load1 on $(nproc) cores) ..." >&2
printf '%-31s %7s %6s %6s %7s %6s %9s %6s  %s\n' "" "median" "/0.2s" "/plain" "CPU" "/plain" "peak RSS" "/plain" "targets"
for n in $sizes; do
	gen "$n" >"$tmp/guard$n.star"
	# One checked run first, so a broken guard fails here with its output.
	code=0
	out="$("$tmp/infra-guard" run "$tmp/guard$n.star" 2>&1)" || code=$?
	if ((code != 0)) || [[ "$(grep -c '^OK ' <<<"$out")" != "$n" ]]; then
		printf 'bench/http/run.sh: %d checks: exit %d, not %d OK lines:\n%s\n' "$n" "$code" "$n" "$(tail -5 <<<"$out")" >&2
		exit 1
	fi
	# label|command, in the order timeit prints them
	rows=("$n checks|$tmp/infra-guard run $tmp/guard$n.star"
		"  plain net/http, $n GETs|$tmp/baseline http://$addr/health $n")
	if ((${#pin[@]})); then
		rows+=("$n checks, taskset -c 0|${pin[*]} $tmp/infra-guard run $tmp/guard$n.star"
			"  plain net/http, taskset -c 0|${pin[*]} $tmp/baseline http://$addr/health $n")
	fi
	if [[ -n "$old" ]]; then
		rows+=("  BENCH_OLD, $n checks|$old run $tmp/guard$n.star")
		((${#pin[@]})) && rows+=("  BENCH_OLD, taskset -c 0|${pin[*]} $old run $tmp/guard$n.star")
	fi
	args=()
	for row in "${rows[@]}"; do
		((${#args[@]})) && args+=(--)
		read -ra cmd <<<"${row#*|}"
		args+=("${cmd[@]}")
	done
	before="$(listen_overflows)"
	"$tmp/timeit" -n "$runs" -- "${args[@]}" >"$tmp/times"
	overflows=$(($(listen_overflows) - before))
	# The plain program's figures come first for the ratios: all cores,
	# then pinned.
	paste -d'|' <(printf '%s\n' "${rows[@]}" | cut -d'|' -f1) <(head -n "${#rows[@]}" "$tmp/times") |
		awk -F'|' -v n="$n" '
		function field(s, name,   m) { match(s, name "=[0-9.]+"); return substr(s, RSTART + length(name) + 1, RLENGTH - length(name) - 1) }
		{ label[NR] = $1; s[NR] = field($2, "median_ms") / 1000; cpu[NR] = field($2, "median_cpu_ms") / 1000; rss[NR] = field($2, "median_rss_kib") / 1024 }
		label[NR] ~ /plain net\/http/ { if (label[NR] ~ /taskset/) { pbs = s[NR]; pbc = cpu[NR]; pbr = rss[NR] } else { bs = s[NR]; bc = cpu[NR]; br = rss[NR] } }
		END {
			target = (n == 5000) ? 0.5 : (n == 1000) ? 0.3 : 0
			for (i = 1; i <= NR; i++) {
				pinned = label[i] ~ /taskset/
				ps = pinned ? pbs : bs; pc = pinned ? pbc : bc; pr = pinned ? pbr : br
				verdict = ""
				if (label[i] !~ /^  /) {
					f = pinned ? 1.2 : 1
					if (target) verdict = sprintf("time <= %.2fs: %s", f * target, s[i] <= f * target ? "ok" : "MISSED")
					if (n == 5000) verdict = verdict sprintf(", RSS <= %.2fx plain: %s", 1.25 * f, rss[i] <= 1.25 * f * pr ? "ok" : "MISSED")
				} else if (label[i] ~ /plain/) {
					verdict = "reference"
				}
				printf "%-31s %5.2f s %5.1fx %5.2fx %5.2f s %5.2fx %5.0f MiB %5.2fx  %s\n", label[i], s[i], s[i] / 0.2, s[i] / ps, cpu[i], cpu[i] / pc, rss[i], rss[i] / pr, verdict
			}
		}'
	if ((overflows > 0)); then
		echo "  ($overflows listen overflows or drops during these runs: connections waited a SYN retry)"
	fi
done
