#!/usr/bin/env bash
# The scaling families of issue 14: guards of 10 to 100,000 checks that each
# do one thing — nothing, disk("/"), memory(), process() — timed as whole
# processes against bench/baseline running the same probes one after
# another on one Starlark thread, the floor. For each family and size it
# prints both medians, their ratio, infra-guard's cost per check above the
# 10-check run, and peak RSS; then whether the time from 10,000 to 100,000
# checks grew linearly (at most 12x). Missing a target is reported, not an
# error; a failed build or run is an error.
#
#   bash bench/scale/run.sh                  # all families, 10 .. 100,000
#   SCALE_SIZES="10 1000" bash bench/scale/run.sh
#   SCALE_FAMILIES="noop disk" bash bench/scale/run.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
read -r -a sizes <<<"${SCALE_SIZES:-10 100 1000 10000 100000}"
read -r -a families <<<"${SCALE_FAMILIES:-noop disk memory process}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "building infra-guard, baseline and timeit ..." >&2
go build -o "$tmp/infra-guard" .
go build -o "$tmp/baseline" ./bench/baseline
go build -o "$tmp/timeit" ./bench/timeit

# body FAMILY: the probe's body, in infra-guard's words and the baseline's.
guard_body() {
	case "$1" in
	noop) echo 'return True' ;;
	disk) echo 'return threshold(disk("/").used_percent, 101, 102)' ;;
	memory) echo 'return threshold(memory().used_percent, 101, 102)' ;;
	process) echo 'return threshold(process(name="no-such-process").count, 1, 2)' ;;
	esac
}
base_body() {
	case "$1" in
	noop) echo 'return 0' ;;
	disk) echo 'return threshold(disk("/").used_percent, 101, 102)' ;;
	memory) echo 'return threshold(memory().used_percent, 101, 102)' ;;
	process) echo 'return threshold(process("no-such-process").count, 1, 2)' ;;
	esac
}

# shellcheck source=bench/field.sh
source "$root/bench/field.sh"

read -r load1 _ </proc/loadavg
echo "load average $load1 on $(nproc) cores" >&2
printf '%-8s %7s %11s %11s %7s %10s %9s\n' family checks infra-guard baseline ratio "us/check" "peak RSS"
for fam in "${families[@]}"; do
	declare -A ms=()
	for n in "${sizes[@]}"; do
		g="$tmp/$fam-$n.star"
		b="$tmp/$fam-$n-base.star"
		printf 'def probe():\n    %s\n\nfor i in range(%d):\n    check("c%%d" %% i, probe)\n' "$(guard_body "$fam")" "$n" >"$g"
		# The baseline names its checks too, as the guard does.
		printf 'def probe():\n    %s\n\nnames = ["c%%d" %% i for i in range(%d)]\nchecks = [probe for _ in names]\n' "$(base_body "$fam")" "$n" >"$b"
		runs=10
		((n >= 10000)) && runs=5
		# One checked run first: every check must have run and passed.
		out="$("$tmp/infra-guard" run --log-level warn "$g")" || {
			echo "bench/scale/run.sh: infra-guard failed on $fam x $n:" >&2
			tail -5 <<<"$out" >&2
			exit 1
		}
		if [[ "$(grep -c '^OK ' <<<"$out")" != "$n" ]]; then
			echo "bench/scale/run.sh: $fam x $n: not every check was OK" >&2
			exit 1
		fi
		mapfile -t lines < <("$tmp/timeit" -n "$runs" -- "$tmp/baseline" "$b" -- "$tmp/infra-guard" run --log-level warn "$g")
		((${#lines[@]} == 3)) || { echo "bench/scale/run.sh: timeit failed" >&2; exit 1; }
		bms="$(field median_ms "${lines[0]}")"
		gms="$(field median_ms "${lines[1]}")"
		gkib="$(field peak_rss_kib "${lines[1]}")"
		ms[$n]="$gms"
		awk -v fam="$fam" -v n="$n" -v g="$gms" -v b="$bms" -v kib="$gkib" -v g10="${ms[10]:-}" 'BEGIN {
			per = (g10 != "" && n > 10) ? sprintf("%10.2f", (g - g10) * 1000 / (n - 10)) : sprintf("%10s", "-")
			printf "%-8s %7d %8.1f ms %8.1f ms %6.2fx %s %5.1f MiB\n", fam, n, g, b, g / b, per, kib / 1024 }'
	done
	if [[ -n "${ms[10000]:-}" && -n "${ms[100000]:-}" ]]; then
		awk -v fam="$fam" -v a="${ms[10000]}" -v b="${ms[100000]}" 'BEGIN {
			printf "%-8s 10,000 -> 100,000 checks: %.1fx the time (linear: <= 12x): %s\n", fam, b / a, b / a <= 12 ? "ok" : "MISSED" }'
	fi
	unset ms
done
