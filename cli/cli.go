// Package cli is infra-guard's command line: it parses flags (and their
// INFRA_GUARD_* environment variables), sets up logging and signals, and
// drives the runtime. main only calls Main and exits with what it returns.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/peterbourgon/ff/v3"
	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/libs"
	"github.com/infra-guard/infra-guard/redact"
	"github.com/infra-guard/infra-guard/report"
	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

// Env is what a run may see of its process environment.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	StdoutIsTTY    bool
	StderrIsTTY    bool // for the live --wait status line
}

// selectionError is an --only, --skip or --tag naming what the script
// does not have.
type selectionError struct{ error }

// exitError carries the exit code of a command that ran.
type exitError struct{ code result.ExitCode }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Main runs infra-guard with args (without the program name) and returns the
// process exit code. SIGINT and SIGTERM cancel the run; a second one ends
// the process at once.
func Main(args []string, env Env) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	// With SIGPIPE noticed, a write to a closed stdout or stderr fails with
	// EPIPE instead of killing the process: the report files still get
	// written and the exit code stays one of ours.
	pipes := make(chan os.Signal, 1)
	signal.Notify(pipes, syscall.SIGPIPE)
	defer signal.Stop(pipes)
	go func() {
		select {
		case sig := <-sigs:
			// Back to the default action for the next signal: if writing
			// the report hangs (a stuck pipe or NFS mount), a second
			// Ctrl-C or SIGTERM must still end the process.
			signal.Stop(sigs)
			cancel(fmt.Errorf("interrupted by %s", sigName(sig)))
		case <-ctx.Done():
		}
	}()
	return run(ctx, args, env)
}

func sigName(sig os.Signal) string {
	if s, ok := sig.(syscall.Signal); ok {
		switch s {
		case syscall.SIGTERM:
			return "SIGTERM"
		case syscall.SIGINT:
			return "SIGINT"
		}
	}
	return sig.String()
}

func run(ctx context.Context, args []string, env Env) int {
	// Every byte this invocation writes goes through the scrubber; the
	// script's secrets join it as the load phase reads them. Until the load
	// phase is over (releaseOutput), output is held back, so that what the
	// script printed before it read a secret is scrubbed of it too.
	scrub := redact.New()
	stdout, stderr := scrub.Writer(env.Stdout), scrub.Writer(env.Stderr)
	stdout.Hold()
	stderr.Hold()
	scrub.Defer() // both streams are held: scrub once, at release
	raw := env.Stdout
	status := &liveLine{w: stderr}
	env.Stdout, env.Stderr = stdout, status
	defer stdout.Close()
	defer stderr.Close()

	app := newApp(env)
	app.status = status
	app.scrub = scrub
	app.rawStdout = raw
	app.flushStdout = stdout.Close
	app.release = func() {
		scrub.Resume()
		stderr.Release()
		stdout.Release()
	}
	root := app.commands()
	app.usageOf = root
	err := root.Parse(withRun(root, args))
	if err == nil {
		err = root.Run(ctx)
	}
	var exit exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return int(exit.code)
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintln(env.Stdout, ffcli.DefaultUsageFunc(app.usageOf))
		return 0
	case errors.As(err, new(selectionError)):
		// The flags parsed; the script just lacks what they name. The
		// message lists what it has; the usage text would bury that.
		fmt.Fprintf(env.Stderr, "infra-guard: %v\n", err)
		return int(result.ExitUnknown)
	}
	// Anything else is bad input on the command line (unknown flag, bad
	// value in a flag or an INFRA_GUARD_* variable): one line, then usage.
	fmt.Fprintf(env.Stderr, "infra-guard: %v\n\n%s\n", err, ffcli.DefaultUsageFunc(app.usageOf))
	return int(result.ExitUnknown)
}

// app holds the parsed flags shared by the commands.
type app struct {
	env     Env
	scrub   *redact.Scrubber // in front of env.Stdout and env.Stderr
	release func()           // see releaseOutput
	// rawStdout bypasses the scrubber. Only ::add-mask:: commands go there,
	// in GitHub Actions, whose runner consumes them and masks the values.
	rawStdout    io.Writer
	secretValues []string       // what secret() read, for ::add-mask::
	githubTaken  bool           // the step summary and outputs went to a reporter already
	flushStdout  func() error   // writes on what the stdout scrubber holds back
	status       *liveLine      // stderr, where --wait shows its live line on a terminal
	usageOf      *ffcli.Command // the command whose usage to show on a usage error

	timeout      time.Duration
	checkTimeout time.Duration
	concurrency  int
	maxSteps     uint64
	maxHeap      uint64
	format       string
	logFormat    string
	logLevel     string
	warnOK       bool
	reports      []reportFile // --report FORMAT=PATH
	selection    runtime.Selection
	wait         time.Duration
	interval     time.Duration
	quiet        bool
	colorMode    string   // auto, always or never
	pluginDirs   []string // --plugin-dir; nil: builtins.DefaultPluginDirs

	libs []libs.Spec // --lib
}

// releaseOutput lets env.Stdout and env.Stderr write on, at the end of
// the load phase, once every secret is registered.
func (a *app) releaseOutput() {
	if a.release != nil {
		a.release()
	}
}

func newApp(env Env) *app {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	return &app{env: env}
}

// The flag sets: each command registers the groups it uses.
func (a *app) logFlags(fs *flag.FlagSet) {
	fs.StringVar(&a.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.StringVar(&a.logLevel, "log-level", "info", "least severe log level shown: debug, info, warn or error")
	a.maxSteps = runtime.DefaultMaxSteps
	fs.Var(positive(&a.maxSteps, parseUint), "max-steps", "Starlark steps allowed per check and for loading the script")
}

func (a *app) runFlags(fs *flag.FlagSet) {
	a.logFlags(fs)
	a.timeout, a.checkTimeout = 5*time.Minute, runtime.DefaultCheckTimeout
	fs.Var(&flagValue[time.Duration]{dst: &a.timeout, parse: durationAtLeast(0)}, "timeout", "deadline for the whole run, loading and every --wait round included; 0 for none")
	a.maxHeap = runtime.DefaultMaxHeap
	fs.Var(&flagValue[uint64]{dst: &a.maxHeap, parse: parseSize, format: formatSize}, "max-heap", "cancel the run when the heap grows past this, e.g. 512MiB or 2GiB")
	fs.Var(&flagValue[time.Duration]{dst: &a.checkTimeout, parse: durationAtLeast(time.Millisecond)}, "check-timeout", "deadline for each check without its own timeout=")
	fs.Var(concurrencyFlag(&a.concurrency), "concurrency", concurrencyUsage)
	a.format = "text"
	fs.Var(&flagValue[string]{dst: &a.format, parse: oneOf(report.Names()...)}, "format", "report format on stdout: "+strings.Join(report.Names(), ", "))
	fs.Var(&boolFlag{&a.warnOK}, "warn-ok", "exit 0 when the worst result is a warning (for pipelines that gate on failures only)")
	fs.Var(&boolFlag{&a.quiet}, "quiet", "text format: show only the checks that did not pass, and the summary")
	a.colorMode = "auto"
	fs.Var(&flagValue[string]{dst: &a.colorMode, parse: oneOf("auto", "always", "never")}, "color", "colour in the text format: auto (on a terminal, unless NO_COLOR is set), always or never")
	fs.Func("report", "also write a report in FORMAT to PATH, as FORMAT=PATH (repeatable), e.g. junit=guard.xml", a.addReport)
	fs.Func("only", "run only these checks (comma-separated, repeatable), and what they run after", appendList(&a.selection.Only))
	fs.Func("skip", "do not run these checks (comma-separated, repeatable)", appendList(&a.selection.Skip))
	fs.Func("tag", "run only checks with one of these tags (comma-separated, repeatable)", appendList(&a.selection.Tags))
	fs.Var(&flagValue[time.Duration]{dst: &a.wait, parse: durationAtLeast(0)}, "wait", "run the checks again until none fails or this much time has passed, e.g. 2m (for \"wait until up\" steps)")
	a.interval = 2 * time.Second
	fs.Var(&flagValue[time.Duration]{dst: &a.interval, parse: durationAtLeast(minInterval)}, "interval", "with --wait, time between rounds")
	fs.Func("plugin-dir", "directory plugin() runs plugins from, instead of "+strings.Join(builtins.DefaultPluginDirs, " and ")+" (repeatable; in INFRA_GUARD_PLUGIN_DIR, separate several with :)", a.addPluginDir)
}

// addPluginDir adds directories to plugin()'s allowlist. They must be
// absolute: a relative one would depend on where the tool was started.
func (a *app) addPluginDir(v string) error {
	for _, dir := range strings.Split(v, ":") {
		if dir == "" {
			continue
		}
		if !filepath.IsAbs(dir) {
			return fmt.Errorf("%q is not an absolute path; plugin directories must be absolute", dir)
		}
		a.pluginDirs = append(a.pluginDirs, filepath.Clean(dir))
	}
	return nil
}

// flagValue is a flag of any type with its own parser, so that a bad flag or
// INFRA_GUARD_* value is a usage error that says what is wanted instead of
// a silent default.
type flagValue[T any] struct {
	dst    *T
	parse  func(string) (T, error)
	format func(T) string // nil: fmt.Sprint
}

func (f *flagValue[T]) String() string {
	switch {
	case f == nil || f.dst == nil:
		return ""
	case f.format != nil:
		return f.format(*f.dst)
	}
	return fmt.Sprint(*f.dst)
}

func (f *flagValue[T]) Set(v string) error {
	n, err := f.parse(v)
	if err != nil {
		return err
	}
	*f.dst = n
	return nil
}

// positive is a number flag that refuses zero and negative values.
func positive[T int | uint64](dst *T, parse func(string) (T, error)) *flagValue[T] {
	return &flagValue[T]{dst: dst, parse: func(v string) (T, error) {
		n, err := parse(v)
		if err != nil || n <= 0 {
			return n, fmt.Errorf("want a positive number")
		}
		return n, nil
	}}
}

// concurrencyFlag is --concurrency. Unset it is 0, shown as "auto": the
// runtime works the number out (runtime.DefaultConcurrency).
func concurrencyFlag(dst *int) *flagValue[int] {
	f := positive(dst, strconv.Atoi)
	f.format = func(n int) string {
		if n == 0 {
			return "auto"
		}
		return strconv.Itoa(n)
	}
	return f
}

const concurrencyUsage = "checks running at once; auto: as many as the open-file limit allows at two files each, " +
	"and memory at 256 KiB each, from 16 to 10000 (docs/design.md)"

// minInterval keeps --wait from busy-looping: rounds closer than this
// would only burn CPU and flood the log.
const minInterval = 100 * time.Millisecond

// durationAtLeast parses a duration flag no shorter than least; 0 is
// allowed only when least is 0 (meaning "none"). A bare number is the
// commonest mistake, so it gets its own hint.
func durationAtLeast(least time.Duration) func(string) (time.Duration, error) {
	return func(v string) (time.Duration, error) {
		if _, err := strconv.ParseFloat(v, 64); err == nil && v != "0" {
			return 0, fmt.Errorf("a duration needs a unit, like %ss or %sm", v, v)
		}
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			return 0, fmt.Errorf("want a duration like 500ms, 30s or 5m")
		case least > 0 && d < least:
			return 0, fmt.Errorf("want a duration of at least %s, like 30s", least)
		case d < 0:
			return 0, fmt.Errorf("want a duration of 0 (none) or more, like 30s")
		}
		return d, nil
	}
}

// oneOf parses a flag whose value is one of names.
func oneOf(names ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		if !slices.Contains(names, v) {
			return "", fmt.Errorf("want one of %s", strings.Join(names, ", "))
		}
		return v, nil
	}
}

// boolFlag is a boolean flag that also takes the usual spellings in a
// variable or after "=": yes/no, on/off, true/false, 1/0.
type boolFlag struct{ dst *bool }

func (b *boolFlag) IsBoolFlag() bool { return true }

func (b *boolFlag) String() string {
	if b == nil || b.dst == nil {
		return "false"
	}
	return strconv.FormatBool(*b.dst)
}

func (b *boolFlag) Set(v string) error {
	switch strings.ToLower(v) {
	case "1", "t", "true", "yes", "y", "on":
		*b.dst = true
	case "0", "f", "false", "no", "n", "off":
		*b.dst = false
	default:
		return fmt.Errorf("want true or false (or yes/no, on/off)")
	}
	return nil
}

// boolWords are what a user may have meant as a boolean flag's value,
// written after a space ("--warn-ok yes"), where the flag package takes it
// for the script.
var boolWords = []string{"1", "0", "t", "f", "true", "false", "yes", "no", "y", "n", "on", "off"}

// appendList makes a repeatable flag whose values may also be comma-separated.
func appendList(dst *[]string) func(string) error {
	return func(v string) error {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				*dst = append(*dst, item)
			}
		}
		return nil
	}
}

// parseSize reads a byte size in MiB or GiB, like 512MiB or 2GiB.
func parseSize(v string) (uint64, error) {
	num, unit := v, uint64(0)
	for suffix, mult := range map[string]uint64{"MiB": 1 << 20, "GiB": 1 << 30} {
		if n, ok := strings.CutSuffix(v, suffix); ok {
			num, unit = n, mult
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
	if unit == 0 || err != nil || n == 0 || n > math.MaxUint64/unit {
		return 0, fmt.Errorf("want a size like 512MiB or 2GiB")
	}
	return n * unit, nil
}

func formatSize(n uint64) string {
	if n%(1<<30) == 0 {
		return fmt.Sprintf("%dGiB", n>>30)
	}
	return fmt.Sprintf("%dMiB", n>>20)
}

func parseUint(v string) (uint64, error) { return strconv.ParseUint(v, 10, 64) }

func (a *app) flagSet(name string, groups ...func(*flag.FlagSet)) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints the error and usage once, itself
	for _, g := range groups {
		g(fs)
	}
	return fs
}

func (a *app) commands() *ffcli.Command {
	runCmd := a.command(&ffcli.Command{
		Name:       "run",
		ShortUsage: "infra-guard run [flags] [SCRIPT]",
		ShortHelp:  "run the checks of SCRIPT (default ./guard.star, else the built-in default guard)",
		FlagSet:    a.flagSet("run", a.runFlags, a.libFlags),
		Exec:       a.execRun,
	})
	vetCmd := a.vetCommand()
	listCmd := a.command(&ffcli.Command{
		Name:       "list",
		ShortUsage: "infra-guard list [flags] [SCRIPT]",
		ShortHelp:  "list the checks SCRIPT registers, with their tags and timeouts",
		FlagSet:    a.flagSet("list", a.logFlags, a.libFlags, a.loadTimeoutFlag),
		Exec:       a.execList,
	})
	root := &ffcli.Command{
		Name:       "infra-guard",
		ShortUsage: "infra-guard [command] [flags] [SCRIPT]",
		LongHelp: "Runs the health checks of a Starlark guard script and exits 0 (ok), 1 (warn),\n" +
			"2 (fail) or 3 (unknown: the script or the command line is broken).\n" +
			"With no command, runs SCRIPT as \"run\" does. Every flag can also be set as\n" +
			"INFRA_GUARD_<FLAG>, e.g. INFRA_GUARD_CHECK_TIMEOUT=10s.",
		FlagSet: a.flagSet("infra-guard"),
	}
	root.Subcommands = append([]*ffcli.Command{runCmd, vetCmd, listCmd, a.testCommand(), a.fmtCommand(), a.serveCommand(), a.libsCommand(), a.docCommand()},
		a.metaCommands(root)...)
	root.Exec = func(_ context.Context, args []string) error {
		if len(args) == 0 { // withRun made every other call "run"
			return flag.ErrHelp
		}
		return fmt.Errorf("unknown command %q (commands: %s; a script path ends in .star)", args[0], strings.Join(commandNames(root), ", "))
	}
	return a.command(root)
}

// withRun makes "run" the command when args name none: "infra-guard
// guard.star --format json" is "infra-guard run guard.star --format json".
// A first word that is neither a command nor a script is an unknown command.
func withRun(root *ffcli.Command, args []string) []string {
	if len(args) > 0 {
		switch first := args[0]; {
		case first == "-h" || first == "-help" || first == "--help":
			return args
		case slices.ContainsFunc(root.Subcommands, func(c *ffcli.Command) bool { return c.Name == first }):
			return args
		case !strings.HasPrefix(first, "-") && !strings.HasSuffix(first, ".star"):
			if _, err := os.Stat(first); err != nil {
				return args // the root command says it is unknown
			}
		}
	}
	return append([]string{"run"}, args...)
}

// command completes a command: INFRA_GUARD_* variables for its flags, its
// usage shown on errors, and flags accepted after the script too.
func (a *app) command(c *ffcli.Command) *ffcli.Command {
	c.Options = []ff.Option{ff.WithEnvVarPrefix("INFRA_GUARD")}
	c.UsageFunc = func(c *ffcli.Command) string {
		a.usageOf = c
		return ffcli.DefaultUsageFunc(c)
	}
	exec := c.Exec
	c.Exec = func(ctx context.Context, args []string) error {
		a.usageOf = c
		args, err := reparse(c.FlagSet, args)
		if err != nil {
			return err
		}
		return exec(ctx, args)
	}
	return c
}

// logger builds the stderr logger from --log-format and --log-level.
func (a *app) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return nil, fmt.Errorf("invalid --log-level %q: want debug, info, warn or error", a.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: noCommandsAttr}
	switch a.logFormat {
	case "text":
		return slog.New(redact.Handler(slog.NewTextHandler(a.env.Stderr, opts), a.scrub)), nil
	case "json":
		return slog.New(redact.Handler(slog.NewJSONHandler(a.env.Stderr, opts), a.scrub)), nil
	}
	return nil, fmt.Errorf("invalid --log-format %q: want text or json", a.logFormat)
}

// noCommandsAttr defuses GitHub workflow commands in a log record's text
// (message included): stderr lands in a job's log too, and a script may
// print what a server sent, "##[error]…" or "##[stop-commands]…" among it.
// The scrubbing handler in front has already turned every text into a
// string.
func noCommandsAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindString {
		a.Value = slog.StringValue(report.NoCommands(a.Value.String()))
	}
	return a
}

func (a *app) loadOptions(logger *slog.Logger) runtime.LoadOptions {
	// --max-heap is also the Go runtime's soft memory limit: the collector
	// works harder as memory nears it, so garbage is collected before the
	// heap watchdog, which sees only the heap, takes it for a runaway
	// script, and memory stays under the limit a cgroup or ulimit set
	// for the process longer.
	debug.SetMemoryLimit(int64(min(a.maxHeap, math.MaxInt64)))
	return runtime.LoadOptions{
		MaxSteps: a.maxSteps,
		MaxHeap:  a.maxHeap,
		Logger:   logger,
		Env: func(name string) (string, bool) {
			v := a.env.Getenv(name)
			return v, v != "" // env() and secret() take empty as unset anyway
		},
		OnSecret: a.registerSecret(logger),
		Libs:     a.libOptions(),
	}
}

func (a *app) runOptions() runtime.RunOptions {
	var deps *builtins.Deps // nil: builtins.DefaultDeps()
	if len(a.pluginDirs) > 0 {
		// The shared Deps, HTTP connection pool included, with other
		// plugin directories.
		d := *builtins.DefaultDeps()
		d.Plugins = builtins.ExecPlugins{Dirs: a.pluginDirs}
		deps = &d
	}
	return runtime.RunOptions{
		Deps:         deps,
		Timeout:      a.timeout,
		CheckTimeout: a.checkTimeout,
		Concurrency:  a.concurrency,
		MaxSteps:     a.maxSteps,
		MaxHeap:      a.maxHeap,
		// One terminal shows both streams: the report alone says it all.
		QuietErrors: a.env.StdoutIsTTY && a.env.StderrIsTTY,
	}
}

// script picks the script to run: the argument, else ./guard.star, else the
// built-in default guard, which loads @std//default.star.
func script(args []string) (runtime.Script, error) {
	if len(args) > 1 {
		return runtime.Script{}, fmt.Errorf("want at most one SCRIPT, got %d arguments: %s", len(args), strings.Join(args, " "))
	}
	if len(args) == 1 {
		if _, err := os.Stat(args[0]); err != nil && slices.Contains(boolWords, strings.ToLower(args[0])) {
			return runtime.Script{}, fmt.Errorf("%q is not a script: a boolean flag takes its value after =, like --warn-ok=%s (or just --warn-ok)", args[0], args[0])
		}
		// A missing or unreadable script is the runtime's to report, so
		// every format says UNKNOWN and why, and monitoring sees it.
		return runtime.Script{Path: args[0]}, nil
	}
	if _, err := os.Stat("guard.star"); err == nil {
		return runtime.Script{Path: "guard.star"}, nil
	}
	return runtime.Script{Path: runtime.DefaultScriptName, Src: runtime.DefaultScript, BuiltIn: true}, nil
}

// reparse lets flags follow the script, as in "run guard.star --format json",
// which the flag package alone would take as three arguments.
func reparse(fs *flag.FlagSet, args []string) ([]string, error) {
	if len(args) < 2 {
		return args, nil
	}
	if err := fs.Parse(args[1:]); err != nil {
		return nil, err
	}
	return append([]string{args[0]}, fs.Args()...), nil
}
