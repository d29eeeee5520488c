// This file holds --wait: re-running the checks that have not passed until
// they do or the wait ends, for "wait until the service is up" steps.
package runtime

import (
	"context"
	"slices"
	"time"

	"github.com/infra-guard/infra-guard/result"
)

// Wait says how long RunUntil keeps re-running failing checks, and how
// often. OnRound, when set, hears about each round that left checks failing.
type Wait struct {
	For      time.Duration
	Interval time.Duration
	OnRound  func(round int, failing []string, left time.Duration)
}

// RunUntil runs every check, then re-runs the ones that failed (FAIL or
// UNKNOWN, and those skipped because a dependency failed) every Interval
// until all pass or For has passed. The report holds each check's latest
// result and the number of rounds it took.
func (g *Guard) RunUntil(ctx context.Context, opts RunOptions, w Wait) *result.Report {
	start := time.Now()
	deadline := start.Add(w.For)
	rep := g.Run(ctx, opts)
	rep.Rounds = 1
	for {
		failing := notPassed(g, rep)
		left := time.Until(deadline)
		if len(failing) == 0 || rep.Incomplete != "" || left < w.Interval {
			break
		}
		if w.OnRound != nil {
			w.OnRound(rep.Rounds, failing, left)
		}
		select {
		case <-time.After(w.Interval):
		case <-ctx.Done():
			rep.Incomplete = context.Cause(ctx).Error()
		}
		if rep.Incomplete != "" {
			break
		}
		sub, err := g.Select(Selection{Only: failing})
		if err != nil { // cannot happen: the names come from g
			panic(err)
		}
		next := sub.Run(ctx, opts)
		for _, c := range next.Checks {
			for i := range rep.Checks {
				if rep.Checks[i].Name == c.Name {
					rep.Checks[i] = c
				}
			}
		}
		rep.Rounds++
		rep.Incomplete = next.Incomplete
	}
	rep.Started, rep.Duration = start, time.Since(start)
	return rep
}

// notPassed names the checks to run again: failed or unknown ones, and
// checks skipped because a check they run after is among them.
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
