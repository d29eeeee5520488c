package builtins

// This file holds plugin(), which runs a Monitoring Plugins-compatible
// program (check_disk, check_tcp, a team's own check_*) and turns its exit
// code and output into a result. It is the only builtin that starts a
// process, so it does so narrowly: only a program found by its bare name
// in an allowlist of directories, never through a shell or PATH, with a
// minimal environment, in a process group of its own that is killed at the
// deadline and once the program exits (so nothing it forked outlives the
// check), and with its output capped. Secrets go in env only: the
// arguments of every process are readable by every user in /proc.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/result"
)

// DefaultPluginDirs are where Debian and most distributions install the
// Monitoring Plugins; --plugin-dir replaces them.
var DefaultPluginDirs = []string{"/usr/lib/nagios/plugins", "/usr/lib/monitoring-plugins"}

// MaxPluginOutput caps what plugin() keeps of a plugin's standard output
// and, separately, of its standard error.
const MaxPluginOutput = 64 << 10

// pluginBaseEnv is the environment every plugin starts from.
var pluginBaseEnv = []string{"PATH=/usr/bin:/bin", "LANG=C"}

// PluginRunner runs plugins by name (Deps.Plugins).
type PluginRunner interface {
	// RunPlugin runs the plugin name (a bare file name, already checked)
	// with args and env ("KEY=value", on top of a minimal environment)
	// until it exits or ctx ends. An error means it could not run at all:
	// not found in the allowlist, not executable. A plugin that ran and
	// failed, or was killed at the deadline, is a PluginRun.
	RunPlugin(ctx context.Context, name string, args, env []string) (PluginRun, error)
}

// PluginRun is what one run of a plugin gave.
type PluginRun struct {
	Path     string // the file that ran
	ExitCode int    // -1 when killed by a signal
	Signal   string // the signal that killed it, "" when it exited
	Killed   bool   // killed because ctx ended
	Stdout   []byte // at most MaxPluginOutput
	Stderr   []byte // at most MaxPluginOutput
	// Truncated says that the plugin wrote more than MaxPluginOutput to
	// stdout or stderr.
	Truncated bool
	Duration  time.Duration
}

// ExecPlugins is the production PluginRunner: plugins are the executable
// files in Dirs.
type ExecPlugins struct {
	Dirs []string
}

// Find returns the path of the plugin name in the first directory of the
// allowlist that has it.
func (e ExecPlugins) Find(name string) (string, error) {
	if err := checkPluginName(name); err != nil {
		return "", err
	}
	for _, dir := range e.Dirs {
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return "", fmt.Errorf("%s: %v", path, pathErr(err))
		case !fi.Mode().IsRegular():
			return "", fmt.Errorf("%s is not a regular file", path)
		case fi.Mode().Perm()&0o111 == 0:
			return "", fmt.Errorf("%s is not executable (chmod +x it, or install the plugin again)", path)
		}
		return path, nil
	}
	return "", fmt.Errorf("no plugin named %q in %s; install it there, or name the directory that has it with --plugin-dir (INFRA_GUARD_PLUGIN_DIR)", name, strings.Join(e.Dirs, ", "))
}

// checkPluginName refuses a name that is not a bare file name: a plugin is
// found in the allowlist, never by path.
func checkPluginName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("name is empty")
	case strings.ContainsRune(name, '/'):
		return fmt.Errorf("name %q contains /; give the bare name of a plugin in the plugin directories (--plugin-dir)", name)
	case name == "." || name == "..", strings.ContainsRune(name, 0):
		return fmt.Errorf("name %q is not a file name", name)
	}
	return nil
}

// RunPlugin runs the plugin in a process group of its own, which it kills
// when ctx ends and again once the plugin has exited, for whatever the
// plugin forked and left behind.
func (e ExecPlugins) RunPlugin(ctx context.Context, name string, args, env []string) (PluginRun, error) {
	path, err := e.Find(name)
	if err != nil {
		return PluginRun{}, err
	}
	// Pipes of our own, not exec's: exec would wait for every holder of
	// the write ends (a daemon the plugin forked) to close them.
	outR, outW, err := os.Pipe()
	if err != nil {
		return PluginRun{}, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return PluginRun{}, err
	}
	cmd := &exec.Cmd{
		Path:        path,
		Args:        append([]string{name}, args...),
		Env:         append(slices.Clone(pluginBaseEnv), env...),
		Dir:         "/",
		Stdout:      outW,
		Stderr:      errW,
		SysProcAttr: newProcessGroup(),
	}
	start := time.Now()
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return PluginRun{}, fmt.Errorf("%s: %v", path, pathErr(err))
	}
	pgid := cmd.Process.Pid
	var (
		wg                 sync.WaitGroup
		stdout, stderr     cappedBuffer
		outTrunc, errTrunc bool
		exited             = make(chan struct{})
	)
	wg.Go(func() { outTrunc = stdout.readFrom(outR) })
	wg.Go(func() { errTrunc = stderr.readFrom(errR) })
	go func() {
		select {
		case <-ctx.Done():
			killProcessGroup(pgid)
		case <-exited:
		}
	}()
	waitErr := cmd.Wait()
	close(exited)
	took := time.Since(start)
	killed := ctx.Err() != nil && waitErr != nil
	// Whatever the plugin left in its group goes too; a process that
	// left the group (setsid) may still hold the pipes, so reading stops
	// soon after the plugin is gone in any case.
	killProcessGroup(pgid)
	_ = outR.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_ = errR.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	wg.Wait()
	outR.Close()
	errR.Close()

	run := PluginRun{
		Path:      path,
		ExitCode:  cmd.ProcessState.ExitCode(),
		Killed:    killed,
		Stdout:    stdout.b,
		Stderr:    stderr.b,
		Truncated: outTrunc || errTrunc,
		Duration:  took,
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		run.Signal = ws.Signal().String()
	}
	return run, nil
}

// cappedBuffer keeps the first MaxPluginOutput bytes read and discards
// the rest, so a plugin that floods its output neither fills memory nor
// blocks on a full pipe.
type cappedBuffer struct{ b []byte }

func (c *cappedBuffer) readFrom(r io.Reader) (truncated bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		keep := min(n, MaxPluginOutput-len(c.b))
		c.b = append(c.b, buf[:keep]...)
		if n > keep {
			truncated = true
		}
		if err != nil {
			return truncated
		}
	}
}

// plugin(name, *args, timeout=None, env={}, allow_secret_args=False) runs
// the plugin name with args and returns its result.
func plugin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := ctxOf(thread)
	if len(args) == 0 {
		return nil, fmt.Errorf("%s: missing the plugin name, e.g. plugin(\"check_disk\", \"-w\", \"20%%\", \"-c\", \"10%%\", \"-p\", \"/\")", b.Name())
	}
	name, ok := starlark.AsString(args[0])
	if !ok {
		return nil, fmt.Errorf("%s: name must be a string, got %s", b.Name(), args[0].Type())
	}
	var (
		timeout         optDuration // None: the check's deadline alone
		env             *starlark.Dict
		allowSecretArgs bool
	)
	if err := starlark.UnpackArgs(b.Name(), nil, kwargs, "timeout?", &timeout, "env?", &env, "allow_secret_args?", &allowSecretArgs); err != nil {
		return nil, err
	}
	if err := checkPluginName(name); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	argv := make([]string, 0, len(args)-1)
	for i, a := range args[1:] {
		var s string
		switch a := a.(type) {
		case starlark.String:
			s = string(a)
		case starlark.Int, starlark.Float:
			s = a.String()
		case *Secret:
			if !allowSecretArgs {
				return nil, fmt.Errorf("%s: argument %d is a secret, and a process's arguments are readable by every user of the machine (/proc/PID/cmdline); pass it in env= if the plugin reads it from there, or set allow_secret_args=True to accept the exposure", b.Name(), i+1)
			}
			s = a.value
		default:
			return nil, fmt.Errorf("%s: argument %d is %s; want a string or a number", b.Name(), i+1, a.Type())
		}
		if strings.ContainsRune(s, 0) {
			return nil, fmt.Errorf("%s: argument %d contains a NUL byte", b.Name(), i+1)
		}
		argv = append(argv, s)
	}
	envv, err := pluginEnv(env)
	if err != nil {
		return nil, fmt.Errorf("%s: env: %v", b.Name(), err)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), context.Cause(ctx))
	}
	if timeout.d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = withTimeout(ctx, time.Duration(timeout.d))
		defer cancel()
	}
	run, err := depsOf(thread).Plugins.RunPlugin(ctx, name, argv, envv)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return pluginResult(ctx, name, run), nil
}

// optDuration is a Duration argument that None leaves unset.
type optDuration struct{ d Duration }

func (o *optDuration) Unpack(v starlark.Value) error {
	if v == starlark.None {
		o.d = 0
		return nil
	}
	return o.d.Unpack(v)
}

// pluginEnv checks env= and turns it into KEY=value strings, sorted so the
// environment does not depend on the dict's order. Values may be secrets:
// a process's environment is readable only by its user and root.
func pluginEnv(env *starlark.Dict) ([]string, error) {
	if env == nil {
		return nil, nil
	}
	out := make([]string, 0, env.Len())
	for _, item := range env.Items() {
		k, ok := starlark.AsString(item[0])
		if !ok {
			return nil, fmt.Errorf("keys must be strings, got %s", item[0].Type())
		}
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return nil, fmt.Errorf("%q is not a variable name", k)
		}
		v, _, ok := Reveal(item[1])
		if !ok {
			return nil, fmt.Errorf("%s: want a string or a secret, got %s", k, item[1].Type())
		}
		if strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("%s: the value contains a NUL byte", k)
		}
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out, nil
}

// pluginResult maps a plugin's exit code to a status (0 ok, 1 warn, 2
// fail, anything else unknown) and its output to the message, long text
// and metrics.
func pluginResult(ctx context.Context, name string, run PluginRun) *Result {
	out := parsePluginOutput(string(run.Stdout))
	if out.Message == "" && len(strings.TrimSpace(string(run.Stderr))) > 0 {
		// No standard output: a plugin that failed to start its work
		// often says why on standard error.
		out = parsePluginOutput(string(run.Stderr))
		out.Perf = nil
	}
	r := &Result{Message: out.Message, LongText: out.LongText}
	switch run.ExitCode {
	case 0:
		r.Status = result.OK
	case 1:
		r.Status = result.Warn
	case 2:
		r.Status = result.Fail
	default:
		r.Status = result.Unknown
	}
	switch {
	case run.Killed:
		r.Status = result.Unknown
		r.Message = fmt.Sprintf("%s killed after %s: %s", name, fmtSeconds(run.Duration), contextText(ctx))
		if out.Message != "" {
			r.LongText = strings.TrimSpace(out.Message + "\n" + out.LongText)
		}
	case run.Signal != "":
		r.Status = result.Unknown
		r.Message = fmt.Sprintf("%s was killed by signal %s", name, run.Signal)
		if out.Message != "" {
			r.LongText = strings.TrimSpace(out.Message + "\n" + out.LongText)
		}
	case r.Message == "":
		r.Message = fmt.Sprintf("%s exited %d and printed nothing", name, run.ExitCode)
	}
	if run.Truncated {
		r.LongText = strings.TrimSpace(r.LongText + fmt.Sprintf("\n(output cut at %d KiB)", MaxPluginOutput>>10))
	}
	if len(out.Problems) > 0 {
		r.LongText = strings.TrimSpace(r.LongText + "\nperformance data left out: " + strings.Join(out.Problems, "; "))
	}
	r.Metrics = out.metrics()
	sort.SliceStable(r.Metrics, func(i, j int) bool { return r.Metrics[i].Name < r.Metrics[j].Name })
	return r
}
