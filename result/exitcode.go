package result

// ExitCode is the process exit code, by the Nagios plugin conventions.
type ExitCode int

// The exit codes.
const (
	ExitOK      ExitCode = 0
	ExitWarn    ExitCode = 1
	ExitFail    ExitCode = 2
	ExitUnknown ExitCode = 3
)

// Judge maps a report to the process exit code: 2 if any check failed,
// else 3 if any is unknown, else 1 if any warned (0 when warnOK), else 0.
// Load errors, an interrupted run and a script with no checks are 3.
// It is the only place that decides an exit code.
func Judge(r *Report, warnOK bool) ExitCode {
	if len(r.Errors) > 0 || len(r.Checks) == 0 || r.Incomplete != "" {
		return ExitUnknown
	}
	n := r.Counts()
	switch {
	case n[Fail] > 0:
		return ExitFail
	case n[Unknown] > 0:
		return ExitUnknown
	case n[Warn] > 0 && !warnOK:
		return ExitWarn
	}
	return ExitOK
}

// Status is the status a whole run of this exit code reads as (a WARN run
// exits 0 under --warn-ok and so reads as OK). A code outside 0–3 reads as
// Unknown.
func (c ExitCode) Status() Status {
	switch c {
	case ExitOK:
		return OK
	case ExitWarn:
		return Warn
	case ExitFail:
		return Fail
	}
	return Unknown
}
