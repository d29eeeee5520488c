package builtins

// This file holds the thread-local state of builtins: the check's context
// (deadline and cancellation; its absence is the load phase, see
// registry.go), the logger, and the state shared by the checks of one run.

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
)

// localsKey holds a thread's Locals. One thread-local for everything
// builtins need keeps a check's thread cheap to make: a run makes one per
// check, and Starlark keeps thread-locals in a map.
const localsKey = "infra-guard.builtins"

// Locals is what builtins find on a thread. The runtime fills one per
// check with SetLocals; the Set* functions fill the fields one by one
// (the load phase, tests).
type Locals struct {
	// Context returns the check's context; nil means the load phase. The
	// runtime makes the context on the first call, since most checks that
	// call no builtin never need a deadline timer of their own.
	Context func() context.Context
	Run     *Run
	Deps    *Deps
	Logger  *slog.Logger
	Dir     string
	Config  *Config
	Calls   *Calls
}

// SetLocals puts l on thread, in place of anything set before.
func SetLocals(thread *starlark.Thread, l *Locals) { thread.SetLocal(localsKey, l) }

func localsOf(thread *starlark.Thread) *Locals {
	l, _ := thread.Local(localsKey).(*Locals)
	return l
}

// mutableLocals returns the thread's Locals, adding empty ones if it has
// none yet.
func mutableLocals(thread *starlark.Thread) *Locals {
	l := localsOf(thread)
	if l == nil {
		l = &Locals{}
		SetLocals(thread, l)
	}
	return l
}

// nowOf is the thread's clock: the one the time module's SetNow installs, so
// that time.now() in a script and file().age_seconds or days_left in a
// builtin agree, and tests can fix it. Elapsed times use the real clock.
func nowOf(thread *starlark.Thread) time.Time {
	if f := starlarktime.Now(thread); f != nil {
		if t, err := f(); err == nil {
			return t
		}
	}
	return time.Now()
}

// SetDir gives builtins the directory that relative paths (file(),
// ca_file) resolve from: the script's, as load() resolves. Without one they
// resolve from the working directory.
func SetDir(thread *starlark.Thread, dir string) { mutableLocals(thread).Dir = dir }

// resolvePath makes p relative to the thread's directory, when it is
// relative and there is one.
func resolvePath(thread *starlark.Thread, p string) string {
	if l := localsOf(thread); l != nil && l.Dir != "" && p != "" && !filepath.IsAbs(p) {
		return filepath.Join(l.Dir, p)
	}
	return p
}

// SetLogger gives builtins a logger for what happens inside them (an HTTP
// retry, say). Its output goes through the runtime's scrubber like all logs.
func SetLogger(thread *starlark.Thread, logger *slog.Logger) {
	mutableLocals(thread).Logger = logger
}

// loggerOf returns the thread's logger, or one that discards.
func loggerOf(thread *starlark.Thread) *slog.Logger {
	if l := localsOf(thread); l != nil && l.Logger != nil {
		return l.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// SetContext marks thread as running a check under ctx. Threads without a
// context are in the load phase, where builtins that touch the system or the
// network refuse to run.
func SetContext(thread *starlark.Thread, ctx context.Context) {
	mutableLocals(thread).Context = func() context.Context { return ctx }
}

// Context returns the check's context, or nil during the load phase.
func Context(thread *starlark.Thread) context.Context {
	if l := localsOf(thread); l != nil && l.Context != nil {
		return l.Context()
	}
	return nil
}

// withContext runs fn in its own goroutine and returns when it finishes or
// ctx ends, whichever is first. It is for system calls that cannot be
// interrupted (statfs on a dead NFS mount): the check's deadline still holds,
// and the stuck goroutine is left to finish on its own.
func withContext[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			// This goroutine is outside the check's own recover.
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("internal error (recovered panic): %v", p)}
			}
		}()
		v, err := fn()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, context.Cause(ctx)
	}
}

// Run is the state the checks of one run share: snapshots such as the
// process table scan, and what a run asks of its Deps once (an HTTP
// transport per TLS setting). What outlives a run, the HTTP connections,
// belongs to the Deps. The runtime makes one Run per run, puts it on every
// check's thread and closes it when the run ends.
type Run struct {
	mu      sync.Mutex
	shared  map[string]*sharedValue
	closers []func()
}

// sharedValue is created once, outside the Run's lock, so a slow creation
// (a CA file on a hung mount) holds up only the checks that need it.
type sharedValue struct {
	once sync.Once
	v    any
}

// NewRun returns an empty Run.
func NewRun() *Run { return &Run{shared: map[string]*sharedValue{}} }

// SetRun puts run on a check's thread.
func SetRun(thread *starlark.Thread, run *Run) { mutableLocals(thread).Run = run }

// RunOf returns the thread's Run, or nil during the load phase.
func RunOf(thread *starlark.Thread) *Run {
	if l := localsOf(thread); l != nil {
		return l.Run
	}
	return nil
}

// Shared returns the run's value for key, creating it on first use. A
// non-nil close func runs when the run ends.
func (r *Run) Shared(key string, create func() (v any, close func())) any {
	r.mu.Lock()
	sv, ok := r.shared[key]
	if !ok {
		sv = &sharedValue{}
		r.shared[key] = sv
	}
	r.mu.Unlock()
	sv.once.Do(func() {
		var closeFn func()
		sv.v, closeFn = create()
		if closeFn != nil {
			r.mu.Lock()
			r.closers = append(r.closers, closeFn)
			r.mu.Unlock()
		}
	})
	return sv.v
}

// Close releases what the run's checks created, last created first.
func (r *Run) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
	r.shared = map[string]*sharedValue{}
}
