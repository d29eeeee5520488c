package runtime

// This file holds --wait: running the checks again and again until none
// fails or the wait ends, for "wait until the service is up" steps.

import (
	"context"
	"slices"
	"time"

	"github.com/infra-guard/infra-guard/result"
)

// Wait says how long RunUntil keeps running the checks, and how often.
// OnRound, when set, hears about each round that left checks failing.
type Wait struct {
	For      time.Duration
	Interval time.Duration
	OnRound  func(round int, failing []string, left time.Duration)
}

// RunUntil runs every check in rounds, Interval apart, until no check
// fails (FAIL or UNKNOWN, or skipped because of one), For has passed, or
// ctx ends — its deadline is the whole run's --timeout, rounds included.
// Every round runs every check, so the report is the last round's: each
// check's state at the end, not a WARN or OK left over from an earlier
// round. It records how many rounds it took.
func (g *Guard) RunUntil(ctx context.Context, opts RunOptions, w Wait) *result.Report {
	start := time.Now()
	deadline := start.Add(w.For)
	rounds := 0
	var rep *result.Report
	for {
		rep = g.Run(ctx, opts)
		rounds++
		failing := notPassed(g, rep)
		left := time.Until(deadline)
		if len(failing) == 0 || rep.Incomplete != "" || ctx.Err() != nil || left < w.Interval {
			break
		}
		if w.OnRound != nil {
			w.OnRound(rounds, failing, left)
		}
		select {
		case <-time.After(w.Interval):
			continue
		case <-ctx.Done():
		}
		if interrupted(ctx) {
			rep.Incomplete = context.Cause(ctx).Error()
		}
		break
	}
	rep.Rounds = rounds
	rep.Started, rep.Duration = start, time.Since(start)
	return rep
}

// notPassed names the checks that keep the wait going: failed or unknown
// ones, and checks skipped because a check they run after is among them.
func notPassed(g *Guard, rep *result.Report) []string {
	status := make(map[string]result.Status, len(rep.Checks))
	for _, c := range rep.Checks {
		status[c.Name] = c.Status
	}
	var names []string
	for _, c := range g.Checks { // registration order: after= targets may come later
		if s := status[c.Name]; s == result.Fail || s == result.Unknown {
			names = append(names, c.Name)
		}
	}
	for changed := true; changed; {
		changed = false
		for _, c := range g.Checks {
			if status[c.Name] == result.Skip && !slices.Contains(names, c.Name) &&
				slices.ContainsFunc(c.After, func(dep string) bool { return slices.Contains(names, dep) }) {
				names = append(names, c.Name)
				changed = true
			}
		}
	}
	return names
}
