package runtime

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/result"
)

// TestReusedThreadStartsClean runs, on one checkRun as a worker does,
// checks that leave its thread cancelled, out of steps, deep in its step
// count or named in a print, each followed by one that must see none of
// it (checkrun.go hands a worker's thread from one check to the next).
func TestReusedThreadStartsClean(t *testing.T) {
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))
	const budget = 200_000 // above stepChunk, so the step hook runs in between
	guard := load(t, LoadOptions{}, map[string]string{"guard.star": `
def burn(n):
    for i in range(n):
        pass
    return True

def endless():
    while True:
        pass

def divide():
    return 1 // 0

def say(msg):
    print(msg)
    return True

def slow():
    # Few steps, each slow: the deadline passes before the step budget.
    while True:
        s = "x" * 10000

check("steps-a", burn, args = [30000])
check("steps-b", burn, args = [30000])
check("slow", slow, timeout = "50ms")
check("after-slow", burn, args = [10])
check("budget", endless)
check("after-budget", divide)
check("after-budget-ok", burn, args = [10])
check("print-a", say, args = ["from a"])
check("print-b", say, args = ["from b"])
check("makes-context", lambda: str(1) == "1")
`})
	opts := RunOptions{MaxSteps: budget, Logger: logger}.withDefaults(guard)
	shared := builtins.NewRun()
	defer shared.Close()
	got := map[string]result.CheckResult{}
	cr := guard.newCheckRun(context.Background(), &opts, shared, 1, func(_ int, r result.CheckResult) { got[r.Name] = r }, nil)
	for i, c := range guard.Checks {
		if cr.runCheck(c, i) {
			t.Fatalf("%s abandoned", c.Name)
		}
		if reuse := cr.reusable(); reuse != (c.Name != "makes-context") {
			t.Errorf("%s: reusable() = %v", c.Name, reuse)
		}
	}
	want := map[string]struct {
		status result.Status
		msg    string
	}{
		"steps-a":         {result.OK, ""},
		"steps-b":         {result.OK, ""}, // over budget if counted on from steps-a
		"budget":          {result.Unknown, "exceeded the step budget"},
		"after-budget":    {result.Unknown, "floored division by zero"},
		"after-budget-ok": {result.OK, ""},
		"print-a":         {result.OK, ""},
		"print-b":         {result.OK, ""},
		"after-slow":      {result.OK, ""},
		"makes-context":   {result.OK, ""},
	}
	for name, w := range want {
		c := got[name]
		if c.Status != w.status || !strings.Contains(c.Message, w.msg) || (w.msg == "" && c.Message != "") {
			t.Errorf("%s: %s %q, want %s %q", name, c.Status, c.Message, w.status, w.msg)
		}
	}
	if c := got["slow"]; c.Status != result.Fail || !strings.Contains(c.Message, "timed out after 50ms") {
		t.Errorf("slow: %s %q, want FAIL timed out", c.Status, c.Message)
	}
	if strings.Contains(got["after-budget"].Message, "step budget") {
		t.Errorf("after-budget reported as over its step budget: %q", got["after-budget"].Message)
	}

	logMu.Lock()
	defer logMu.Unlock()
	for _, line := range strings.Split(logs.String(), "\n") {
		switch {
		case strings.Contains(line, `msg="from a"`) && !strings.Contains(line, "check=print-a"):
			t.Errorf("print in print-a logged as %s", line)
		case strings.Contains(line, `msg="from b"`) && !strings.Contains(line, "check=print-b"):
			t.Errorf("print in print-b logged as %s", line)
		}
	}
	if !strings.Contains(logs.String(), "check=print-b") {
		t.Errorf("no print from print-b in the log:\n%s", logs.String())
	}
}
