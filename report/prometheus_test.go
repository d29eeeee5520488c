package report

import (
	"bytes"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/infra-guard/infra-guard/result"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parseProm reads the prometheus format back with Prometheus' own text
// parser, as node_exporter's textfile collector does.
func parseProm(t *testing.T, out []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("prometheus: %v\n%s", err, out)
	}
	return fams
}

// promValue finds the gauge of family name whose labels include want.
func promValue(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	t.Helper()
	mf, ok := fams[name]
	if !ok {
		return 0, false
	}
	var found []float64
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, lp := range m.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if match {
			found = append(found, m.GetGauge().GetValue())
		}
	}
	if len(found) > 1 {
		t.Errorf("%s%v: %d series", name, want, len(found))
	}
	if len(found) == 0 {
		return 0, false
	}
	return found[0], true
}

func TestPrometheusValid(t *testing.T) {
	for name, r := range allReports() {
		t.Run(name, func(t *testing.T) {
			out := render(t, "prometheus", Options{Version: "v0.1.0", Commit: "7cf2bb0", GoVersion: "go1.26.8"}, r)
			fams := parseProm(t, out)
			wantFams := []string{
				"infra_guard_build_info",
				"infra_guard_last_run_timestamp_seconds", "infra_guard_run_checks",
				"infra_guard_run_duration_seconds", "infra_guard_run_exit_code",
				"infra_guard_script_loaded",
			}
			if len(r.Checks) > 0 {
				wantFams = append(wantFams, "infra_guard_check_duration_seconds", "infra_guard_check_status", "infra_guard_check_success")
			}
			for _, c := range r.Checks {
				if len(c.Metrics) > 0 {
					wantFams = append(wantFams, "infra_guard_metric")
					break
				}
			}
			slices.Sort(wantFams)
			if got := slices.Sorted(maps.Keys(fams)); !slices.Equal(got, wantFams) {
				t.Errorf("families %q, want %q", got, wantFams)
			}
			for fname, mf := range fams {
				if mf.GetType() != dto.MetricType_GAUGE || mf.GetHelp() == "" {
					t.Errorf("%s: type %v, help %q", fname, mf.GetType(), mf.GetHelp())
				}
				if !strings.Contains(string(out), "# TYPE "+fname+" gauge\n") || !strings.Contains(string(out), "# HELP "+fname+" ") {
					t.Errorf("%s: no HELP/TYPE lines", fname)
				}
				for _, m := range mf.GetMetric() {
					if m.TimestampMs != nil {
						t.Errorf("%s: has a timestamp, which the textfile collector rejects", fname)
					}
					if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
						return l.GetName() == "script" && l.GetValue() == r.Script
					}) {
						t.Errorf("%s: series without script=%q: %v", fname, r.Script, m.GetLabel())
					}
				}
			}

			script := map[string]string{"script": r.Script}
			build := map[string]string{"script": r.Script, "version": "v0.1.0", "commit": "7cf2bb0", "goversion": "go1.26.8"}
			if v, ok := promValue(t, fams, "infra_guard_build_info", build); !ok || v != 1 {
				t.Errorf("build_info%v = %v, %v; want 1", build, v, ok)
			}
			if v, _ := promValue(t, fams, "infra_guard_run_exit_code", script); v != float64(r.ExitCode) {
				t.Errorf("exit code %v, want %d", v, r.ExitCode)
			}
			wantLoaded := 1.0
			if len(r.Errors) > 0 || len(r.Checks) == 0 {
				wantLoaded = 0
			}
			if v, ok := promValue(t, fams, "infra_guard_script_loaded", script); !ok || v != wantLoaded {
				t.Errorf("script_loaded = %v (present %v), want %v", v, ok, wantLoaded)
			}
			end := float64(r.Started.Add(r.Duration).UnixNano()) / 1e9
			if v, _ := promValue(t, fams, "infra_guard_last_run_timestamp_seconds", script); math.Abs(v-end) > 1e-3 {
				t.Errorf("last run %v, want %v", v, end)
			}
			n := r.Counts()
			for _, st := range []result.Status{result.OK, result.Warn, result.Fail, result.Unknown, result.Skip} {
				if v, ok := promValue(t, fams, "infra_guard_run_checks", map[string]string{"script": r.Script, "status": st.String()}); !ok || v != float64(n[st]) {
					t.Errorf("run_checks{status=%q} = %v, want %d", st, v, n[st])
				}
			}
			for _, c := range r.Checks {
				labels := map[string]string{"check": c.Name, "script": r.Script}
				wantStatus := map[result.Status]float64{result.OK: 0, result.Warn: 1, result.Fail: 2, result.Unknown: 3, result.Skip: -1}[c.Status]
				if v, ok := promValue(t, fams, "infra_guard_check_status", labels); !ok || v != wantStatus {
					t.Errorf("%q: status %v, want %v", c.Name, v, wantStatus)
				}
				wantSuccess := 1.0
				if c.Status == result.Fail || c.Status == result.Unknown {
					wantSuccess = 0
				}
				if v, ok := promValue(t, fams, "infra_guard_check_success", labels); !ok || v != wantSuccess {
					t.Errorf("%q: success %v, want %v", c.Name, v, wantSuccess)
				}
				if v, ok := promValue(t, fams, "infra_guard_check_duration_seconds", labels); !ok || v != c.Duration.Seconds() {
					t.Errorf("%q: duration %v, want %v", c.Name, v, c.Duration.Seconds())
				}
				for _, m := range c.Metrics {
					ml := map[string]string{"check": c.Name, "metric": m.Name, "script": r.Script, "unit": m.Unit}
					if v, ok := promValue(t, fams, "infra_guard_metric", ml); !ok || v != lastValue(c.Metrics, m.Name) {
						t.Errorf("%q: metric %q = %v, want %v", c.Name, m.Name, v, lastValue(c.Metrics, m.Name))
					}
				}
			}
		})
	}
}

// TestPrometheusLabels: label values that need escaping, or are not UTF-8,
// still parse, and the duplicate metric keeps its last value.
func TestPrometheusLabels(t *testing.T) {
	r := &result.Report{
		Script: "a\"b\\c\nd", Started: started, Duration: time.Second,
		Checks: []result.CheckResult{{
			Name: "bad \xff utf8", Status: result.OK,
			Metrics: []result.Metric{{Name: "x", Value: math.Inf(1)}, {Name: "y", Value: math.NaN()}},
		}},
	}
	fams := parseProm(t, render(t, "prometheus", Options{}, r))
	labels := map[string]string{"check": "bad \ufffd utf8", "script": "a\"b\\c\nd"}
	if v, ok := promValue(t, fams, "infra_guard_check_success", labels); !ok || v != 1 {
		t.Errorf("success{%v} = %v, %v", labels, v, ok)
	}
	labels["metric"] = "y"
	if v, ok := promValue(t, fams, "infra_guard_metric", labels); !ok || !math.IsNaN(v) {
		t.Errorf("NaN metric = %v, %v", v, ok)
	}
}

// TestPrometheusNoStart: a report built without running (a load error the
// CLI reports) has no start time; the timestamp is then the time of
// writing, not year 1.
func TestPrometheusNoStart(t *testing.T) {
	r := &result.Report{Script: "guard.star", Errors: []result.Diagnostic{{File: "guard.star", Line: 1, Col: 1, Msg: "boom"}}, ExitCode: 3}
	before := float64(time.Now().Unix())
	fams := parseProm(t, render(t, "prometheus", Options{}, r))
	v, _ := promValue(t, fams, "infra_guard_last_run_timestamp_seconds", map[string]string{"script": "guard.star"})
	if v < before || v > float64(time.Now().Unix()+1) {
		t.Errorf("last run timestamp %v, want about now (%v)", v, before)
	}
}

// TestPrometheusCollector: the Collector serves the very series the format
// writes (the golden .prom files prove the format's bytes unchanged), and
// sits in a registry beside other collectors.
func TestPrometheusCollector(t *testing.T) {
	r := fixtures()["statuses"]
	c, err := NewCollector(r)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c, prometheus.NewCounter(prometheus.CounterOpts{Name: "other_total", Help: "Another collector."}))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range fams {
		if strings.HasPrefix(mf.GetName(), "infra_guard_") {
			if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The format adds infra_guard_build_info, which is the writer's, not
	// the report's.
	var want []string
	for _, l := range strings.SplitAfter(string(render(t, "prometheus", Options{}, r)), "\n") {
		if !strings.Contains(l, "infra_guard_build_info") {
			want = append(want, l)
		}
	}
	if b.String() != strings.Join(want, "") {
		t.Errorf("collector:\n%s\nformat:\n%s", b.String(), strings.Join(want, ""))
	}
}

// gather is the prometheus format's families the registry's way:
// NewCollector and the build info, gathered. It is the reference the
// format's bytes must equal, once written by expfmt.
func (p *promReporter) gather(r *result.Report) ([]*dto.MetricFamily, error) {
	c, err := NewCollector(r)
	if err != nil {
		return nil, err
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: promBuildInfo, Help: promHelp[promBuildInfo]}, promBuildLabels)
	build.WithLabelValues(promLabel(p.commit), promLabel(p.goVersion), promLabel(r.Script), promLabel(p.version)).Set(1)
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	if err := reg.Register(build); err != nil {
		return nil, err
	}
	return reg.Gather()
}

// TestPrometheusMatchesCollector: the format writes its families itself,
// for speed; they must be byte for byte what client_golang's registry
// gathers from NewCollector and the build info, written by expfmt, for
// the fixtures, the hostile and workflow-command reports, many checks, a
// metric repeated in one check, checks in no order and 300 random reports.
func TestPrometheusMatchesCollector(t *testing.T) {
	cases := referenceCases()
	dup := manyChecks(3)
	dup.Checks[1].Metrics = append(dup.Checks[1].Metrics, result.Metric{Name: "value", Value: 7, Unit: "%"})
	cases["repeated metric"] = dup
	apart := manyChecks(2) // out of order, and the repeat not next to the first
	apart.Checks[1].Metrics = []result.Metric{{Name: "b", Value: 1}, {Name: "a", Value: 2}, {Name: "b", Value: 3}}
	cases["repeated metric apart"] = apart
	shuffled := manyChecks(300)
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(shuffled.Checks), func(i, j int) {
		shuffled.Checks[i], shuffled.Checks[j] = shuffled.Checks[j], shuffled.Checks[i]
	})
	shuffled.Checks[7].Name = shuffled.Checks[200].Name
	cases["shuffled"] = shuffled
	p := &promReporter{version: "v1.2.3", commit: "abc\"\\\n", goVersion: "go1.26"}
	for name, r := range cases {
		if r.Started.IsZero() { // else each way reads its own clock
			r.Started = started
		}
		fams, err := p.gather(withoutCommands(r))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var want bytes.Buffer
		for _, mf := range fams {
			if _, err := expfmt.MetricFamilyToText(&want, mf); err != nil {
				t.Fatal(err)
			}
		}
		var got bytes.Buffer
		if err := p.Report(&got, r); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: the format differs from the registry's families:\n got:\n%s\nwant:\n%s", name, got.String(), want.String())
		}
	}
}

// FuzzPromLabel: label values and HELP text are escaped as expfmt escapes
// them.
func FuzzPromLabel(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		s = promLabel(s)
		name, help := "m", s
		typ := dto.MetricType_GAUGE
		v := 0.25
		mf := &dto.MetricFamily{Name: &name, Help: &help, Type: &typ, Metric: []*dto.Metric{{
			Label: []*dto.LabelPair{{Name: &name, Value: &s}}, Gauge: &dto.Gauge{Value: &v},
		}}}
		var want bytes.Buffer
		if _, err := expfmt.MetricFamilyToText(&want, mf); err != nil {
			t.Fatal(err)
		}
		got := appendPromEscaped([]byte("# HELP m "), s, false)
		got = append(got, "\n# TYPE m gauge\nm{m=\""...)
		got = append(appendPromEscaped(got, s, true), "\"} 0.25\n"...)
		if string(got) != want.String() {
			t.Errorf("%q:\n got %q\nwant %q", s, got, want.String())
		}
	})
}

func FuzzPromFloat(f *testing.F) {
	for _, v := range awkwardFloats {
		f.Add(v)
	}
	// Durations in seconds, and the edges of appendPromFloat's decimal
	// shortcut.
	for _, v := range []float64{0.001, 0.000123, 1.1, 2.5e-5, 1e-4, 0.99999e-4, 999999.999999999, 1e6 - 1e-9, 123456.000000001, 0.1 + 0.2, 1.0000000005, -0.042, 9.87654321} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		for _, v := range []float64{v, math.Trunc(v), math.Mod(math.Trunc(v), 2e6)} { // the integer shortcut too
			name, typ := "m", dto.MetricType_GAUGE
			mf := &dto.MetricFamily{Name: &name, Type: &typ, Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: &v}}}}
			var want bytes.Buffer
			if _, err := expfmt.MetricFamilyToText(&want, mf); err != nil {
				t.Fatal(err)
			}
			if got := "# TYPE m gauge\nm " + string(appendPromFloat(nil, v)) + "\n"; got != want.String() {
				t.Errorf("%v:\n got %q\nwant %q", v, got, want.String())
			}
		}
	})
}

// TestPromFloatDurations: durations in seconds, which appendPromFloat
// writes by its decimal shortcut, come out as expfmt writes them, over
// every scale from 1µs to 100 days and a few nanoseconds either side of
// a round number, and other values of up to nine decimals.
func TestPromFloatDurations(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 7))
	var values []float64
	for range 30000 {
		d := time.Duration(rng.Int64N(int64(100*24*time.Hour))) >> rng.IntN(40)
		round := d.Round(time.Millisecond) + time.Duration(rng.IntN(5)-2)
		values = append(values, d.Seconds(), round.Seconds(), -d.Seconds(), float64(d)/1e9, float64(rng.Int64N(1e15))/1e9)
	}
	name, typ := "m", dto.MetricType_GAUGE
	for _, v := range values {
		mf := &dto.MetricFamily{Name: &name, Type: &typ, Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: &v}}}}
		var want bytes.Buffer
		if _, err := expfmt.MetricFamilyToText(&want, mf); err != nil {
			t.Fatal(err)
		}
		if got := "# TYPE m gauge\nm " + string(appendPromFloat(nil, v)) + "\n"; got != want.String() {
			t.Fatalf("%v:\n got %q\nwant %q", v, got, want.String())
		}
	}
}
