package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.uber.org/goleak"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/result"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// writeScript writes files (name → text) into a temp dir and returns the
// path of the first, guard.star.
func writeScript(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "guard.star")
}

func load(t *testing.T, opts LoadOptions, files map[string]string) *Guard {
	t.Helper()
	g, err := Load(context.Background(), writeScript(t, files), nil, opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return g
}

func byName(r *result.Report) map[string]result.CheckResult {
	m := map[string]result.CheckResult{}
	for _, c := range r.Checks {
		m[c.Name] = c
	}
	return m
}

// gate is a builtin whose calls block until released, counting how many
// are inside at once.
type gate struct {
	inside, peak atomic.Int32
	release      chan struct{}
}

func (g *gate) builtin() *starlark.Builtin {
	return starlark.NewBuiltin("gate", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		n := g.inside.Add(1)
		defer g.inside.Add(-1)
		for {
			p := g.peak.Load()
			if n <= p || g.peak.CompareAndSwap(p, n) {
				break
			}
		}
		ctx := builtins.Context(thread)
		select {
		case <-g.release:
			return starlark.None, nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	})
}

func TestRunBoundsConcurrency(t *testing.T) {
	g := &gate{release: make(chan struct{})}
	guard := load(t, LoadOptions{Extra: starlark.StringDict{"gate": g.builtin()}}, map[string]string{
		"guard.star": `
for i in range(10):
    check("c%d" % i, gate)
`})
	done := make(chan *result.Report)
	go func() { done <- guard.Run(context.Background(), RunOptions{Concurrency: 3}) }()
	// Wait until the first three are inside, then let everything through.
	for g.inside.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // room for a fourth, if the bound were broken
	close(g.release)
	r := <-done
	if p := g.peak.Load(); p != 3 {
		t.Errorf("peak concurrency = %d, want 3", p)
	}
	if result.Judge(r, false) != 0 {
		t.Errorf("exit code = %d, want 0: %+v", result.Judge(r, false), r.Checks)
	}
}

func TestRunIsConcurrentByDefault(t *testing.T) {
	g := &gate{release: make(chan struct{})}
	guard := load(t, LoadOptions{Extra: starlark.StringDict{"gate": g.builtin()}}, map[string]string{
		"guard.star": `
for i in range(200):
    check("c%d" % i, gate)
`})
	done := make(chan *result.Report)
	go func() { done <- guard.Run(context.Background(), RunOptions{}) }()
	deadline := time.Now().Add(10 * time.Second)
	for g.inside.Load() < 200 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(g.release)
	<-done
	if p := g.peak.Load(); p != 200 {
		t.Errorf("peak concurrency = %d, want all 200 checks at once", p)
	}
}

func TestRunAfterWaitsForDependency(t *testing.T) {
	var mu sync.Mutex
	var order []string
	record := starlark.NewBuiltin("record", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		s, _ := starlark.AsString(args[0])
		if s == "db" {
			time.Sleep(20 * time.Millisecond) // give a wrongly scheduled dependent time to overtake
		}
		mu.Lock()
		order = append(order, s)
		mu.Unlock()
		return starlark.True, nil
	})
	guard := load(t, LoadOptions{Extra: starlark.StringDict{"record": record}}, map[string]string{
		"guard.star": `
check("api", record, args = ["api"], after = ["db"])
check("web", record, args = ["web"], after = ["api"])
check("db", record, args = ["db"])
`})
	r := guard.Run(context.Background(), RunOptions{})
	if got := strings.Join(order, ","); got != "db,api,web" {
		t.Errorf("order = %s, want db,api,web", got)
	}
	if result.Judge(r, false) != 0 {
		t.Errorf("exit code = %d", result.Judge(r, false))
	}
}

func TestRunDependencyWarnStillRunsDependent(t *testing.T) {
	guard := load(t, LoadOptions{}, map[string]string{"guard.star": `
check("db", lambda: warn("lagging"))
check("api", lambda: True, after = ["db"])
check("web", lambda: True, after = ["broken"])
check("broken", lambda: fail("down"))
`})
	got := byName(guard.Run(context.Background(), RunOptions{}))
	if got["api"].Status != result.OK {
		t.Errorf("api after a warning = %s, want ok", got["api"].Status)
	}
	if got["web"].Status != result.Skip || !strings.Contains(got["web"].Message, `"broken"`) {
		t.Errorf("web after a failure = %s %q, want skip naming broken", got["web"].Status, got["web"].Message)
	}
}

func TestRunCheckDeadlineCancelsBuiltin(t *testing.T) {
	g := &gate{release: make(chan struct{})} // never released: only the deadline ends it
	guard := load(t, LoadOptions{Extra: starlark.StringDict{"gate": g.builtin()}}, map[string]string{
		"guard.star": `check("hang", gate, timeout = "50ms")`})
	start := time.Now()
	r := guard.Run(context.Background(), RunOptions{})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("run took %s, want about 50ms", took)
	}
	c := r.Checks[0]
	if c.Status != result.Fail || c.Message != "timed out after 50ms" {
		t.Errorf("got %s %q, want fail \"timed out after 50ms\"", c.Status, c.Message)
	}
}

func TestRunStuckBuiltinDoesNotHangTheRun(t *testing.T) {
	release := make(chan struct{})
	stuck := starlark.NewBuiltin("stuck", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		<-release // ignores its context, like a statfs on a dead NFS mount
		return starlark.None, nil
	})
	defer close(release)
	guard := load(t, LoadOptions{Extra: starlark.StringDict{"stuck": stuck}}, map[string]string{
		"guard.star": `check("hang", stuck, timeout = "50ms")`})
	start := time.Now()
	r := guard.Run(context.Background(), RunOptions{})
	if took := time.Since(start); took > stuckGrace+2*time.Second {
		t.Errorf("run took %s, want the deadline plus the grace period", took)
	}
	if c := r.Checks[0]; c.Status != result.Fail || !strings.Contains(c.Message, "timed out after 50ms") {
		t.Errorf("got %s %q, want a timeout failure", c.Status, c.Message)
	}
}

func TestRunCancelledMarksIncomplete(t *testing.T) {
	g := &gate{release: make(chan struct{})}
	guard := load(t, LoadOptions{Extra: starlark.StringDict{"gate": g.builtin()}}, map[string]string{
		"guard.star": `
check("first", gate)
check("second", gate)
`})
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		for g.inside.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel(errors.New("interrupted by SIGTERM"))
	}()
	r := guard.Run(ctx, RunOptions{Concurrency: 1})
	if r.Incomplete != "interrupted by SIGTERM" || result.Judge(r, false) != result.ExitUnknown {
		t.Errorf("incomplete = %q, exit = %d", r.Incomplete, result.Judge(r, false))
	}
	// With one slot, one check was running (cancelled) and one waiting (not run).
	var msgs []string
	for _, c := range r.Checks {
		if c.Status != result.Unknown {
			t.Errorf("%s = %s, want unknown", c.Name, c.Status)
		}
		msgs = append(msgs, c.Message)
	}
	sort.Strings(msgs)
	want := []string{"cancelled: interrupted by SIGTERM", "not run: interrupted by SIGTERM"}
	if strings.Join(msgs, "|") != strings.Join(want, "|") {
		t.Errorf("messages = %q, want %q", msgs, want)
	}
}

func TestRunGlobalsAreFrozen(t *testing.T) {
	guard := load(t, LoadOptions{}, map[string]string{"guard.star": `
SEEN = []
def mutate():
    SEEN.append(1)
    return True
check("mutate", mutate)
`})
	c := guard.Run(context.Background(), RunOptions{}).Checks[0]
	if c.Status != result.Unknown || !strings.Contains(c.Message, "frozen") {
		t.Errorf("got %s %q, want an error about a frozen list", c.Status, c.Message)
	}
}

func TestLoadStepBudget(t *testing.T) {
	_, err := Load(context.Background(), writeScript(t, map[string]string{"guard.star": `
def spin():
    while True:
        pass
spin()
`}), nil, LoadOptions{MaxSteps: 10_000})
	if err == nil || !strings.Contains(err.Error(), "the load phase exceeded the step budget of 10000 steps") {
		t.Errorf("err = %v", err)
	}
}

func TestCheckArgumentErrors(t *testing.T) {
	tests := []struct{ script, want string }{
		{`check("", lambda: True)`, "name must not be empty"},
		{`check("a", 42)`, "check: for parameter fn: got int, want callable"},
		{`check("a", lambda: True, timeout = "soon")`, `"soon" is not a duration`},
		{`check("a", lambda: True, timeout = "-1s")`, "must be positive"},
		{`check("a", lambda: True, tags = [1])`, `check: for parameter "tags": element 0 is int, want string`},
		{`check("a", lambda: True, kwargs = {1: 2})`, "kwargs keys must be strings"},
		{"def f():\n    check(\"x\", f)\n    return True\ncheck(\"a\", f)", ""},
	}
	for _, tt := range tests {
		_, err := Load(context.Background(), writeScript(t, map[string]string{"guard.star": tt.script}), nil, LoadOptions{})
		if tt.want == "" {
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.script, err, tt.want)
		}
	}
	// check() inside a running check is refused.
	guard := load(t, LoadOptions{}, map[string]string{"guard.star": "def f():\n    check(\"x\", f)\n    return True\ncheck(\"a\", f)"})
	if c := guard.Run(context.Background(), RunOptions{}).Checks[0]; !strings.Contains(c.Message, "check: can only be called while the script loads") {
		t.Errorf("check() in a check: %s %q", c.Status, c.Message)
	}
}

func TestCheckArgsAndKwargs(t *testing.T) {
	guard := load(t, LoadOptions{}, map[string]string{"guard.star": `
def site(url, want = 200):
    return ok("%s %d" % (url, want))
for u in ["a", "b"]:
    check("site " + u, site, args = [u], kwargs = {"want": 204})
`})
	for _, c := range guard.Run(context.Background(), RunOptions{}).Checks {
		want := strings.TrimPrefix(c.Name, "site ") + " 204"
		if c.Message != want {
			t.Errorf("%s: message %q, want %q (loop variable captured?)", c.Name, c.Message, want)
		}
	}
}

func TestHeapWatchdogStopsRunawayAllocation(t *testing.T) {
	guard := load(t, LoadOptions{MaxHeap: 64 << 20, MaxSteps: 1 << 40}, map[string]string{"guard.star": `
def hog():
    x = []
    while True:
        x.append("a" * 4096)
check("hog", hog)
`})
	r := guard.Run(context.Background(), RunOptions{MaxHeap: 64 << 20, MaxSteps: 1 << 40})
	c := r.Checks[0]
	if c.Status != result.Unknown || !strings.Contains(c.Message, "past --max-heap 64 MiB") {
		t.Errorf("got %s %q, want unknown naming the heap limit", c.Status, c.Message)
	}
	if result.Judge(r, false) != result.ExitUnknown {
		t.Errorf("exit = %d, want 3", result.Judge(r, false))
	}
}

// A stuck builtin that returns after the grace timer reported its check
// must not race with that report (run with -race). The builtin sleeps
// rather than wait on the test, so nothing orders the two.
func TestRunStuckBuiltinReturningLateDoesNotRace(t *testing.T) {
	stuck := starlark.NewBuiltin("stuck", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		time.Sleep(stuckGrace + 200*time.Millisecond)
		return starlark.None, nil
	})
	guard := load(t, LoadOptions{Extra: starlark.StringDict{"stuck": stuck}}, map[string]string{
		"guard.star": `check("late", stuck, timeout = "20ms")`})
	r := guard.Run(context.Background(), RunOptions{})
	if c := r.Checks[0]; c.Status != result.Fail {
		t.Errorf("got %s %q, want a timeout failure", c.Status, c.Message)
	}
	time.Sleep(400 * time.Millisecond) // the check's goroutine records its own, ignored, result
}

func TestHeapWatchdogCoversTheLoadPhase(t *testing.T) {
	_, err := Load(context.Background(), writeScript(t, map[string]string{"guard.star": `
def hog():
    x = []
    while True:
        x.append("a" * 4096)
hog()
check("a", lambda: True)
`}), nil, LoadOptions{MaxHeap: 64 << 20, MaxSteps: 1 << 40})
	if err == nil || !strings.Contains(err.Error(), "past --max-heap 64 MiB") {
		t.Errorf("err = %v, want the heap limit named", err)
	}
}

// TestRunStartsAtMostConcurrencyWorkers: 2,000 checks (half of them after
// another) at --concurrency 2 run on a handful of goroutines, not one per
// check waiting for its turn, so memory falls as concurrency falls.
func TestRunStartsAtMostConcurrencyWorkers(t *testing.T) {
	var peak atomic.Int64
	probe := starlark.NewBuiltin("probe", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		n := int64(goruntime.NumGoroutine())
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		return starlark.True, nil
	})
	before := goruntime.NumGoroutine()
	guard := load(t, LoadOptions{Extra: starlark.StringDict{"probe": probe}}, map[string]string{"guard.star": `
for i in range(1000):
    check("a%d" % i, probe)
for j in range(1000):
    check("b%d" % j, probe, after = ["a%d" % j])
`})
	r := guard.Run(context.Background(), RunOptions{Concurrency: 2})
	if code := result.Judge(r, false); code != result.ExitOK {
		t.Fatalf("exit %d", code)
	}
	if extra := peak.Load() - int64(before); extra > 20 {
		t.Errorf("%d goroutines beyond the %d before the run, at --concurrency 2", extra, before)
	}
}
