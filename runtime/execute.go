package runtime

// This file holds Execute, the one path every command that runs checks
// takes: load, select, run (once or in --wait rounds), judge.

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/infra-guard/infra-guard/result"
)

// Script names the guard to run: the file at Path, or, when Src is not
// nil, the text Src that Path only names (the embedded default guard).
type Script struct {
	Path    string
	Src     []byte
	BuiltIn bool // the built-in default guard: said in the log and every report
}

// Options are everything Execute needs to know.
type Options struct {
	Load   LoadOptions
	Run    RunOptions
	Select Selection
	Wait   Wait // Wait.For == 0: a single round
	WarnOK bool // a WARN exits 0
	// Loaded, when set, is called as soon as the load phase is over,
	// whether the script loaded or not: by then every secret the script
	// reads has gone to LoadOptions.OnSecret, so held output may go.
	Loaded func()
}

// Execute loads the script, selects the checks, runs them and returns the
// judged report: its ExitCode is final. A script that does not load (or
// registers no checks) is a report of Diagnostics, with exit code 3, so
// every format can say so. The only error is a selection that names
// checks or tags the script does not have, a usage error: nothing ran.
func Execute(ctx context.Context, s Script, o Options) (*result.Report, error) {
	o.Load = o.Load.withDefaults()
	log := o.Load.Logger
	// --timeout bounds everything: loading, and every --wait round.
	runCtx, cancel := withDeadline(ctx, o.Run.Timeout)
	defer cancel()
	o.Run.Timeout = 0
	g, err := Load(runCtx, s.Path, s.Src, o.Load)
	if o.Loaded != nil {
		o.Loaded()
	}
	var rep *result.Report
	var loadErr *LoadError
	switch {
	case errors.As(err, &loadErr):
		// To the log too: formats such as prometheus have no place for
		// them, and cron mails what is on stderr.
		for _, d := range loadErr.Diagnostics {
			if o.Run.QuietErrors {
				break
			}
			log.Error("the script did not load; no check ran", "error", d.String())
		}
		rep = &result.Report{Script: s.Path, Started: time.Now(), Errors: loadErr.Diagnostics}
	case err != nil:
		return nil, err
	default:
		if g, err = g.Select(o.Select); err != nil {
			return nil, err
		}
		if o.Wait.For > 0 {
			rep = g.RunUntil(runCtx, o.Run, o.Wait)
		} else {
			rep = g.Run(runCtx, o.Run)
		}
	}
	if ctx.Err() != nil && rep.Incomplete == "" {
		rep.Incomplete = context.Cause(ctx).Error()
	}
	if rep.Incomplete != "" {
		log.Warn("run interrupted; the report is incomplete", "reason", rep.Incomplete)
	}
	rep.BuiltIn = s.BuiltIn
	rep.Host, _ = os.Hostname()
	rep.ExitCode = result.Judge(rep, o.WarnOK)
	return rep, nil
}
