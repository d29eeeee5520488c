package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/infra-guard/infra-guard/cli"
	"github.com/infra-guard/infra-guard/report/schema"
	"github.com/infra-guard/infra-guard/runtime"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"infra-guard": main,
	})
}

// TestScripts runs the CLI scenarios in testdata/script: one behaviour per
// file, each asserting the exact exit code with the exits command.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// execWithSignal passes on the variables named here, with the
			// values the scenario gave them; these start empty.
			env.Vars = append(env.Vars, "GITHUB_STEP_SUMMARY=")
			env.Values[envKey{}] = env.Vars
			return nil
		},
		Cmds: scriptCmds,
	})
}

// scriptCmds are the commands testscript scenarios may use besides the
// built-in ones. Test files for other areas add theirs in init functions.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"exits":      cmdExits,
	"valid-json": cmdValidJSON,
	"sleep":      cmdSleep,
}

type envKey struct{}

// exits N [-signal SIG -after DUR -again DUR -within DUR] [-closed-stdout] command args...
//
// runs command and fails unless it exits with exactly N; a command killed
// by a signal counts as 128+signal, as a shell reports it. With -signal, it
// sends SIG (TERM or INT) after DUR, with -again a second time that long
// after the first, and fails unless the command exits within the -within
// duration (default 1s) of the first signal. With -closed-stdout, the
// command's stdout is a pipe nobody reads, closed before it starts (as
// "infra-guard … | head -n 0" would leave it).
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exits; name the exit code instead")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exits N [-signal SIG -after DUR -again DUR -within DUR] command args...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	args = args[1:]
	var sig syscall.Signal
	after, again, within := 300*time.Millisecond, time.Duration(0), time.Second
	closedStdout := false
	for len(args) > 1 && strings.HasPrefix(args[0], "-") {
		if args[0] == "-closed-stdout" {
			closedStdout, args = true, args[1:]
			continue
		}
		switch args[0] {
		case "-signal":
			sig = map[string]syscall.Signal{"TERM": syscall.SIGTERM, "INT": syscall.SIGINT}[args[1]]
			if sig == 0 {
				ts.Fatalf("exits: unknown signal %q", args[1])
			}
		case "-after":
			after, err = time.ParseDuration(args[1])
			ts.Check(err)
		case "-again":
			again, err = time.ParseDuration(args[1])
			ts.Check(err)
		case "-within":
			within, err = time.ParseDuration(args[1])
			ts.Check(err)
		default:
			ts.Fatalf("exits: unknown option %s", args[0])
		}
		args = args[2:]
	}
	switch {
	case closedStdout:
		err = execClosedStdout(ts, args)
	case sig == 0:
		err = ts.Exec(args[0], args[1:]...)
	default:
		err = execWithSignal(ts, sig, after, again, within, args)
	}
	got := 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		got = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			got = 128 + int(ws.Signal())
		}
	case err != nil:
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[0], got, want)
	}
}

// execWithSignal runs args with the script's environment, signals it after
// a delay (and again after another, when again > 0) and checks how long it
// takes to exit; one that has not exited a second past that is killed, so a
// hang fails the scenario instead of the whole test run. Its output becomes
// the script's stdout and stderr.
func execWithSignal(ts *testscript.TestScript, sig syscall.Signal, after, again, within time.Duration, args []string) error {
	cmd := exec.Command(lookPath(ts, args[0]), args[1:]...)
	cmd.Dir = ts.MkAbs(".")
	for _, kv := range ts.Value(envKey{}).([]string) {
		k, _, _ := strings.Cut(kv, "=")
		cmd.Env = append(cmd.Env, k+"="+ts.Getenv(k))
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ts.Check(cmd.Start())
	time.Sleep(after)
	ts.Check(cmd.Process.Signal(sig))
	signalled := time.Now()
	if again > 0 {
		time.AfterFunc(again, func() { cmd.Process.Signal(sig) })
	}
	hung := time.AfterFunc(within+time.Second, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	took := time.Since(signalled)
	hung.Stop()
	fmt.Fprint(ts.Stdout(), stdout.String())
	fmt.Fprint(ts.Stderr(), stderr.String())
	if took > within {
		ts.Fatalf("%s took %s to exit after the signal, want at most %s", args[0], took.Round(time.Millisecond), within)
	}
	return err
}

// execClosedStdout runs args with a stdout pipe whose reading end is
// closed, so every write to stdout fails with EPIPE (and SIGPIPE).
func execClosedStdout(ts *testscript.TestScript, args []string) error {
	cmd := exec.Command(lookPath(ts, args[0]), args[1:]...)
	cmd.Dir = ts.MkAbs(".")
	for _, kv := range ts.Value(envKey{}).([]string) {
		k, _, _ := strings.Cut(kv, "=")
		cmd.Env = append(cmd.Env, k+"="+ts.Getenv(k))
	}
	r, w, err := os.Pipe()
	ts.Check(err)
	r.Close()
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = w, &stderr
	err = cmd.Run()
	w.Close()
	fmt.Fprint(ts.Stderr(), stderr.String())
	return err
}

// lookPath finds name on the script's PATH, where testscript puts the
// infra-guard command.
func lookPath(ts *testscript.TestScript, name string) string {
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && !fi.IsDir() {
			return filepath.Join(dir, name)
		}
	}
	ts.Fatalf("%s not found on PATH", name)
	return ""
}

// valid-json FILE validates FILE (or stdout) against the JSON report schema.
func cmdValidJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: valid-json FILE")
	}
	err := schema.Validate([]byte(ts.ReadFile(args[0])))
	switch {
	case neg && err == nil:
		ts.Fatalf("%s is valid, want invalid", args[0])
	case !neg && err != nil:
		ts.Fatalf("%s does not match the report schema: %v", args[0], err)
	}
}

// sleep DURATION
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}

// TestExamples runs every guard in examples/ and expects it to pass on any
// healthy Linux machine (a WARN passes: a busy test machine raises the
// load check's figures).
func TestExamples(t *testing.T) {
	scripts, err := filepath.Glob("examples/*.star")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, script := range scripts {
		if strings.HasSuffix(script, "_test.star") {
			continue // TestExampleTests runs them
		}
		t.Run(filepath.Base(script), func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := cli.Main([]string{"run", "--warn-ok", "--format", "json", script}, cli.Env{Stdout: &stdout, Stderr: &stderr})
			if code != 0 {
				t.Errorf("%s exited %d\nstdout:\n%s\nstderr:\n%s", script, code, stdout.String(), stderr.String())
			}
			if err := schema.Validate([]byte(stdout.String())); err != nil {
				t.Errorf("report does not match the schema: %v", err)
			}
		})
	}
}

// TestExampleTests runs the examples' own tests (examples/*_test.star)
// through infra-guard test: they must all pass.
func TestExampleTests(t *testing.T) {
	var stdout, stderr strings.Builder
	code := cli.Main([]string{"test", "--log-level", "warn", "examples"}, cli.Env{Stdout: &stdout, Stderr: &stderr})
	if code != 0 {
		t.Errorf("infra-guard test examples exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}

// TestExampleTestsCoverChecks keeps the examples' tests complete: every
// check an example guard registers is named in the test file beside it.
func TestExampleTestsCoverChecks(t *testing.T) {
	scripts, _ := filepath.Glob("examples/*.star")
	more, _ := filepath.Glob("examples/*/*.star")
	for _, script := range append(scripts, more...) {
		if strings.HasSuffix(script, "_test.star") || strings.Contains(script, "/lib/") {
			continue
		}
		tests, err := os.ReadFile(strings.TrimSuffix(script, ".star") + "_test.star")
		if err != nil {
			t.Errorf("%s has no tests: %v", script, err)
			continue
		}
		g, err := runtime.Load(context.Background(), script, nil, runtime.LoadOptions{Placeholders: true})
		if err != nil {
			t.Errorf("%s: %v", script, err)
			continue
		}
		for _, c := range g.Checks {
			if !strings.Contains(string(tests), strconv.Quote(c.Name)) {
				t.Errorf("%s: no test names check %q", script, c.Name)
			}
		}
	}
}

// TestScenarioConventions keeps testdata/script honest: each scenario is
// named <area>_<behaviour>.txtar, opens with a "# " sentence saying its one
// behaviour, and asserts exact exit codes with exits.
func TestScenarioConventions(t *testing.T) {
	files, err := filepath.Glob("testdata/script/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	name := regexp.MustCompile(`^[a-z]+_[a-z0-9_]+\.txtar$`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if !name.MatchString(filepath.Base(f)) {
			t.Errorf("%s: want a name like <area>_<behaviour>.txtar", f)
		}
		if !strings.HasPrefix(text, "# ") {
			t.Errorf("%s: the first line must be a \"# \" sentence", f)
		}
		if !regexp.MustCompile(`(?m)^exits \d+ `).MatchString(text) {
			t.Errorf("%s: no exits N line asserting an exact exit code", f)
		}
		if regexp.MustCompile(`(?m)^!? *exec infra-guard`).MatchString(text) {
			t.Errorf("%s: runs infra-guard with exec; use exits N so the exit code is exact", f)
		}
	}
}
