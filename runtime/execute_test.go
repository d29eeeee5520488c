package runtime

import (
	"context"
	"strings"
	"testing"

	"github.com/infra-guard/infra-guard/result"
)

// TestExecute covers the one entry point's judgement: the exit code is
// final (warn-ok applied), a script that does not load is a report of
// diagnostics, and a bad selection is an error with nothing run.
func TestExecute(t *testing.T) {
	warnGuard := writeScript(t, map[string]string{"guard.star": `
check("a", lambda: warn("degraded"), tags = ["net"])
check("b", lambda: True)
`})
	tests := []struct {
		name    string
		script  Script
		opts    Options
		want    result.ExitCode
		checks  int
		diag    string // a Diagnostic's text, when the script does not load
		wantErr string
	}{
		{name: "warn", script: Script{Path: warnGuard}, want: result.ExitWarn, checks: 2},
		{name: "warn-ok", script: Script{Path: warnGuard}, opts: Options{WarnOK: true}, want: result.ExitOK, checks: 2},
		{name: "selection", script: Script{Path: warnGuard}, opts: Options{Select: Selection{Skip: []string{"a"}}}, want: result.ExitOK, checks: 1},
		{name: "bad selection", script: Script{Path: warnGuard}, opts: Options{Select: Selection{Only: []string{"zz"}}}, wantErr: `--only "zz": no such check`},
		{name: "zero checks", script: Script{Path: "empty.star", Src: []byte("x = 1\n")}, want: result.ExitUnknown, diag: "empty.star: the script registers no checks"},
		{name: "syntax error", script: Script{Path: "bad.star", Src: []byte("def f(\n")}, want: result.ExitUnknown, diag: "bad.star:2:1: "},
		{name: "unknown name", script: Script{Path: "bad.star", Src: []byte("check('a', lambda: threshhold(1))\n")}, want: result.ExitUnknown, diag: "bad.star:1:20: undefined: threshhold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loaded := false
			tt.opts.Loaded = func() { loaded = true }
			rep, err := Execute(context.Background(), tt.script, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !loaded {
				t.Error("Loaded was not called")
			}
			if rep.ExitCode != tt.want || len(rep.Checks) != tt.checks {
				t.Errorf("exit %d with %d checks, want %d with %d: %+v", rep.ExitCode, len(rep.Checks), tt.want, tt.checks, rep)
			}
			if tt.diag != "" && (len(rep.Errors) == 0 || !strings.HasPrefix(rep.Errors[0].String(), tt.diag)) {
				t.Errorf("errors = %q, want one starting %q", rep.Errors, tt.diag)
			}
		})
	}
}
