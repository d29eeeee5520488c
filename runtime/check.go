package runtime

// This file holds check(): the registry that the load phase fills, and the
// validation of names and after= dependencies once the script has loaded.

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/result"
)

// Check is one registered check.
type Check struct {
	Name    string
	Fn      starlark.Callable
	Args    starlark.Tuple
	Kwargs  []starlark.Tuple
	Timeout time.Duration // 0: the run's --check-timeout
	Tags    []string
	After   []string
	File    string // where check() was called
	Line    int
	Col     int
	// Interval, FailAfter and OkAfter are for serve, which runs each check
	// on its own schedule; run ignores them. Interval 0: serve's --interval.
	// FailAfter and OkAfter (0 or 1: at once) are how many consecutive
	// results it takes to change the status serve reports.
	Interval  time.Duration
	FailAfter int
	OkAfter   int
}

// result is the start of the check's result: who it is, not how it went.
func (c *Check) result() result.CheckResult {
	return result.CheckResult{Name: c.Name, Tags: c.Tags, File: c.File, Line: c.Line}
}

// at is a Diagnostic at the check() call.
func (c *Check) at(msg string) result.Diagnostic {
	return result.Diagnostic{File: c.File, Line: c.Line, Col: c.Col, Msg: msg}
}

func (c *Check) freeze() {
	c.Fn.Freeze()
	c.Args.Freeze()
	for _, kv := range c.Kwargs {
		kv.Freeze()
	}
}

// MinInterval is the shortest check(interval=) serve accepts: shorter
// would only burn CPU and flood the history.
const MinInterval = 100 * time.Millisecond

const registryKey = "infra-guard.registry"

// MaxChecks is the most checks a guard may register. A run gives every
// check a goroutine, a thread and a result: 600,000 of them took gigabytes
// before the first ran, which the heap watchdog of the run phase never saw.
const MaxChecks = 100_000

type registry struct {
	checks []*Check
	byName map[string]*Check
}

// check(name, fn, args=[], kwargs={}, timeout=None, tags=[], after=[],
// interval=None, fail_after=1, ok_after=1)
func checkBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	reg, _ := thread.Local(registryKey).(*registry)
	if reg == nil {
		return nil, fmt.Errorf("check: can only be called while the script loads, at top level or in a function called from there, not inside a check")
	}
	// One struct for every argument: UnpackArgs takes their addresses, so
	// separate variables would each escape to the heap, ten allocations for
	// every check() of a guard that registers thousands.
	a := struct {
		name    string
		fn      starlark.Callable
		fnArgs  starlark.Iterable
		fnKw    *starlark.Dict
		timeout builtins.Duration // None: the run's --check-timeout
		tags    builtins.StringList
		after   builtins.StringList
		// For serve only (run ignores them).
		interval  builtins.Duration // None: serve's --interval
		failAfter int
		okAfter   int
	}{fnArgs: starlark.Tuple(nil), failAfter: 1, okAfter: 1}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"name", &a.name, "fn", &a.fn, "args?", &a.fnArgs, "kwargs?", &a.fnKw,
		"timeout??", &a.timeout, "tags?", &a.tags, "after?", &a.after,
		"interval??", &a.interval, "fail_after?", &a.failAfter, "ok_after?", &a.okAfter); err != nil {
		return nil, err
	}
	name, interval, failAfter, okAfter := a.name, a.interval, a.failAfter, a.okAfter
	if strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("check: name must not be empty")
	}
	if len(reg.checks) >= MaxChecks {
		return nil, fmt.Errorf("check: more than %d checks; each runs on its own goroutine and thread, and a guard this large is a loop gone wrong (split it into several guards)", MaxChecks)
	}
	if interval != 0 && time.Duration(interval) < MinInterval {
		return nil, fmt.Errorf("check %q: interval=%s is too short; use at least %s, like interval=\"30s\"", name, time.Duration(interval), MinInterval)
	}
	if failAfter < 1 || okAfter < 1 {
		return nil, fmt.Errorf("check %q: fail_after and ok_after count consecutive results and must be at least 1, got fail_after=%d, ok_after=%d", name, failAfter, okAfter)
	}
	pos := thread.CallFrame(1).Pos
	c := &Check{Name: name, Fn: a.fn, Timeout: time.Duration(a.timeout), Tags: a.tags, After: a.after,
		File: pos.Filename(), Line: int(pos.Line), Col: int(pos.Col),
		Interval: time.Duration(interval), FailAfter: failAfter, OkAfter: okAfter}
	if prev, dup := reg.byName[name]; dup {
		return nil, fmt.Errorf("check: duplicate name %q: already registered at %s:%d:%d; names must be unique", name, prev.File, prev.Line, prev.Col)
	}
	if t, ok := a.fnArgs.(starlark.Tuple); ok {
		c.Args = t // tuples are immutable; freeze() freezes what they hold
	} else {
		for v := range starlark.Elements(a.fnArgs) {
			c.Args = append(c.Args, v)
		}
	}
	if a.fnKw != nil {
		for _, kv := range a.fnKw.Items() {
			k, ok := kv[0].(starlark.String)
			if !ok {
				return nil, fmt.Errorf("check %q: kwargs keys must be strings, got %s", name, kv[0].Type())
			}
			c.Kwargs = append(c.Kwargs, starlark.Tuple{k, kv[1]})
		}
	}
	if reg.byName == nil {
		reg.byName = map[string]*Check{}
	}
	reg.byName[name] = c
	reg.checks = append(reg.checks, c)
	return starlark.None, nil
}

// validate reports unknown after= names and dependency cycles.
func (r *registry) validate() []result.Diagnostic {
	var errs []result.Diagnostic
	deps := false
	for _, c := range r.checks {
		deps = deps || len(c.After) > 0
		for _, dep := range c.After {
			if _, ok := r.byName[dep]; !ok {
				errs = append(errs, c.at(fmt.Sprintf("check %q: after names unknown check %q%s", c.Name, dep, suggest(dep, r.byName))))
			}
		}
	}
	if len(errs) > 0 || !deps {
		return errs
	}
	// Depth-first search; a grey node reached again closes a cycle.
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var path []string
	var visit func(name string) []string
	visit = func(name string) []string {
		color[name] = grey
		path = append(path, name)
		for _, dep := range r.byName[name].After {
			switch color[dep] {
			case grey:
				i := 0
				for path[i] != dep {
					i++
				}
				return append(append([]string{}, path[i:]...), dep)
			case white:
				if cyc := visit(dep); cyc != nil {
					return cyc
				}
			}
		}
		path = path[:len(path)-1]
		color[name] = black
		return nil
	}
	for _, c := range r.checks {
		if color[c.Name] == white {
			if cyc := visit(c.Name); cyc != nil {
				first := r.byName[cyc[0]]
				return []result.Diagnostic{first.at(fmt.Sprintf("checks depend on each other in a cycle: %s; remove one of these after= entries", strings.Join(quoteAll(cyc), " -> ")))}
			}
		}
	}
	return nil
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}

// suggest offers the registered names when an after= name is unknown.
func suggest(name string, known map[string]*Check) string {
	names := make([]string, 0, len(known))
	for n := range known {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) > 10 {
		return ""
	}
	return fmt.Sprintf(" (registered: %s)", strings.Join(quoteAll(names), ", "))
}
