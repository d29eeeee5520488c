package result

import "testing"

func TestJudge(t *testing.T) {
	res := func(ss ...Status) []CheckResult {
		out := make([]CheckResult, len(ss))
		for i, s := range ss {
			out[i] = CheckResult{Name: s.String(), Status: s}
		}
		return out
	}
	tests := []struct {
		name   string
		report Report
		warnOK bool
		want   ExitCode
	}{
		{"all ok", Report{Checks: res(OK, OK)}, false, 0},
		{"ok and skip", Report{Checks: res(OK, Skip)}, false, 0},
		{"only skipped", Report{Checks: res(Skip)}, false, 0},
		{"warn", Report{Checks: res(OK, Warn)}, false, 1},
		{"warn with warn-ok", Report{Checks: res(OK, Warn)}, true, 0},
		{"fail", Report{Checks: res(Warn, Fail)}, false, 2},
		{"fail with warn-ok", Report{Checks: res(Fail)}, true, 2},
		{"unknown", Report{Checks: res(OK, Unknown)}, false, 3},
		{"unknown beats warn", Report{Checks: res(Warn, Unknown)}, true, 3},
		{"fail beats unknown", Report{Checks: res(Unknown, Fail)}, false, 2},
		{"no checks", Report{}, false, 3},
		{"load error", Report{Errors: []Diagnostic{{File: "guard.star", Line: 1, Col: 1, Msg: "boom"}}}, false, 3},
		{"interrupted, even with a failure", Report{Checks: res(Fail), Incomplete: "interrupted by SIGTERM"}, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Judge(&tt.report, tt.warnOK); got != tt.want {
				t.Errorf("Judge = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestExitCodeStatus(t *testing.T) {
	for code, want := range map[ExitCode]Status{ExitOK: OK, ExitWarn: Warn, ExitFail: Fail, ExitUnknown: Unknown, 4: Unknown, -1: Unknown} {
		if got := code.Status(); got != want {
			t.Errorf("ExitCode(%d).Status() = %s, want %s", code, got, want)
		}
	}
}

func TestDiagnosticString(t *testing.T) {
	for d, want := range map[Diagnostic]string{
		{File: "g.star", Line: 3, Col: 7, Msg: "boom"}: "g.star:3:7: boom",
		{File: "g.star", Line: 3, Msg: "boom"}:         "g.star:3: boom",
		{File: "g.star", Msg: "boom"}:                  "g.star: boom",
		{Msg: "boom"}:                                  "boom",
	} {
		if got := d.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", d, got, want)
		}
	}
}
