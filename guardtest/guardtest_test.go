package guardtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	var secrets []string
	rep := Run(context.Background(), []string{"testdata/api_test.star"}, Options{
		OnSecret: func(name, value string) { secrets = append(secrets, name+"="+value) },
	})
	want := map[string]result.Status{"test_retry": result.OK, "test_fails": result.Fail, "test_error": result.Fail}
	for _, c := range rep.Checks {
		if c.Status != want[c.Name] {
			t.Errorf("%s: %s %q, want %s", c.Name, c.Status, c.Message, want[c.Name])
		}
	}
	if rep.ExitCode != ExitFailed {
		t.Errorf("exit code %d, want %d", rep.ExitCode, ExitFailed)
	}
	if len(secrets) == 0 || secrets[0] != "API_TOKEN=tok-0123456789" {
		t.Errorf("OnSecret got %q", secrets)
	}
	fails := rep.Checks[1].Message
	if !strings.Contains(fails, `api_test.star:15: t.eq: got "fail", want "ok"`) {
		t.Errorf("test_fails message %q lacks the position and values", fails)
	}
	if !strings.Contains(rep.Checks[2].Message, "missing.star") {
		t.Errorf("test_error message %q does not name the script", rep.Checks[2].Message)
	}
}

func TestFind(t *testing.T) {
	files, err := Find([]string{"testdata"})
	if err != nil || len(files) != 1 || filepath.Base(files[0]) != "api_test.star" {
		t.Errorf("Find(testdata) = %q, %v", files, err)
	}
	if _, err := Find([]string{t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no *_test.star files") {
		t.Errorf("Find(empty dir) error = %v", err)
	}
}

// writeBench writes a guard and a test file of n tests that each declare
// fakes and run the guard.
func writeBench(tb testing.TB, n int) string {
	dir := tb.TempDir()
	guard := `def root():
    return threshold(disk("/").used_percent, warn = 80, crit = 90, name = "root", unit = "%")
check("root", root)
check("mem", lambda: threshold(memory().used_percent, warn = 90, crit = 95))
`
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "def test_%d(t):\n    t.fake.disk(\"/\", used_percent = %d)\n    t.fake.memory(used_percent = 50)\n    r = t.run()\n    t.eq(r[\"mem\"].status, \"ok\")\n    t.ne(r[\"root\"].status, \"unknown\")\n\n", i, i%100)
	}
	for name, text := range map[string]string{"guard.star": guard, "bench_test.star": b.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return filepath.Join(dir, "bench_test.star")
}

// Test500 is the budget: 500 tests in one file, each running a
// guard, in well under 2 s (the benchmark below gives the figure).
// Test500 runs 500 tests in one file; how long they take is for
// Benchmark500Tests against Benchmark500Runs, not a timed test.
func Test500(t *testing.T) {
	path := writeBench(t, 500)
	rep := Run(context.Background(), []string{path}, Options{})
	if rep.ExitCode != ExitPass || len(rep.Checks) != 500 {
		t.Fatalf("exit %d with %d tests; first: %+v", rep.ExitCode, len(rep.Checks), rep.Checks[0])
	}
}

func Benchmark500Tests(b *testing.B) {
	path := writeBench(b, 500)
	for b.Loop() {
		if rep := Run(context.Background(), []string{path}, Options{}); rep.ExitCode != ExitPass {
			b.Fatal(rep.Checks[0].Message)
		}
	}
}

// Benchmark500Runs is the baseline for Benchmark500Tests: the same guard
// run 500 times in-process on the real machine (what `infra-guard run`
// costs after process start), so the figure of the tests reads as a ratio.
func Benchmark500Runs(b *testing.B) {
	path := filepath.Join(filepath.Dir(writeBench(b, 1)), "guard.star")
	for b.Loop() {
		for range 500 {
			rep, err := runtime.Execute(context.Background(), runtime.Script{Path: path}, runtime.Options{})
			if err != nil || len(rep.Errors) > 0 {
				b.Fatal(err, rep.Errors)
			}
		}
	}
}

// TestResultFields keeps vet's list of each probe's result attributes
// (runtime.ResultFields) in step with what the builtins return, by running
// every probe under fakes.
func TestResultFields(t *testing.T) {
	dir := t.TempDir()
	guard := `def show():
    d = {}
    for name, v in [("disk", disk("/")), ("memory", memory()), ("loadavg", loadavg()), ("host", host()),
                    ("process", process(name = "x")), ("proc", process(name = "x").procs[0]), ("file", file("/f")),
                    ("tcp", tcp("h:1")), ("dns", dns("h")), ("tls_cert", tls_cert("h:1")), ("http_response", http_check("http://h/"))]:
        d[name] = dir(v)
    return fail(json.encode(d))
check("show", show)
`
	test := `def test_show(t):
    t.fake.disk("/")
    t.fake.memory()
    t.fake.loadavg()
    t.fake.host()
    t.fake.process(name = "x")
    t.fake.file("/f")
    t.fake.tcp("h:1")
    t.fake.dns("h", records = ["192.0.2.1"])
    t.fake.tls_cert("h:1")
    t.fake.http("http://h/")
    t.fail(t.run()["show"].message)
`
	for name, text := range map[string]string{"guard.star": guard, "a_test.star": test} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep := Run(context.Background(), []string{filepath.Join(dir, "a_test.star")}, Options{})
	msg := rep.Checks[0].Message
	_, js, ok := strings.Cut(msg, ": ")
	var got map[string][]string
	if !ok || json.Unmarshal([]byte(js), &got) != nil {
		t.Fatalf("cannot read the fields from %q", msg)
	}
	for _, typ := range runtime.ResultTypes() {
		if want := runtime.ResultFields(typ); !slices.Equal(got[typ], want) {
			t.Errorf("%s: the builtin has %q, runtime.ResultFields says %q", typ, got[typ], want)
		}
	}
	if len(got) != len(runtime.ResultTypes()) {
		t.Errorf("probed %d result types, runtime knows %d", len(got), len(runtime.ResultTypes()))
	}
}
