// Package result holds what a run produces and how it is judged: the Status
// of a check, its Metrics and the Nagios Ranges they were judged against,
// the CheckResult and Report of a run, the Diagnostics of a script that did
// not load, and the one mapping from a Report to the process ExitCode.
//
// It is a leaf: it imports nothing of infra-guard, so the reporters, the
// runtime and the command line all speak it without depending on each other
// (or on Starlark).
package result

import (
	"fmt"
	"time"
)

// Status is the outcome of one check.
type Status int

// The statuses, in no particular order; Severity orders them.
const (
	OK Status = iota
	Warn
	Fail
	Unknown
	Skip
)

var statusNames = [...]string{OK: "ok", Warn: "warn", Fail: "fail", Unknown: "unknown", Skip: "skip"}

// String returns the lower-case name scripts and reports use: "ok", "warn", …
// A value outside the five statuses reads as "unknown".
func (s Status) String() string { return statusNames[s.Valid()] }

// Valid returns s, or Unknown when s is not one of the five statuses, so
// nothing that renders a status can index out of range.
func (s Status) Valid() Status {
	if s < OK || s > Skip {
		return Unknown
	}
	return s
}

// Severity ranks statuses the way the Nagios exit code does:
// FAIL > UNKNOWN > WARN > OK > SKIP.
func (s Status) Severity() int {
	switch s.Valid() {
	case Skip:
		return 0
	case OK:
		return 1
	case Warn:
		return 2
	case Unknown:
		return 3
	default: // Fail
		return 4
	}
}

// Metric is one named number a check reports, with the unit and the
// thresholds it was judged against when threshold() made it.
type Metric struct {
	Name  string
	Value float64
	Unit  string // "" when unknown
	Warn  string // Nagios range, "" when none
	Crit  string
}

// CheckResult is the outcome of one registered check.
type CheckResult struct {
	Name      string
	Status    Status
	Message   string
	Metrics   []Metric
	Tags      []string
	File      string // where check() was called
	Line      int
	Duration  time.Duration
	Backtrace string // Starlark backtrace when the check raised an error
}

// Diagnostic is one problem that stopped a script from loading, at the
// place it was found when there is one (File "" or Line 0 when not).
type Diagnostic struct {
	File      string
	Line, Col int
	Msg       string
}

// String gives the form editors and CI annotations read:
// "file:line:col: msg", or less where the position is partly unknown.
func (d Diagnostic) String() string {
	switch {
	case d.File == "":
		return d.Msg
	case d.Line == 0:
		return d.File + ": " + d.Msg
	case d.Col == 0:
		return fmt.Sprintf("%s:%d: %s", d.File, d.Line, d.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Col, d.Msg)
}

// Report is the outcome of a run: every check in registration order, or the
// diagnostics that stopped the script before any check ran.
type Report struct {
	Script     string // script path as given, or the default guard's name
	Started    time.Time
	Duration   time.Duration
	Checks     []CheckResult
	Errors     []Diagnostic // load-phase problems; non-empty means nothing ran
	Incomplete string       // why the run was interrupted (a signal); "" when it ran to the end
	Rounds     int          // with --wait, how many rounds it took; 0 or 1 otherwise
	BuiltIn    bool         // the built-in default guard ran, not a script of the user's
	Host       string       // the machine the checks ran on
	ExitCode   ExitCode     // set by the runtime with Judge
}

// Counts returns how many checks ended in each status.
func (r *Report) Counts() map[Status]int {
	n := make(map[Status]int, 5)
	for _, c := range r.Checks {
		n[c.Status.Valid()]++
	}
	return n
}
