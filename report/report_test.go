package report

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/infra-guard/infra-guard/report/schema"
	"github.com/infra-guard/infra-guard/result"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// started is a fixed start time, deliberately not in UTC, so the golden
// files also show that "started" is converted.
var started = time.Date(2026, 3, 14, 10, 26, 53, 589793000, time.FixedZone("CET", 3600))

// fixtures are hand-built reports covering every status, metrics, tags,
// backtraces, load errors, an interrupted run and a script without checks.
func fixtures() map[string]*result.Report {
	reports := map[string]*result.Report{
		"statuses": {
			Script:   "guard.star",
			Host:     "web-1",
			Started:  started,
			Duration: 1341 * time.Millisecond,
			Checks: []result.CheckResult{
				{
					Name: "root-disk", Status: result.OK, Message: "root disk 41.5% used",
					Metrics: []result.Metric{{Name: "root disk", Value: 41.5, Unit: "%", Warn: "80", Crit: "90"}},
					Tags:    []string{"system"}, File: "guard.star", Line: 14,
					Duration: 12400 * time.Microsecond,
				},
				{
					Name: "api", Status: result.Warn, Message: "database degraded",
					Metrics: []result.Metric{{Name: "latency_ms", Value: 1234}, {Name: "attempts", Value: 2}},
					Tags:    []string{"network"}, File: "guard.star", Line: 15,
					Duration: 1234567 * time.Microsecond,
				},
				{
					Name: "nginx", Status: result.Fail, Message: "check returned False",
					File: "guard.star", Line: 16, Duration: 3 * time.Millisecond,
				},
				{
					Name: "broken", Status: result.Unknown, Message: "floored division by zero",
					File: "guard.star", Line: 20, Duration: 400 * time.Microsecond,
					Backtrace: "Traceback (most recent call last):\n  guard.star:20:6: in <toplevel>\n  lib/web.star:9:12: in broken\nError: floored division by zero\n",
				},
				{
					Name: "site https://example.org", Status: result.Skip,
					Message: `skipped: "api" did not pass`, Tags: []string{"network", "public"},
					File: "guard.star", Line: 19,
				},
				{
					Name: "certs", Status: result.Warn,
					Message: "2 certificates expire soon:\n  a.example.org in 9 days\n  b.example.org in 12 days\n",
					Metrics: []result.Metric{{Name: "min_days_left", Value: 9, Unit: "d", Warn: "14:", Crit: "7:"}},
					File:    "guard.star", Line: 21, Duration: 87 * time.Millisecond,
				},
			},
		},
		"one_ok": {
			Script:   "(built-in default)",
			Started:  started,
			Duration: 2 * time.Millisecond,
			Checks: []result.CheckResult{
				{Name: "memory", Status: result.OK, Duration: 150 * time.Microsecond},
			},
		},
		"load_errors": {
			Script:   "guard.star",
			Started:  started,
			Duration: 4 * time.Millisecond,
			Errors: []result.Diagnostic{
				{File: "guard.star", Line: 3, Col: 7, Msg: "env: API_URL is not set"},
				{File: "guard.star", Line: 4, Col: 9, Msg: "secret: API_TOKEN is not set (nor API_TOKEN_FILE)"},
				{File: "guard.star", Line: 12, Col: 1, Msg: "check: cycle in after:\n  api -> db -> api"},
			},
		},
		"incomplete": {
			Script:   "guard.star",
			Started:  started,
			Duration: 20 * time.Second,
			Checks: []result.CheckResult{
				{Name: "root-disk", Status: result.OK, Message: "root disk 41.5% used", File: "guard.star", Line: 14, Duration: 8 * time.Millisecond},
				{Name: "nfs", Status: result.Fail, Message: "disk: /mnt/nfs: context canceled", File: "guard.star", Line: 15, Duration: 19970 * time.Millisecond},
			},
			Incomplete: "interrupted by signal: terminated",
		},
		"waited": {
			Script:   "guard.star",
			Started:  started,
			Duration: 12300 * time.Millisecond,
			Rounds:   4, // --wait re-ran the failing checks three times
			Checks: []result.CheckResult{
				{
					Name: "api", Status: result.OK, Message: "healthy in 12 ms",
					Metrics: []result.Metric{{Name: "latency_ms", Value: 12, Unit: "ms", Warn: "500", Crit: "2000"}},
					File:    "guard.star", Line: 3, Duration: 12 * time.Millisecond,
				},
				{Name: "db", Status: result.OK, File: "guard.star", Line: 4, Duration: 3 * time.Millisecond},
			},
		},
		"zero_checks": {
			Script:   "empty.star",
			Started:  started,
			Duration: 1 * time.Millisecond,
		},
	}
	for _, r := range reports {
		r.ExitCode = result.Judge(r, false)
	}
	return reports
}

// noEnv is an empty environment, so that the github format run by a test
// inside GitHub Actions does not append to the real step summary.
func noEnv(string) string { return "" }

func render(t *testing.T, format string, opts Options, r *result.Report) []byte {
	t.Helper()
	rep, err := New(format, opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.Report(&buf, r); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return buf.Bytes()
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (go test ./report -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestGolden(t *testing.T) {
	for name, r := range fixtures() {
		t.Run(name, func(t *testing.T) {
			golden(t, name+".txt", render(t, "text", Options{}, r))
			golden(t, name+".json", render(t, "json", Options{Version: "v1.2.3"}, r))
			golden(t, name+".junit.xml", render(t, "junit", Options{Version: "v1.2.3", Commit: "7cf2bb0abcde", GoVersion: "go1.26.8"}, r))
			golden(t, name+".tap", render(t, "tap", Options{}, r))
			golden(t, name+".github.txt", render(t, "github", Options{Getenv: noEnv}, r))
			golden(t, name+".nagios.txt", render(t, "nagios", Options{}, r))
			golden(t, name+".prom", render(t, "prometheus", Options{Version: "v1.2.3", Commit: "7cf2bb0abcde", GoVersion: "go1.26.8"}, r))
		})
	}
	t.Run("statuses/warn-as-failure", func(t *testing.T) {
		r := fixtures()["statuses"]
		golden(t, "statuses.warn-as-failure.junit.xml", render(t, "junit", Options{Version: "v1.2.3", WarnAsFailure: true}, r))
		golden(t, "statuses.warn-as-failure.tap", render(t, "tap", Options{WarnAsFailure: true}, r))
	})
	t.Run("statuses/color", func(t *testing.T) {
		golden(t, "statuses.color.txt", render(t, "text", Options{Color: true}, fixtures()["statuses"]))
	})
}

func TestNew(t *testing.T) {
	if got, want := Names(), []string{"github", "json", "junit", "nagios", "prometheus", "tap", "text"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	for _, name := range Names() {
		if r, err := New(name, Options{}); err != nil || r == nil {
			t.Errorf("New(%q) = %v, %v", name, r, err)
		}
	}
	_, err := New("xml", Options{})
	if err == nil {
		t.Fatal(`New("xml") succeeded`)
	}
	if got, want := err.Error(), `unknown format "xml" (known: github, json, junit, nagios, prometheus, tap, text)`; got != want {
		t.Errorf("New(\"xml\") error = %q, want %q", got, want)
	}
}

func TestTextColor(t *testing.T) {
	for name, r := range fixtures() {
		plain := render(t, "text", Options{}, r)
		if bytes.IndexByte(plain, 0x1b) >= 0 {
			t.Errorf("%s: Color=false output contains an escape byte:\n%q", name, plain)
		}
		colored := render(t, "text", Options{Color: true}, r)
		if bytes.IndexByte(colored, 0x1b) < 0 {
			t.Errorf("%s: Color=true output has no escape byte:\n%s", name, colored)
		}
		// Without the SGR sequences, colour changes nothing.
		if stripped := stripANSI(colored); !bytes.Equal(stripped, plain) {
			t.Errorf("%s: Color=true output, escapes removed, differs from Color=false:\n%s\n---\n%s", name, stripped, plain)
		}
	}
	colored := string(render(t, "text", Options{Color: true}, fixtures()["statuses"]))
	for _, want := range []string{
		ansiGreen + "OK" + ansiReset + "    root-disk",
		ansiYellow + "WARN" + ansiReset,
		ansiRed + "FAIL" + ansiReset,
		ansiMagenta + "UNKN" + ansiReset,
		ansiDim + "SKIP" + ansiReset,
	} {
		if !strings.Contains(colored, want) {
			t.Errorf("colour output lacks %q:\n%s", want, colored)
		}
	}
}

func stripANSI(b []byte) []byte {
	for _, seq := range []string{ansiReset, ansiRed, ansiGreen, ansiYellow, ansiMagenta, ansiDim} {
		b = bytes.ReplaceAll(b, []byte(seq), nil)
	}
	return b
}

// TestTextShape pins the properties an on-call engineer relies on, which a
// golden file shows but does not state.
func TestTextShape(t *testing.T) {
	for name, r := range fixtures() {
		out := string(render(t, "text", Options{}, r))
		ls := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if !strings.HasSuffix(out, "\n") || strings.HasSuffix(out, "\n\n") {
			t.Errorf("%s: output does not end in exactly one newline: %q", name, out)
		}
		last := ls[len(ls)-1]
		if !strings.HasSuffix(last, " — exit "+string(rune('0'+r.ExitCode))) {
			t.Errorf("%s: last line %q is not the summary with the exit code %d", name, last, r.ExitCode)
		}
		for _, l := range ls {
			if strings.TrimRight(l, " \t") != l {
				t.Errorf("%s: trailing blanks in %q", name, l)
			}
		}
		// Every check has exactly one unindented line starting with its status.
		var heads int
		for _, l := range ls[:len(ls)-1] {
			if !strings.HasPrefix(l, " ") && l != "" && !strings.HasPrefix(l, "ERROR ") {
				heads++
			}
		}
		if heads != len(r.Checks) {
			t.Errorf("%s: %d check lines, want %d:\n%s", name, heads, len(r.Checks), out)
		}
		for _, e := range r.Errors {
			first, _, _ := strings.Cut(e.String(), "\n")
			if !slices.Contains(ls, "ERROR "+first) {
				t.Errorf("%s: no line %q:\n%s", name, "ERROR "+first, out)
			}
		}
	}

	for _, tc := range []struct{ fixture, want string }{
		{"statuses", "6 checks: 1 ok, 2 warn, 1 fail, 1 unknown, 1 skipped in 1.3s — exit 2"},
		{"one_ok", "1 check: 1 ok, 0 warn, 0 fail, 0 unknown, 0 skipped in 2ms — exit 0"},
		{"load_errors", "load failed with 3 errors, no checks ran — exit 3"},
		{"incomplete", "INCOMPLETE (interrupted by signal: terminated): 2 checks: 1 ok, 0 warn, 1 fail, 0 unknown, 0 skipped in 20.0s — exit 3"},
		{"zero_checks", "no checks registered — exit 3"},
		{"waited", "2 checks: 2 ok, 0 warn, 0 fail, 0 unknown, 0 skipped in 12.3s after 4 rounds — exit 0"},
	} {
		out := strings.TrimSuffix(string(render(t, "text", Options{}, fixtures()[tc.fixture])), "\n")
		if got := out[strings.LastIndexByte(out, '\n')+1:]; got != tc.want {
			t.Errorf("%s summary:\n got %q\nwant %q", tc.fixture, got, tc.want)
		}
	}
}

// TestTextSanitize checks that a message cannot drive the terminal: escape
// sequences, carriage returns and other controls are shown escaped.
func TestTextSanitize(t *testing.T) {
	r := &result.Report{
		Started: started,
		Checks: []result.CheckResult{{
			Name:    "evil\nname",
			Status:  result.Fail,
			Message: "body: \x1b[2J\x1b[32mall good\rOK\x07 \u009b31m\r\nsecond line\t(tab kept)",
		}},
		Errors:     []result.Diagnostic{{Msg: "bad\x1b]0;title\x07"}},
		Incomplete: "sig\x1bnal",
	}
	out := string(render(t, "text", Options{}, r))
	if strings.ContainsAny(out, "\x1b\r\x07\u009b") {
		t.Fatalf("control characters reached the output:\n%q", out)
	}
	for _, want := range []string{
		`FAIL  evil\nname   0ms  body: \x1b[2J\x1b[32mall good\x0dOK\x07 \u009b31m` + "\n",
		"      second line\t(tab kept)\n",
		`ERROR bad\x1b]0;title\x07` + "\n",
		`INCOMPLETE (sig\x1bnal): `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestTextAlignment(t *testing.T) {
	long := strings.Repeat("n", maxNameWidth+10)
	r := &result.Report{Checks: []result.CheckResult{
		{Name: "a", Status: result.OK, Duration: 5 * time.Millisecond, Message: "m1"},
		{Name: "ünïcödé", Status: result.OK, Duration: 2*time.Minute + 5*time.Second, Message: "m2"},
		{Name: long, Status: result.OK, Duration: time.Millisecond, Message: "m3"},
	}}
	out := string(render(t, "text", Options{}, r))
	pad := func(s string) string { return s + strings.Repeat(" ", maxNameWidth-len([]rune(s))) }
	want := "" +
		"OK    " + pad("a") + "   5ms  m1\n" +
		"OK    " + pad("ünïcödé") + "  2m5s  m2\n" +
		"OK    " + long + "   1ms  m3\n"
	if !strings.HasPrefix(out, want) {
		t.Errorf("got\n%s\nwant prefix\n%s", out, want)
	}
}

func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0ms"},
		{-time.Second, "0ms"},
		{1, "<1ms"},
		{999 * time.Microsecond, "<1ms"},
		{time.Millisecond, "1ms"},
		{12*time.Millisecond + 400*time.Microsecond, "12ms"},
		{12*time.Millisecond + 500*time.Microsecond, "13ms"},
		{999 * time.Millisecond, "999ms"},
		{999*time.Millisecond + 600*time.Microsecond, "1.0s"},
		{1234 * time.Millisecond, "1.2s"},
		{1250 * time.Millisecond, "1.3s"},
		{34567 * time.Millisecond, "34.6s"},
		{59960 * time.Millisecond, "1m0s"},
		{2*time.Minute + 5400*time.Millisecond, "2m5s"},
		{90 * time.Minute, "1h30m0s"},
	} {
		if got := humanDuration(tc.d); got != tc.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// countWriter counts Write calls: each reporter writes its report at once,
// which keeps the secret scrubber's job simple and the output unbroken.
type countWriter struct{ writes int }

func (w *countWriter) Write(p []byte) (int, error) { w.writes++; return len(p), nil }

func TestWrite(t *testing.T) {
	r := fixtures()["statuses"]
	for _, name := range Names() {
		rep, _ := New(name, Options{Getenv: noEnv})
		if err := rep.Report(failWriter{}, r); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: write error = %v, want disk full", name, err)
		}
		var w countWriter
		if err := rep.Report(&w, r); err != nil {
			t.Fatal(err)
		}
		if w.writes != 1 {
			t.Errorf("%s: %d writes, want 1", name, w.writes)
		}
	}
}

// TestBadStatus: a status outside the five is reported as unknown, not a panic.
func TestBadStatus(t *testing.T) {
	r := &result.Report{Started: started, Checks: []result.CheckResult{{Name: "x", Status: result.Status(42)}}, ExitCode: 3}
	if out := render(t, "text", Options{}, r); !bytes.HasPrefix(out, []byte("UNKN  x")) {
		t.Errorf("text: %q", out)
	}
	out := render(t, "json", Options{}, r)
	if err := schema.Validate(out); err != nil {
		t.Errorf("json: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte(`"status": "unknown"`)) || !bytes.Contains(out, []byte(`"unknown": 1`)) {
		t.Errorf("json:\n%s", out)
	}
}
