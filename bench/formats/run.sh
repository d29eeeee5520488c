#!/usr/bin/env bash
# Measures the report formats at scale, whole process: `infra-guard run
# --format F` (stdout to /dev/null) over a generated guard of 100,000
# checks, each returning ok() with a 400-byte message and a metric, so a
# text report is about 44 MB. The guard reads one secret, so the output
# scrubber is armed and sees every byte, as in a guard that has one.
#
# For each format it prints the median wall time against the text
# format's (target: at most 1.6x), and the peak RSS above a floor against
# the report's size (target: at most 2x). The floor is the same run with
# --quiet: every check runs and the report is built, but only the summary
# line is written. The 10,000-check guard checks that the time grows
# linearly (target: 100,000 checks at most 12x the time of 10,000). A
# missed target is reported, not an error; a failed build or run is an
# error. The formats alone, without the checks' run, are compared by
# go test -run '^$' -bench FormatsVsText ./report.
#
#   bash bench/formats/run.sh              # 3 runs of each
#   BENCH_RUNS=5 bash bench/formats/run.sh
set -euo pipefail

runs="${BENCH_RUNS:-3}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
	echo "bench/formats/run.sh: BENCH_RUNS must be a positive integer, got '$runs'" >&2
	exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "building infra-guard and timeit ..." >&2
go build -o "$tmp/infra-guard" .
go build -o "$tmp/timeit" ./bench/timeit
ig="$tmp/infra-guard"
export BENCH_TOKEN="bench-token-3f9c2a7e41d8-not-in-any-output"

# guard N: the guard of N checks.
guard() {
	cat >"$tmp/g$1.star" <<EOF
TOKEN = secret("BENCH_TOKEN")
PAD = "x" * 400

def make(i):
    msg = "check %d is fine %s" % (i, PAD)
    def f():
        return ok(msg, metrics = {"value": i})
    return f

for i in range($1):
    check("c" + str(i), make(i))
EOF
	echo "$tmp/g$1.star"
}

formats=(text json junit tap github nagios prometheus)
# The github format also appends its step summary and outputs, as in
# Actions; they go to /dev/null.
gh_env=(env GITHUB_STEP_SUMMARY=/dev/null GITHUB_OUTPUT=/dev/null)

# cmd N FORMAT: the command line of one run ("quiet" is the floor; "file"
# writes a json report file with --report instead of stdout).
cmd() {
	local g="$tmp/g$1.star"
	case "$2" in
	quiet) echo "$ig run --log-level warn --quiet $g" ;;
	file) echo "$ig run --log-level warn --quiet --report json=$tmp/report.json $g" ;;
	github) echo "${gh_env[*]} $ig run --log-level warn --format github $g" ;;
	*) echo "$ig run --log-level warn --format $2 $g" ;;
	esac
}
rows=(quiet "${formats[@]}" file)

guard 10000 >/dev/null
guard 100000 >/dev/null

# One checked run of each at 100,000 checks, which also gives the size of
# each report.
declare -A size
for row in "${rows[@]}"; do
	code=0
	read -ra argv <<<"$(cmd 100000 "$row")" # words without blanks
	n="$("${argv[@]}" 2>"$tmp/stderr" | wc -c)" || code=$?
	if ((code != 0)); then
		printf 'bench/formats/run.sh: %s exited %d:\n%s\n' "$row" "$code" "$(head -c 2000 "$tmp/stderr")" >&2
		exit 1
	fi
	if [[ "$row" == file ]]; then
		n="$(wc -c <"$tmp/report.json")"
	fi
	size[$row]=$n
done
if ((size[text] < 40000000)); then
	echo "bench/formats/run.sh: the text report is ${size[text]} bytes, expected about 44 MB" >&2
	exit 1
fi

read -r load1 _ </proc/loadavg
cores="$(nproc)"

# timeit N WARMUP: runs every row at N checks, interleaved; one line per
# row, then the RSS floor.
timeit() {
	local args=()
	for row in "${rows[@]}"; do
		read -ra argv <<<"$(cmd "$1" "$row")"
		args+=(-- "${argv[@]}")
	done
	"$tmp/timeit" -n "$runs" -warmup "$2" "${args[@]}"
}

# shellcheck source=bench/field.sh
source "$root/bench/field.sh"

echo "timing $runs runs of each at 10,000 checks, then at 100,000 (load average $load1 on $cores cores) ..." >&2
mapfile -t small < <(timeit 10000 1)
mapfile -t large < <(timeit 100000 0) # the checked runs above were the warm-up
if ((${#small[@]} != ${#rows[@]} + 1 || ${#large[@]} != ${#rows[@]} + 1)); then
	echo "bench/formats/run.sh: timeit failed" >&2
	exit 1
fi

{
	for i in "${!rows[@]}"; do
		echo "${rows[$i]} ${size[${rows[$i]}]} $(field median_ms "${small[$i]}") $(field median_ms "${large[$i]}") $(field peak_rss_kib "${large[$i]}")"
	done
} | awk -v runs="$runs" -v load="$load1" -v cores="$cores" '
{ row[NR] = $1; size[$1] = $2; small[$1] = $3; large[$1] = $4; rss[$1] = $5 / 1024 }
END {
	q = "quiet"; t = "text"
	printf "formats at 100,000 checks, whole process, %d runs each (median wall time, largest peak RSS)\n", runs
	printf "%-11s %9s %9s %8s %10s %10s %9s %10s\n", "", "report MB", "time s", "x text", "peak MiB", "above floor", "x report", "10k->100k"
	missed = ""
	for (i = 1; i <= NR; i++) {
		r = row[i]
		lin = large[r] / small[r]
		mb = size[r] / 1e6
		if (r == q) { # running the checks, not a format: shown, not judged
			printf "%-11s %9.3f %9.2f %8s %10.1f %10s %9s %9.1fx\n", "quiet floor", mb, large[r] / 1000, "", rss[r], "", "", lin
			continue
		}
		if (lin > 12) missed = missed " linearity(" r ")"
		xt = large[r] / large[t]
		if (xt > 1.6) missed = missed " time(" r ")"
		name = (r == "file") ? "json file" : r
		rssAbove = rss[r] - rss[q]
		# A report of a few MB is inside the noise of peak RSS (some
		# 10 MiB from run to run here): only larger ones are judged.
		xr = "-"
		if (mb >= 10) {
			xr = sprintf("%.2fx", rssAbove / (size[r] / 1048576))
			if (rssAbove / (size[r] / 1048576) > 2) missed = missed " RSS(" r ")"
		}
		printf "%-11s %9.1f %9.2f %7.2fx %10.1f %10.1f %9s %9.1fx\n", name, mb, large[r] / 1000, xt, rss[r], rssAbove, xr, lin
	}
	print ""
	print "quiet floor: the same run with --quiet (every check runs, the report is built, one line is written)."
	print "x text: time over the text format'"'"'s; target <= 1.6. Most of it is running the checks: the formats"
	print "  alone are compared by go test -run '"'"'^$'"'"' -bench FormatsVsText ./report."
	print "above floor, x report: peak RSS beyond the floor, and that over the report'"'"'s size in MiB (judged"
	print "  for reports of 10 MB or more); target <= 2."
	print "10k->100k: time at 100,000 checks over 10,000; target <= 12 (the floor'"'"'s own is shown, not judged)."
	print "targets: " (missed == "" ? "ok" : "MISSED:" missed)
	if (load > cores / 2)
		printf "note: load average %s on %d cores when timing started; the figures may be noisy\n", load, cores
}'
