// Package report turns a run's result.Report into the bytes a person or a
// machine reads: one file per format, each behind the one small Reporter
// interface, and a registry (Formats) that the command line picks from by
// name.
//
// Reporters never print: they write to the io.Writer they are given, which the
// caller has already put behind the secret scrubber.
package report

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/infra-guard/infra-guard/result"
)

// Reporter writes a run's report in one format.
type Reporter interface {
	Report(w io.Writer, r *result.Report) error
}

// Options configure a reporter. Each format uses what applies to it.
type Options struct {
	// Color enables ANSI colour in human formats. The caller decides
	// (--color: by default, stdout is a terminal and NO_COLOR is unset).
	Color bool
	// Quiet leaves the checks that passed (OK, SKIP) out of the text
	// format; the summary still counts them.
	Quiet bool
	// Version is the infra-guard version recorded in machine formats
	// (json, junit, prometheus); Commit and GoVersion say which build it
	// is (junit properties and prometheus' infra_guard_build_info).
	Version, Commit, GoVersion string
	// WarnAsFailure makes junit and tap report a WARN check as failed
	// (<failure type="warn">, "not ok"). By default a WARN passes there,
	// with its message shown, as it does for `after` dependencies.
	WarnAsFailure bool
	// Masks are the raw values of the run's secrets. The github format
	// registers each with ::add-mask:: before anything else.
	Masks []string
	// MaskWriter, when set, receives the ::add-mask:: lines instead of the
	// report's writer: the caller's stdout scrubber would otherwise replace
	// the very values the runner is being told to mask.
	MaskWriter io.Writer
	// GitHub is where the github format appends its step summary and step
	// outputs; nil writes neither. The caller opens $GITHUB_STEP_SUMMARY
	// and $GITHUB_OUTPUT, behind its scrubber like every other output.
	GitHub *GitHubFiles
	// Getenv reads an environment variable (the github format reads
	// GITHUB_WORKSPACE). Nil means os.Getenv; tests inject their own.
	Getenv func(string) string
}

// GitHubFiles are the files a GitHub Actions step appends to.
type GitHubFiles struct {
	Summary     io.Writer // $GITHUB_STEP_SUMMARY; nil: none
	SummaryRoom int       // bytes the summary may still take: GitHubSummaryLimit less the file's size
	Output      io.Writer // $GITHUB_OUTPUT; nil: none
}

// getenv returns o.Getenv, or os.Getenv when it is nil.
func (o Options) getenv() func(string) string {
	if o.Getenv == nil {
		return os.Getenv
	}
	return o.Getenv
}

// Formats maps a format name (the --format and --report value) to the
// constructor of its reporter.
var Formats = map[string]func(Options) Reporter{
	"text":       newText,
	"json":       newJSON,
	"junit":      newJUnit,
	"tap":        newTAP,
	"github":     newGitHub,
	"nagios":     newNagios,
	"prometheus": newPrometheus,
}

// New returns the reporter for format, or an error naming the known formats.
func New(format string, opts Options) (Reporter, error) {
	mk, ok := Formats[format]
	if !ok {
		return nil, fmt.Errorf("unknown format %q (known: %s)", format, strings.Join(Names(), ", "))
	}
	return mk(opts), nil
}

// Names returns the known format names, sorted.
func Names() []string {
	return slices.Sorted(maps.Keys(Formats))
}

// rounds is how many rounds the run took: 1, more when --wait re-ran
// failing checks, 0 when no check ran.
func rounds(r *result.Report) int {
	if len(r.Checks) == 0 {
		return 0
	}
	return max(r.Rounds, 1)
}

// totals counts the checks in each status.
type totals struct {
	Checks  int `json:"checks"`
	OK      int `json:"ok"`
	Warn    int `json:"warn"`
	Fail    int `json:"fail"`
	Unknown int `json:"unknown"`
	Skip    int `json:"skip"`
}

func count(r *result.Report) totals {
	t := totals{Checks: len(r.Checks)}
	for _, c := range r.Checks {
		switch c.Status.Valid() {
		case result.OK:
			t.OK++
		case result.Warn:
			t.Warn++
		case result.Fail:
			t.Fail++
		case result.Unknown:
			t.Unknown++
		case result.Skip:
			t.Skip++
		}
	}
	return t
}

// errorStrings is the report's load errors, each "file:line:col: message";
// never nil, so JSON gets [] and not null.
func errorStrings(r *result.Report) []string {
	out := make([]string, len(r.Errors))
	for i, d := range r.Errors {
		out[i] = d.String()
	}
	return out
}

// errorText is the report's load errors, one a line.
func errorText(r *result.Report) string { return strings.Join(errorStrings(r), "\n") }
