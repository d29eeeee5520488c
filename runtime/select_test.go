package runtime

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/result"
	"go.starlark.net/starlark"
)

const selectScript = `
check("db", lambda: True, tags = ["storage"])
check("cache", lambda: True, tags = ["storage", "fast"])
check("api", lambda: True, after = ["db"], tags = ["network"])
check("web", lambda: True, after = ["api"], tags = ["network"])
check("disk", lambda: True)
`

func names(g *Guard) string {
	var n []string
	for _, c := range g.Checks {
		n = append(n, c.Name)
	}
	return strings.Join(n, ",")
}

func TestSelect(t *testing.T) {
	g := load(t, LoadOptions{}, map[string]string{"guard.star": selectScript})
	tests := []struct {
		sel     Selection
		want    string
		wantErr string
	}{
		{Selection{}, "db,cache,api,web,disk", ""},
		{Selection{Only: []string{"disk"}}, "disk", ""},
		{Selection{Only: []string{"web"}}, "db,api,web", ""},
		{Selection{Tags: []string{"fast"}}, "cache", ""},
		{Selection{Tags: []string{"network"}}, "db,api,web", ""},
		{Selection{Only: []string{"disk"}, Tags: []string{"fast"}}, "cache,disk", ""},
		{Selection{Skip: []string{"disk", "cache"}}, "db,api,web", ""},
		{Selection{Tags: []string{"storage"}, Skip: []string{"cache"}}, "db", ""},
		{Selection{Only: []string{"dsik"}}, "", `--only "dsik": no such check`},
		{Selection{Skip: []string{"nope"}}, "", `--skip "nope": no such check`},
		{Selection{Tags: []string{"slow"}}, "", `--tag "slow": no check in`},
		{Selection{Only: []string{"web"}, Skip: []string{"db"}}, "", `--skip "db": check "api" runs after it`},
		{Selection{Only: []string{"disk"}, Skip: []string{"disk"}}, "", "leaves no check to run"},
	}
	for _, tt := range tests {
		got, err := g.Select(tt.sel)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Select(%+v) error = %v, want %q", tt.sel, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("Select(%+v): %v", tt.sel, err)
		case names(got) != tt.want:
			t.Errorf("Select(%+v) = %s, want %s", tt.sel, names(got), tt.want)
		}
	}
}

// RunCheck finds a check by name in the guard it is called on: a selected
// guard runs its own checks and none of those the selection left out.
func TestRunCheckByName(t *testing.T) {
	g := load(t, LoadOptions{}, map[string]string{"guard.star": selectScript})
	sel, err := g.Select(Selection{Only: []string{"disk"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		g       *Guard
		name    string
		wantErr bool
	}{{g, "web", false}, {g, "nope", true}, {sel, "disk", false}, {sel, "web", true}} {
		var got []string
		err := tt.g.RunCheck(context.Background(), RunOptions{}, tt.name, nil, func(r result.CheckResult) { got = append(got, r.Name) })
		if tt.wantErr {
			if err == nil || len(got) > 0 {
				t.Errorf("RunCheck(%q) of %s: %v, ran %v; want an error", tt.name, names(tt.g), err, got)
			}
			continue
		}
		if err != nil || len(got) != 1 || got[0] != tt.name {
			t.Errorf("RunCheck(%q) of %s: %v, reported %v", tt.name, names(tt.g), err, got)
		}
	}
}

func TestRunUntilRunsEveryRoundWhole(t *testing.T) {
	var calls atomic.Int32
	up := starlark.NewBuiltin("up", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return starlark.Bool(calls.Add(1) >= 3), nil // the service comes up on the third try
	})
	var stable atomic.Int32
	steady := starlark.NewBuiltin("steady", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		stable.Add(1)
		return starlark.True, nil
	})
	g := load(t, LoadOptions{Extra: starlark.StringDict{"up": up, "steady": steady}}, map[string]string{"guard.star": `
check("service", up)
check("depends", steady, after = ["service"])
check("other", steady)
`})
	var rounds []string
	rep := g.RunUntil(context.Background(), RunOptions{}, Wait{For: 5 * time.Second, Interval: 10 * time.Millisecond,
		OnRound: func(round int, failing []string, left time.Duration) {
			rounds = append(rounds, strings.Join(failing, ","))
		}})
	if rep.Rounds != 3 || result.Judge(rep, false) != 0 {
		t.Fatalf("rounds = %d, exit = %d, want 3 rounds and exit 0: %+v", rep.Rounds, result.Judge(rep, false), rep.Checks)
	}
	if got := strings.Join(rounds, "|"); got != "service,depends|service,depends" {
		t.Errorf("failing per round = %q", got)
	}
	// "other" ran in each of the 3 rounds; "depends" only once its
	// dependency passed, in the last.
	if n := stable.Load(); n != 4 {
		t.Errorf("steady checks ran %d times, want 4", n)
	}
	for _, c := range rep.Checks {
		if c.Status != result.OK {
			t.Errorf("%s = %s, want ok", c.Name, c.Status)
		}
	}
}

func TestRunUntilGivesUp(t *testing.T) {
	g := load(t, LoadOptions{}, map[string]string{"guard.star": `check("down", lambda: fail("refused"))`})
	start := time.Now()
	rep := g.RunUntil(context.Background(), RunOptions{}, Wait{For: 200 * time.Millisecond, Interval: 50 * time.Millisecond})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %s for a 200ms wait", took)
	}
	if result.Judge(rep, false) != result.ExitFail || rep.Rounds < 2 {
		t.Errorf("exit = %d after %d rounds, want 2 after several", result.Judge(rep, false), rep.Rounds)
	}
}

func TestRunUntilInterruptedKeepsTheWholeDuration(t *testing.T) {
	g := load(t, LoadOptions{}, map[string]string{"guard.star": `check("down", lambda: fail("refused"))`})
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(300*time.Millisecond, func() { cancel(errors.New("interrupted by SIGTERM")) })
	rep := g.RunUntil(ctx, RunOptions{}, Wait{For: time.Minute, Interval: 50 * time.Millisecond})
	if rep.Incomplete == "" {
		t.Fatalf("report not marked incomplete")
	}
	if rep.Duration < 250*time.Millisecond {
		t.Errorf("duration = %s, want the whole wait (about 300ms), not the first round's", rep.Duration)
	}
}

// TestRunUntilReportsTheFinalState: a check that warned in the first round
// and passed in the last is reported OK — the report is the end state.
func TestRunUntilReportsTheFinalState(t *testing.T) {
	var calls atomic.Int32
	flaky := starlark.NewBuiltin("flaky", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		n := calls.Add(1)
		if n == 1 {
			return &builtins.Result{Status: result.Warn, Message: "cache down"}, nil
		}
		return starlark.True, nil
	})
	var tries atomic.Int32
	up := starlark.NewBuiltin("up", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return starlark.Bool(tries.Add(1) >= 2), nil
	})
	g := load(t, LoadOptions{Extra: starlark.StringDict{"flaky": flaky, "up": up}}, map[string]string{"guard.star": `
check("cache", flaky)
check("api", up)
`})
	rep := g.RunUntil(context.Background(), RunOptions{}, Wait{For: 5 * time.Second, Interval: 10 * time.Millisecond})
	if got := byName(rep)["cache"]; got.Status != result.OK {
		t.Errorf("cache = %s %q after %d rounds, want the last round's ok", got.Status, got.Message, rep.Rounds)
	}
	if code := result.Judge(rep, false); code != result.ExitOK {
		t.Errorf("exit %d, want 0", code)
	}
}

// TestExecuteTimeoutBoundsEveryRound: --timeout is the whole run's deadline,
// --wait rounds included; when it comes first the run ends there and the
// checks it cut off FAIL.
func TestExecuteTimeoutBoundsEveryRound(t *testing.T) {
	path := writeScript(t, map[string]string{"guard.star": `check("down", lambda: fail("refused"))`})
	start := time.Now()
	rep, err := Execute(context.Background(), Script{Path: path}, Options{
		Run:  RunOptions{Timeout: 300 * time.Millisecond},
		Wait: Wait{For: 10 * time.Second, Interval: 50 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %s with --timeout 300ms and --wait 10s", took)
	}
	if rep.ExitCode != result.ExitFail || rep.Incomplete != "" || rep.Rounds < 2 {
		t.Errorf("exit %d, incomplete %q, %d rounds; want 2, complete, several rounds", rep.ExitCode, rep.Incomplete, rep.Rounds)
	}
}
