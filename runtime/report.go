// This file holds what a run produces — the Report and its per-check results —
// and the one mapping from a report to the process exit code.
package runtime

import (
	"time"

	"github.com/infra-guard/infra-guard/builtins"
)

// CheckResult is the outcome of one registered check.
type CheckResult struct {
	Name      string
	Status    builtins.Status
	Message   string
	Metrics   []builtins.Metric
	Tags      []string
	File      string // where check() was called
	Line      int
	Duration  time.Duration
	Backtrace string // Starlark backtrace when the check raised an error
}

// Report is the outcome of a run: every check in registration order, or the
// load errors that stopped the script before any check ran.
type Report struct {
	Script     string // script path as given, or "(built-in default)"
	Started    time.Time
	Duration   time.Duration
	Checks     []CheckResult
	Errors     []string // load-phase errors (file:line:col: message); non-empty means nothing ran
	Incomplete string   // why the run was interrupted (a signal); "" when it ran to the end
	Rounds     int      // with --wait, how many rounds it took; 0 or 1 otherwise
	ExitCode   int      // filled by the runtime with ExitCode
}

// Counts returns how many checks ended in each status.
func (r *Report) Counts() map[builtins.Status]int {
	n := make(map[builtins.Status]int, 5)
	for _, c := range r.Checks {
		n[c.Status]++
	}
	return n
}

// Exit codes, Nagios plugin conventions (DESIGN §3).
const (
	ExitOK      = 0
	ExitWarn    = 1
	ExitFail    = 2
	ExitUnknown = 3
)

// ExitCode maps a report to the process exit code: 2 if any check failed,
// else 3 if any is unknown, else 1 if any warned (0 when warnOK), else 0.
// Load errors, an interrupted run and a script with no checks are 3.
func ExitCode(r *Report, warnOK bool) int {
	if len(r.Errors) > 0 || len(r.Checks) == 0 || r.Incomplete != "" {
		return ExitUnknown
	}
	n := r.Counts()
	switch {
	case n[builtins.Fail] > 0:
		return ExitFail
	case n[builtins.Unknown] > 0:
		return ExitUnknown
	case n[builtins.Warn] > 0 && !warnOK:
		return ExitWarn
	}
	return ExitOK
}
