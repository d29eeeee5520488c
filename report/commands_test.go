package report

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/infra-guard/infra-guard/result"
)

// runnerCommand reports whether the GitHub Actions runner would take line
// for a workflow command, as actions/runner's ActionCommand does: after
// trimming leading white space (.NET's, which is Unicode's), a line that
// starts with "::" and has another "::" (TryParseV2), or a line with
// "##[" anywhere and a "]" after it (TryParse, the old form).
func runnerCommand(line string) bool {
	v2 := strings.TrimLeftFunc(line, unicode.IsSpace)
	if strings.HasPrefix(v2, "::") && strings.Contains(v2[2:], "::") {
		return true
	}
	if i := strings.Index(line, "##["); i >= 0 && strings.Contains(line[i:], "]") {
		return true
	}
	return false
}

// commandReport carries workflow commands wherever a server's or a
// script's text can go: messages (first and later lines), backtraces,
// names, tags, metrics, load errors, the reason a run was cut short.
func commandReport() *result.Report {
	r := &result.Report{
		Script: "g.star", Started: started, Duration: time.Second,
		Incomplete: "SIGTERM\n::error::incomplete",
		Checks: []result.CheckResult{
			{
				Name: "::error::name", Status: result.Fail,
				Message: "::error title=x::first line\n  ::stop-commands::t0ken\n\t::add-mask::value\n\u00a0::warning::nbsp\n\u3000::notice::ideographic\nsaid ##[error]old form",
				Tags:    []string{"##[group]tag"},
				File:    "g.star", Line: 1,
			},
			{
				Name: "warned", Status: result.Warn, Message: "first\n::warning::second\nthird",
				Metrics: []result.Metric{{Name: "##[error]metric", Value: 1, Unit: "::x::"}},
			},
			{Name: "skipped", Status: result.Skip, Message: "::debug::skip reason"},
			{
				Name: "raised", Status: result.Unknown,
				Backtrace: "Traceback (most recent call last):\n  g.star:1:1: in f\n::error::from a backtrace\nError: boom",
			},
			{Name: "fine", Status: result.OK, Message: "ok\n::set-output name=x::y"},
		},
	}
	r.ExitCode = result.Judge(r, false)
	return r
}

// TestNoWorkflowCommands: in every format but github (whose own commands
// are the point, and whose messages are escaped onto one line), no line of
// a report is a workflow command, whatever the checks' text holds.
func TestNoWorkflowCommands(t *testing.T) {
	loadErr := &result.Report{
		Script: "g.star", Started: started,
		Errors: []result.Diagnostic{{File: "g.star", Line: 1, Col: 1, Msg: "::error::load\n::stop-commands::x"}, {Msg: "##[error]second"}},
	}
	loadErr.ExitCode = result.Judge(loadErr, false)
	for _, format := range Names() {
		if format == "github" {
			continue
		}
		for name, r := range map[string]*result.Report{"checks": commandReport(), "load error": loadErr} {
			for _, warnAsFailure := range []bool{false, true} {
				out := string(render(t, format, Options{Getenv: noEnv, WarnAsFailure: warnAsFailure}, r))
				for _, line := range strings.FieldsFunc(out, func(r rune) bool { return r == '\n' || r == '\r' }) {
					if runnerCommand(line) {
						t.Errorf("%s, %s: the runner would run %q", format, name, line)
					}
				}
			}
		}
	}
}

func TestNoCommands(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"::error::x", `\::error::x`},
		{"a\n  ::error::x\n::b", "a\n  \\::error::x\n\\::b"},
		{"a\r::error::x", "a\r\\::error::x"},
		{"\u00a0\u2003::x::", "\u00a0\u2003\\::x::"},
		{"not :: at the start", "not :: at the start"},
		{"x ##[error]y", `x ##\[error]y`},
		{"###[##[", `###\[##\[`},
	}
	for _, tt := range tests {
		if got := NoCommands(tt.in); got != tt.want {
			t.Errorf("NoCommands(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := NoCommands(tt.in); runnerCommand(got) {
			t.Errorf("NoCommands(%q) = %q is still a command", tt.in, got)
		}
	}
}

// TestHasCommandsSeesEveryText: withoutCommands skips its copy when
// hasCommands finds nothing, so hasCommands must look at every text of a
// report. Each string field, found by reflection (a field added to result
// later included), gets a workflow command in turn.
func TestHasCommandsSeesEveryText(t *testing.T) {
	base := func() *result.Report {
		return &result.Report{
			Script: "g.star", Host: "h", Incomplete: "i",
			Errors: []result.Diagnostic{{File: "g.star", Msg: "m"}},
			Checks: []result.CheckResult{{
				Name: "n", Message: "m", Backtrace: "b", File: "f", Tags: []string{"t"},
				Metrics: []result.Metric{{Name: "n", Unit: "u", Warn: "w", Crit: "c"}},
			}},
		}
	}
	if hasCommands(base()) {
		t.Fatal("hasCommands: true for a report without commands")
	}
	var fields []string
	var visit func(v reflect.Value, path string, set func(v reflect.Value, path string))
	visit = func(v reflect.Value, path string, set func(reflect.Value, string)) {
		switch v.Kind() {
		case reflect.String:
			set(v, path)
		case reflect.Slice:
			for i := range v.Len() {
				visit(v.Index(i), path+"[]", set)
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if f := v.Type().Field(i); f.IsExported() {
					visit(v.Field(i), path+"."+f.Name, set)
				}
			}
		}
	}
	visit(reflect.ValueOf(base()).Elem(), "Report", func(_ reflect.Value, path string) { fields = append(fields, path) })
	if len(fields) < 14 {
		t.Fatalf("found only %d text fields: %q", len(fields), fields)
	}
	for _, field := range fields {
		r := base()
		visit(reflect.ValueOf(r).Elem(), "Report", func(v reflect.Value, path string) {
			if path == field {
				v.SetString("x\n::error::y")
			}
		})
		if !hasCommands(r) {
			t.Errorf("hasCommands does not look at %s", field)
		}
		if withoutCommands(r) == r {
			t.Errorf("%s: withoutCommands returned the report itself", field)
		}
	}
}

// TestNoCommandsAsWritten: the nagios and prometheus formats pass each
// text of the report through NoCommands as they write it, not the whole
// report through withoutCommands first; a report whose texts have been
// through it already (NoCommands changes nothing the second time) must
// come out the same, so a text written without it shows.
func TestNoCommandsAsWritten(t *testing.T) {
	cases := referenceCases()
	cases["commands"] = commandReport()
	cases["load error"] = &result.Report{
		Script: "::error::g.star", Started: started, Host: "##[error]host", Incomplete: "::x::",
		Errors: []result.Diagnostic{{File: "::error::g.star", Line: 1, Col: 1, Msg: "::error::load\n::stop-commands::x"}, {Msg: "##[error]second"}},
	}
	for _, format := range []string{"nagios", "prometheus"} {
		for name, r := range cases {
			if r.Started.IsZero() { // else prometheus reads the clock for each
				r.Started = started
			}
			got := render(t, format, Options{Version: "v1", Commit: "abc"}, r)
			want := render(t, format, Options{Version: "v1", Commit: "abc"}, r.MapText(NoCommands))
			if !bytes.Equal(got, want) {
				t.Errorf("%s, %s:\n got %q\nwant %q", format, name, got, want)
			}
		}
	}
}
