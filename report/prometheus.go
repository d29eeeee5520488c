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
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/infra-guard/infra-guard/result"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
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
		Help: promHelp["infra_guard_build_info"],
	}, []string{"commit", "goversion", "script", "version"})
	m, err := g.GetMetricWithLabelValues(promLabel(p.commit), promLabel(p.goVersion), promLabel(script), promLabel(p.version))
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	m.Set(1)
	return g, nil
}

// promGauges are the metric families, one GaugeVec each, by name.
type promGauges map[string]*prometheus.GaugeVec

// promHelp is each family's HELP text. It never varies: node_exporter
// wants one HELP per metric name across files.
var promHelp = map[string]string{
	"infra_guard_check_success":              "Whether the check found nothing wrong: 1 for ok, warn and skip, 0 for fail and unknown.",
	"infra_guard_check_status":               "The check's status: 0 ok, 1 warn, 2 fail, 3 unknown (the Nagios codes), -1 skip.",
	"infra_guard_check_duration_seconds":     "How long the check ran, in seconds; 0 when it did not run.",
	"infra_guard_metric":                     "A metric the check reported (ok(metrics=...), threshold()), by check and metric name, with its unit.",
	"infra_guard_run_exit_code":              "The run's exit code: 0 ok, 1 warn, 2 fail, 3 unknown.",
	"infra_guard_last_run_timestamp_seconds": "When the run ended, in seconds since the Unix epoch.",
	"infra_guard_run_duration_seconds":       "How long the whole run took, in seconds.",
	"infra_guard_run_checks":                 "How many checks ended in each status.",
	// A script that does not load writes no per-check series at all, so
	// an alert on infra_guard_check_success == 0 resolves exactly when
	// the guard breaks; this one stays, and is 0 then
	// (docs/prometheus/alerts.yml: GuardBroken).
	"infra_guard_script_loaded": "Whether the script loaded and registered checks: 1 when it did, 0 when it could not be read, did not load or registers no checks (then no check series are written).",
	"infra_guard_build_info":    "Always 1; the labels say which infra-guard build wrote the file.",
}

// promLabels are each family's label names, sorted (infra_guard_build_info
// is the reporter's own, see buildInfo).
var promLabels = map[string][]string{
	"infra_guard_check_success":              {"check", "script"},
	"infra_guard_check_status":               {"check", "script"},
	"infra_guard_check_duration_seconds":     {"check", "script"},
	"infra_guard_metric":                     {"check", "metric", "script", "unit"},
	"infra_guard_run_exit_code":              {"script"},
	"infra_guard_last_run_timestamp_seconds": {"script"},
	"infra_guard_run_duration_seconds":       {"script"},
	"infra_guard_run_checks":                 {"script", "status"},
	"infra_guard_script_loaded":              {"script"},
}

func newPromGauges() promGauges {
	g := promGauges{}
	for name, labels := range promLabels {
		g[name] = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: promHelp[name]}, labels)
	}
	return g
}

// Describe and Collect make the gauges a prometheus.Collector.
func (g promGauges) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range g {
		v.Describe(ch)
	}
}

func (g promGauges) Collect(ch chan<- prometheus.Metric) {
	for _, v := range g {
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

// Report writes r in the text exposition format in a single Write. The
// families are built straight from r rather than gathered from a registry:
// the registry's per-metric collection and consistency checks made 100,000
// checks cost 60 times the text format. TestPrometheusMatchesCollector
// keeps the two ways byte-identical, so client_golang stays the reference
// for names, types and escaping.
func (p *promReporter) Report(w io.Writer, r *result.Report) error {
	r = withoutCommands(r) // the report may be read by a GitHub runner
	var b bytes.Buffer
	b.Grow(200 * (len(r.Checks) + 8))
	for _, mf := range p.families(r) {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			return fmt.Errorf("prometheus: %w", err)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// gather is Report's families the registry's way: NewCollector and the
// build info, gathered. It is the reference families must equal.
func (p *promReporter) gather(r *result.Report) ([]*dto.MetricFamily, error) {
	c, err := NewCollector(r)
	if err != nil {
		return nil, err
	}
	build, err := p.buildInfo(r.Script)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	if err := reg.Register(build); err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	return reg.Gather()
}

// promFamily collects one family's series, keyed by their label values so
// a repeated series is written once, the last value winning, as a
// GaugeVec does.
type promFamily struct {
	name, help string
	labels     []string       // names, sorted
	series     map[string]int // by seriesKey, into metrics
	values     [][]string     // each series' label values, for sorting
	metrics    []*dto.Metric
}

func newPromFamily(name, help string, labels ...string) *promFamily {
	return &promFamily{name: name, help: help, labels: labels, series: map[string]int{}}
}

// set sets the series with these label values (in the order of labels).
func (f *promFamily) set(v float64, values ...string) {
	var key strings.Builder
	for _, s := range values { // length-prefixed: no two label sets share a key
		key.WriteString(strconv.Itoa(len(s)))
		key.WriteByte(':')
		key.WriteString(s)
	}
	if i, ok := f.series[key.String()]; ok {
		f.metrics[i].Gauge.Value = &v
		return
	}
	pairs := make([]*dto.LabelPair, len(values))
	for i := range values {
		pairs[i] = &dto.LabelPair{Name: &f.labels[i], Value: &values[i]}
	}
	f.series[key.String()] = len(f.metrics)
	f.metrics = append(f.metrics, &dto.Metric{Label: pairs, Gauge: &dto.Gauge{Value: &v}})
	f.values = append(f.values, values)
}

// family is f as Gather returns it: series sorted by their label values,
// compared label by label in the order of the (sorted) label names.
func (f *promFamily) family() *dto.MetricFamily {
	order := make([]int, len(f.metrics))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return slices.Compare(f.values[a], f.values[b]) })
	typ := dto.MetricType_GAUGE
	mf := &dto.MetricFamily{Name: &f.name, Help: &f.help, Type: &typ, Metric: make([]*dto.Metric, len(order))}
	for i, j := range order {
		mf.Metric[i] = f.metrics[j]
	}
	return mf
}

// families builds the format's metric families from r, sorted by name as
// Gather sorts them, from the same promSeries, promHelp and promLabels
// as the Collector (and buildInfo's labels).
func (p *promReporter) families(r *result.Report) []*dto.MetricFamily {
	fams := map[string]*promFamily{}
	for name, labels := range promLabels {
		fams[name] = newPromFamily(name, promHelp[name], labels...)
	}
	promSeries(r, func(name string, v float64, labels ...string) { fams[name].set(v, labels...) })
	build := newPromFamily("infra_guard_build_info", promHelp["infra_guard_build_info"], "commit", "goversion", "script", "version")
	build.set(1, promLabel(p.commit), promLabel(p.goVersion), promLabel(r.Script), promLabel(p.version))
	fams[build.name] = build

	var out []*dto.MetricFamily
	for _, f := range fams {
		if len(f.metrics) > 0 { // Gather leaves out a family with no series
			out = append(out, f.family())
		}
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out
}

// fill sets the gauges from r.
func (g promGauges) fill(r *result.Report) error {
	var err error
	promSeries(r, func(name string, v float64, labels ...string) {
		m, e := g[name].GetMetricWithLabelValues(labels...)
		if e != nil {
			err = cmp.Or(err, fmt.Errorf("prometheus: %w", e))
			return
		}
		m.Set(v)
	})
	return err
}

// promSeries hands every series of r to set: the family's name, the value
// and the label values in the order of promLabels. Both ways of making the
// format (families and the Collector's fill) read the report only here.
func promSeries(r *result.Report, set func(name string, v float64, labels ...string)) {
	script := promLabel(r.Script)
	n := map[result.Status]int{}
	for _, c := range r.Checks {
		st := c.Status.Valid()
		n[st]++
		check := promLabel(c.Name)
		ok := 1.0
		if st == result.Fail || st == result.Unknown {
			ok = 0
		}
		set("infra_guard_check_success", ok, check, script)
		set("infra_guard_check_status", promStatus[st], check, script)
		set("infra_guard_check_duration_seconds", max(c.Duration, 0).Seconds(), check, script)
		// Two metrics of one check with one name (worst() merges them)
		// would be one series: the last wins, as in the json format.
		for _, m := range c.Metrics {
			set("infra_guard_metric", m.Value, check, promLabel(m.Name), script, promLabel(m.Unit))
		}
	}
	for _, st := range []result.Status{result.OK, result.Warn, result.Fail, result.Unknown, result.Skip} {
		set("infra_guard_run_checks", float64(n[st]), script, st.String())
	}
	set("infra_guard_run_exit_code", float64(r.ExitCode), script)
	set("infra_guard_last_run_timestamp_seconds", float64(runEnd(r).UnixNano())/1e9, script)
	set("infra_guard_run_duration_seconds", max(r.Duration, 0).Seconds(), script)
	set("infra_guard_script_loaded", scriptLoaded(r), script)
}

// runEnd is when the run ended: now, for a report built without running
// (a load error).
func runEnd(r *result.Report) time.Time {
	if r.Started.IsZero() {
		return time.Now()
	}
	return r.Started.Add(r.Duration)
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
