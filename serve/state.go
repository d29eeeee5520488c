package serve

// This file holds what serve keeps of each check between runs: its latest
// results (a bounded history), the status it reports after fail_after= and
// ok_after= hysteresis, and the counts and histogram /metrics reads. Every
// endpoint answers from here; none runs a check.

import (
	"context"
	"time"

	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

// durationBuckets are infra_guard_check_duration_seconds' upper bounds:
// from a local file check (a millisecond) to a check at its deadline.
var durationBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// flapWindow and flapChanges define a flapping check: at least flapChanges
// changes between passing and failing among its last flapWindow results.
const (
	flapWindow  = 10
	flapChanges = 4
)

// entry is one result of one run, as the history keeps it.
type entry struct {
	result.CheckResult
	Started time.Time
}

// checkState is one check's memory. The server's lock guards every field
// but first, which is closed once, when the first result arrives.
type checkState struct {
	check *runtime.Check
	first chan struct{}

	history []entry // oldest first, at most the server's --history
	// reported is the status the endpoints show: the latest result, held
	// back by fail_after= or ok_after= until enough results agree.
	reported entry
	has      bool // at least one result
	streak   int  // consecutive latest results disagreeing with reported
	runs     map[result.Status]uint64
	buckets  []uint64 // cumulative per durationBuckets
	count    uint64
	sum      float64
	running  bool
	// cancelRun cancels the run in progress, for the heap watchdog; nil
	// when none is.
	cancelRun context.CancelCauseFunc
}

func newCheckState(c *runtime.Check) *checkState {
	return &checkState{check: c, first: make(chan struct{}), runs: map[result.Status]uint64{},
		buckets: make([]uint64, len(durationBuckets))}
}

// failing is the class fail_after= and ok_after= count: FAIL and UNKNOWN.
func failing(s result.Status) bool { return s == result.Fail || s == result.Unknown }

// record adds the result of one run; the caller holds the server's lock.
func (s *checkState) record(e entry, keep int) {
	s.history = append(s.history, e)
	if over := len(s.history) - keep; over > 0 {
		s.history = append(s.history[:0], s.history[over:]...)
	}
	st := e.Status.Valid()
	s.runs[st]++
	d := max(e.Duration, 0).Seconds()
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
	case failing(st) && !failing(s.reported.Status):
		need = s.check.FailAfter
	case !failing(st) && failing(s.reported.Status):
		need = s.check.OkAfter
	}
	if failing(st) == failing(s.reported.Status) || !s.has {
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
	h := s.history[max(0, len(s.history)-flapWindow):]
	changes := 0
	for i := 1; i < len(h); i++ {
		if failing(h[i].Status) != failing(h[i-1].Status) {
			changes++
		}
	}
	return changes >= flapChanges
}

// latest is the newest result, which may differ from reported.
func (s *checkState) latest() (entry, bool) {
	if len(s.history) == 0 {
		return entry{}, false
	}
	return s.history[len(s.history)-1], true
}
