package serve

// This file holds what serve keeps of each check between runs: its latest
// results (a bounded history), the status it reports after fail_after= and
// ok_after= hysteresis, and the counts and histogram /metrics reads. Every
// endpoint answers from here; none runs a check.
//
// 1,000 checks with 100 results each is 100,000 results held for as long
// as serve runs, so a result is kept small: a fixed 32-byte entry in a
// ring, its text and metrics behind one pointer that consecutive results
// saying the same thing share.

import (
	"context"
	"slices"
	"time"

	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

// durationBuckets are infra_guard_check_duration_seconds' upper bounds:
// from a local file check (a millisecond) to a check at its deadline.
var durationBuckets = [...]float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// flapWindow and flapChanges define a flapping check: at least flapChanges
// changes between passing and failing among its last flapWindow results.
const (
	flapWindow  = 10
	flapChanges = 4
)

// detail is what a result says beyond its status and timing, scrubbed of
// secrets. It is never changed once stored, so results share it.
type detail struct {
	message   string
	backtrace string
	metrics   []result.Metric
}

// entry is one result of one run, as the history keeps it; the check's
// name, tags and place come from the check.
type entry struct {
	started  int64 // Unix nanoseconds
	duration time.Duration
	detail   *detail // nil when the result says nothing beyond its status
	status   result.Status
}

func (e entry) message() string {
	if e.detail == nil {
		return ""
	}
	return e.detail.message
}

func (e entry) metrics() []result.Metric {
	if e.detail == nil {
		return nil
	}
	return e.detail.metrics
}

func (e entry) startedAt() time.Time { return time.Unix(0, e.started) }

// result is the CheckResult e was made from, with c's name, tags and place.
func (e entry) result(c *runtime.Check) result.CheckResult {
	r := result.CheckResult{Name: c.Name, Status: e.status, Tags: c.Tags, File: c.File, Line: c.Line, Duration: e.duration}
	if d := e.detail; d != nil {
		r.Message, r.Backtrace, r.Metrics = d.message, d.backtrace, d.metrics
	}
	return r
}

// newEntry makes the entry of r, a result already scrubbed, sharing prev
// (the previous result's detail) or its strings where r says the same:
// a check that reports "disk 41% used" run after run holds one copy of
// the text, not one per result.
func newEntry(r result.CheckResult, started time.Time, prev *detail) entry {
	e := entry{started: started.UnixNano(), duration: r.Duration, status: r.Status}
	if r.Message == "" && r.Backtrace == "" && len(r.Metrics) == 0 {
		return e
	}
	if prev != nil && prev.message == r.Message && prev.backtrace == r.Backtrace && slices.Equal(prev.metrics, r.Metrics) {
		e.detail = prev
		return e
	}
	d := &detail{message: r.Message, backtrace: r.Backtrace, metrics: r.Metrics}
	if prev != nil {
		if d.message == prev.message {
			d.message = prev.message
		}
		if d.backtrace == prev.backtrace {
			d.backtrace = prev.backtrace
		}
	}
	e.detail = d
	return e
}

// history is a check's latest results, at most keep of them (the same
// keep on every call): a slice that grows to keep, then a ring whose
// oldest entry the next one overwrites.
type history struct {
	buf    []entry
	oldest int // index of the oldest entry once buf is full; 0 before
}

func (h *history) add(e entry, keep int) {
	if len(h.buf) < keep {
		if len(h.buf) == cap(h.buf) {
			// Grow by doubling, but never past keep: append's growth
			// would leave 28 unused entries on a history of 100.
			grown := make([]entry, len(h.buf), min(keep, max(8, 2*cap(h.buf))))
			copy(grown, h.buf)
			h.buf = grown
		}
		h.buf = append(h.buf, e)
		return
	}
	h.buf[h.oldest] = e
	h.oldest = (h.oldest + 1) % len(h.buf)
}

func (h *history) len() int { return len(h.buf) }

// at is the i-th entry, oldest first.
func (h *history) at(i int) entry { return h.buf[(h.oldest+i)%len(h.buf)] }

// latest is the newest entry.
func (h *history) latest() (entry, bool) {
	if len(h.buf) == 0 {
		return entry{}, false
	}
	return h.at(len(h.buf) - 1), true
}

// checkState is one check's memory. The server's lock guards every field
// but first, which is closed once, when the first result arrives.
type checkState struct {
	check *runtime.Check
	first chan struct{}

	history history // at most the server's --history
	// reported is the status the endpoints show: the latest result, held
	// back by fail_after= or ok_after= until enough results agree.
	reported entry
	has      bool // at least one result
	streak   int  // consecutive latest results disagreeing with reported
	runs     [result.Skip + 1]uint64
	buckets  [len(durationBuckets)]uint64 // cumulative
	count    uint64
	sum      float64
	running  bool
	// cancelRun cancels the run in progress, for the heap watchdog; nil
	// when none is.
	cancelRun context.CancelCauseFunc
}

func newCheckState(c *runtime.Check) *checkState {
	return &checkState{check: c, first: make(chan struct{})}
}

// failing is the class fail_after= and ok_after= count: FAIL and UNKNOWN.
func failing(s result.Status) bool { return s == result.Fail || s == result.Unknown }

// record adds the result of one run; the caller holds the server's lock.
func (s *checkState) record(e entry, keep int) {
	s.history.add(e, keep)
	st := e.status.Valid()
	s.runs[st]++
	d := max(e.duration, 0).Seconds()
	for i, le := range durationBuckets {
		if d <= le {
			s.buckets[i]++
		}
	}
	s.count++
	s.sum += d

	need := 1
	switch {
	case !s.has:
	case failing(st) && !failing(s.reported.status):
		need = s.check.FailAfter
	case !failing(st) && failing(s.reported.status):
		need = s.check.OkAfter
	}
	if failing(st) == failing(s.reported.status) || !s.has {
		s.streak = 0
		s.reported = e
	} else if s.streak++; s.streak >= need {
		s.streak = 0
		s.reported = e
	}
	if !s.has {
		s.has = true
		close(s.first)
	}
}

// flapping reports whether the check changed between passing and failing
// at least flapChanges times among its last flapWindow results.
func (s *checkState) flapping() bool {
	n := s.history.len()
	changes := 0
	for i := max(1, n-flapWindow+1); i < n; i++ {
		if failing(s.history.at(i).status) != failing(s.history.at(i-1).status) {
			changes++
		}
	}
	return changes >= flapChanges
}

// latest is the newest result, which may differ from reported.
func (s *checkState) latest() (entry, bool) { return s.history.latest() }

// runCount is how many runs the check has had.
func (s *checkState) runCount() uint64 {
	var n uint64
	for _, k := range s.runs {
		n += k
	}
	return n
}
