package serve

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.uber.org/goleak"

	"github.com/infra-guard/infra-guard/redact"
	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testServer is a Server running on 127.0.0.1 for one test.
type testServer struct {
	*Server
	base   string
	script string
	stop   func() time.Duration // cancels Run and says how long it took to return
}

// start writes script to a temporary guard.star and serves it.
func start(t testing.TB, script string, tweak func(*Config)) *testServer {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "guard.star")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Listen: "127.0.0.1:0", Script: runtime.Script{Path: path}, Interval: time.Second, Version: "test"}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	var took time.Duration
	ts := &testServer{Server: srv, base: "http://" + srv.Addr(), script: path}
	ts.stop = func() time.Duration {
		once.Do(func() {
			t0 := time.Now()
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			took = time.Since(t0)
		})
		return took
	}
	t.Cleanup(func() { ts.stop() })
	return ts
}

func (ts *testServer) get(t *testing.T, path string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", ts.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (ts *testServer) ready(t *testing.T) {
	t.Helper()
	waitFor(t, 10*time.Second, "/readyz", func() bool { code, _ := ts.get(t, "/readyz"); return code == 200 })
}

const threeChecks = `
check("good", lambda: ok("fine"), interval = "200ms")
check("meh", lambda: warn("a bit slow"), interval = "200ms", after = ["good"])
check("bad", lambda: fail("disk full\nsecond line"), interval = "200ms", tags = ["disk"])
`

func TestHealthEndpoints(t *testing.T) {
	ts := start(t, threeChecks, nil)
	ts.ready(t)
	tests := []struct {
		path     string
		code     int
		body     string
		contains []string
	}{
		{path: "/livez", code: 200, body: "ok"},
		{path: "/livez?verbose", code: 200, body: "[+]ping ok\n[+]scheduler ok\nlivez check passed\n"},
		{path: "/readyz", code: 200, body: "ok"},
		{path: "/readyz?verbose", code: 200, body: "[+]shutdown ok\n[+]script ok\n[+]good ok\n[+]meh ok\n[+]bad ok\nreadyz check passed\n"},
		{path: "/healthz", code: 503, body: "[+]script ok\n[+]good ok\n[+]meh ok\n[-]bad failed: FAIL: disk full\nhealthz check failed\n"},
		{path: "/healthz?verbose", code: 503, contains: []string{"[-]bad failed: FAIL: disk full\n"}},
		{path: "/healthz?exclude=bad", code: 200, body: "ok"},
		{path: "/healthz?exclude=bad&verbose", code: 200, body: "[+]script ok\n[+]good ok\n[+]meh ok\n[+]bad excluded: ok\nhealthz check passed\n"},
		{path: "/healthz?exclude=bad&exclude=nope&verbose", code: 200, contains: []string{`warn: some health checks cannot be excluded: no matches for "nope"`}},
		{path: "/healthz?exclude=good", code: 503},
		{path: "/healthz/good", code: 200, body: "ok"},
		{path: "/healthz/meh", code: 200, body: "ok"},
		{path: "/healthz/bad", code: 503, body: "[-]bad failed: FAIL: disk full\nhealthz check failed\n"},
		{path: "/healthz/nope", code: 404, contains: []string{`no check "nope"`}},
	}
	for _, tt := range tests {
		code, body := ts.get(t, tt.path)
		if code != tt.code {
			t.Errorf("GET %s: %d, want %d\n%s", tt.path, code, tt.code, body)
		}
		if tt.body != "" && body != tt.body {
			t.Errorf("GET %s:\n%q\nwant\n%q", tt.path, body, tt.body)
		}
		for _, c := range tt.contains {
			if !strings.Contains(body, c) {
				t.Errorf("GET %s: no %q in\n%s", tt.path, c, body)
			}
		}
	}

	// Accept: application/json answers the JSON report document, with the
	// same status code.
	for _, path := range []string{"/healthz", "/readyz", "/healthz?exclude=bad"} {
		code, body := ts.get(t, path, "Accept", "application/json")
		var doc struct {
			ExitCode int `json:"exit_code"`
			Checks   []struct{ Name, Status string }
		}
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("GET %s as JSON: %v\n%s", path, err, body)
		}
		want := 3
		if path == "/healthz?exclude=bad" {
			want = 2
		}
		if len(doc.Checks) != want {
			t.Errorf("GET %s as JSON: %d checks, want %d", path, len(doc.Checks), want)
		}
		if path == "/healthz" && (code != 503 || doc.ExitCode != 2) {
			t.Errorf("GET %s as JSON: %d, exit_code %d; want 503, 2", path, code, doc.ExitCode)
		}
	}
}

func TestFailOnWarn(t *testing.T) {
	ts := start(t, `check("meh", lambda: warn("a bit slow"), interval = "200ms")`, func(c *Config) { c.FailOnWarn = true })
	ts.ready(t)
	if code, body := ts.get(t, "/healthz"); code != 503 || !strings.Contains(body, "[-]meh failed: WARN: a bit slow") {
		t.Errorf("GET /healthz with --fail-on warn: %d\n%s", code, body)
	}
}

// Before the first results, /readyz and /healthz say so; /livez does not
// care.
func TestNotReadyBeforeFirstResult(t *testing.T) {
	gate := make(chan struct{})
	t.Cleanup(func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
	})
	wait := starlark.NewBuiltin("wait", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		<-gate
		return starlark.True, nil
	})
	ts := start(t, `check("slow", wait)`, func(c *Config) { c.Load.Extra = starlark.StringDict{"wait": wait} })
	if code, body := ts.get(t, "/readyz?verbose"); code != 503 || !strings.Contains(body, "[-]slow failed: no result yet") {
		t.Errorf("/readyz before the first result: %d\n%s", code, body)
	}
	if code, _ := ts.get(t, "/healthz"); code != 503 {
		t.Errorf("/healthz before the first result: %d", code)
	}
	if code, _ := ts.get(t, "/livez"); code != 200 {
		t.Errorf("/livez: %d", code)
	}
	close(gate)
	ts.ready(t)
}

// A check with interval="1s" runs about 5 times in 5 s; one that takes
// longer than its interval never runs twice at once; and neither holds the
// other up.
func TestIntervalNeverOverlaps(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 5 s")
	}
	var fast, slow, inSlow, maxInSlow atomic.Int64
	count := starlark.NewBuiltin("count", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		fast.Add(1)
		return starlark.True, nil
	})
	sleepy := starlark.NewBuiltin("sleepy", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		n := inSlow.Add(1)
		defer inSlow.Add(-1)
		for m := maxInSlow.Load(); n > m && !maxInSlow.CompareAndSwap(m, n); m = maxInSlow.Load() {
		}
		slow.Add(1)
		time.Sleep(1300 * time.Millisecond)
		return starlark.True, nil
	})
	ts := start(t, `
check("fast", count, interval = "1s")
check("slow", sleepy, interval = "1s", timeout = "5s")
`, func(c *Config) { c.Load.Extra = starlark.StringDict{"count": count, "sleepy": sleepy} })
	time.Sleep(5 * time.Second)
	ts.stop()
	if n := fast.Load(); n < 4 || n > 6 {
		t.Errorf("interval=1s ran %d times in 5 s, want about 5", n)
	}
	if n := maxInSlow.Load(); n != 1 {
		t.Errorf("the slow check ran %d times at once", n)
	}
	if n := slow.Load(); n < 2 || n > 4 {
		t.Errorf("the slow check (1.3 s every 1 s) ran %d times in 5 s, want 2 to 4", n)
	}
}

// The offset within the interval is stable and spread: 1,000 checks at
// 30 s land in every tenth of the interval.
func TestOffsetSpread(t *testing.T) {
	const iv = 30 * time.Second
	var bins [10]int
	for i := range 1000 {
		name := "check-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		o := offset(name, iv)
		if o != offset(name, iv) || o < 0 || o >= iv {
			t.Fatalf("offset(%q) = %s, unstable or out of range", name, o)
		}
		bins[o*10/iv]++
	}
	for i, n := range bins {
		if n < 50 || n > 150 {
			t.Errorf("tenth %d of the interval has %d of 1000 checks: %v", i, n, bins)
		}
	}
}

func TestAfterUsesLatestResult(t *testing.T) {
	ts := start(t, `
check("db", lambda: fail("down"), interval = "200ms")
check("app", lambda: ok("up"), interval = "200ms", after = ["db"])
`, nil)
	ts.ready(t)
	_, body := ts.get(t, "/api/v1/checks/app")
	if !strings.Contains(body, `skipped: check \"db\", which it runs after, ended FAIL`) {
		t.Errorf("app after a failing db:\n%s", body)
	}
}

func TestHistoryAndHysteresis(t *testing.T) {
	c := &runtime.Check{Name: "x", FailAfter: 3, OkAfter: 2}
	st := newCheckState(c)
	seq := []result.Status{result.OK, result.Fail, result.Fail, result.Fail, result.OK, result.OK, result.Fail}
	want := []result.Status{result.OK, result.OK, result.OK, result.Fail, result.Fail, result.OK, result.OK}
	for i, s := range seq {
		st.record(entry{status: s}, 4)
		if st.reported.status != want[i] {
			t.Errorf("after result %d (%s): reported %s, want %s", i, s, st.reported.status, want[i])
		}
	}
	if n := st.history.len(); n != 4 {
		t.Errorf("history holds %d, want the last 4", n)
	}
	if first := st.history.at(0).status; first != seq[3] {
		t.Errorf("history starts at %s, want %s (the oldest kept)", first, seq[3])
	}
	flap := newCheckState(&runtime.Check{Name: "f", FailAfter: 1, OkAfter: 1})
	for i := range 6 {
		s := result.OK
		if i%2 == 1 {
			s = result.Fail
		}
		flap.record(entry{status: s}, 100)
	}
	if !flap.flapping() || st.flapping() {
		t.Errorf("flapping: %v for OK/FAIL alternating, %v for a steady one", flap.flapping(), st.flapping())
	}
}

func TestFailAfterEndToEnd(t *testing.T) {
	ts := start(t, `check("bad", lambda: fail("down"), interval = "200ms", fail_after = 1000)`, func(c *Config) { c.History = 3 })
	ts.ready(t)
	waitFor(t, 5*time.Second, "4 runs", func() bool {
		_, body := ts.get(t, "/api/v1/checks/bad")
		var j struct{ Runs int }
		_ = json.Unmarshal([]byte(body), &j)
		return j.Runs >= 4
	})
	_, body := ts.get(t, "/api/v1/checks/bad")
	var j struct {
		Status  string
		Latest  struct{ Status string }
		History []struct{ Status string }
	}
	if err := json.Unmarshal([]byte(body), &j); err != nil {
		t.Fatal(err)
	}
	// The first result is reported as it is; later ones agree with it.
	if j.Status != "fail" || j.Latest.Status != "fail" || len(j.History) != 3 {
		t.Errorf("status %q, latest %q, %d in history (--history 3)\n%s", j.Status, j.Latest.Status, len(j.History), body)
	}
	if code, _ := ts.get(t, "/api/v1/checks/nope"); code != 404 {
		t.Errorf("/api/v1/checks/nope: %d", code)
	}
	code, body := ts.get(t, "/api/v1/checks")
	if code != 200 || !strings.Contains(body, `"name": "bad"`) || strings.Contains(body, `"history"`) {
		t.Errorf("/api/v1/checks: %d\n%s", code, body)
	}
}

// A reload replaces the script only once the new one loads; a broken one
// leaves the old checks running and shows on /metrics, the API and the
// page. Checks that keep their name keep their history.
func TestReload(t *testing.T) {
	ts := start(t, `check("keep", lambda: ok("v1"), interval = "200ms")
check("gone", lambda: ok("v1"), interval = "200ms")`, nil)
	ts.ready(t)
	post := func() (int, string) {
		resp, err := http.Post(ts.base+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	runs := func(name string) int {
		_, body := ts.get(t, "/api/v1/checks/"+name)
		var j struct{ Runs int }
		_ = json.Unmarshal([]byte(body), &j)
		return j.Runs
	}

	if err := os.WriteFile(ts.script, []byte(`check("keep", lambda: ok("v2"), interval = "200ms")
check("new", undefined_function)`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, body := post()
	if code != 422 || !strings.Contains(body, "undefined: undefined_function") {
		t.Errorf("bad reload: %d %s", code, body)
	}
	before := runs("gone")
	waitFor(t, 5*time.Second, "the old checks to keep running", func() bool { return runs("gone") > before })
	_, metrics := ts.get(t, "/metrics")
	for _, want := range []string{"infra_guard_script_load_success 0", `infra_guard_script_reloads_total{result="failure"} 1`} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics after a bad reload lacks %q", want)
		}
	}
	_, page := ts.get(t, "/")
	if !strings.Contains(page, "The latest reload failed; the previous script keeps running.") || !strings.Contains(page, "undefined: undefined_function") {
		t.Errorf("the page does not show the failed reload:\n%s", page)
	}
	if code, _ := ts.get(t, "/readyz"); code != 200 {
		t.Errorf("/readyz after a bad reload: %d; the old checks still run", code)
	}

	kept := runs("keep")
	if err := os.WriteFile(ts.script, []byte(`check("keep", lambda: ok("v2"), interval = "200ms")
check("new", lambda: ok("v2"), interval = "200ms")`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body := post(); code != 200 {
		t.Fatalf("good reload: %d %s", code, body)
	}
	if n := runs("keep"); n < kept {
		t.Errorf("keep lost its history: %d runs, had %d", n, kept)
	}
	if code, _ := ts.get(t, "/api/v1/checks/gone"); code != 404 {
		t.Errorf("a check the new script dropped is still served: %d", code)
	}
	ts.ready(t)
	_, metrics = ts.get(t, "/metrics")
	for _, want := range []string{"infra_guard_script_load_success 1", `infra_guard_script_reloads_total{result="success"} 1`} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics after a good reload lacks %q", want)
		}
	}
	waitFor(t, 5*time.Second, "keep to run the new script's function", func() bool {
		_, body := ts.get(t, "/api/v1/checks/keep")
		return strings.Contains(body, `"message": "v2"`)
	})
}

// The script changing on disk reloads it (fsnotify).
func TestReloadOnChange(t *testing.T) {
	ts := start(t, `check("a", lambda: ok("v1"), interval = "200ms")`, func(c *Config) { c.Watch = true })
	ts.ready(t)
	if err := os.WriteFile(ts.script, []byte(`check("b", lambda: ok("v2"), interval = "200ms")`), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the reload", func() bool { code, _ := ts.get(t, "/healthz/b"); return code == 200 })
}

// A module the script loads from a subdirectory changing reloads it too.
func TestReloadOnLoadedFileChange(t *testing.T) {
	var lib string
	ts := start(t, `load("lib/m.star", "f")
check("a", f, interval = "200ms")`, func(c *Config) {
		c.Watch = true
		lib = filepath.Join(filepath.Dir(c.Script.Path), "lib")
		if err := os.MkdirAll(lib, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(lib, "m.star"), []byte("def f():\n    return fail(\"v1\")\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	ts.ready(t)
	if code, _ := ts.get(t, "/healthz/a"); code != 503 {
		t.Fatalf("/healthz/a with v1: %d", code)
	}
	if err := os.WriteFile(filepath.Join(lib, "m.star"), []byte("def f():\n    return ok(\"v2\")\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the reload", func() bool { code, _ := ts.get(t, "/healthz/a"); return code == 200 })
}

// SIGTERM (a cancelled context) stops a check stuck in a builtin that
// ignores its context, and Run returns within 2 s.
func TestShutdownWithStuckCheck(t *testing.T) {
	release := make(chan struct{})
	stuck := starlark.NewBuiltin("stuck", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		<-release
		return starlark.True, nil
	})
	var spinning atomic.Bool
	ts := start(t, `
def spin():
    mark()
    while True:
        pass
check("stuck", stuck, interval = "100ms", timeout = "1m")
check("spin", spin, interval = "100ms", timeout = "1m")
check("fine", lambda: True, interval = "100ms")
`, func(c *Config) {
		c.Run.MaxSteps = 1 << 62
		c.Load.Extra = starlark.StringDict{"stuck": stuck, "mark": starlark.NewBuiltin("mark", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			spinning.Store(true)
			return starlark.None, nil
		})}
	})
	waitFor(t, 10*time.Second, "the checks to start", func() bool {
		code, _ := ts.get(t, "/healthz/fine")
		return code == 200 && spinning.Load()
	})
	// A stuck check delays nobody: fine keeps running.
	if took := ts.stop(); took > 2*time.Second {
		t.Errorf("shutdown took %s, want under 2 s", took)
	}
	close(release) // let the stuck goroutine end, for goleak
	time.Sleep(50 * time.Millisecond)
}

// The heap past --max-heap cancels the checks running then: UNKNOWN,
// saying why; the server goes on.
func TestMaxHeapCancelsRunningChecks(t *testing.T) {
	ts := start(t, `
def spin():
    while True:
        pass
check("spin", spin, interval = "1s", timeout = "1m")
`, func(c *Config) {
		c.Run.MaxSteps = 1 << 62
		c.Run.MaxHeap = 1 << 20 // below what the test binary already holds
	})
	ts.ready(t)
	_, body := ts.get(t, "/api/v1/checks/spin")
	if !strings.Contains(body, `"status": "unknown"`) || !strings.Contains(body, "cancelled: stopped: the heap grew to") || !strings.Contains(body, "past --max-heap 1 MiB") {
		t.Errorf("a check running when the heap passed --max-heap:\n%s", body)
	}
}

// Secrets never reach a response: results are scrubbed as they are stored.
func TestSecretsAbsentFromEveryEndpoint(t *testing.T) {
	const value = "s3cr3t-T0KEN-value-9f8e7d"
	scrub := redact.New()
	ts := start(t, `
tok = secret("API_TOKEN")
check("leaky", lambda: fail("token is " + str(tok)), interval = "200ms")
check("leaky_metric", lambda: ok("fine", metrics = {str(tok): 1}), interval = "200ms")
`, func(c *Config) {
		c.Load.Env = func(name string) (string, bool) {
			if name == "API_TOKEN" {
				return value, true
			}
			return "", false
		}
		c.Load.OnSecret = func(name, v string) { scrub.Add(name, v) }
		c.Scrub = scrub.String
	})
	ts.ready(t)
	for _, path := range []string{"/", "/healthz?verbose", "/healthz/leaky", "/readyz?verbose", "/metrics", "/api/v1/checks", "/api/v1/checks/leaky", "/api/v1/checks/leaky_metric"} {
		for _, accept := range []string{"", "application/json"} {
			_, body := ts.get(t, path, "Accept", accept)
			if strings.Contains(body, value) {
				t.Errorf("GET %s (Accept %q) holds the secret:\n%s", path, accept, body)
			}
		}
	}
}

// A script that does not load: the server runs, unready, and says why.
func TestScriptNotLoaded(t *testing.T) {
	ts := start(t, `check("x", nope)`, nil)
	code, body := ts.get(t, "/readyz?verbose")
	if code != 503 || !strings.Contains(body, "[-]script failed: the script did not load: ") || !strings.Contains(body, "undefined: nope") {
		t.Errorf("/readyz: %d\n%s", code, body)
	}
	if code, _ := ts.get(t, "/livez"); code != 200 {
		t.Errorf("/livez: %d", code)
	}
	_, metrics := ts.get(t, "/metrics")
	if !strings.Contains(metrics, "infra_guard_script_load_success 0\n") {
		t.Errorf("/metrics:\n%s", metrics)
	}
	_, page := ts.get(t, "/")
	if !strings.Contains(page, "The script did not load; no check runs.") {
		t.Errorf("page:\n%s", page)
	}
}

// The counts behind the plain /healthz and /readyz agree with a walk over
// the checks, through results and reloads.
func TestFastPathCounts(t *testing.T) {
	ts := start(t, `check("a", lambda: ok("x"), interval = "100ms")
check("b", lambda: warn("x"), interval = "100ms")`, nil)
	ts.ready(t)
	if code, body := ts.get(t, "/healthz"); code != 200 || body != "ok" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if err := os.WriteFile(ts.script, []byte(`check("a", lambda: fail("x"), interval = "100ms")
check("c", lambda: ok("x"), interval = "100ms", fail_after = 2)`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ts.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.ready(t)
	time.Sleep(300 * time.Millisecond)
	ts.mu.Lock()
	pending, notPassing := ts.pending, ts.notPassing
	ts.recount()
	if pending != ts.pending || notPassing != ts.notPassing {
		t.Errorf("kept counts: %d pending, %d not passing; a walk: %d, %d", pending, notPassing, ts.pending, ts.notPassing)
	}
	ts.mu.Unlock()
	if code, _ := ts.get(t, "/healthz"); code != 503 {
		t.Errorf("/healthz with a failing check: %d", code)
	}
}

// gcPercentNow reads the GC percent without changing it.
func gcPercentNow() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// Run applies serve's GOGC while it runs, unless the environment sets
// one, and puts the previous one back when it returns.
func TestGCPercent(t *testing.T) {
	before := gcPercentNow()
	t.Setenv("GOGC", "")
	ts := start(t, `check("a", lambda: True, interval = "1h")`, nil)
	ts.ready(t)
	if p := gcPercentNow(); p != gcPercent {
		t.Errorf("GC percent while serving: %d, want %d", p, gcPercent)
	}
	ts.stop()
	if p := gcPercentNow(); p != before {
		t.Errorf("GC percent after Run: %d, want %d as before", p, before)
	}
	t.Setenv("GOGC", "150")
	ts = start(t, `check("a", lambda: True, interval = "1h")`, nil)
	ts.ready(t)
	if p := gcPercentNow(); p != before {
		t.Errorf("GC percent while serving with GOGC set: %d, want %d (the environment's)", p, before)
	}
}
