package report

// This file holds the prometheus format: the Prometheus text exposition
// format that node_exporter's textfile collector reads from *.prom files
// (write them with --report prometheus=DIR/NAME.prom, which is atomic).
// The metrics are built with client_golang and written by expfmt, so the
// escaping and layout are Prometheus' own.
//
//	infra_guard_check_success{check="nginx",script="guard.star"} 0
//	infra_guard_check_status{check="nginx",script="guard.star"} 2
//	infra_guard_check_duration_seconds{check="nginx",script="guard.star"} 0.003
//	infra_guard_metric{check="api",metric="latency_ms",script="guard.star",unit=""} 1234
//	infra_guard_run_exit_code{script="guard.star"} 2
//	infra_guard_last_run_timestamp_seconds{script="guard.star"} 1.773480414930793e+09
//	infra_guard_script_loaded{script="guard.star"} 1
//	infra_guard_build_info{commit="7cf2bb0…",goversion="go1.26.8",script="guard.star",version="v0.1.0"} 1
//
// Every series carries script=, so the files of several guards can sit in
// one textfile directory without clashing. HELP texts never vary, as
// node_exporter wants one HELP per metric name across files.

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/infra-guard/infra-guard/result"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// promStatus is the value of infra_guard_check_status: the Nagios codes for
// ok, warn, fail and unknown, and -1 for a skipped check, so that an alert
// on "status > 0" or "status >= 2" never fires for one.
var promStatus = [...]float64{result.OK: 0, result.Warn: 1, result.Fail: 2, result.Unknown: 3, result.Skip: -1}

type promReporter struct{ version, commit, goVersion string }

var _ Reporter = (*promReporter)(nil)

func newPrometheus(opts Options) Reporter {
	return &promReporter{version: opts.Version, commit: opts.Commit, goVersion: opts.GoVersion}
}

// buildInfo is infra_guard_build_info: always 1, its labels say which
// infra-guard build wrote the file. It carries script= too, as every
// series does: two guards' files in one textfile directory must not repeat
// a series.
func (p *promReporter) buildInfo(script string) (prometheus.Collector, error) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "infra_guard_build_info",
		Help: "Always 1; the labels say which infra-guard build wrote the file.",
	}, []string{"commit", "goversion", "script", "version"})
	m, err := g.GetMetricWithLabelValues(promLabel(p.commit), promLabel(p.goVersion), promLabel(script), promLabel(p.version))
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	m.Set(1)
	return g, nil
}

// promGauges are the metric families, one GaugeVec each.
type promGauges struct {
	success, status, duration, metric         *prometheus.GaugeVec
	exitCode, lastRun, runDuration, runChecks *prometheus.GaugeVec
	loaded                                    *prometheus.GaugeVec
}

func newPromGauges() *promGauges {
	vec := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	return &promGauges{
		success: vec("infra_guard_check_success",
			"Whether the check found nothing wrong: 1 for ok, warn and skip, 0 for fail and unknown.",
			"check", "script"),
		status: vec("infra_guard_check_status",
			"The check's status: 0 ok, 1 warn, 2 fail, 3 unknown (the Nagios codes), -1 skip.",
			"check", "script"),
		duration: vec("infra_guard_check_duration_seconds",
			"How long the check ran, in seconds; 0 when it did not run.",
			"check", "script"),
		metric: vec("infra_guard_metric",
			"A metric the check reported (ok(metrics=...), threshold()), by check and metric name, with its unit.",
			"check", "metric", "script", "unit"),
		exitCode: vec("infra_guard_run_exit_code",
			"The run's exit code: 0 ok, 1 warn, 2 fail, 3 unknown.",
			"script"),
		lastRun: vec("infra_guard_last_run_timestamp_seconds",
			"When the run ended, in seconds since the Unix epoch.",
			"script"),
		runDuration: vec("infra_guard_run_duration_seconds",
			"How long the whole run took, in seconds.",
			"script"),
		runChecks: vec("infra_guard_run_checks",
			"How many checks ended in each status.",
			"script", "status"),
		// A script that does not load writes no per-check series at all,
		// so an alert on infra_guard_check_success == 0 resolves exactly
		// when the guard breaks; this one stays, and is 0 then
		// (docs/prometheus/alerts.yml: GuardBroken).
		loaded: vec("infra_guard_script_loaded",
			"Whether the script loaded and registered checks: 1 when it did, 0 when it could not be read, did not load or registers no checks (then no check series are written).",
			"script"),
	}
}

func (g *promGauges) vecs() []*prometheus.GaugeVec {
	return []*prometheus.GaugeVec{g.success, g.status, g.duration, g.metric, g.exitCode, g.lastRun, g.runDuration, g.runChecks, g.loaded}
}

// Describe and Collect make the gauges a prometheus.Collector.
func (g *promGauges) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range g.vecs() {
		v.Describe(ch)
	}
}

func (g *promGauges) Collect(ch chan<- prometheus.Metric) {
	for _, v := range g.vecs() {
		v.Collect(ch)
	}
}

// NewCollector returns the prometheus format's metrics of r as a
// prometheus.Collector, for a registry of the caller's: the same series
// the format writes, so a program can serve them (or add its own beside
// them) instead of writing a textfile.
func NewCollector(r *result.Report) (prometheus.Collector, error) {
	g := newPromGauges()
	if err := g.fill(r); err != nil {
		return nil, err
	}
	return g, nil
}

// PromStatus is a status as infra_guard_check_status gives it: the Nagios
// exit codes for ok, warn, fail and unknown, -1 for skip.
func PromStatus(s result.Status) float64 { return promStatus[s.Valid()] }

// Report writes r in the text exposition format in a single Write.
func (p *promReporter) Report(w io.Writer, r *result.Report) error {
	r = withoutCommands(r) // the report may be read by a GitHub runner
	c, err := NewCollector(r)
	if err != nil {
		return err
	}
	build, err := p.buildInfo(r.Script)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	if err := reg.Register(build); err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	families, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	var b bytes.Buffer
	for _, mf := range families {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			return fmt.Errorf("prometheus: %w", err)
		}
	}
	_, err = w.Write(b.Bytes())
	return err
}

// fill sets the gauges from r.
func (g *promGauges) fill(r *result.Report) error {
	script := promLabel(r.Script)

	set := func(v *prometheus.GaugeVec, value float64, labels ...string) error {
		m, err := v.GetMetricWithLabelValues(labels...)
		if err != nil {
			return fmt.Errorf("prometheus: %w", err)
		}
		m.Set(value)
		return nil
	}

	n := map[result.Status]int{}
	for _, c := range r.Checks {
		st := c.Status.Valid()
		n[st]++
		check := promLabel(c.Name)
		success := 1.0
		if st == result.Fail || st == result.Unknown {
			success = 0
		}
		if err := set(g.success, success, check, script); err != nil {
			return err
		}
		if err := set(g.status, promStatus[st], check, script); err != nil {
			return err
		}
		if err := set(g.duration, max(c.Duration, 0).Seconds(), check, script); err != nil {
			return err
		}
		// Two metrics of one check with one name (worst() merges them)
		// would be one series: the last wins, as in the json format.
		for _, m := range c.Metrics {
			if err := set(g.metric, m.Value, check, promLabel(m.Name), script, promLabel(m.Unit)); err != nil {
				return err
			}
		}
	}
	for _, st := range []result.Status{result.OK, result.Warn, result.Fail, result.Unknown, result.Skip} {
		if err := set(g.runChecks, float64(n[st]), script, st.String()); err != nil {
			return err
		}
	}
	end := r.Started.Add(r.Duration)
	if r.Started.IsZero() { // a report built without running (a load error)
		end = time.Now()
	}
	if err := set(g.exitCode, float64(r.ExitCode), script); err != nil {
		return err
	}
	if err := set(g.lastRun, float64(end.UnixNano())/1e9, script); err != nil {
		return err
	}
	if err := set(g.runDuration, max(r.Duration, 0).Seconds(), script); err != nil {
		return err
	}
	return set(g.loaded, scriptLoaded(r), script)
}

// promLabel makes s a label value: valid UTF-8 (Prometheus rejects
// anything else).
func promLabel(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// scriptLoaded is infra_guard_script_loaded's value for r.
func scriptLoaded(r *result.Report) float64 {
	if len(r.Errors) > 0 || len(r.Checks) == 0 {
		return 0
	}
	return 1
}
