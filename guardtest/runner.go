// Package guardtest runs the tests of guard scripts: *_test.star files
// whose top-level test_*(t) functions each run in a fresh world of fakes
// (docs/testing.md). A test is reported as a check, so every report
// format works for tests too.
package guardtest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

// Exit codes of `infra-guard test`.
const (
	ExitPass    result.ExitCode = 0 // every test passed
	ExitFailed  result.ExitCode = 1 // some test failed
	ExitNoLoad  result.ExitCode = 3 // a test file did not load (or none was found)
	TestSuffix                  = "_test.star"
	maxTestStep                 = runtime.DefaultMaxSteps
)

// Options control a test run.
type Options struct {
	Run      *regexp.Regexp // nil: every test
	Logger   *slog.Logger   // print() and the runtime's logs
	OnSecret func(name, value string)
}

// Find expands paths into test files: a file is taken as it is, a
// directory is searched for *_test.star files (skipping hidden
// directories). No paths means the current directory.
func Find(paths []string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", p, pathErr(err))
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), TestSuffix) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no *%s files in %s", TestSuffix, strings.Join(paths, ", "))
	}
	return files, nil
}

func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Run runs the tests of every file and returns them as a report: one
// check per test (OK passed, FAIL failed, each failure a line of the
// message) and one UNKNOWN check per file that did not load. The report's
// ExitCode is 0, 1 or 3 (ExitPass, ExitFailed, ExitNoLoad).
func Run(ctx context.Context, files []string, opts Options) *result.Report {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	rep := &result.Report{Script: strings.Join(files, " "), Started: start}
	for _, f := range files {
		checks := runFile(ctx, f, opts)
		if len(files) > 1 {
			// Tests of different files may share names (test_healthy).
			for i := range checks {
				if checks[i].Name != f {
					checks[i].Name = f + ": " + checks[i].Name
				}
			}
		}
		rep.Checks = append(rep.Checks, checks...)
	}
	rep.Duration = time.Since(start)
	rep.ExitCode = ExitPass
	for _, c := range rep.Checks {
		switch {
		case c.Status == result.Unknown:
			rep.ExitCode = ExitNoLoad
		case c.Status == result.Fail && rep.ExitCode == ExitPass:
			rep.ExitCode = ExitFailed
		}
	}
	return rep
}

// runFile loads one test file and runs its tests in the order they are
// defined.
func runFile(ctx context.Context, path string, opts Options) []result.CheckResult {
	print := func(thread *starlark.Thread, msg string) {
		pos := thread.CallFrame(1).Pos
		opts.Logger.Info(msg, "script", pos.Filename(), "line", pos.Line, "test", thread.Name)
	}
	globals, ds := runtime.ExecTestFile(ctx, path, nil, print)
	if ds != nil {
		var msgs []string
		for _, d := range ds {
			msgs = append(msgs, d.String())
		}
		return []result.CheckResult{{Name: path, Status: result.Unknown, File: path, Message: "does not load: " + strings.Join(msgs, "\n")}}
	}
	var tests []*starlark.Function
	for name, v := range globals {
		fn, ok := v.(*starlark.Function)
		if !ok || !strings.HasPrefix(name, "test_") || (opts.Run != nil && !opts.Run.MatchString(name)) {
			continue
		}
		tests = append(tests, fn)
	}
	slices.SortFunc(tests, func(a, b *starlark.Function) int { return int(a.Position().Line) - int(b.Position().Line) })
	var out []result.CheckResult
	for _, fn := range tests {
		out = append(out, runTest(ctx, path, fn, print, opts))
	}
	return out
}

// runTest runs one test function in a fresh world.
func runTest(ctx context.Context, path string, fn *starlark.Function, print func(*starlark.Thread, string), opts Options) result.CheckResult {
	pos := fn.Position()
	r := result.CheckResult{Name: fn.Name(), File: path, Line: int(pos.Line)}
	if fn.NumParams() != 1 {
		r.Status = result.Fail
		r.Message = fmt.Sprintf("%s:%d: %s takes %d parameters; a test takes one, t: def %s(t):", path, pos.Line, fn.Name(), fn.NumParams(), fn.Name())
		return r
	}
	t := newT(ctx, filepath.Dir(path), opts)
	thread := &starlark.Thread{Name: fn.Name(), Print: print}
	thread.SetMaxExecutionSteps(maxTestStep)
	stop := context.AfterFunc(ctx, func() { thread.Cancel(context.Cause(ctx).Error()) })
	defer stop()
	start := time.Now()
	_, err := starlark.Call(thread, fn, starlark.Tuple{t}, nil)
	r.Duration = time.Since(start)
	if err != nil {
		where := ""
		var ee *starlark.EvalError
		if errors.As(err, &ee) {
			for i := len(ee.CallStack) - 1; i >= 0; i-- {
				if p := ee.CallStack[i].Pos; p.Filename() != "<builtin>" {
					where = fmt.Sprintf("%s:%d: ", p.Filename(), p.Line)
					break
				}
			}
			r.Backtrace = ee.Backtrace()
		}
		t.failures = append(t.failures, where+errMsg(err))
	}
	if len(t.failures) > 0 {
		r.Status = result.Fail
		r.Message = strings.Join(t.failures, "\n")
		return r
	}
	r.Status = result.OK
	return r
}
