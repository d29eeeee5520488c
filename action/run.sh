#!/usr/bin/env bash
# The run step of the infra-guard action (action.yml): run the guard
# script, set the outputs exit-code, checks, ok, warn, fail, unknown and
# skip, and exit with infra-guard's exit code.
#
# Inputs (environment): IG_BIN_DIR (from the install step), IG_SCRIPT,
# IG_FORMAT, IG_ARGS (split at white space, never glob-expanded), and the
# runner's RUNNER_TEMP and GITHUB_OUTPUT.
set -euo pipefail

report=$(mktemp "${RUNNER_TEMP:-/tmp}/infra-guard-report.XXXXXX")
trap 'rm -f "$report"' EXIT

set -f # IG_ARGS is split, not globbed
# shellcheck disable=SC2086
set -- ${IG_ARGS:-}
set +f

code=0
"${IG_BIN_DIR:?}/infra-guard" run --format "${IG_FORMAT:-github}" --report "json=$report" ${1+"$@"} "${IG_SCRIPT:-guard.star}" || code=$?

{
  echo "exit-code=$code"
  # The totals of the json report (report/schema/report-v1.schema.json):
  # "totals": { "checks": N, "ok": N, … }, two spaces in, one key a line.
  awk '/^  "totals": \{/ { inside = 1; next }
       inside && /^  \}/ { exit }
       inside { gsub(/[",:]/, " "); print $1 "=" $2 }' "$report"
} >>"$GITHUB_OUTPUT"
exit "$code"
