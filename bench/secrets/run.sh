#!/usr/bin/env bash
# Times `infra-guard run bench/secrets/secrets.star`, a load phase of 1,000
# secret() reads with a print() between any two and then one check, against
# `infra-guard run bench/secrets/plain.star`, the same guard with plain
# strings for the secrets (the floor), interleaved. Target: the secrets
# guard's median wall time at most 100 ms. The secrets are fake: 40-character
# tokens this script generates and passes in BENCH_SECRET_0 … _999.
# Missing the target is reported, not an error; a failed build or run is.
#
#   bash bench/secrets/run.sh                  # 20 timed runs of each
#   BENCH_RUNS=50 bash bench/secrets/run.sh
#   BENCH_BEFORE=<commit> bash bench/secrets/run.sh   # also time infra-guard as of <commit>
set -euo pipefail

runs="${BENCH_RUNS:-20}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
	echo "bench/secrets/run.sh: BENCH_RUNS must be a positive integer, got '$runs'" >&2
	exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "building infra-guard and timeit ..." >&2
go build -o "$tmp/infra-guard" .
go build -o "$tmp/timeit" ./bench/timeit
before=()
if [[ -n "${BENCH_BEFORE:-}" ]]; then
	echo "building infra-guard as of $BENCH_BEFORE ..." >&2
	mkdir "$tmp/src"
	git archive "$BENCH_BEFORE" | tar -x -C "$tmp/src"
	(cd "$tmp/src" && go build -o "$tmp/infra-guard-before" .)
	before=(-- "$tmp/infra-guard-before" run bench/secrets/secrets.star)
fi

# Fake tokens: 40 characters of the base64url alphabet, from a fixed seed.
eval "$(awk 'BEGIN {
	srand(14)
	a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for (i = 0; i < 1000; i++) {
		t = ""
		for (j = 0; j < 40; j++) t = t substr(a, int(rand() * 64) + 1, 1)
		printf "export BENCH_SECRET_%d=%s\n", i, t
	}
}')"

secrets=("$tmp/infra-guard" run bench/secrets/secrets.star)
plain=("$tmp/infra-guard" run bench/secrets/plain.star)

# One checked run of each, so a broken guard fails here with its output
# rather than as a bare exit code in the middle of the timing: it passes,
# and its 1,000 lines and its check came out.
check_run() { # check_run COMMAND [ARG...]
	local code=0 out
	out="$("$@" 2>&1)" || code=$?
	if ((code != 0)) || [[ "$out" != *"read secret 1000 of 1000"* ]] || [[ "$out" != *"tokens read"*"1000 tokens"* ]]; then
		printf 'bench/secrets/run.sh: %s exited %d:\n%s\n' "$*" "$code" "$(tail -5 <<<"$out")" >&2
		exit 1
	fi
}
check_run "${secrets[@]}"
check_run "${plain[@]}"

read -r load1 _ </proc/loadavg
cores="$(nproc)"
echo "timing $runs runs of each, interleaved (load average $load1 on $cores cores) ..." >&2
mapfile -t lines < <("$tmp/timeit" -n "$runs" -- "${plain[@]}" -- "${secrets[@]}" "${before[@]}")
want=$((3 + ${#before[@]} / 4))
if ((${#lines[@]} != want)); then
	echo "bench/secrets/run.sh: timeit failed" >&2
	exit 1
fi

# shellcheck source=bench/field.sh
source "$root/bench/field.sh"
plain_ms="$(field median_ms "${lines[0]}")"
plain_kib="$(field peak_rss_kib "${lines[0]}")"
sec_ms="$(field median_ms "${lines[1]}")"
sec_kib="$(field peak_rss_kib "${lines[1]}")"
before_ms=0 before_kib=0
if ((${#before[@]} > 0)); then
	before_ms="$(field median_ms "${lines[2]}")"
	before_kib="$(field peak_rss_kib "${lines[2]}")"
fi

awk -v runs="$runs" -v pms="$plain_ms" -v pkib="$plain_kib" -v sms="$sec_ms" -v skib="$sec_kib" \
	-v bms="$before_ms" -v bkib="$before_kib" -v brev="${BENCH_BEFORE:-}" -v load="$load1" -v cores="$cores" '
BEGIN {
	printf "1,000 secret() reads with a print() between, then one check; %d runs each\n", runs
	printf "                           median   peak RSS\n"
	printf "plain.star (floor)      %7.1f ms %6.1f MiB\n", pms, pkib / 1024
	printf "secrets.star            %7.1f ms %6.1f MiB   %.2fx the floor, +%.1f ms\n", sms, skib / 1024, sms / pms, sms - pms
	if (brev != "")
		printf "secrets.star as of %-7.7s %5.1f ms %6.1f MiB   %.2fx the floor\n", brev, bms, bkib / 1024, bms / pms
	printf "target: secrets.star <= 100 ms: %s\n", sms <= 100 ? "ok" : "MISSED"
	if (load > cores / 2)
		printf "note: load average %s on %d cores when timing started; the figures may be noisy\n", load, cores
}'
