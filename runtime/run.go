package runtime

// This file holds the run phase: the scheduler that runs every check in its
// own thread, concurrently, under deadlines and step budgets, and turns what
// each returned (or how it failed) into a CheckResult.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/result"
)

// errRunDeadline is the cause of the run context's expiry at --timeout.
var errRunDeadline = errors.New("run deadline reached")

// stuckGrace is how long a check that ignores its cancelled context may keep
// running before the run reports it and moves on. Starlark code stops at its
// next step; only a builtin that does not watch its context can be stuck.
const stuckGrace = 500 * time.Millisecond

// Run runs every check and returns the report. When ctx is cancelled (a
// signal), running checks are cancelled, checks not yet started are marked
// not run, and the report is marked incomplete with the cause.
func (g *Guard) Run(ctx context.Context, opts RunOptions) *result.Report {
	opts = opts.withDefaults(g)
	start := time.Now()
	runCtx, cancel := withDeadline(ctx, opts.Timeout)
	defer cancel()
	runCtx, cancelRun := context.WithCancelCause(runCtx)
	defer cancelRun(nil)
	stopWatch := watchHeap(runCtx, opts.MaxHeap, 20*time.Millisecond, cancelRun, "a check is allocating without bound")
	defer stopWatch()
	run := g.stuck.newRun()

	shared := builtins.NewRun()
	defer shared.Close()

	// A check is ready once every check it runs after has finished, and at
	// most Concurrency workers run the ready ones: a low --concurrency
	// means few goroutines, not one per check waiting its turn.
	n := len(g.Checks)
	results := make([]result.CheckResult, n)
	index := make(map[string]int, n)
	for i, c := range g.Checks {
		index[c.Name] = i
	}
	waiting := make([]int, n) // checks it runs after that have not finished
	dependents := make([][]int, n)
	for i, c := range g.Checks {
		for _, dep := range c.After {
			waiting[i]++
			dependents[index[dep]] = append(dependents[index[dep]], i)
		}
	}
	ready := make(chan int, n) // every check passes through once
	var (
		mu       sync.Mutex
		finished = make([]bool, n)
		wg       sync.WaitGroup
	)
	wg.Add(n)
	// finish records check i's result once — from its worker, or from the
	// grace timer when a stuck builtin keeps that worker — and readies the
	// checks that were waiting only for it.
	finish := func(i int, r result.CheckResult) {
		mu.Lock()
		if finished[i] {
			mu.Unlock()
			return
		}
		finished[i] = true
		results[i] = r
		var now []int
		for _, d := range dependents[i] {
			if waiting[d]--; waiting[d] == 0 {
				now = append(now, d)
			}
		}
		mu.Unlock()
		for _, d := range now {
			ready <- d
		}
		wg.Done()
	}
	var worker func()
	worker = func() {
		for i := range ready {
			c := g.Checks[i]
			r := result.CheckResult{Name: c.Name, Tags: c.Tags, File: c.File, Line: c.Line}
			if dep, st, ok := failedDependency(c, results, index); ok {
				r.Status = result.Skip
				r.Message = fmt.Sprintf("skipped: check %q, which it runs after, ended %s", dep, strings.ToUpper(st.String()))
				finish(i, r)
				continue
			}
			if msg := g.stuck.still(c.Name, time.Now()); msg != "" {
				// Its deadline passed long ago and it has not answered yet.
				r.Status, r.Message = result.Fail, msg
				finish(i, r)
				continue
			}
			if runCtx.Err() != nil {
				finish(i, g.notRun(r, runCtx))
				continue
			}
			// A check abandoned in a stuck builtin keeps this worker; a new
			// one takes its place, so the others still run Concurrency at
			// a time.
			if abandoned := g.runCheck(runCtx, opts, shared, run, c, r, func(r result.CheckResult) { finish(i, r) }, func() { go worker() }); abandoned {
				return
			}
		}
	}
	for range min(opts.Concurrency, n) {
		go worker()
	}
	for i, c := range g.Checks {
		if len(c.After) == 0 {
			ready <- i
		}
	}
	wg.Wait()
	close(ready)

	rep := &result.Report{Script: g.Script, Started: start, Checks: results, Duration: time.Since(start)}
	if interrupted(ctx) {
		rep.Incomplete = context.Cause(ctx).Error()
	}
	return rep
}

// withDeadline bounds ctx by the run's --timeout, when there is one; its
// expiry is errRunDeadline, which fails checks rather than interrupting.
func withDeadline(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, timeout, fmt.Errorf("%w (--timeout %s)", errRunDeadline, timeout))
}

// interrupted reports whether ctx ended for a reason other than the run's
// deadline (a signal, the heap watchdog): the report is then incomplete.
func interrupted(ctx context.Context) bool {
	return ctx.Err() != nil && !errors.Is(context.Cause(ctx), errRunDeadline)
}

// notRun records a check that never started because the run ended first.
func (g *Guard) notRun(r result.CheckResult, runCtx context.Context) result.CheckResult {
	cause := context.Cause(runCtx)
	r.Status = result.Unknown
	if errors.Is(cause, errRunDeadline) {
		r.Status = result.Fail
	}
	r.Message = "not run: " + cause.Error()
	return r
}

// runCheck runs one check in its own thread, on the calling goroutine, and
// hands the result to finish. When a builtin that ignores its context
// still holds the check a grace after its deadline, the timeout is
// reported from a timer (after onAbandon, when set, is called), and
// runCheck returns true whenever that builtin lets go.
func (g *Guard) runCheck(runCtx context.Context, opts RunOptions, shared *builtins.Run, run int, c *Check, r result.CheckResult, finish func(result.CheckResult), onAbandon func()) bool {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = opts.CheckTimeout
	}
	ctx, cancel := context.WithTimeoutCause(runCtx, timeout, fmt.Errorf("timed out after %s", timeout))
	defer cancel()
	ctx = context.WithValue(ctx, checkNameKey{}, c.Name)

	thread := &starlark.Thread{Name: c.Name, Print: printer(opts.Logger)}
	thread.SetMaxExecutionSteps(opts.MaxSteps)
	var tooManySteps bool
	thread.OnMaxSteps = func(t *starlark.Thread) {
		tooManySteps = true
		t.Cancel("too many steps")
	}
	builtins.SetContext(thread, ctx)
	builtins.SetDeps(thread, opts.Deps)
	builtins.SetRun(thread, shared)
	builtins.SetLogger(thread, opts.Logger)
	builtins.SetDir(thread, g.dir)
	calls := builtins.TrackCalls(thread)
	builtins.SetConfig(thread, builtins.NewRunConfig(g.load.Env))
	in := new(atomic.Pointer[string])
	thread.SetLocal(inBuiltinKey, in)
	start := time.Now()
	// The grace timer reports from this copy: r itself is written below
	// when the stuck builtin finally returns, with nothing ordering the two.
	base := r

	// On expiry: cancel the thread, and if a builtin that ignores its
	// context still holds it after stuckGrace, report the timeout anyway
	// and remember the check as stuck, so it is not started again while
	// this instance runs on. No extra goroutine per check waits for this;
	// timers do. returned, under mu, orders the check's own end against
	// the timers: once the call has returned, no timer is armed and none
	// that fires says anything, however close to the deadline it ended.
	var (
		mu        sync.Mutex
		returned  bool
		abandoned bool
		grace     *time.Timer
	)
	stop := context.AfterFunc(ctx, func() {
		thread.Cancel(context.Cause(ctx).Error())
		mu.Lock()
		defer mu.Unlock()
		if returned {
			return
		}
		grace = time.AfterFunc(stuckGrace, func() {
			mu.Lock()
			if returned {
				mu.Unlock()
				return
			}
			abandoned = true
			where := calls.Current() // a run-phase builtin, with its argument
			if where == "" {
				where = inBuiltin(in)
			}
			g.stuck.add(c.Name, stuckCheck{builtin: where, run: run, since: time.Now()})
			mu.Unlock()
			opts.Logger.Warn("check did not stop when cancelled; a builtin is not watching its context",
				"check", c.Name, "builtin", where, "grace", stuckGrace)
			stuck := base
			stuck.Duration = time.Since(start)
			stuck.Status, stuck.Message = g.cancelled(runCtx, ctx, calls)
			stuck.Message += fmt.Sprintf(" (stuck in %s, abandoned after a grace of %s)", where, stuckGrace)
			if onAbandon != nil {
				onAbandon()
			}
			finish(stuck)
		})
	})

	var o struct {
		v        starlark.Value
		err      error
		panicked any
	}
	func() {
		defer func() { o.panicked = recover() }()
		o.v, o.err = starlark.Call(thread, c.Fn, c.Args, c.Kwargs)
	}()
	r.Duration = time.Since(start)
	stop()
	mu.Lock()
	returned = true
	if grace != nil {
		grace.Stop()
	}
	wasAbandoned := abandoned
	mu.Unlock()
	if wasAbandoned {
		// Reported already; it may start again from the next run on.
		g.stuck.remove(c.Name)
		return true
	}
	// One rule at the deadline: a check whose deadline passed before its
	// call returned timed out, whether or not the cancellation reached
	// the thread before its last step. Without it, identical checks that
	// end at the deadline came out OK or FAIL at random.
	// The clock decides, not the timer: under load a timer fires late.
	if dl, ok := ctx.Deadline(); ok && o.panicked == nil && o.err == nil && !start.Add(r.Duration).Before(dl) && !interrupted(runCtx) {
		o.err = pastDeadline(ctx, runCtx, timeout)
	}

	switch {
	case o.panicked != nil:
		r.Status = result.Unknown
		r.Message = fmt.Sprintf("internal error (recovered panic): %v", o.panicked)
		opts.Logger.Error("check panicked; this is a bug in infra-guard or a script that exhausted memory",
			"check", c.Name, "location", fmt.Sprintf("%s:%d", c.File, c.Line), "panic", fmt.Sprint(o.panicked))
	case o.err == nil:
		res := builtins.ToResult(o.v)
		r.Status, r.Message, r.Metrics = res.Status, res.Message, res.Metrics
	case errors.As(o.err, new(*pastDeadlineError)):
		r.Status, r.Message = result.Fail, o.err.Error()
	case ctx.Err() != nil:
		r.Status, r.Message = g.cancelled(runCtx, ctx, calls)
	case tooManySteps:
		r.Status = result.Unknown
		r.Message = fmt.Sprintf("%s: exceeded the step budget of %d steps (an endless loop? raise it with --max-steps)", errorPos(o.err), opts.MaxSteps)
	default:
		r.Status = result.Unknown
		r.Message = describe(o.err)
		var evalErr *starlark.EvalError
		if errors.As(o.err, &evalErr) {
			r.Backtrace = foldBacktrace(evalErr.Backtrace())
		}
		if !opts.QuietErrors {
			opts.Logger.Error("check raised an error", "check", c.Name, "location", fmt.Sprintf("%s:%d", c.File, c.Line),
				"error", r.Message, "backtrace", r.Backtrace)
		}
	}
	finish(r)
	return false
}

// failedDependency names the first check c runs after that did not pass
// (OK and WARN pass), with how it ended.
func failedDependency(c *Check, results []result.CheckResult, index map[string]int) (string, result.Status, bool) {
	for _, dep := range c.After {
		if st := results[index[dep]].Status; st != result.OK && st != result.Warn {
			return dep, st, true
		}
	}
	return "", 0, false
}

// pastDeadline is the timeout of a check that returned a value at or
// after its deadline (ctx's: its own timeout's or the run's, whichever
// came first), worded like one the cancellation reached in time.
func pastDeadline(ctx, runCtx context.Context, timeout time.Duration) error {
	if ctx.Err() != nil {
		return &pastDeadlineError{context.Cause(ctx).Error()}
	}
	if dl, ok := runCtx.Deadline(); ok {
		if own, _ := ctx.Deadline(); !own.Before(dl) {
			return &pastDeadlineError{errRunDeadline.Error()}
		}
	}
	return &pastDeadlineError{fmt.Sprintf("timed out after %s", timeout)}
}

type pastDeadlineError struct{ msg string }

func (e *pastDeadlineError) Error() string { return e.msg }

// cancelled judges a check whose context ended: a deadline (its own or the
// run's) is a FAIL; an interruption, by a signal or the heap watchdog, says
// nothing about health and is UNKNOWN.
func (g *Guard) cancelled(runCtx, ctx context.Context, calls *builtins.Calls) (result.Status, string) {
	msg := context.Cause(ctx).Error()
	if in := calls.Current(); in != "" {
		// What the check was waiting for, when it was in a builtin.
		msg += " in " + in
	}
	if runCtx.Err() != nil && !errors.Is(context.Cause(runCtx), errRunDeadline) {
		return result.Unknown, "cancelled: " + msg
	}
	return result.Fail, msg
}
