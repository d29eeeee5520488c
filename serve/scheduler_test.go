package serve

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"
)

// runLog records, for each check that calls the builtin it makes, when
// its runs started and how many of them were running at once.
type runLog struct {
	mu      sync.Mutex
	starts  map[string][]time.Time
	running map[string]int
	most    map[string]int
}

func newRunLog() *runLog {
	return &runLog{starts: map[string][]time.Time{}, running: map[string]int{}, most: map[string]int{}}
}

// builtin is mark(sleep_ms): it logs the run of the calling check (the
// thread is named after it) and sleeps.
func (l *runLog) builtin() *starlark.Builtin {
	return starlark.NewBuiltin("mark", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var ms int
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "ms?", &ms); err != nil {
			return nil, err
		}
		name := th.Name
		l.mu.Lock()
		l.starts[name] = append(l.starts[name], time.Now())
		l.running[name]++
		l.most[name] = max(l.most[name], l.running[name])
		l.mu.Unlock()
		time.Sleep(time.Duration(ms) * time.Millisecond)
		l.mu.Lock()
		l.running[name]--
		l.mu.Unlock()
		return starlark.True, nil
	})
}

func (l *runLog) runs(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.starts[name])
}

// Many checks that often take longer than their interval: each runs again
// and again, and never twice at once.
func TestSchedulerNeverOverlapsAnyCheck(t *testing.T) {
	log := newRunLog()
	var script strings.Builder
	for i := range 40 {
		// 0 to 234 ms, every 100 ms.
		fmt.Fprintf(&script, "check(\"c%d\", lambda: mark(%d), interval = \"100ms\", timeout = \"5s\")\n", i, i*i*37%235)
	}
	ts := start(t, script.String(), func(c *Config) { c.Load.Extra = starlark.StringDict{"mark": log.builtin()} })
	time.Sleep(2 * time.Second)
	ts.stop()
	for i := range 40 {
		name := fmt.Sprintf("c%d", i)
		if n := log.runs(name); n < 3 {
			t.Errorf("%s ran %d times in 2 s", name, n)
		}
		if m := log.most[name]; m != 1 {
			t.Errorf("%s ran %d times at once", name, m)
		}
	}
}

// Every run of a check starts at its own offset within its interval:
// t0 + offset + k*interval, a little late at most.
func TestSchedulerKeepsEachCheckOffset(t *testing.T) {
	const iv = 500 * time.Millisecond
	// Names whose offsets are far from 0 and from each other, so that a
	// schedule ignoring them would be caught.
	var names []string
	for i := 0; len(names) < 5; i++ {
		name := fmt.Sprintf("c%d", i)
		if o := offset(name, iv); o > 150*time.Millisecond && o < 350*time.Millisecond {
			names = append(names, name)
		}
	}
	log := newRunLog()
	var script strings.Builder
	for _, name := range names {
		fmt.Fprintf(&script, "check(%q, mark, interval = \"500ms\")\n", name)
	}
	ts := start(t, script.String(), func(c *Config) { c.Load.Extra = starlark.StringDict{"mark": log.builtin()} })
	time.Sleep(2600 * time.Millisecond)
	ts.mu.RLock()
	t0 := ts.cur.sched.t0
	ts.mu.RUnlock()
	ts.stop()
	for _, name := range names {
		starts := log.starts[name]
		if len(starts) < 4 {
			t.Errorf("%s ran %d times in 2.6 s at 500 ms", name, len(starts))
		}
		off := offset(name, iv)
		for _, s := range starts {
			// How far the run is from its slot: a little early (sharing a
			// wake-up with a check due soon after) or late (a busy
			// machine); a run at the wrong offset is 150 ms off at least.
			dev := ((s.Sub(t0)-off)%iv+iv+iv/2)%iv - iv/2
			if dev < -iv/100 || dev > 120*time.Millisecond {
				t.Errorf("%s (offset %s) ran at t0+%s, %s from its slot", name, off, s.Sub(t0), dev)
			}
		}
	}
}

// next is the first slot at least half an interval after the run's start
// and not in the past.
func TestNextSlot(t *testing.T) {
	const every, s, ms = 10 * time.Second, time.Second, time.Millisecond
	for _, tt := range []struct {
		off, start, now, want time.Duration
	}{
		{off: 3 * s, start: 3 * s, now: 3*s + ms, want: 13 * s},                         // on time
		{off: 3 * s, start: 4 * s, now: 4 * s, want: 13 * s},                            // a second late
		{off: 3 * s, start: 3*s - 100*ms, now: 3 * s, want: 13 * s},                     // a little early
		{off: 3 * s, start: 9 * s, now: 9 * s, want: 23 * s},                            // 13 s is under half an interval away
		{off: 3 * s, start: 3 * s, now: 25 * s, want: 33 * s},                           // overran two slots: skips them
		{off: 3 * s, start: 3 * s, now: 33 * s, want: 43 * s},                           // ended on a slot: the next one
		{off: 3 * s, start: 500 * ms, now: s, want: 13 * s},                             // first run, in the startup spread
		{off: 8 * s, start: 500 * ms, now: s, want: 8 * s},                              // first run: the offset's slot is far enough ahead
		{off: 8 * s, start: 4 * s, now: 4 * s, want: 18 * s},                            // first run: it is not
		{off: 3 * s, start: 3*s + 10*every, now: 3*s + 10*every, want: 13*s + 10*every}, // far on
	} {
		if got := nextSlot(tt.off, every, tt.start, tt.now); got != tt.want {
			t.Errorf("offset %s, started t0+%s, now t0+%s: next t0+%s, want t0+%s", tt.off, tt.start, tt.now, got, tt.want)
		}
	}
}

// The queue gives slots back earliest first, however they went in.
func TestQueueOrder(t *testing.T) {
	var q queue
	for _, i := range []int{5, 3, 9, 1, 1, 7, 0, 8, 2, 6, 4} {
		q.push(&slot{next: time.Duration(i)})
	}
	prev, popped, pushed := time.Duration(-1), 0, false
	for len(q) > 0 {
		sl := q.pop()
		popped++
		if sl.next < prev {
			t.Fatalf("popped %d after %d", sl.next, prev)
		}
		prev = sl.next
		if sl.next == 4 && !pushed {
			// Pushes between pops keep the order.
			q.push(&slot{next: 10})
			q.push(&slot{next: 4})
			pushed = true
		}
	}
	if prev != 10 || popped != 13 {
		t.Errorf("popped %d, the last %d; want 13, the last 10", popped, prev)
	}
}

// A wake-up starts every check due within the earliest's slack, so 1,000
// checks every 30 s wake the scheduler a few times a second, not 33.
func TestSchedulerSharesWakeUps(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 8 s")
	}
	var script strings.Builder
	for i := range 400 {
		fmt.Fprintf(&script, "check(\"c%d\", lambda: True, interval = \"4s\")\n", i)
	}
	ts := start(t, script.String(), nil)
	time.Sleep(8 * time.Second) // the startup spread, then a whole interval
	ts.mu.RLock()
	sched := ts.cur.sched
	ts.mu.RUnlock()
	sched.mu.Lock()
	batches := sched.batches
	sched.mu.Unlock()
	ts.stop()
	runs := 0
	ts.mu.RLock()
	for _, st := range ts.cur.order {
		runs += int(st.runCount())
	}
	ts.mu.RUnlock()
	// 100 runs a second with a slack of 40 ms: at most 25 wake-ups a
	// second, 4 runs each or more; one wake-up per run without the slack.
	if runs < 600 || float64(runs)/float64(batches) < 2.5 {
		t.Errorf("%d runs started on %d wake-ups; want 2.5 runs or more on each", runs, batches)
	}
}

// A reload that replaces some checks: a dropped one stops running, a new
// one starts, and one that stays (slow, and running when the reload
// comes) never runs twice at once across the two schedules.
func TestSchedulerReloadReplacesChecks(t *testing.T) {
	log := newRunLog()
	ts := start(t, `check("stays", lambda: mark(150), interval = "100ms")
check("dropped", mark, interval = "100ms")`, func(c *Config) { c.Load.Extra = starlark.StringDict{"mark": log.builtin()} })
	ts.ready(t)
	waitFor(t, 5*time.Second, "a few runs", func() bool { return log.runs("stays") >= 2 && log.runs("dropped") >= 2 })
	if err := os.WriteFile(ts.script, []byte(`check("stays", lambda: mark(150), interval = "100ms")
check("new", mark, interval = "100ms")`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ts.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	dropped := log.runs("dropped")
	stays := log.runs("stays")
	waitFor(t, 5*time.Second, "the new check and the kept one to run", func() bool { return log.runs("new") >= 2 && log.runs("stays") >= stays+2 })
	ts.stop()
	if n := log.runs("dropped"); n != dropped {
		t.Errorf("the dropped check ran %d more times after the reload", n-dropped)
	}
	if m := log.most["stays"]; m != 1 {
		t.Errorf("the kept check ran %d times at once across the reload", m)
	}
}
