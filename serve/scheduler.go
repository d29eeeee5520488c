package serve

// This file holds the scheduler: every check on its own interval, at a
// stable per-check offset within it, never overlapping itself, under its
// deadline; after= dependencies get their latest result. Each check has
// its own goroutine, so a slow or stuck one delays no other.

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

// startupSpread bounds how long after a (re)load a check first runs, so
// /readyz does not wait a whole 30 s interval; later runs follow the
// check's offset within its full interval.
const startupSpread = 5 * time.Second

// scheduler runs one loaded guard's checks until stopped.
type scheduler struct {
	srv      *Server
	guard    *runtime.Guard
	opts     runtime.RunOptions
	interval time.Duration // for checks without their own
	states   map[string]*checkState
	sem      chan struct{}
	heap     *heapWatch
	cancel   context.CancelCauseFunc
	wg       sync.WaitGroup
}

// offset is a check's stable place within its interval: the same on every
// start and every node, and spread evenly over the interval by the hash.
func offset(name string, d time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(name))
	return time.Duration(h.Sum64() % uint64(d))
}

func (s *scheduler) intervalOf(c *runtime.Check) time.Duration {
	if c.Interval > 0 {
		return c.Interval
	}
	return s.interval
}

func (s *scheduler) start(ctx context.Context) {
	ctx, s.cancel = context.WithCancelCause(ctx)
	n := s.opts.Concurrency
	if n <= 0 {
		n = runtime.DefaultConcurrency()
	}
	s.sem = make(chan struct{}, n)
	t0 := time.Now()
	s.heap = &heapWatch{s: s, limit: s.opts.MaxHeap}
	for _, c := range s.guard.Checks {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.loop(ctx, t0, c)
		}()
	}
}

// stop cancels running checks and waits up to wait for their goroutines;
// it reports whether all of them ended (a builtin that ignores its
// context can hold one longer).
func (s *scheduler) stop(cause error, wait time.Duration) bool {
	s.cancel(cause)
	s.heap.stop()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(wait):
		return false
	}
}

// loop runs one check at t0+offset+k*interval, for every k after its
// first run, which comes within startupSpread (or its interval, if
// shorter). A run that overruns its slot skips the slots it missed: the
// check never runs twice at once.
func (s *scheduler) loop(ctx context.Context, t0 time.Time, c *runtime.Check) {
	iv := s.intervalOf(c)
	off := offset(c.Name, iv)
	st := s.states[c.Name]
	// A check that runs after others waits for their first result, so its
	// own first one is not a SKIP for want of theirs.
	for _, dep := range c.After {
		select {
		case <-s.states[dep].first:
		case <-ctx.Done():
			return
		}
	}
	next := t0.Add(offset(c.Name, min(iv, startupSpread)))
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
		case <-ctx.Done():
			return
		}
		start := time.Now()
		s.runOnce(ctx, c, st)
		// The next slot of the schedule that is at least half an interval
		// after this start and not in the past.
		now := time.Now()
		earliest := start.Add(iv / 2)
		if now.After(earliest) {
			earliest = now
		}
		k := earliest.Sub(t0.Add(off))/iv + 1
		next = t0.Add(off + k*iv)
		timer.Reset(time.Until(next))
	}
}

// runOnce runs the check, waiting for a --concurrency slot, and records
// its result when it is known (a stuck builtin's timeout included).
func (s *scheduler) runOnce(ctx context.Context, c *runtime.Check, st *checkState) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-s.sem }()
	after := make(map[string]result.CheckResult, len(c.After))
	s.srv.mu.Lock()
	for _, dep := range c.After {
		if e, ok := s.states[dep].latest(); ok {
			after[dep] = e.CheckResult
		}
	}
	// Its own context, so the heap watchdog can cancel this run alone.
	runCtx, cancelRun := context.WithCancelCause(ctx)
	defer cancelRun(nil)
	st.running = true
	st.cancelRun = cancelRun
	s.srv.mu.Unlock()
	if s.opts.MaxHeap > 0 {
		s.heap.begin()
		defer s.heap.end()
	}
	started := time.Now()
	_ = s.guard.RunCheck(runCtx, s.opts, c.Name, after, func(r result.CheckResult) {
		if ctx.Err() != nil {
			// Shutdown or a reload cancelled it: that says nothing about
			// the check, and the last real result stays.
			return
		}
		s.srv.record(st, entry{CheckResult: r, Started: started})
	})
	s.srv.mu.Lock()
	st.running = false
	st.cancelRun = nil
	s.srv.mu.Unlock()
}
