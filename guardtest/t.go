package guardtest

// This file holds t, the value every test_*(t) function gets: the
// assertions, which record a failure at the test file's line and let the
// test go on (so one run shows every failure), t.fake, and t.run(), which
// loads a guard under the fakes and runs its checks.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	starlarktime "go.starlark.net/lib/time"

	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

// T is the t of one test.
type T struct {
	ctx      context.Context
	dir      string // the test file's directory: t.run's scripts are relative to it
	world    *world
	fake     *starlarkstruct.Module
	exitCode starlark.Value // of the last t.run(); None before
	failures []string
	opts     Options
}

var _ starlark.HasAttrs = (*T)(nil)

func newT(ctx context.Context, dir string, opts Options) *T {
	w := newWorld(opts.OnSecret)
	return &T{
		ctx:      ctx,
		dir:      dir,
		world:    w,
		fake:     &starlarkstruct.Module{Name: "t.fake", Members: w.fakeModule()},
		exitCode: starlark.None,
		opts:     opts,
	}
}

func (t *T) String() string        { return "<t>" }
func (t *T) Type() string          { return "t" }
func (t *T) Freeze()               {}
func (t *T) Truth() starlark.Bool  { return starlark.True }
func (t *T) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: t") }

var tAttrs = []string{"contains", "eq", "exit_code", "fail", "fails", "fake", "ne", "run", "true"}

func (t *T) AttrNames() []string { return tAttrs }

func (t *T) Attr(name string) (starlark.Value, error) {
	switch name {
	case "fake":
		return t.fake, nil
	case "exit_code":
		return t.exitCode, nil
	}
	fns := map[string]func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error){
		"eq": t.eq, "ne": t.ne, "true": t.isTrue, "contains": t.contains,
		"fails": t.fails, "fail": t.fail, "run": t.run,
	}
	if fn, ok := fns[name]; ok {
		return starlark.NewBuiltin("t."+name, fn), nil
	}
	return nil, nil // starlark reports "t has no .x field or method"
}

// failf records a failure at the test file's line that called the
// assertion.
func (t *T) failf(thread *starlark.Thread, format string, args ...any) {
	pos := thread.CallFrame(1).Pos
	t.failures = append(t.failures, fmt.Sprintf("%s:%d: %s", pos.Filename(), pos.Line, fmt.Sprintf(format, args...)))
}

// t.eq(got, want, msg=None)
func (t *T) eq(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var got, want starlark.Value
	var msg string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "got", &got, "want", &want, "msg?", &msg); err != nil {
		return nil, err
	}
	eq, err := starlark.Equal(got, want)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if !eq {
		t.failf(thread, "t.eq: got %s, want %s%s", repr(got), repr(want), suffix(msg))
	}
	return starlark.None, nil
}

// t.ne(got, other, msg=None)
func (t *T) ne(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var got, other starlark.Value
	var msg string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "got", &got, "other", &other, "msg?", &msg); err != nil {
		return nil, err
	}
	eq, err := starlark.Equal(got, other)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if eq {
		t.failf(thread, "t.ne: got %s, want anything else%s", repr(got), suffix(msg))
	}
	return starlark.None, nil
}

// t.true(x, msg=None)
func (t *T) isTrue(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value
	var msg string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x", &x, "msg?", &msg); err != nil {
		return nil, err
	}
	if !x.Truth() {
		t.failf(thread, "t.true: got %s, which is false%s", repr(x), suffix(msg))
	}
	return starlark.None, nil
}

// t.contains(container, item): item in container; for strings, a
// substring.
func (t *T) contains(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var container, item starlark.Value
	var msg string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "container", &container, "item", &item, "msg?", &msg); err != nil {
		return nil, err
	}
	in, err := starlark.Binary(syntax.IN, item, container)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if !in.Truth() {
		t.failf(thread, "t.contains: %s does not contain %s%s", repr(container), repr(item), suffix(msg))
	}
	return starlark.None, nil
}

// t.fails(fn, pattern): calling fn raises an error that matches the
// regular expression pattern.
func (t *T) fails(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fn starlark.Callable
	var pattern string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "fn", &fn, "pattern", &pattern); err != nil {
		return nil, err
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: pattern: %v", b.Name(), err)
	}
	_, callErr := starlark.Call(thread, fn, nil, nil)
	switch {
	case callErr == nil:
		t.failf(thread, "t.fails: %s returned without an error; want one matching %q", fn.Name(), pattern)
	case !re.MatchString(errMsg(callErr)):
		t.failf(thread, "t.fails: %s failed with %q, which does not match %q", fn.Name(), errMsg(callErr), pattern)
	}
	return starlark.None, nil
}

// errMsg is an error's message without Starlark's backtrace.
func errMsg(err error) string {
	if e, ok := err.(*starlark.EvalError); ok {
		return e.Msg
	}
	return err.Error()
}

// t.fail(msg)
func (t *T) fail(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var msg string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "msg", &msg); err != nil {
		return nil, err
	}
	t.failf(thread, "%s", msg)
	return starlark.None, nil
}

// t.run(script="guard.star", only=None, tags=None, args=None) loads the
// guard under the fakes, runs the checks selected as --only and --tag
// select them, and returns {check name: result}; t.exit_code is the run's
// exit code. args are run flags as on the command line: --only, --skip,
// --tag, --warn-ok, --timeout and --check-timeout.
func (t *T) run(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		script                              = "guard.star"
		only, tags, flagArgs starlark.Value = starlark.None, starlark.None, starlark.None
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "script?", &script, "only?", &only, "tags?", &tags, "args?", &flagArgs); err != nil {
		return nil, err
	}
	var sel runtime.Selection
	var err error
	if sel.Only, err = names(only); err != nil {
		return nil, fmt.Errorf("%s: only: %v", b.Name(), err)
	}
	if sel.Tags, err = names(tags); err != nil {
		return nil, fmt.Errorf("%s: tags: %v", b.Name(), err)
	}
	fl, err := names(flagArgs)
	if err != nil {
		return nil, fmt.Errorf("%s: args: %v", b.Name(), err)
	}
	runFlags, err := parseRunFlags(fl)
	if err != nil {
		return nil, fmt.Errorf("%s: args: %v", b.Name(), err)
	}
	sel.Only = append(sel.Only, runFlags.sel.Only...)
	sel.Tags = append(sel.Tags, runFlags.sel.Tags...)
	sel.Skip = runFlags.sel.Skip
	path := script
	if !filepath.IsAbs(path) {
		path = filepath.Join(t.dir, script)
	}
	w := t.world
	rep, err := runtime.Execute(t.ctx, runtime.Script{Path: path}, runtime.Options{
		Load: runtime.LoadOptions{
			Env:      w.lookupEnv,
			Logger:   t.opts.Logger,
			OnSecret: t.opts.OnSecret,
		},
		Run: runtime.RunOptions{Deps: w.deps(), Logger: t.opts.Logger, QuietErrors: true,
			Timeout: runFlags.timeout, CheckTimeout: runFlags.checkTimeout},
		Select: sel,
		WarnOK: runFlags.warnOK,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if len(rep.Errors) > 0 {
		var ds []string
		for _, d := range rep.Errors {
			ds = append(ds, d.String())
		}
		return nil, fmt.Errorf("%s: %s does not load:\n%s", b.Name(), script, strings.Join(ds, "\n"))
	}
	// A probe with no fake makes its check UNKNOWN, with words that say
	// which fake to add, whatever the check made of the error.
	w.mu.Lock()
	for i := range rep.Checks {
		if m := w.misses[rep.Checks[i].Name]; len(m) > 0 {
			rep.Checks[i].Status = result.Unknown
			rep.Checks[i].Message = strings.Join(m, "; ")
		}
	}
	w.mu.Unlock()
	rep.ExitCode = result.Judge(rep, runFlags.warnOK)
	t.exitCode = starlark.MakeInt(int(rep.ExitCode))
	out := starlark.NewDict(len(rep.Checks))
	for _, c := range rep.Checks {
		metrics := starlark.NewDict(len(c.Metrics))
		for _, m := range c.Metrics {
			metrics.SetKey(starlark.String(m.Name), starlark.Float(m.Value))
		}
		out.SetKey(starlark.String(c.Name), starlarkstruct.FromStringDict(starlark.String("check_result"), starlark.StringDict{
			"status":   starlark.String(c.Status.String()),
			"message":  starlark.String(c.Message),
			"metrics":  metrics,
			"duration": starlarktime.Duration(c.Duration),
		}))
	}
	return out, nil
}

// names reads None, a string or a list of strings.
func names(v starlark.Value) ([]string, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.String:
		return []string{string(v)}, nil
	case *starlark.List:
		var out []string
		for i := range v.Len() {
			s, ok := starlark.AsString(v.Index(i))
			if !ok {
				return nil, fmt.Errorf("item %d is %s; want a string", i, v.Index(i).Type())
			}
			out = append(out, s)
		}
		sort.Strings(out)
		return out, nil
	}
	return nil, fmt.Errorf("got %s; want a string or a list of strings", v.Type())
}

func repr(v starlark.Value) string {
	s := v.String()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return " (" + msg + ")"
}

// runFlags are the run flags t.run(args=) understands.
type runFlags struct {
	sel                   runtime.Selection
	warnOK                bool
	timeout, checkTimeout time.Duration
}

// parseRunFlags reads args as infra-guard run reads its flags.
func parseRunFlags(args []string) (runFlags, error) {
	var f runFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	list := func(dst *[]string) func(string) error {
		return func(v string) error {
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					*dst = append(*dst, s)
				}
			}
			return nil
		}
	}
	fs.Func("only", "", list(&f.sel.Only))
	fs.Func("skip", "", list(&f.sel.Skip))
	fs.Func("tag", "", list(&f.sel.Tags))
	fs.BoolVar(&f.warnOK, "warn-ok", false, "")
	fs.DurationVar(&f.timeout, "timeout", 0, "")
	fs.DurationVar(&f.checkTimeout, "check-timeout", 0, "")
	if err := fs.Parse(args); err != nil {
		return f, fmt.Errorf("%v (known: --only, --skip, --tag, --warn-ok, --timeout, --check-timeout)", err)
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected %q: args are run flags, the script is script=", fs.Arg(0))
	}
	return f, nil
}
