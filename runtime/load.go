// This file holds the load phase: executing the script once, resolving its
// load() statements inside the script's root directory, and collecting the
// registered checks.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/result"
)

// Guard is a loaded script, ready to run (and to run again).
type Guard struct {
	Script  string   // path as given, or DefaultScriptName
	Checks  []*Check // in registration order
	load    LoadOptions
	secrets []builtins.SecretValue
}

// Secrets returns the secrets the script read with secret(), for
// registering with an output scrubber before the checks run.
func (g *Guard) Secrets() []builtins.SecretValue { return g.secrets }

// Load runs the load phase of the script at path. When src is non-nil it is
// the script's text and path only names it (the embedded default guard);
// load() then resolves against the working directory. Every problem,
// including a script that registers no checks, is a *LoadError.
func Load(ctx context.Context, path string, src []byte, opts LoadOptions) (*Guard, error) {
	opts = opts.withDefaults()
	ld, err := newLoader(path, src != nil, opts.Extra)
	if err != nil {
		return nil, &LoadError{[]result.Diagnostic{{Msg: err.Error()}}}
	}
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
	defer watchHeap(ctx, opts.MaxHeap, 20*time.Millisecond, cancelLoad)()
	stop := context.AfterFunc(ctx, func() { thread.Cancel(context.Cause(ctx).Error()) })
	defer stop()

	var srcAny any // nil: read the file at path
	if src != nil {
		srcAny = src
	}
	ld.stack = []string{ld.mainAbs}
	err = execMain(thread, path, srcAny, ld.predeclared)
	// Every problem with the environment comes first, all of them, then
	// what stopped the script (often a consequence of one of them).
	errs := cfg.Errors()
	if err != nil {
		ds := diagnose(err)
		if pos, ok := starlarkPos(err); ok && tooManySteps {
			ds = []result.Diagnostic{at(pos, fmt.Sprintf("the load phase exceeded the step budget of %d steps (an endless loop at top level? raise it with --max-steps)", opts.MaxSteps))}
		}
		return nil, &LoadError{append(errs, ds...)}
	}
	errs = append(errs, reg.validate()...)
	if len(errs) == 0 && len(reg.checks) == 0 {
		errs = append(errs, noChecks(path))
	}
	if len(errs) > 0 {
		return nil, &LoadError{errs}
	}
	for _, c := range reg.checks {
		c.freeze()
	}
	return &Guard{Script: path, Checks: reg.checks, load: opts, secrets: cfg.Secrets()}, nil
}

// noChecks is the one wording, for every command and format, of a script
// that loads but registers nothing to run.
func noChecks(path string) result.Diagnostic {
	return result.Diagnostic{File: path, Msg: "the script registers no checks; call check(\"name\", fn) for each thing to verify"}
}

// execMain executes the main script. go.starlark.net panics on some
// allocations (list(range(1<<62))); such a panic becomes a load error, so
// the exit code is 3 and not the 2 of a Go crash, which reads as CRITICAL.
func execMain(thread *starlark.Thread, path string, src any, predeclared starlark.StringDict) (err error) {
	defer func() {
		if p := recover(); p != nil {
			// The Starlark frames are gone by now: name the file only.
			err = &loadedError{d: result.Diagnostic{File: path, Msg: fmt.Sprintf("internal error (recovered panic): %v", p)}}
		}
	}()
	_, err = starlark.ExecFileOptions(dialect, thread, path, src, predeclared)
	return err
}

// loader resolves load() statements: relative to the loading file, never
// outside the root directory (the main script's), through symlinks neither.
// Each module is executed once on the loading thread, so its steps count
// against the load phase's budget.
type loader struct {
	root        string // absolute
	realRoot    string // root with symlinks resolved
	display     string // the main script's directory as the user gave it
	mainAbs     string
	predeclared starlark.StringDict
	cache       map[string]*module // by absolute path
	stack       []string           // absolute paths being loaded, for cycles
}

type module struct {
	globals starlark.StringDict
	err     error
	done    bool
}

func newLoader(path string, embedded bool, extra starlark.StringDict) (*loader, error) {
	abs, err := filepath.Abs(path)
	if embedded {
		abs, err = filepath.Abs(filepath.Base(path))
	}
	if err != nil {
		return nil, err
	}
	root := filepath.Dir(abs)
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &loader{
		root:        root,
		realRoot:    realRoot,
		display:     filepath.Dir(path),
		mainAbs:     abs,
		predeclared: predeclared(extra),
		cache:       map[string]*module{},
	}, nil
}

// resolve maps a load() module string, seen in the file at from (absolute),
// to an absolute path and the name to show in messages.
func (l *loader) resolve(from, name string) (abs, display string, err error) {
	switch {
	case strings.HasPrefix(name, "@"):
		lib, _, _ := strings.Cut(name, "//")
		return "", "", fmt.Errorf("unknown library %s: named libraries (@std, --lib NAME=DIR) are not available yet; load a file relative to this script instead", lib)
	case name == "" || filepath.IsAbs(name):
		return "", "", fmt.Errorf("load(%q): want a path relative to the loading file, like \"lib/web.star\"", name)
	case !strings.HasSuffix(name, ".star"):
		return "", "", fmt.Errorf("load(%q): module names end in .star", name)
	}
	abs = filepath.Join(filepath.Dir(from), filepath.FromSlash(name))
	rel, err := filepath.Rel(l.root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", "", fmt.Errorf("load(%q): %s is outside the script's directory %s; scripts may only load files beside or below them", name, abs, l.root)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", "", fmt.Errorf("load(%q): no such file %s", name, filepath.Join(l.display, rel))
		}
		return "", "", fmt.Errorf("load(%q): %v", name, err)
	}
	if realRel, err := filepath.Rel(l.realRoot, real); err != nil || realRel == ".." || strings.HasPrefix(realRel, ".."+string(filepath.Separator)) {
		return "", "", fmt.Errorf("load(%q): %s is a symlink to %s, outside the script's directory %s", name, filepath.Join(l.display, rel), real, l.root)
	}
	return abs, filepath.Join(l.display, rel), nil
}

func (l *loader) load(thread *starlark.Thread, name string) (starlark.StringDict, error) {
	from := l.stack[len(l.stack)-1]
	abs, display, err := l.resolve(from, name)
	if err != nil {
		return nil, err
	}
	if m, ok := l.cache[abs]; ok {
		if !m.done {
			return nil, fmt.Errorf("load cycle: %s", l.chain(abs))
		}
		return m.globals, m.err
	}
	m := &module{}
	l.cache[abs] = m
	l.stack = append(l.stack, abs)
	m.globals, m.err = starlark.ExecFileOptions(dialect, thread, display, nil, l.predeclared)
	l.stack = l.stack[:len(l.stack)-1]
	m.done = true
	if m.err != nil {
		m.err = loaded(m.err)
	}
	return m.globals, m.err
}

// chain names the files of a load cycle, from the file that started it.
func (l *loader) chain(abs string) string {
	var names []string
	start := 0
	for i, p := range l.stack {
		if p == abs {
			start = i
		}
	}
	for _, p := range append(l.stack[start:], abs) {
		rel, _ := filepath.Rel(l.root, p)
		names = append(names, filepath.Join(l.display, rel))
	}
	return strings.Join(names, " -> ")
}
