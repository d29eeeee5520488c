package runtime

// This file holds the load phase: executing the script once, with the
// modules it loads (see loader.go), and collecting the registered checks.

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/result"
)

// Guard is a loaded script, ready to run (and to run again).
type Guard struct {
	Script string   // path as given, or DefaultScriptName
	Checks []*Check // in registration order
	// Notes are the variables that were not set, when loaded with
	// LoadOptions.Placeholders.
	Notes   []result.Diagnostic
	load    LoadOptions
	stuck   *stuckChecks
	secrets []builtins.SecretValue
	dir     string // relative paths in builtins resolve from here; "": the working directory
	// runConfig is what env() reads inside checks; one for every check.
	runConfig *builtins.Config
	// byName indexes Checks for RunCheck, which serve calls for every
	// run of every check; set by Load and Select.
	byName map[string]*Check
}

// Secrets returns the secrets the script read with secret(), for
// registering with an output scrubber before the checks run.
func (g *Guard) Secrets() []builtins.SecretValue { return g.secrets }

// Load runs the load phase of the script at path. When src is non-nil it is
// the script's text and path only names it (the built-in default guard);
// load() of a relative path then resolves against the working directory.
// Every problem, including a script that registers no checks, is a
// *LoadError.
func Load(ctx context.Context, path string, src []byte, opts LoadOptions) (*Guard, error) {
	opts = opts.withDefaults()
	ld := newLoader(ctx, path, src != nil, opts)
	reg := &registry{}
	thread := &starlark.Thread{Name: "", Print: printer(opts.Logger), Load: ld.load}
	thread.SetMaxExecutionSteps(opts.MaxSteps)
	tooManySteps := false
	thread.OnMaxSteps = func(t *starlark.Thread) {
		tooManySteps = true
		t.Cancel("too many steps")
	}
	thread.SetLocal(registryKey, reg)
	cfg := builtins.NewLoadConfig(opts.Env, opts.OnSecret)
	builtins.SetConfig(thread, cfg)
	// A signal, or the heap watchdog: a top-level loop can allocate too.
	ctx, cancelLoad := context.WithCancelCause(ctx)
	defer cancelLoad(nil)
	defer watchHeap(ctx, opts.MaxHeap, 20*time.Millisecond, cancelLoad, "the script is allocating without bound while loading")()
	stop := context.AfterFunc(ctx, func() { thread.Cancel(context.Cause(ctx).Error()) })
	defer stop()

	embedded := src != nil
	src, d := mainSource(path, src)
	if d != nil {
		ld.close()
		return nil, &LoadError{Diagnostics: []result.Diagnostic{*d}}
	}
	// The loader is closed when the execution ends, which, for one that is
	// abandoned, is after Load has returned.
	var findings []Finding // lint's, read only once the execution has ended
	done, err := execWithGrace(ctx, func() error {
		defer ld.close()
		var err error
		findings, err = execMain(thread, path, src, ld.predeclared, !opts.lintDone)
		return err
	})
	if !done {
		// A builtin that does not watch the context holds the thread: leave
		// it behind rather than hold a signal or --timeout. Nothing it
		// touches (the registry, the config) is read from here on.
		opts.Logger.Warn("the load phase did not stop when cancelled; a builtin is not watching its context", "grace", stuckGrace)
		return nil, &LoadError{Diagnostics: []result.Diagnostic{{File: path, Msg: fmt.Sprintf("cancelled: %s (a builtin kept running for %s after the cancellation and was abandoned)", context.Cause(ctx), stuckGrace)}}}
	}
	// Every problem with the environment comes first, all of them, then
	// what stopped the script (often a consequence of one of them).
	errs, notes := cfg.Errors(), []result.Diagnostic(nil)
	if opts.Placeholders {
		errs, notes = unset(errs)
	}
	if err != nil {
		ds := diagnose(err)
		if pos, ok := starlarkPos(err); ok && tooManySteps {
			ds = []result.Diagnostic{at(pos, fmt.Sprintf("the load phase exceeded the step budget of %d steps (an endless loop at top level? raise it with --max-steps)", opts.MaxSteps))}
		}
		for i, d := range ds {
			ds[i].Msg = didYouMean(d.Msg, keys(ld.predeclared))
			if d.File == path {
				ds[i].Msg = pythonHint(ds[i].Msg, lineOf(src, int32(d.Line)))
			}
		}
		return nil, &LoadError{Diagnostics: append(errs, ds...), Notes: notes}
	}
	// lint's errors stop a run like load errors; its warnings are logged.
	for _, fd := range findings {
		if fd.Severity == SevError {
			errs = append(errs, fd.Diagnostic)
			continue
		}
		opts.Logger.Warn(fd.Msg, "script", fd.File, "line", fd.Line)
	}
	errs = append(errs, reg.validate()...)
	if len(errs) == 0 && len(reg.checks) == 0 {
		errs = append(errs, noChecks(path))
	}
	if len(errs) > 0 {
		return nil, &LoadError{Diagnostics: errs, Notes: notes}
	}
	for _, c := range reg.checks {
		c.freeze()
	}
	g := &Guard{Script: path, Checks: reg.checks, Notes: notes, load: opts, stuck: &stuckChecks{}, secrets: cfg.Secrets(),
		runConfig: builtins.NewRunConfig(opts.Env), byName: indexChecks(reg.checks)}
	if !embedded { // a file: its directory, as for load()
		g.dir = filepath.Dir(path)
	}
	return g, nil
}

// noChecks is the one wording, for every command and format, of a script
// that loads but registers nothing to run.
func noChecks(path string) result.Diagnostic {
	return result.Diagnostic{File: path, Msg: "the script registers no checks; call check(\"name\", fn) for each thing to verify"}
}

// execWithGrace runs exec on its own goroutine and waits for it, or,
// once ctx has ended, for at most stuckGrace more: done is false when it
// gave up on a builtin that ignores the cancellation (the str() of a
// 600,000-deep list takes minutes), as the run phase does for a check.
func execWithGrace(ctx context.Context, exec func() error) (done bool, err error) {
	ch := make(chan error, 1)
	go func() { ch <- exec() }()
	select {
	case err := <-ch:
		return true, err
	case <-ctx.Done():
	}
	t := time.NewTimer(stuckGrace)
	defer t.Stop()
	select {
	case err := <-ch:
		return true, err
	case <-t.C:
		return false, nil
	}
}

// execMain executes the main script, and with lintIt returns what the
// strict checks of vet (lint.go) find in it. The script is parsed once:
// lint reads the tree as written, before execTree rewrites it.
// go.starlark.net panics on some allocations (list(range(1<<62))); such a
// panic becomes a load error, so the exit code is 3 and not the 2 of a Go
// crash, which reads as CRITICAL.
func execMain(thread *starlark.Thread, path string, src any, predeclared starlark.StringDict, lintIt bool) (findings []Finding, err error) {
	defer func() {
		if p := recover(); p != nil {
			// The Starlark frames are gone by now: name the file only.
			findings, err = nil, &loadedError{d: result.Diagnostic{File: path, Msg: fmt.Sprintf("internal error (recovered panic): %v", p)}}
		}
	}()
	f, err := dialect.Parse(path, src, 0)
	if err != nil {
		return nil, err
	}
	if lintIt {
		findings = lintMain(f, predeclared)
	}
	_, err = execTree(thread, f, predeclared)
	return findings, err
}

// unsetRE matches what env(), require_env() and secret() record for a
// variable that is not set; compiled on first use, as only loads with
// placeholders (vet) need it.
var unsetRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(env|require_env|secret): [A-Za-z_][A-Za-z0-9_]* is not set`)
})

// unset moves the diagnostics of variables that are not set from errs to
// notes, saying what the load went on with.
func unset(errs []result.Diagnostic) (rest, notes []result.Diagnostic) {
	for _, d := range errs {
		if unsetRE().MatchString(d.Msg) {
			d.Msg += "; loaded with a placeholder (the zero value of its type)"
			notes = append(notes, d)
			continue
		}
		rest = append(rest, d)
	}
	return rest, notes
}

// lintMain runs the strict checks of vet (lint.go) on the main script's
// tree as parsed. It resolves the tree, which execTree resolves again
// after rewriting it: resolving sets every binding afresh.
func lintMain(f *syntax.File, predeclared starlark.StringDict) []Finding {
	if resolve.File(f, predeclared.Has, starlark.Universe.Has) != nil {
		return nil // the load itself fails, with the same error
	}
	return lint(f)
}
