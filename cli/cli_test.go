package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runIn(t *testing.T, env Env, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	env.Stdout, env.Stderr = &out, &errOut
	code = run(context.Background(), args, env)
	return code, out.String(), errOut.String()
}

func TestColorOnlyOnATerminalWithoutNoColor(t *testing.T) {
	script := filepath.Join(t.TempDir(), "guard.star")
	if err := os.WriteFile(script, []byte(`check("a", lambda: warn("slow"))`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		tty     bool
		noColor string
		want    bool
	}{
		{"terminal", true, "", true},
		{"terminal with NO_COLOR", true, "1", false},
		{"pipe", false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Env{StdoutIsTTY: tt.tty, Getenv: func(k string) string {
				if k == "NO_COLOR" {
					return tt.noColor
				}
				return ""
			}}
			code, stdout, _ := runIn(t, env, "run", script)
			if code != 1 {
				t.Fatalf("exit %d, want 1", code)
			}
			if got := strings.Contains(stdout, "\x1b["); got != tt.want {
				t.Errorf("colour = %v, want %v:\n%q", got, tt.want, stdout)
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	code, stdout, _ := runIn(t, Env{}, "run", "-h")
	if code != 0 || !strings.Contains(stdout, "infra-guard run [flags] [SCRIPT]") {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{"512MiB", 512 << 20, false},
		{"2GiB", 2 << 30, false},
		{"1 GiB", 1 << 30, false},
		{"0MiB", 0, true},
		{"12", 0, true},
		{"1TB", 0, true},
		{"99999999999999GiB", 0, true}, // would overflow
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestOneTerminalShowsEachProblemOnce: when stdout and stderr are the same
// terminal, a load error or a check's error appears in the report only, not
// also as a log record; elsewhere (cron mails stderr) it is logged too.
func TestOneTerminalShowsEachProblemOnce(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.star")
	raising := filepath.Join(dir, "raising.star")
	if err := os.WriteFile(broken, []byte("check(\"a\", lambda: True)\nx = 1 // 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(raising, []byte("check(\"a\", lambda: 1 // 0)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, script := range []string{broken, raising} {
		for _, tty := range []bool{true, false} {
			code, stdout, stderr := runIn(t, Env{StdoutIsTTY: tty, StderrIsTTY: tty, Getenv: func(string) string { return "" }}, "run", "--color", "never", script)
			if code != 3 || !strings.Contains(stdout, "division by zero") {
				t.Fatalf("%s: exit %d, stdout:\n%s", filepath.Base(script), code, stdout)
			}
			if logged := strings.Contains(stderr, "division by zero"); logged == tty {
				t.Errorf("%s, one terminal %v: logged %v, stderr:\n%s", filepath.Base(script), tty, logged, stderr)
			}
		}
	}
}

// TestLiveLineClearedBeforeLogs: a log record written while the --wait
// line is shown starts on a cleared line, never after the status text.
func TestLiveLineClearedBeforeLogs(t *testing.T) {
	var b strings.Builder
	l := &liveLine{w: &b}
	l.show("waiting: 1 failing (api), round 1, 30s left")
	l.show("waiting: 1 failing (api), round 2, 28s left")
	if _, err := l.Write([]byte("level=INFO msg=hello\n")); err != nil {
		t.Fatal(err)
	}
	l.clear() // nothing shown: writes nothing
	want := "\r\x1b[Kwaiting: 1 failing (api), round 1, 30s left" +
		"\r\x1b[Kwaiting: 1 failing (api), round 2, 28s left" +
		"\r\x1b[Klevel=INFO msg=hello\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
}

// TestConcurrencyFlag: without --concurrency, run and serve leave the
// number to the runtime (0, its DefaultConcurrency); a value given, on the
// command line or in INFRA_GUARD_CONCURRENCY, is what the checks get.
func TestConcurrencyFlag(t *testing.T) {
	tests := []struct {
		args []string
		env  string
		want int
	}{
		{[]string{"run", "guard.star"}, "", 0},
		{[]string{"run", "--concurrency", "7", "guard.star"}, "", 7},
		{[]string{"run", "guard.star"}, "5", 5},
		{[]string{"serve", "guard.star"}, "", 0},
		{[]string{"serve", "--concurrency", "7", "guard.star"}, "", 7},
	}
	for _, tt := range tests {
		t.Setenv("INFRA_GUARD_CONCURRENCY", tt.env) // ff reads the process's environment
		a := newApp(Env{Getenv: func(string) string { return "" }})
		root := a.commands()
		if err := root.Parse(tt.args); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if got := a.runOptions().Concurrency; got != tt.want {
			t.Errorf("%v with INFRA_GUARD_CONCURRENCY=%q: concurrency %d, want %d", tt.args, tt.env, got, tt.want)
		}
	}
}

func TestConcurrencyHelpSaysAuto(t *testing.T) {
	for _, cmd := range []string{"run", "serve"} {
		code, stdout, _ := runIn(t, Env{}, cmd, "-h")
		if code != 0 || !strings.Contains(stdout, "-concurrency auto") {
			t.Errorf("%s -h: exit %d, no \"-concurrency auto\" in\n%s", cmd, code, stdout)
		}
	}
}
