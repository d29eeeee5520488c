package runtime

// This file holds RunCheck: running one check of a loaded guard on its
// own, for serve's scheduler, which runs each check on its own interval
// and gives after= dependencies their latest result instead of a run's.

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/result"
)

// RunCheck runs the check called name once, under its deadline and step
// budget, and hands its result to report exactly once. after holds the
// latest result of each check it runs after: a dependency that is missing
// (not run yet) or ended other than OK or WARN makes this one a SKIP, as
// in Run. report can be called before RunCheck returns: when a builtin
// ignores its cancelled context, the timeout is reported after a grace
// period while the thread still holds the goroutine; RunCheck returns
// only when the thread has ended, so a caller that waits for it never
// runs a check twice at once. opts.Timeout is ignored.
func (g *Guard) RunCheck(ctx context.Context, opts RunOptions, name string, after map[string]result.CheckResult, report func(result.CheckResult)) error {
	c := g.byName[name]
	if c == nil {
		return fmt.Errorf("no check %q in %s", name, g.Script)
	}
	opts = opts.withDefaults(g)
	r := c.result()
	var once sync.Once
	finish := func(_ int, r result.CheckResult) { once.Do(func() { report(r) }) }
	for _, dep := range c.After {
		d, ok := after[dep]
		switch {
		case !ok:
			r.Status = result.Skip
			r.Message = fmt.Sprintf("skipped: check %q, which it runs after, has no result yet", dep)
		case d.Status != result.OK && d.Status != result.Warn:
			r.Status = result.Skip
			r.Message = fmt.Sprintf("skipped: check %q, which it runs after, ended %s", dep, strings.ToUpper(d.Status.String()))
		default:
			continue
		}
		finish(0, r)
		return nil
	}
	if ctx.Err() != nil {
		finish(0, g.notRun(r, ctx))
		return nil
	}
	shared := builtins.NewRun()
	defer shared.Close()
	// RunCheck returns only when the thread has ended, so the stuck registry
	// (stuck.go) never holds this check once it returns; a run number still
	// names the run in its "stuck since" message.
	g.newCheckRun(ctx, &opts, shared, g.stuck.newRun(), finish, nil).runCheck(c, 0)
	return nil
}
