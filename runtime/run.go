package runtime

// This file holds the run phase: the scheduler that runs every check in its
// own thread, concurrently, under deadlines and step budgets, and turns what
// each returned (or how it failed) into a CheckResult.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	order := afterOrder(g.Checks) // nil when no check runs after another
	ready := make(chan int, n)    // every check passes through once
	var (
		mu       sync.Mutex // order's waiting counts
		finished = make([]atomic.Bool, n)
		wg       sync.WaitGroup
	)
	wg.Add(n)
	var (
		workers  atomic.Int64
		starting atomic.Bool
		worker   func(spawned bool)
		more     func()
	)
	// finish records check i's result once — from its worker, or from the
	// grace timer when a stuck builtin keeps that worker — and readies the
	// checks that were waiting only for it.
	finish := func(i int, r result.CheckResult) {
		if !finished[i].CompareAndSwap(false, true) {
			return
		}
		results[i] = r
		if order != nil {
			var now []int
			mu.Lock()
			for _, d := range order.dependents[i] {
				if order.waiting[d]--; order.waiting[d] == 0 {
					now = append(now, d)
				}
			}
			mu.Unlock()
			for _, d := range now {
				ready <- d
			}
		}
		more()
		wg.Done()
	}
	// Workers start one at a time, as checks wait for them: each worker
	// about to run a check first calls more, which starts another when
	// checks are still waiting and no other worker is on its way. Checks
	// that block (a slow server) so fan out to Concurrency workers within
	// a few microseconds each, while checks that return at once are run by
	// the few workers there are, not one goroutine (and stack) apiece.
	more = func() {
		// It runs twice per check: loads first, so that the usual answer
		// (no) writes no memory the other workers read.
		if len(ready) == 0 || workers.Load() >= int64(opts.Concurrency) || starting.Load() || !starting.CompareAndSwap(false, true) {
			return
		}
		if workers.Add(1) > int64(opts.Concurrency) {
			workers.Add(-1)
			starting.Store(false)
			return
		}
		go worker(true)
	}
	replace := func() { go worker(false) }
	worker = func(spawned bool) {
		if spawned {
			starting.Store(false)
		}
		var cr *checkRun // handed from one check to the next, when it can be
		for i := range ready {
			more()
			c := g.Checks[i]
			if order != nil {
				if dep, st, ok := failedDependency(c, results, order.after[i]); ok {
					r := c.result()
					r.Status = result.Skip
					r.Message = fmt.Sprintf("skipped: check %q, which it runs after, ended %s", dep, strings.ToUpper(st.String()))
					finish(i, r)
					continue
				}
			}
			if msg := g.stuck.still(c.Name); msg != "" {
				// Its deadline passed long ago and it has not answered yet.
				r := c.result()
				r.Status, r.Message = result.Fail, msg
				finish(i, r)
				continue
			}
			if runCtx.Err() != nil {
				finish(i, g.notRun(c.result(), runCtx))
				continue
			}
			// A check abandoned in a stuck builtin keeps this worker; a new
			// one takes its place, so the others still run Concurrency at
			// a time.
			if cr == nil {
				cr = g.newCheckRun(runCtx, &opts, shared, run, finish, replace)
			}
			if abandoned := cr.runCheck(c, i); abandoned {
				return
			}
			if !cr.reusable() {
				cr = nil
			}
		}
	}
	for i, c := range g.Checks {
		if len(c.After) == 0 {
			ready <- i
		}
	}
	more()
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

// order is the after= graph of a run's checks, by index.
type order struct {
	after      [][]int // the checks each runs after, as in its after=
	dependents [][]int // the checks that run after each
	waiting    []int   // how many of after have not finished; under Run's mu
}

// afterOrder returns the after= graph of checks, or nil when no check
// runs after another, as in most guards, which then need none of it.
func afterOrder(checks []*Check) *order {
	if !slices.ContainsFunc(checks, func(c *Check) bool { return len(c.After) > 0 }) {
		return nil
	}
	n := len(checks)
	index := make(map[string]int, n)
	for i, c := range checks {
		index[c.Name] = i
	}
	o := &order{after: make([][]int, n), dependents: make([][]int, n), waiting: make([]int, n)}
	for i, c := range checks {
		for _, name := range c.After {
			dep := index[name]
			o.after[i] = append(o.after[i], dep)
			o.dependents[dep] = append(o.dependents[dep], i)
			o.waiting[i]++
		}
	}
	return o
}

// failedDependency names the first check c runs after (after holds their
// indices) that did not pass (OK and WARN pass), with how it ended.
func failedDependency(c *Check, results []result.CheckResult, after []int) (string, result.Status, bool) {
	for k, dep := range after {
		if st := results[dep].Status; st != result.OK && st != result.Warn {
			return c.After[k], st, true
		}
	}
	return "", 0, false
}
