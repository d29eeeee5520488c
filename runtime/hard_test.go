package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/result"
)

// Identical checks that end at their deadline must not draw the "did not
// stop when cancelled" warning (they stopped), and each must follow one
// rule: OK only when it returned before its deadline. (Issue 10, item 12.)
func TestRunDeadlineBoundaryIsConsistent(t *testing.T) {
	var script strings.Builder
	for i := range 200 {
		// A busy loop that ends at about the 20ms deadline.
		fmt.Fprintf(&script, "check(\"c%d\", spin, timeout = \"20ms\")\n", i)
	}
	spin := starlark.NewBuiltin("spin", func(thread *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		time.Sleep(20 * time.Millisecond)
		return starlark.None, nil
	})
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	guard := load(t, LoadOptions{Logger: logger, Extra: starlark.StringDict{"spin": spin}}, map[string]string{"guard.star": script.String()})
	r := guard.Run(context.Background(), RunOptions{})
	for _, c := range r.Checks {
		switch {
		case c.Status == result.OK && c.Duration >= 20*time.Millisecond+5*time.Millisecond:
			t.Errorf("%s: OK after %s, past its 20ms deadline", c.Name, c.Duration)
		case c.Status == result.Fail && c.Message != "timed out after 20ms":
			t.Errorf("%s: FAIL %q", c.Name, c.Message)
		case c.Status != result.OK && c.Status != result.Fail:
			t.Errorf("%s: %s %q", c.Name, c.Status, c.Message)
		}
	}
	time.Sleep(stuckGrace + 100*time.Millisecond) // any armed grace timer has fired by now
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "did not stop when cancelled"); n > 0 {
		t.Errorf("%d spurious warnings for checks that stopped:\n%s", n, logs.String())
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// A check stuck in a builtin that ignores its context is not started again
// while its first instance is stuck: each --wait round would add one more
// goroutine. (Issue 10, item 11.)
func TestRunDoesNotRestartAStuckCheck(t *testing.T) {
	release := make(chan struct{})
	var calls sync.WaitGroup
	var started, running int
	var mu sync.Mutex
	stuck := starlark.NewBuiltin("stuck", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		calls.Add(1)
		defer calls.Done()
		mu.Lock()
		started++
		running++
		mu.Unlock()
		<-release
		mu.Lock()
		running--
		mu.Unlock()
		return starlark.None, nil
	})
	guard := load(t, LoadOptions{Extra: starlark.StringDict{"stuck": stuck}}, map[string]string{
		"guard.star": `check("hang", lambda: stuck(), timeout = "20ms")`})
	defer func() {
		close(release)
		calls.Wait()
		time.Sleep(50 * time.Millisecond) // the abandoned goroutine ends after its call
	}()
	first := guard.Run(context.Background(), RunOptions{})
	if c := first.Checks[0]; c.Status != result.Fail || !strings.Contains(c.Message, "stuck in stuck()") {
		t.Fatalf("round 1: %s %q, want a timeout naming the builtin", c.Status, c.Message)
	}
	for round := 2; round <= 4; round++ {
		r := guard.Run(context.Background(), RunOptions{})
		c := r.Checks[0]
		if c.Status != result.Fail || !strings.Contains(c.Message, "still stuck in stuck() since round 1") {
			t.Errorf("round %d: %s %q, want still stuck since round 1", round, c.Status, c.Message)
		}
	}
	mu.Lock()
	if started != 1 {
		t.Errorf("the stuck check was started %d times, want once", started)
	}
	mu.Unlock()
}

// Once the stuck call returns, the check runs again.
func TestRunRestartsACheckOnceUnstuck(t *testing.T) {
	release := make(chan struct{})
	var n int
	var mu sync.Mutex
	stuck := starlark.NewBuiltin("stuck", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			<-release
		}
		return starlark.None, nil
	})
	guard := load(t, LoadOptions{Extra: starlark.StringDict{"stuck": stuck}}, map[string]string{
		"guard.star": `check("hang", stuck, timeout = "20ms")`})
	guard.Run(context.Background(), RunOptions{})
	close(release)
	deadline := time.Now().Add(2 * time.Second)
	for guard.stuck.still("hang") != "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if c := guard.Run(context.Background(), RunOptions{}).Checks[0]; c.Status != result.OK {
		t.Errorf("after the stuck call returned: %s %q, want OK", c.Status, c.Message)
	}
}

// A builtin stuck in the load phase does not hold a cancellation (a
// signal, --timeout) for more than the grace. (Issue 10, item 3.)
func TestLoadAbandonsAStuckBuiltin(t *testing.T) {
	release := make(chan struct{})
	done := make(chan struct{})
	stuck := starlark.NewBuiltin("stuck", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		defer close(done)
		<-release
		return starlark.None, nil
	})
	defer func() {
		close(release)
		<-done
		time.Sleep(20 * time.Millisecond)
	}()
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(50*time.Millisecond, func() { cancel(errors.New("interrupted by SIGTERM")) })
	start := time.Now()
	_, err := Load(ctx, writeScript(t, map[string]string{"guard.star": "stuck()\ncheck('a', lambda: True)\n"}), nil,
		LoadOptions{Extra: starlark.StringDict{"stuck": stuck}})
	if took := time.Since(start); took > 50*time.Millisecond+stuckGrace+time.Second {
		t.Errorf("Load took %s after the cancellation", took)
	}
	if err == nil || !strings.Contains(err.Error(), "cancelled: interrupted by SIGTERM") {
		t.Errorf("err = %v, want the cancellation", err)
	}
}
