#!/usr/bin/env bash
# What a start of infra-guard costs before it does anything: the release
# binary's size, and its package initialisation as GODEBUG=inittrace=1
# reports it for `infra-guard version` — the number of packages with init
# work, their summed clock time (median and minimum of N runs) and what
# they allocate — then the packages that cost the most (mean per run).
# bench/README.md, "Start-up", explains the figures.
#
#   bash bench/startup.sh               # 41 runs
#   STARTUP_RUNS=101 bash bench/startup.sh
#   bash bench/startup.sh path/to/infra-guard   # an existing binary
set -euo pipefail

runs="${STARTUP_RUNS:-41}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
	echo "bench/startup.sh: STARTUP_RUNS must be a positive integer, got '$runs'" >&2
	exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

bin="${1:-}"
if [[ -z "$bin" ]]; then
	echo "building infra-guard as releases are ..." >&2
	(cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/infra-guard" .)
	bin="$tmp/infra-guard"
fi
GODEBUG=inittrace=1 "$bin" version >/dev/null 2>"$tmp/one" || {
	echo "bench/startup.sh: $bin version failed:" >&2
	cat "$tmp/one" >&2
	exit 1
}

read -r load1 _ </proc/loadavg
echo "timing package init over $runs runs (load average $load1 on $(nproc) cores) ..." >&2
for _ in $(seq "$runs"); do
	GODEBUG=inittrace=1 "$bin" version 2>&1 >/dev/null | grep '^init ' || true
	echo "--"
done >"$tmp/trace"

size="$(stat -c %s "$bin")"
# inittrace lines: init PKG @T ms, C ms clock, B bytes, A allocs
awk '/^init /{ ms += $5 } /^--$/{ print ms; ms = 0 }' "$tmp/trace" | sort -n >"$tmp/sums"
median="$(awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }' "$tmp/sums")"
least="$(head -1 "$tmp/sums")"
awk -v size="$size" -v median="$median" -v least="$least" '
/^init / { bytes += $8; allocs += $10; pkgs++; per[$2] += $5 }
/^--$/   { n++ }
END {
	printf "binary                %6.1f MB\n", size / 1e6
	printf "packages with init    %6d\n", pkgs / n
	printf "init clock, median    %6.2f ms   (min %.2f)\n", median, least
	printf "init allocations      %6.0f KB   (%d allocs)\n", bytes / n / 1000, allocs / n
	printf "costliest, mean ms per run:\n"
	for (p in per) printf "%8.3f  %s\n", per[p] / n, p | "sort -rn | head -15"
}' "$tmp/trace"
