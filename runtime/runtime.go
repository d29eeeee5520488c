// Package runtime loads guard scripts and runs their checks.
//
// A run has two phases (docs/design.md). The load phase executes the script once,
// on one thread, with no side effects: it reads configuration and registers
// checks with check(). The run phase freezes everything the script built and
// runs each check in its own starlark.Thread, concurrently, each under its own
// deadline and step budget. The result is a Report, and ExitCode maps it to
// the Nagios exit code.
package runtime

import (
	"log/slog"
	"time"

	"go.starlark.net/lib/math"
	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/infra-guard/infra-guard/builtins"
)

// DefaultScript is the guard that runs when no script is given and there is
// no ./guard.star: root disk, inodes, memory and load on whatever machine
// this is. It loads @std//default.star (starlib/default.star), the same way
// a user's guard can, so its load()s resolve inside @std and its checks'
// positions name that module.
var DefaultScript = []byte(`load("@std//default.star", "CHECKS")` + "\n")

// DefaultScriptName is how the embedded default guard is named in reports.
const DefaultScriptName = "(built-in default guard)"

// Defaults for Options fields left zero.
const (
	DefaultCheckTimeout = 30 * time.Second
	DefaultMaxSteps     = 10_000_000
	DefaultMaxHeap      = 1 << 30 // bytes
	// The default concurrency is DefaultConcurrency(), in concurrency.go.
)

// LoadOptions control the load phase: executing the script once to read
// its configuration and register its checks.
type LoadOptions struct {
	MaxSteps uint64 // Starlark steps for the whole load phase
	MaxHeap  uint64 // bytes of Go heap past which loading is cancelled
	// Logger receives print() and what the runtime has to say; the loaded
	// guard keeps it for its runs unless RunOptions names another.
	Logger *slog.Logger
	// Extra names to predeclare beside the builtins, for programs that embed
	// the runtime (and for tests that need a builtin they control).
	Extra starlark.StringDict
	// Env looks up the variables env() and secret() read, while loading and
	// in checks; nil means os.LookupEnv. Tests inject variables here
	// instead of os.Setenv.
	Env func(name string) (string, bool)
	// OnSecret, when not nil, is called with every secret the script reads,
	// as soon as it is read: before Load returns, and also when the load
	// fails, so the caller can register it with its output scrubber before
	// anything that might hold it is written.
	OnSecret func(name, value string)
	// Libs says where team libraries (load("@NAME//…")) come from.
	Libs LibOptions
	// Placeholders lets the load go on when env(), require_env() or
	// secret() name a variable that is not set: each gets its typed zero
	// value and a note in Guard.Notes instead of an error, so vet and list
	// work without the real configuration (a pre-commit hook, CI without
	// secrets). Never for a run: its checks would use the placeholders.
	Placeholders bool

	lintDone bool // VetAll has linted every file already
}

func (o LoadOptions) withDefaults() LoadOptions {
	if o.MaxSteps == 0 {
		o.MaxSteps = DefaultMaxSteps
	}
	if o.MaxHeap == 0 {
		o.MaxHeap = DefaultMaxHeap
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// RunOptions control one run of a loaded guard. A guard can be run again
// with other RunOptions (a --wait round, a serve interval).
type RunOptions struct {
	Timeout      time.Duration // whole run; 0 means no run deadline
	CheckTimeout time.Duration // per check unless check(timeout=) says otherwise
	Concurrency  int           // checks running at once; 0: DefaultConcurrency()
	MaxSteps     uint64        // Starlark steps per check
	MaxHeap      uint64        // bytes of Go heap past which the run is cancelled
	Logger       *slog.Logger  // nil: the logger the guard was loaded with
	// QuietErrors leaves out of the log what the report already shows in
	// full — a check's error, a script's load errors — for when both go to
	// the same terminal and would show each problem twice.
	QuietErrors bool
	// Deps is what the checks' builtins read the machine, the network and
	// the clock through; nil means builtins.DefaultDeps(). Keep one for
	// every run of a guard, so its HTTP connections are reused.
	Deps *builtins.Deps

	print func(*starlark.Thread, string) // print() in checks, made once per run by withDefaults
}

func (o RunOptions) withDefaults(g *Guard) RunOptions {
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = DefaultCheckTimeout
	}
	if o.Concurrency <= 0 {
		// No default is below the floor, so a guard of no more checks than
		// that never reaches it: it need not read the machine's limits
		// (three files, a few per cent of a small guard's run).
		if len(g.Checks) <= minDefaultConcurrency {
			o.Concurrency = minDefaultConcurrency
		} else {
			o.Concurrency = DefaultConcurrency()
		}
	}
	if o.MaxSteps == 0 {
		o.MaxSteps = DefaultMaxSteps
	}
	if o.MaxHeap == 0 {
		o.MaxHeap = DefaultMaxHeap
	}
	if o.Logger == nil {
		o.Logger = g.load.Logger
	}
	o.print = printer(o.Logger)
	return o
}

// dialect is the Starlark dialect of guard scripts (docs/design.md).
var dialect = &syntax.FileOptions{
	Set:             true,
	While:           true,
	TopLevelControl: true,
	Recursion:       true,
	GlobalReassign:  false,
}

// predeclared returns the names every script sees: the builtins, check()
// and the go.starlark.net library modules.
func predeclared(extra starlark.StringDict) starlark.StringDict {
	d := builtins.Predeclared()
	for k, v := range extra {
		d[k] = v
	}
	d["check"] = starlark.NewBuiltin("check", checkBuiltin)
	d["json"] = jsonModule
	d["time"] = starlarktime.Module
	d["math"] = math.Module
	d["struct"] = starlark.NewBuiltin("struct", starlarkstruct.Make)
	guardSized(d)
	// The universal builtins that can run for minutes on one value (str
	// of a 600,000-deep list), so that a check stuck in one is named.
	for _, name := range []string{"str", "repr"} {
		d[name] = starlark.Universe[name]
	}
	tracked(d, builtins.Predeclared())
	return d
}

// printer turns Starlark print() into a log record naming the script line.
func printer(logger *slog.Logger) func(*starlark.Thread, string) {
	return func(thread *starlark.Thread, msg string) {
		pos := thread.CallFrame(1).Pos
		attrs := []any{"script", pos.Filename(), "line", pos.Line}
		if thread.Name != "" {
			attrs = append(attrs, "check", thread.Name)
		}
		logger.Info(msg, attrs...)
	}
}
