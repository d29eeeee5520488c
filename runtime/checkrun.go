package runtime

// This file runs one check: its thread, its deadline and step budget, and
// what it returned (or how it failed) as a CheckResult.
//
// A deadline costs nothing until something can ignore it. Starlark code
// steps, so a step hook compares the clock with the deadline every
// stepChunk steps: a check that calls no builtin needs no timer. The first
// builtin call that can block or run long (a run-phase builtin asking for
// the check's context, or one of the universal builtins tracked in
// stuck.go) makes the check's context, whose timer cancels the thread at
// the deadline and, when a builtin ignores that, reports the check stuck
// after stuckGrace. A run does this for every check, so what is not
// needed is not made, and what every check needs is made once per worker.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/result"
)

// stepChunk is how many Starlark steps run between two looks at the
// clock: a millisecond or so of pure Starlark.
const stepChunk = 1 << 16

// checkRunKey holds a check's *checkRun on its thread.
const checkRunKey = "infra-guard.check-run"

// checkRun runs the checks of one worker of a run, one after another.
// Its thread (with the thread-local map and call frame Starlark keeps in
// it), the builtins' locals and the closure they call for the context
// are made once and handed from one check to the next; a check that calls
// no builtin then costs no allocation here. All that belongs to one check
// is in checkState, which is replaced whole before the next one starts,
// and the thread's name, step count, step limit and cancellation are
// reset, so nothing of one check reaches the next. A check that made its
// context (a timer may still cancel its thread), panicked or was
// abandoned does not hand its thread on: the worker makes a new checkRun.
type checkRun struct {
	// The same for every check the worker runs in this run.
	g         *Guard
	opts      *RunOptions
	runCtx    context.Context
	run       int // the run's number, for the stuck registry
	finish    func(index int, r result.CheckResult)
	onAbandon func()
	// base is when the checkRun was made. A check's start is base plus
	// time.Since(base), which reads only the monotonic clock, where
	// time.Now reads the wall clock too; every use of start compares
	// monotonic times.
	base time.Time

	thread starlark.Thread
	locals builtins.Locals

	checkState
}

// checkState is what one check's run adds to its checkRun.
type checkState struct {
	c     *Check
	index int // the check's index, for finish

	start   time.Time
	timeout time.Duration
	own     time.Time // start + timeout: the check's own deadline

	calls        builtins.Calls
	in           atomic.Pointer[string] // the tracked builtin in progress (stuck.go)
	tooManySteps bool
	spent        bool // made its context or panicked: its thread is not reused

	mu        sync.Mutex
	ctx       context.Context // made on first use, by context
	cancel    context.CancelFunc
	stop      func() bool
	returned  bool
	abandoned bool
	grace     *time.Timer
}

// newCheckRun makes the thread and locals that a worker's checks share.
// When a builtin that ignores its context still holds a check a grace
// after its deadline, the timeout is reported from a timer (after
// onAbandon, when set, is called), and runCheck returns true whenever
// that builtin lets go.
func (g *Guard) newCheckRun(runCtx context.Context, opts *RunOptions, shared *builtins.Run, run int, finish func(int, result.CheckResult), onAbandon func()) *checkRun {
	cr := &checkRun{g: g, opts: opts, runCtx: runCtx, run: run, finish: finish, onAbandon: onAbandon, base: time.Now()}
	thread := &cr.thread
	thread.Print = opts.print
	thread.OnMaxSteps = onSteps
	thread.SetLocal(checkRunKey, cr)
	cr.locals = builtins.Locals{Context: cr.context, Run: shared, Logger: opts.Logger, Dir: g.dir, Config: g.runConfig, Calls: &cr.calls}
	builtins.SetLocals(thread, &cr.locals)
	builtins.SetDeps(thread, opts.Deps)
	return cr
}

// reusable reports whether the worker may run its next check on cr: the
// check that just ended neither made its context nor panicked.
func (cr *checkRun) reusable() bool {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return !cr.spent
}

// runCheck runs check c on cr's thread, on the calling goroutine, and
// hands the result to finish, with index. It returns true when c was
// abandoned in a stuck builtin and its result already reported.
func (cr *checkRun) runCheck(c *Check, index int) (abandoned bool) {
	opts := cr.opts
	cr.checkState = checkState{c: c, index: index, timeout: c.Timeout}
	if cr.timeout == 0 {
		cr.timeout = opts.CheckTimeout
	}
	defer cr.release()
	thread := &cr.thread
	thread.Name = c.Name
	thread.Steps = 0
	thread.SetMaxExecutionSteps(min(stepChunk, opts.MaxSteps))
	thread.Uncancel()

	cr.start = cr.base.Add(time.Since(cr.base))
	cr.own = cr.start.Add(cr.timeout)
	var o struct {
		v        starlark.Value
		err      error
		panicked any
	}
	func() {
		defer func() { o.panicked = recover() }()
		o.v, o.err = starlark.Call(thread, c.Fn, c.Args, c.Kwargs)
	}()
	r := c.result()
	r.Duration = time.Since(cr.start)
	end := cr.start.Add(r.Duration)
	if cr.end() {
		// Reported already; it may start again from the next run on.
		cr.g.stuck.remove(c.Name)
		return true
	}
	// One rule at the deadline: a check whose deadline passed before its
	// call returned timed out, whether or not the cancellation reached
	// the thread before its last step. Without it, identical checks that
	// end at the deadline came out OK or FAIL at random.
	// The clock decides, not the timer: under load a timer fires late.
	if o.panicked == nil && o.err == nil && !end.Before(cr.deadline()) && !interrupted(cr.runCtx) {
		o.err = cr.pastDeadline()
	}

	cause := cr.causeAt(end)
	switch {
	case o.panicked != nil:
		cr.mu.Lock()
		cr.spent = true
		cr.mu.Unlock()
		r.Status = result.Unknown
		r.Message = fmt.Sprintf("internal error (recovered panic): %v", o.panicked)
		opts.Logger.Error("check panicked; this is a bug in infra-guard or a script that exhausted memory",
			"check", c.Name, "location", fmt.Sprintf("%s:%d", c.File, c.Line), "panic", fmt.Sprint(o.panicked))
	case o.err == nil:
		res := builtins.ToResult(o.v)
		r.Status, r.Message, r.Metrics = res.Status, res.Message, res.Metrics
	case errors.As(o.err, new(*pastDeadlineError)):
		r.Status, r.Message = result.Fail, o.err.Error()
	case cause != nil:
		r.Status, r.Message = cr.cancelled(cause)
	case cr.tooManySteps:
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
	cr.finish(index, r)
	return false
}

// onSteps is every check thread's step hook: every stepChunk steps it
// cancels the thread if the check's deadline has passed or the run has
// ended, and at the step budget it stops the check for good.
func onSteps(thread *starlark.Thread) {
	cr := thread.Local(checkRunKey).(*checkRun)
	if thread.Steps >= cr.opts.MaxSteps {
		cr.tooManySteps = true
		thread.Cancel("too many steps")
		return
	}
	if err := cr.causeAt(time.Now()); err != nil {
		thread.Cancel(err.Error())
		return
	}
	thread.SetMaxExecutionSteps(min(thread.Steps+stepChunk, cr.opts.MaxSteps))
}

// context returns the check's context, making it (and the timer that
// watches its deadline) on the first call.
func (cr *checkRun) context() context.Context {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.ctx == nil {
		// Its timers may cancel the thread after the check has returned.
		cr.spent = true
		ctx, cancel := context.WithDeadlineCause(cr.runCtx, cr.own, cr.timeoutErr())
		cr.ctx, cr.cancel = context.WithValue(ctx, checkNameKey{}, cr.c.Name), cancel
		cr.stop = context.AfterFunc(ctx, func() { cr.expired(ctx) })
	}
	return cr.ctx
}

// expired runs when the check's context ends before the check does: it
// cancels the thread, and if a builtin that ignores its context still
// holds it after stuckGrace, reports the timeout anyway and remembers the
// check as stuck, so it is not started again while this instance runs on.
// returned, under mu, orders the check's own end against the timers: once
// the call has returned, no timer is armed and none that fires says
// anything, however close to the deadline it ended.
func (cr *checkRun) expired(ctx context.Context) {
	cr.thread.Cancel(context.Cause(ctx).Error())
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if !cr.returned {
		cr.grace = time.AfterFunc(stuckGrace, func() { cr.stuck(ctx) })
	}
}

// stuck reports a check whose builtin did not let go within stuckGrace of
// its deadline.
func (cr *checkRun) stuck(ctx context.Context) {
	cr.mu.Lock()
	if cr.returned {
		cr.mu.Unlock()
		return
	}
	cr.abandoned = true
	where := cr.calls.Current() // a run-phase builtin, with its argument
	if where == "" {
		where = inBuiltin(&cr.in)
	}
	cr.g.stuck.add(cr.c.Name, stuckCheck{builtin: where, run: cr.run, since: time.Now()})
	cr.mu.Unlock()
	cr.opts.Logger.Warn("check did not stop when cancelled; a builtin is not watching its context",
		"check", cr.c.Name, "builtin", where, "grace", stuckGrace)
	r := cr.c.result()
	r.Duration = time.Since(cr.start)
	r.Status, r.Message = cr.cancelled(context.Cause(ctx))
	r.Message += fmt.Sprintf(" (stuck in %s, abandoned after a grace of %s)", where, stuckGrace)
	if cr.onAbandon != nil {
		cr.onAbandon()
	}
	cr.finish(cr.index, r)
}

// end records that the check's call has returned, disarms the timers and
// reports whether the check was abandoned (reported stuck) meanwhile.
func (cr *checkRun) end() (abandoned bool) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	cr.returned = true
	if cr.stop != nil {
		cr.stop()
	}
	if cr.grace != nil {
		cr.grace.Stop()
	}
	return cr.abandoned
}

// release frees the check's context, if one was made.
func (cr *checkRun) release() {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.cancel != nil {
		cr.cancel()
	}
}

// deadline is when the check must have ended: its own deadline or the
// run's, whichever comes first.
func (cr *checkRun) deadline() time.Time {
	if dl, ok := cr.runCtx.Deadline(); ok && dl.Before(cr.own) {
		return dl
	}
	return cr.own
}

func (cr *checkRun) timeoutErr() error { return fmt.Errorf("timed out after %s", cr.timeout) }

// causeAt is why the check's context had ended at now, or nil if it had
// not. Before a builtin made the context, the run's context and the clock
// stand in for it.
func (cr *checkRun) causeAt(now time.Time) error {
	cr.mu.Lock()
	ctx := cr.ctx
	cr.mu.Unlock()
	switch {
	case ctx != nil:
		if ctx.Err() == nil {
			return nil
		}
		return context.Cause(ctx)
	case cr.runCtx.Err() != nil:
		return context.Cause(cr.runCtx)
	case !now.Before(cr.own):
		return cr.timeoutErr()
	}
	return nil
}

// pastDeadline is the timeout of a check that returned a value at or
// after its deadline (its own or the run's, whichever came first), worded
// like one the cancellation reached in time.
func (cr *checkRun) pastDeadline() error {
	if err := cr.causeAt(time.Now()); err != nil {
		return &pastDeadlineError{err.Error()}
	}
	if dl, ok := cr.runCtx.Deadline(); ok && !cr.own.Before(dl) {
		return &pastDeadlineError{errRunDeadline.Error()}
	}
	return &pastDeadlineError{cr.timeoutErr().Error()}
}

type pastDeadlineError struct{ msg string }

func (e *pastDeadlineError) Error() string { return e.msg }

// cancelled judges a check whose context ended with cause: a deadline (its
// own or the run's) is a FAIL; an interruption, by a signal or the heap
// watchdog, says nothing about health and is UNKNOWN.
func (cr *checkRun) cancelled(cause error) (result.Status, string) {
	msg := cause.Error()
	if in := cr.calls.Current(); in != "" {
		// What the check was waiting for, when it was in a builtin.
		msg += " in " + in
	}
	if cr.runCtx.Err() != nil && !errors.Is(context.Cause(cr.runCtx), errRunDeadline) {
		return result.Unknown, "cancelled: " + msg
	}
	return result.Fail, msg
}
