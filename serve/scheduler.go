package serve

// This file holds the scheduler: every check on its own interval, at a
// stable per-check offset within it, never overlapping itself, under its
// deadline; after= dependencies get their latest result.
//
// What costs CPU in a scheduler of 1,000 checks of a few microseconds
// each is not the checks but waking the process for them: every wake-up
// is a round of epoll, futex and scheduler work in the Go runtime that
// costs several times what a no-op check does. So:
//   - one goroutine keeps the checks that are not running in a min-heap
//     by next run, behind a single timer (not a timer and a parked
//     goroutine per check, whose stacks the garbage collector scans);
//   - when it wakes, it starts every check due within a small slack
//     (1 % of the check's interval, at most 250 ms), so 1,000 checks every
//     30 s wake it about 4 times a second instead of 33;
//   - each run has a goroutine of its own, so a slow or stuck check delays
//     no other; a few idle ones are kept, as their stacks have already
//     grown to what a Starlark call needs;
//   - a check is out of the heap while it runs and goes back in when its
//     run ends, so it never runs twice at once, and that wakes the loop
//     only if it is due before the loop's timer.

import (
	"context"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

// startupSpread bounds how long after a (re)load a check first runs, so
// /readyz does not wait a whole 30 s interval; later runs follow the
// check's offset within its full interval.
const startupSpread = 5 * time.Second

// maxSlack bounds how early a check may run to share a wake-up with
// another: its slack is 1 % of its interval, at most this.
const maxSlack = 250 * time.Millisecond

// idleWorkers is how many run goroutines may wait for the next run
// rather than exit.
const idleWorkers = 8

// never is a time no slot reaches: the loop's timer is stopped.
const never = time.Duration(1<<63 - 1)

// scheduler runs one loaded guard's checks until stopped.
type scheduler struct {
	srv      *Server
	guard    *runtime.Guard
	opts     runtime.RunOptions
	interval time.Duration // for checks without their own
	states   map[string]*checkState
	sem      chan struct{}
	watch    *heapWatch
	cancel   context.CancelCauseFunc
	t0       time.Time // every slot is t0 + offset + k*interval
	wg       sync.WaitGroup

	mu      sync.Mutex // guards queue, armed and batches
	queue   queue      // the checks not running
	armed   time.Duration
	batches int           // wake-ups that started checks, which the tests count
	wake    chan struct{} // capacity 1: a check is due before armed
	work    chan *slot    // to an idle worker
	idle    atomic.Int32  // workers waiting on work
}

// slot is one check's place in the schedule. Times are since the
// scheduler's t0 (the monotonic clock).
type slot struct {
	check *runtime.Check
	state *checkState
	every time.Duration
	off   time.Duration // within every
	slack time.Duration // how early it may run to share a wake-up
	next  time.Duration // its next run
	ran   bool          // has had a first run
}

// queue is a min-heap of slots by next run.
type queue []*slot

func (q *queue) push(sl *slot) {
	*q = append(*q, sl)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if h[parent].next <= h[i].next {
			break
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
}

func (q *queue) pop() *slot {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = nil
	h = h[:last]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[l].next < h[least].next {
			least = l
		}
		if r < len(h) && h[r].next < h[least].next {
			least = r
		}
		if least == i {
			break
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
	*q = h
	return top
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
	s.t0 = time.Now()
	s.watch = &heapWatch{s: s, limit: s.opts.MaxHeap}
	s.wake = make(chan struct{}, 1)
	s.work = make(chan *slot)
	s.queue = make(queue, 0, len(s.guard.Checks))
	for _, c := range s.guard.Checks {
		iv := s.intervalOf(c)
		// The first run comes within startupSpread (or the interval, if
		// shorter), at the check's offset within that.
		s.queue.push(&slot{check: c, state: s.states[c.Name], every: iv, off: offset(c.Name, iv),
			slack: min(iv/100, maxSlack), next: offset(c.Name, min(iv, startupSpread))})
	}
	s.armed = never
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.loop(ctx)
	}()
}

// stop cancels running checks and waits up to wait for their goroutines;
// it reports whether all of them ended (a builtin that ignores its
// context can hold one longer).
func (s *scheduler) stop(cause error, wait time.Duration) bool {
	s.cancel(cause)
	s.watch.stop()
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

// loop starts the checks when they are due, sleeping until the next one
// is.
func (s *scheduler) loop(ctx context.Context) {
	timer := time.NewTimer(never)
	defer timer.Stop()
	var due []*slot
	for {
		now := time.Since(s.t0)
		s.mu.Lock()
		for len(s.queue) > 0 && s.queue[0].next-s.queue[0].slack <= now {
			// The earliest is due: it and every check due within its slack
			// run now, on this wake-up.
			horizon := now + s.queue[0].slack
			s.batches++
			for len(s.queue) > 0 && s.queue[0].next <= horizon {
				due = append(due, s.queue.pop())
			}
		}
		armed := never
		if len(s.queue) > 0 {
			armed = s.queue[0].next
		}
		s.armed = armed
		s.mu.Unlock()
		for i, sl := range due {
			s.dispatch(ctx, sl)
			due[i] = nil
		}
		due = due[:0]
		if armed != never {
			timer.Reset(armed - now)
		} else {
			timer.Stop() // every check is running
		}
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.wake:
		}
	}
}

// dispatch hands sl to an idle worker, or to a new one.
func (s *scheduler) dispatch(ctx context.Context, sl *slot) {
	select {
	case s.work <- sl:
	default:
		s.wg.Add(1)
		go s.worker(ctx, sl)
	}
}

// worker runs sl, then the slots it is handed, until there are enough
// idle workers without it.
func (s *scheduler) worker(ctx context.Context, sl *slot) {
	defer s.wg.Done()
	for {
		s.run(ctx, sl)
		if ctx.Err() != nil {
			return
		}
		if s.idle.Add(1) > idleWorkers {
			s.idle.Add(-1)
			return
		}
		select {
		case sl = <-s.work:
			s.idle.Add(-1)
		case <-ctx.Done():
			s.idle.Add(-1)
			return
		}
	}
}

// run runs sl's check once and puts it back in the queue at its next
// slot.
func (s *scheduler) run(ctx context.Context, sl *slot) {
	if !sl.ran {
		// A check that runs after others waits for their first result,
		// so its own first one is not a SKIP for want of theirs.
		for _, dep := range sl.check.After {
			select {
			case <-s.states[dep].first:
			case <-ctx.Done():
				return
			}
		}
		sl.ran = true
	}
	start := time.Since(s.t0)
	s.runOnce(ctx, sl.check, sl.state)
	sl.next = nextSlot(sl.off, sl.every, start, time.Since(s.t0))
	s.mu.Lock()
	s.queue.push(sl)
	early := sl.next < s.armed
	if early {
		s.armed = sl.next
	}
	s.mu.Unlock()
	if early {
		select {
		case s.wake <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
}

// nextSlot is the first slot of the schedule off + k*every (times since
// t0) that is at least half an interval after the run's start and after
// now: a run that overran its slot skips the slots it missed.
func nextSlot(off, every, start, now time.Duration) time.Duration {
	earliest := max(start+every/2, now)
	since := earliest - off
	k := since / every
	if since < 0 {
		// Rounded down, not towards zero: a first run early in the
		// startup spread may still have its offset's slot ahead.
		k = -((-since + every - 1) / every)
	}
	return off + (k+1)*every
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
	var after map[string]result.CheckResult
	s.srv.mu.Lock()
	if len(c.After) > 0 {
		after = make(map[string]result.CheckResult, len(c.After))
		for _, dep := range c.After {
			if e, ok := s.states[dep].latest(); ok {
				after[dep] = result.CheckResult{Name: dep, Status: e.status}
			}
		}
	}
	// Its own context, so the heap watchdog can cancel this run alone.
	runCtx, cancelRun := context.WithCancelCause(ctx)
	defer cancelRun(nil)
	st.running = true
	st.cancelRun = cancelRun
	s.srv.mu.Unlock()
	if s.opts.MaxHeap > 0 {
		s.watch.begin()
		defer s.watch.end()
	}
	started := time.Now()
	_ = s.guard.RunCheck(runCtx, s.opts, c.Name, after, func(r result.CheckResult) {
		if ctx.Err() != nil {
			// Shutdown or a reload cancelled it: that says nothing about
			// the check, and the last real result stays.
			return
		}
		s.srv.record(st, r, started)
	})
	s.srv.mu.Lock()
	st.running = false
	st.cancelRun = nil
	s.srv.mu.Unlock()
}
