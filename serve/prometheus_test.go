package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMetricsPromtool: /metrics passes `promtool check metrics` (the
// linter Prometheus ships), when promtool is installed.
func TestMetricsPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian: apt-get install prometheus); skipping the metrics lint")
	}
	ts := start(t, threeChecks+`check("m", lambda: ok("x", metrics = {"latency_ms": 12}), interval = "200ms")`, nil)
	ts.ready(t)
	_, body := ts.get(t, "/metrics")
	for _, want := range []string{
		`infra_guard_check_status{check="bad"} 2`, `infra_guard_check_status{check="meh"} 1`, `infra_guard_check_status{check="good"} 0`,
		`infra_guard_check_duration_seconds_bucket{check="good",le="0.001"}`, `infra_guard_check_last_run_timestamp_seconds{check="good"}`,
		`infra_guard_check_runs_total{check="bad",status="fail"}`, `infra_guard_check_metric{check="m",metric="latency_ms",unit=""} 12`,
		"infra_guard_script_load_success 1", `infra_guard_script_reloads_total{result="failure"} 0`,
		"go_goroutines", "process_resident_memory_bytes",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// Scrapes count nothing: runs_total moves only when a check runs.
func TestScrapeChangesNoCounter(t *testing.T) {
	ts := start(t, `check("slow", lambda: True, interval = "1h")`, nil)
	ts.ready(t)
	var first string
	for i := range 5 {
		_, body := ts.get(t, "/metrics")
		var line string
		for l := range strings.Lines(body) {
			if strings.HasPrefix(l, `infra_guard_check_runs_total{check="slow",status="ok"}`) {
				line = l
			}
		}
		if i == 0 {
			first = line
		} else if line != first {
			t.Fatalf("scrape %d changed the counter: %q, then %q", i, first, line)
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(first), " 1") {
		t.Errorf("runs_total after one run: %q", first)
	}
}

// TestRealPrometheus starts Prometheus on 127.0.0.1 scraping serve, waits
// for two scrapes and asks its HTTP API for infra_guard_check_status.
func TestRealPrometheus(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (Debian: apt-get install prometheus, as .ci/run does); skipping the end-to-end scrape")
	}
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	ts := start(t, threeChecks, nil)
	ts.ready(t)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: infra-guard
    static_configs:
      - targets: [%q]
`, ts.Addr())
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	promAddr := ln.Addr().String()
	ln.Close()
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus output:\n%s", out.String())
		}
	}()
	query := func(q string) ([]json.RawMessage, error) {
		resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + q)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var r struct {
			Status string
			Data   struct{ Result []json.RawMessage }
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return nil, err
		}
		return r.Data.Result, nil
	}
	// Two scrapes: prometheus_target_interval... is per target; the
	// up series' count over a range says how many scrapes stored.
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := query(`count_over_time(up{job="infra-guard"}[1m])`)
		if err == nil && len(res) == 1 && !strings.Contains(string(res[0]), `"1"]`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus did not scrape serve twice in 30 s (last: %v %s)", err, res)
		}
		time.Sleep(200 * time.Millisecond)
	}
	res, err := query(`infra_guard_check_status`)
	if err != nil {
		t.Fatal(err)
	}
	got := string(bytes.Join(func() [][]byte {
		var b [][]byte
		for _, r := range res {
			b = append(b, r)
		}
		return b
	}(), []byte("\n")))
	for _, want := range []string{`"check":"bad"`, `"check":"good"`, `"check":"meh"`} {
		if !strings.Contains(got, want) {
			t.Errorf("Prometheus has no infra_guard_check_status with %s:\n%s", want, got)
		}
	}
	if len(res) != 3 {
		t.Errorf("%d series of infra_guard_check_status, want 3", len(res))
	}
}
