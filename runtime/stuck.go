package runtime

// This file remembers checks abandoned inside a builtin that ignores its
// context: their goroutines run on, so the same check must not be started
// again (each --wait round or serve interval would add one more) until
// the stuck call returns.

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"
)

// stuckChecks maps a check's name to where its abandoned instance is stuck.
// A Guard and the guards Select makes from it share one.
type stuckChecks struct {
	mu     sync.Mutex
	runs   int // runs started, for "since round N"
	byName map[string]stuckCheck
	// count is len(byName), so that still, asked before every check,
	// need not take the lock while no check is stuck, as almost always.
	count atomic.Int64
}

// newRun counts a run and returns its number, from 1.
func (s *stuckChecks) newRun() int {
	if s == nil { // a Guard not made by Load
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs++
	return s.runs
}

type stuckCheck struct {
	builtin string    // the builtin it is stuck in, or "a builtin"
	run     int       // the run (--wait round) that started it, from 1
	since   time.Time // when it was abandoned
}

func (s *stuckChecks) add(name string, c stuckCheck) {
	if s == nil { // a Guard not made by Load
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byName == nil {
		s.byName = map[string]stuckCheck{}
	}
	s.byName[name] = c
	s.count.Store(int64(len(s.byName)))
}

func (s *stuckChecks) remove(name string) {
	if s == nil { // a Guard not made by Load
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byName, name)
	s.count.Store(int64(len(s.byName)))
}

// still says why a check must not start again, or "" when it may.
func (s *stuckChecks) still(name string) string {
	if s == nil || s.count.Load() == 0 { // a Guard not made by Load, or none stuck
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byName[name]
	if !ok {
		return ""
	}
	return fmt.Sprintf("not started: its previous run is still stuck in %s since round %d (%s ago); a builtin is not watching its context",
		c.builtin, c.run, time.Since(c.since).Round(time.Millisecond))
}

// tracked wraps each builtin of d so that, on a check's thread, it
// records its name while it runs, so the grace timer can name where the
// check is stuck without reading the thread's call stack, which the
// check's goroutine owns. Those not in registry (str(), sorted(), …) can
// run long without a Starlark step, so they also arm the check's deadline
// timer (checkrun.go); a run-phase builtin of the registry arms it by
// asking for the check's context.
func tracked(d, registry starlark.StringDict) {
	for name, v := range d {
		b, ok := v.(*starlark.Builtin)
		if !ok {
			continue
		}
		_, arm := registry[name]
		arm = !arm
		bname := b.Name()
		d[name] = starlark.NewBuiltin(bname, func(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if cr, ok := thread.Local(checkRunKey).(*checkRun); ok {
				if arm {
					cr.context()
				}
				prev := cr.in.Swap(&bname)
				defer cr.in.Store(prev)
			}
			return b.CallInternal(thread, args, kwargs)
		})
	}
}

// inBuiltin names the builtin recorded in p, for a message.
func inBuiltin(p *atomic.Pointer[string]) string {
	if name := p.Load(); name != nil {
		return *name + "()"
	}
	return "a builtin"
}
