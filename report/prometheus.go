package report

// This file holds the prometheus format: the Prometheus text exposition
// format that node_exporter's textfile collector reads from *.prom files
// (write them with --report prometheus=DIR/NAME.prom, which is atomic).
// The series are those of a client_golang Collector (NewCollector), and
// the bytes those expfmt writes for them, so the escaping and layout are
// Prometheus' own; the format writes them itself, for speed, and a test
// holds it to client_golang's and expfmt's output.
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
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/infra-guard/infra-guard/result"
	"github.com/prometheus/client_golang/prometheus"
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

// promLabels are each family's label names, sorted. infra_guard_build_info
// is the format's own, not the report's (the Collector leaves it out);
// every series carries script= all the same: two guards' files in one
// textfile directory must not repeat a series.
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

// promBuildInfo is the family the format adds to the report's.
const promBuildInfo = "infra_guard_build_info"

var promBuildLabels = []string{"commit", "goversion", "script", "version"}

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

// Report writes r in the text exposition format, streamed (see stream),
// byte for byte what client_golang's registry would gather from
// NewCollector and the build info and expfmt would write: the families
// sorted by name, each family's series sorted by their label values, a
// repeated series once with its last value. It does not go through the
// registry, whose per-series collection and consistency checks made
// 100,000 checks cost 60 times the text format, nor through dto values
// and expfmt, which still cost 10 times: each family's series are
// gathered from promSeries, sorted and written by hand.
// TestPrometheusMatchesCollector keeps the two ways byte-identical, on
// the fixtures and on random reports, so client_golang and expfmt stay
// the reference for names, types, order and escaping.
func (p *promReporter) Report(w io.Writer, r *result.Report) error {
	r = withoutCommands(r) // the report may be read by a GitHub runner
	metrics := 0
	for i := range r.Checks {
		metrics += len(r.Checks[i].Metrics)
	}
	// Room for the largest family, one series per check or per metric.
	pw := promWriter{s: newStream(w), series: make([]promSample, 0, max(len(r.Checks), metrics))}
	pw.set(promBuildInfo, 1, []string{promLabel(p.commit), promLabel(p.goVersion), promLabel(r.Script), promLabel(p.version)})
	promSeries(r, byName(r), pw.set)
	pw.flush()
	if pw.err != nil {
		return pw.err
	}
	return pw.s.end()
}

// byName is the order to walk r's checks in so that the series of each
// per-check family come out sorted already: by check label, and in report
// order among equal ones, so that the last of them still wins.
func byName(r *result.Report) []int {
	names := make([]string, len(r.Checks))
	order := make([]int, len(r.Checks))
	for i := range r.Checks {
		names[i], order[i] = promLabel(r.Checks[i].Name), i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Or(strings.Compare(names[a], names[b]), a-b) })
	return order
}

// promWriter gathers one family's series at a time from promSeries, which
// hands them over family by family in the order of their names, and
// writes each family when the next begins.
type promWriter struct {
	s      *stream
	name   string   // the family being gathered
	labels []string // its label names
	series []promSample
	err    error
}

// promSample is one series: its label values (in the order of the
// family's label names) and value; seq is its place among the family's,
// so that of two with the same labels the later wins.
type promSample struct {
	labels [4]string
	v      float64
	seq    int
}

func (p *promWriter) set(name string, v float64, labels []string) {
	if name != p.name {
		p.flush()
		if name < p.name {
			p.err = cmp.Or(p.err, fmt.Errorf("prometheus: family %s after %s: promSeries must go by name", name, p.name))
		}
		p.name, p.labels = name, promLabels[name]
		if name == promBuildInfo {
			p.labels = promBuildLabels
		}
	}
	smp := promSample{v: v, seq: len(p.series)}
	copy(smp.labels[:], labels)
	p.series = append(p.series, smp)
}

// flush writes the family gathered so far, as expfmt.MetricFamilyToText
// writes a gauge family.
func (p *promWriter) flush() {
	if len(p.series) == 0 {
		return
	}
	n := len(p.labels)
	// One pass finds out whether the series need sorting (they mostly
	// come sorted: see byName), whether any repeats, and which labels
	// have one value throughout (script=), to be escaped once.
	sorted, repeats := true, false
	var same [4]bool
	for j := range n {
		same[j] = true
	}
	first := &p.series[0]
	for i := 1; i < len(p.series); i++ {
		prev, cur := &p.series[i-1], &p.series[i]
		switch slices.Compare(prev.labels[:n], cur.labels[:n]) {
		case 1:
			sorted = false
		case 0:
			repeats = true
		}
		for j := range n {
			same[j] = same[j] && cur.labels[j] == first.labels[j]
		}
	}
	if !sorted {
		slices.SortFunc(p.series, func(a, b promSample) int {
			return cmp.Or(slices.Compare(a.labels[:n], b.labels[:n]), a.seq-b.seq)
		})
		repeats = true // perhaps: they were not side by side before
	}
	var once [4][]byte // the escaped value of each label in same
	for j := range n {
		if same[j] {
			once[j] = appendPromEscaped(nil, first.labels[j], true)
		}
	}

	s := p.s
	s.b = append(s.b, "# HELP "+p.name+" "...)
	s.b = appendPromEscaped(s.b, promHelp[p.name], false)
	s.b = append(s.b, "\n# TYPE "+p.name+" gauge\n"...)
	for i := range p.series {
		smp := &p.series[i]
		if repeats && i+1 < len(p.series) && smp.labels == p.series[i+1].labels {
			continue // the later one wins
		}
		s.b = append(s.b, p.name...)
		for j, l := range p.labels {
			if j == 0 {
				s.b = append(s.b, '{')
			} else {
				s.b = append(s.b, ',')
			}
			s.b = append(append(s.b, l...), `="`...)
			if same[j] {
				s.b = append(s.b, once[j]...)
			} else {
				s.b = appendPromEscaped(s.b, smp.labels[j], true)
			}
			s.b = append(s.b, '"')
		}
		s.b = append(s.b, "} "...)
		s.b = append(appendPromFloat(s.b, smp.v), '\n')
		s.mark()
	}
	p.series = p.series[:0]
}

// appendPromEscaped appends s escaped as expfmt escapes a HELP text
// (backslash and newline) or, with quote, a label value (and '"').
func appendPromEscaped(b []byte, s string, quote bool) []byte {
	for {
		i := 0
		for i < len(s) && !promSpecial[s[i]] {
			i++
		}
		b = append(b, s[:i]...)
		if i == len(s) {
			return b
		}
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
		s = s[i+1:]
	}
}

// promSpecial marks the bytes appendPromEscaped may escape.
var promSpecial = [256]bool{'\\': true, '\n': true, '"': true}

// appendPromFloat appends f as expfmt writes a sample value.
func appendPromFloat(b []byte, f float64) []byte {
	switch {
	case f == 1:
		return append(b, '1')
	case f == 0:
		return append(b, '0')
	case f == -1:
		return append(b, "-1"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, +1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	case f == math.Trunc(f) && math.Abs(f) < 1e6: // %g has no exponent there: the integer
		return strconv.AppendInt(b, int64(f), 10)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// fill sets the gauges from r.
func (g promGauges) fill(r *result.Report) error {
	var err error
	promSeries(r, nil, func(name string, v float64, labels []string) {
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
// and the label values in the order of promLabels (valid only during the
// call). It goes family by family, in the order of their names, which is
// how the format writes them; order, when not nil, is the order to walk
// the checks in. Both ways of making the format (Report and the
// Collector's fill) read the report only here.
func promSeries(r *result.Report, order []int, set func(name string, v float64, labels []string)) {
	if order == nil {
		order = make([]int, len(r.Checks))
		for i := range order {
			order[i] = i
		}
	}
	script := promLabel(r.Script)
	checks := make([]string, len(r.Checks)) // each check's label, made once
	for i := range r.Checks {
		checks[i] = promLabel(r.Checks[i].Name)
	}
	var lv [4]string
	perCheck := func(name string, value func(c *result.CheckResult) float64) {
		for _, i := range order {
			lv[0], lv[1] = checks[i], script
			set(name, value(&r.Checks[i]), lv[:2])
		}
	}
	perCheck("infra_guard_check_duration_seconds", func(c *result.CheckResult) float64 { return max(c.Duration, 0).Seconds() })
	perCheck("infra_guard_check_status", func(c *result.CheckResult) float64 { return promStatus[c.Status.Valid()] })
	perCheck("infra_guard_check_success", func(c *result.CheckResult) float64 {
		if st := c.Status.Valid(); st == result.Fail || st == result.Unknown {
			return 0
		}
		return 1
	})
	lv[0] = script
	set("infra_guard_last_run_timestamp_seconds", float64(runEnd(r).UnixNano())/1e9, lv[:1])
	// Two metrics of one check with one name (worst() merges them) are
	// one series: the last wins, as in the json format.
	for _, i := range order {
		for _, m := range r.Checks[i].Metrics {
			lv = [4]string{checks[i], promLabel(m.Name), script, promLabel(m.Unit)}
			set("infra_guard_metric", m.Value, lv[:4])
		}
	}
	n := count(r)
	for _, st := range []struct {
		status string
		n      int
	}{{"ok", n.OK}, {"warn", n.Warn}, {"fail", n.Fail}, {"unknown", n.Unknown}, {"skip", n.Skip}} {
		lv[0], lv[1] = script, st.status
		set("infra_guard_run_checks", float64(st.n), lv[:2])
	}
	lv[0] = script
	set("infra_guard_run_duration_seconds", max(r.Duration, 0).Seconds(), lv[:1])
	set("infra_guard_run_exit_code", float64(r.ExitCode), lv[:1])
	set("infra_guard_script_loaded", scriptLoaded(r), lv[:1])
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
func promLabel(s string) string {
	if utf8.ValidString(s) { // the faster scan, and nearly always true
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// scriptLoaded is infra_guard_script_loaded's value for r.
func scriptLoaded(r *result.Report) float64 {
	if len(r.Errors) > 0 || len(r.Checks) == 0 {
		return 0
	}
	return 1
}
