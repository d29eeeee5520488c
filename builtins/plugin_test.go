package builtins

import (
	"context"
	"errors"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.uber.org/goleak"

	"github.com/infra-guard/infra-guard/result"
)

// pluginDir writes the test plugins (shell scripts) into a directory of
// their own and returns it.
func pluginDir(t testing.TB, plugins map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range plugins {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// callPlugin calls plugin() with the plugin directories dirs.
func callPlugin(t testing.TB, ctx context.Context, dirs []string, args []any, kwargs ...any) (starlark.Value, error) {
	t.Helper()
	thread := netThread(t, ctx)
	SetDeps(thread, &Deps{Plugins: ExecPlugins{Dirs: dirs}})
	var pos starlark.Tuple
	for _, a := range args {
		pos = append(pos, netValue(t, a))
	}
	var kws []starlark.Tuple
	for i := 0; i < len(kwargs); i += 2 {
		kws = append(kws, starlark.Tuple{starlark.String(kwargs[i].(string)), netValue(t, kwargs[i+1])})
	}
	return starlark.Call(thread, Predeclared()["plugin"], pos, kws)
}

func mustPlugin(t testing.TB, dirs []string, args []any, kwargs ...any) *Result {
	t.Helper()
	v, err := callPlugin(t, t.Context(), dirs, args, kwargs...)
	if err != nil {
		t.Fatalf("plugin raised: %v", err)
	}
	return v.(*Result)
}

// gone reports whether pid has exited (or is a zombie waiting for init).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	st, _ := parseStatFields(data)
	return st == "Z"
}

// parseStatFields returns the state letter of a /proc/PID/stat line.
func parseStatFields(data []byte) (string, bool) {
	s := string(data)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return "", false
	}
	f := strings.Fields(s[end+1:])
	if len(f) == 0 {
		return "", false
	}
	return f[0], true
}

// waitGone waits up to 2s for pid to exit.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for range 200 {
		if gone(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("process %d outlived the plugin", pid)
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestPluginStatusMessageAndPerfData(t *testing.T) {
	dir := pluginDir(t, map[string]string{
		"check_ok": `echo "DISK OK - free space: / 50% | /=5000MB;8000;9000;0;10000 'free space'=50%;20:;10:"
echo "first detail"
echo "second detail | inodes=12;;;0;100"
echo "'load 1''s'=0.5;;;;"`,
		"check_warn":    `echo "WARNING: slow"; exit 1`,
		"check_crit":    `echo "CRITICAL: down"; exit 2`,
		"check_unknown": `echo "UNKNOWN: cannot tell"; exit 3`,
		"check_odd":     `echo "odd exit"; exit 7`,
		"check_silent":  `exit 2`,
		"check_stderr":  `echo "cannot open /etc/x: permission denied" >&2; exit 3`,
		"check_signal":  `kill -9 $$`,
	})
	dirs := []string{dir}
	r := mustPlugin(t, dirs, []any{"check_ok"})
	if r.Status != result.OK || r.Message != "DISK OK - free space: / 50%" {
		t.Errorf("check_ok = %v %q", r.Status, r.Message)
	}
	if r.LongText != "first detail\nsecond detail" {
		t.Errorf("long text = %q", r.LongText)
	}
	want := []result.Metric{
		{Name: "/", Value: 5000, Unit: "MB", Warn: "8000", Crit: "9000"},
		{Name: "free space", Value: 50, Unit: "%", Warn: "20:", Crit: "10:"},
		{Name: "inodes", Value: 12},
		{Name: "load 1's", Value: 0.5},
	}
	if len(r.Metrics) != len(want) {
		t.Fatalf("metrics = %+v, want %+v", r.Metrics, want)
	}
	for i := range want {
		if r.Metrics[i] != want[i] {
			t.Errorf("metric %d = %+v, want %+v", i, r.Metrics[i], want[i])
		}
	}

	for _, c := range []struct {
		name   string
		status result.Status
		msg    string
	}{
		{"check_warn", result.Warn, "WARNING: slow"},
		{"check_crit", result.Fail, "CRITICAL: down"},
		{"check_unknown", result.Unknown, "UNKNOWN: cannot tell"},
		{"check_odd", result.Unknown, "odd exit"},
		{"check_silent", result.Fail, "check_silent exited 2 and printed nothing"},
		{"check_stderr", result.Unknown, "cannot open /etc/x: permission denied"},
		{"check_signal", result.Unknown, "check_signal was killed by signal killed"},
	} {
		r := mustPlugin(t, dirs, []any{c.name})
		if r.Status != c.status || r.Message != c.msg {
			t.Errorf("%s = %v %q, want %v %q", c.name, r.Status, r.Message, c.status, c.msg)
		}
	}
}

func TestPluginArgsAndEnvironment(t *testing.T) {
	dir := pluginDir(t, map[string]string{
		"check_env":  `echo "PATH=$PATH LANG=$LANG FOO=$FOO HOME=${HOME-unset} PWD=$(pwd)"`,
		"check_args": `for a in "$@"; do printf '[%s]' "$a"; done; echo`,
	})
	t.Setenv("FOO", "from the parent")
	r := mustPlugin(t, []string{dir}, []any{"check_env"}, "env", map[string]any{"FOO": "bar"})
	if want := "PATH=/usr/bin:/bin LANG=C FOO=bar HOME=unset PWD=/"; r.Message != want {
		t.Errorf("environment = %q, want %q", r.Message, want)
	}
	r = mustPlugin(t, []string{dir}, []any{"check_args", "-w", "20%", "a b", "$HOME", 3, starlark.Float(1.5)})
	if want := "[-w][20%][a b][$HOME][3][1.5]"; r.Message != want {
		t.Errorf("arguments = %q, want %q (no shell in between)", r.Message, want)
	}
	// A secret is fine in env, refused in the arguments unless allowed.
	s := NewSecret("TOKEN", "s3cr3t")
	r = mustPlugin(t, []string{dir}, []any{"check_env"}, "env", map[string]any{"FOO": s})
	if !strings.Contains(r.Message, "FOO=s3cr3t") {
		t.Errorf("secret in env = %q", r.Message)
	}
	_, err := callPlugin(t, t.Context(), []string{dir}, []any{"check_args", "-p", s})
	if err == nil || !strings.Contains(err.Error(), "argument 2 is a secret") || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("secret in args: %v", err)
	}
	r = mustPlugin(t, []string{dir}, []any{"check_args", "-p", s}, "allow_secret_args", true)
	if r.Message != "[-p][s3cr3t]" {
		t.Errorf("allowed secret arg = %q", r.Message)
	}
}

func TestPluginBadInput(t *testing.T) {
	dir := pluginDir(t, map[string]string{"check_ok": "echo OK"})
	if err := os.WriteFile(filepath.Join(dir, "check_noexec"), []byte("#!/bin/sh\necho OK\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "check_dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args   []any
		kwargs []any
		want   string
	}{
		{[]any{}, nil, "missing the plugin name"},
		{[]any{"/bin/sh"}, nil, `name "/bin/sh" contains /`},
		{[]any{"../check_ok"}, nil, "contains /"},
		{[]any{".."}, nil, "is not a file name"},
		{[]any{"check_missing"}, nil, `no plugin named "check_missing" in ` + dir + "; install it there, or name the directory that has it with --plugin-dir"},
		{[]any{"check_noexec"}, nil, "check_noexec is not executable"},
		{[]any{"check_dir"}, nil, "check_dir is not a regular file"},
		{[]any{"check_ok", true}, nil, "argument 1 is bool; want a string or a number"},
		{[]any{"check_ok"}, []any{"env", map[string]any{"A=B": "x"}}, `env: "A=B" is not a variable name`},
		{[]any{"check_ok"}, []any{"env", map[string]any{"A": 1}}, "env: A: want a string or a secret, got int"},
		{[]any{"check_ok"}, []any{"timeout", "0s"}, `for parameter "timeout": must be positive`},
	} {
		_, err := callPlugin(t, t.Context(), []string{dir}, c.args, c.kwargs...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("plugin(%v, %v) error = %v, want %q", c.args, c.kwargs, err, c.want)
		}
	}
	// PATH is never searched: sh is not a plugin.
	if _, err := callPlugin(t, t.Context(), []string{dir}, []any{"sh", "-c", "echo hi"}); err == nil || !strings.Contains(err.Error(), `no plugin named "sh"`) {
		t.Errorf("plugin(sh) = %v", err)
	}
}

func TestPluginKilledWithItsGroupAtTheDeadline(t *testing.T) {
	// plugin() returns with its readers and its deadline watcher gone.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	dir := pluginDir(t, map[string]string{
		"check_hang": `sleep 300 & echo $! > "$PIDFILE"; echo "started"; wait`,
	})
	start := time.Now()
	r := mustPlugin(t, []string{dir}, []any{"check_hang"}, "timeout", "300ms", "env", map[string]any{"PIDFILE": pidFile})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("plugin() took %s after a 300ms timeout", took)
	}
	if r.Status != result.Unknown || !strings.HasPrefix(r.Message, "check_hang killed after") || !strings.HasSuffix(r.Message, "timed out after 300ms") {
		t.Errorf("hung plugin = %v %q", r.Status, r.Message)
	}
	if r.LongText != "started" {
		t.Errorf("long text = %q, want what it printed before", r.LongText)
	}
	waitGone(t, readPID(t, pidFile))

	// The check's deadline holds without timeout=.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	v, err := callPlugin(t, ctx, []string{dir}, []any{"check_hang"}, "env", map[string]any{"PIDFILE": pidFile})
	if err != nil {
		t.Fatal(err)
	}
	if r := v.(*Result); r.Status != result.Unknown || !strings.Contains(r.Message, "killed after") {
		t.Errorf("plugin at the check's deadline = %v %q", r.Status, r.Message)
	}
	waitGone(t, readPID(t, pidFile))
}

func TestPluginDaemonDoesNotOutliveIt(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	pidFile := filepath.Join(t.TempDir(), "daemon.pid")
	// The daemon keeps stdout open: plugin() must not wait for it.
	dir := pluginDir(t, map[string]string{
		"check_fork": `sleep 300 & echo $! > "$PIDFILE"; echo "OK - forked"`,
	})
	start := time.Now()
	r := mustPlugin(t, []string{dir}, []any{"check_fork"}, "env", map[string]any{"PIDFILE": pidFile})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("plugin() took %s; it waited for the daemon", took)
	}
	if r.Status != result.OK || r.Message != "OK - forked" {
		t.Errorf("check_fork = %v %q", r.Status, r.Message)
	}
	waitGone(t, readPID(t, pidFile))
}

func TestPluginOutputCapped(t *testing.T) {
	dir := pluginDir(t, map[string]string{
		"check_flood": `echo "OK - flood | bytes=1B"; head -c 50000000 /dev/zero | tr '\0' x; head -c 50000000 /dev/zero >&2`,
	})
	r := mustPlugin(t, []string{dir}, []any{"check_flood"})
	if r.Status != result.OK || r.Message != "OK - flood" {
		t.Errorf("check_flood = %v %q", r.Status, r.Message)
	}
	if len(r.LongText) > MaxPluginOutput+100 || !strings.HasSuffix(r.LongText, "(output cut at 64 KiB)") {
		t.Errorf("long text is %d bytes, ends %q", len(r.LongText), r.LongText[max(0, len(r.LongText)-40):])
	}
}

func TestPluginMalformedPerfData(t *testing.T) {
	dir := pluginDir(t, map[string]string{
		"check_bad": `echo "OK - numbers | good=1 bad=abc 'open=2 =3 x=U y=1;5:1 z=4;;;;;; w=5"`,
	})
	r := mustPlugin(t, []string{dir}, []any{"check_bad"})
	if r.Status != result.OK || r.Message != "OK - numbers" {
		t.Errorf("check_bad = %v %q", r.Status, r.Message)
	}
	var names []string
	for _, m := range r.Metrics {
		names = append(names, m.Name)
	}
	if got := strings.Join(names, ","); got != "good" {
		t.Errorf("metrics = %s, want good alone (the others are malformed)", got)
	}
	if !strings.Contains(r.LongText, "performance data left out:") || !strings.Contains(r.LongText, `"bad=abc": value: "abc" is not a number`) {
		t.Errorf("long text = %q", r.LongText)
	}
}

func TestPluginRefusedInLoadPhase(t *testing.T) {
	thread := &starlark.Thread{}
	_, err := starlark.Call(thread, Predeclared()["plugin"], starlark.Tuple{starlark.String("check_dummy")}, nil)
	if err == nil || !strings.Contains(err.Error(), "plugin() can only be called inside a check function") {
		t.Errorf("load phase: %v", err)
	}
}

// debianPlugins returns the directory of Debian's monitoring-plugins-basic,
// or skips the test.
func debianPlugins(t testing.TB, names ...string) []string {
	t.Helper()
	for _, dir := range DefaultPluginDirs {
		ok := true
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
				ok = false
			}
		}
		if ok {
			return []string{dir}
		}
	}
	t.Skipf("%s not installed in %s: apt-get install monitoring-plugins-basic", strings.Join(names, ", "), strings.Join(DefaultPluginDirs, " or "))
	return nil
}

func TestPluginDebian(t *testing.T) {
	dirs := debianPlugins(t, "check_dummy", "check_load", "check_disk", "check_tcp")
	for code, status := range []result.Status{result.OK, result.Warn, result.Fail, result.Unknown} {
		r := mustPlugin(t, dirs, []any{"check_dummy", code, "all good"})
		if r.Status != status || !strings.HasSuffix(r.Message, ": all good") {
			t.Errorf("check_dummy %d = %v %q", code, r.Status, r.Message)
		}
	}

	r := mustPlugin(t, dirs, []any{"check_load", "-w", "1000,1000,1000", "-c", "2000,2000,2000"})
	// Metric names and threshold formats vary across plugin versions:
	// check what any version prints, a load1 metric with a warn range.
	if r.Status != result.OK || len(r.Metrics) < 3 || r.Metrics[0].Name != "load1" || r.Metrics[0].Warn == "" {
		t.Errorf("check_load = %v %q %+v", r.Status, r.Message, r.Metrics)
	}

	r = mustPlugin(t, dirs, []any{"check_disk", "-w", "0%", "-c", "0%", "-p", "/"})
	if r.Status != result.OK || len(r.Metrics) != 1 || r.Metrics[0].Name != "/" || r.Metrics[0].Value <= 0 {
		t.Errorf("check_disk = %v %q %+v", r.Status, r.Message, r.Metrics)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	r = mustPlugin(t, dirs, []any{"check_tcp", "-H", "127.0.0.1", "-p", port})
	if r.Status != result.OK || len(r.Metrics) != 1 || r.Metrics[0].Name != "time" || r.Metrics[0].Unit != "s" {
		t.Errorf("check_tcp = %v %q %+v", r.Status, r.Message, r.Metrics)
	}
	ln.Close()
	r = mustPlugin(t, dirs, []any{"check_tcp", "-H", "127.0.0.1", "-p", port})
	if r.Status != result.Fail || !strings.Contains(r.Message, "Connection refused") {
		t.Errorf("check_tcp to a closed port = %v %q", r.Status, r.Message)
	}
}

func TestParsePerfData(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		in   string
		want []PerfData
		bad  int
	}{
		{"", nil, 0},
		{"time=0.000139s;;;0.000000;10.000000", []PerfData{{Label: "time", Value: 0.000139, Unit: "s", Min: 0, Max: 10}}, 0},
		{"'a b'=1 'it''s'=-2.5KB;@1:2;~:3", []PerfData{{Label: "a b", Value: 1, Min: nan, Max: nan}, {Label: "it's", Value: -2.5, Unit: "KB", Warn: "@1:2", Crit: "~:3", Min: nan, Max: nan}}, 0},
		{"c=10c;;", []PerfData{{Label: "c", Value: 10, Unit: "c", Min: nan, Max: nan}}, 0},
		{"x=U y=1e5 z=inf =2 w=1;;;a v=1;2;3;4;5;6", nil, 6},
		{"a=1 'q=1 b=2", []PerfData{{Label: "a", Value: 1, Min: nan, Max: nan}}, 1}, // an open quote runs to the end
	} {
		got, problems := parsePerfData(c.in)
		if len(problems) != c.bad {
			t.Errorf("parsePerfData(%q) problems = %q, want %d", c.in, problems, c.bad)
		}
		if len(got) != len(c.want) {
			t.Errorf("parsePerfData(%q) = %+v, want %+v", c.in, got, c.want)
			continue
		}
		for i := range got {
			g, w := got[i], c.want[i]
			same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
			if g.Label != w.Label || g.Value != w.Value || g.Unit != w.Unit || g.Warn != w.Warn || g.Crit != w.Crit || !same(g.Min, w.Min) || !same(g.Max, w.Max) {
				t.Errorf("parsePerfData(%q)[%d] = %+v, want %+v", c.in, i, g, w)
			}
		}
	}
}

// FuzzParsePluginOutput: no output makes the parser panic, and what it
// keeps is well formed: labels non-empty, values finite, thresholds valid
// ranges.
func FuzzParsePluginOutput(f *testing.F) {
	for _, s := range []string{
		"OK - fine | a=1;2;3;0;10",
		"OK\nlong\nmore | 'x y'=2% 'it''s'=3\nz=4ms",
		"| =1 '=2 'a'b=3 x=U y=;;;;;",
		"CRIT | time=0.1s;@1:2;~:5;;",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := parsePluginOutput(s)
		for _, pd := range out.Perf {
			if pd.Label == "" || math.IsNaN(pd.Value) || math.IsInf(pd.Value, 0) {
				t.Fatalf("parsePluginOutput(%q) kept %+v", s, pd)
			}
			for _, r := range []string{pd.Warn, pd.Crit} {
				if r == "" {
					continue
				}
				if _, err := result.ParseRange(r); err != nil {
					t.Fatalf("parsePluginOutput(%q) kept range %q: %v", s, r, err)
				}
			}
		}
		if strings.Contains(out.Message, "\n") {
			t.Fatalf("message %q has a newline", out.Message)
		}
	})
}
