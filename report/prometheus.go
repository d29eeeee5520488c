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
	"bytes"
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
// and expfmt, which still cost 10 times: promWriter writes each family
// as promSeries hands it over, the checks sorted once for all of them.
// TestPrometheusMatchesCollector keeps the two ways byte-identical, on
// the fixtures and on random reports, so client_golang and expfmt stay
// the reference for names, types, order and escaping.
func (p *promReporter) Report(w io.Writer, r *result.Report) error {
	// The report may be read by a GitHub runner, so the texts written go
	// through NoCommands. They are only the script's, the checks' and the
	// metrics' names and the units, each passed through here and in
	// promWriter, which saves looking at every message and file name as
	// withoutCommands would (it cost more than writing some series).
	noCmd := *r
	noCmd.Script = NoCommands(r.Script)
	r = &noCmd
	script := promLabel(r.Script)
	pw := &promWriter{s: newStream(w), r: r, sorted: sortPromChecks(r), script: appendPromEscaped(nil, script, true)}
	pw.set(promBuildInfo, 1, promLabel(p.commit), promLabel(p.goVersion), script, promLabel(p.version))
	promSeries(r, pw)
	if pw.err != nil {
		return pw.err
	}
	return pw.s.end()
}

// promSink is what promSeries hands a report's series to: the gauges of
// the Collector (promFill) or the format's writer (promWriter).
type promSink interface {
	// checks is a per-check family: value(c) for each check c, labelled
	// check and script.
	checks(name string, value func(c *result.CheckResult) float64)
	// metrics is infra_guard_metric: each metric of each check, labelled
	// check, metric, script and unit.
	metrics()
	// set is one series of any other family, with its label values in
	// the order of the family's label names.
	set(name string, v float64, labels ...string)
}

// promSeries hands every series of r to sink, family by family in the
// order of their names, and within a family in the order of their label
// values where it gives them itself (set): that is how the format writes
// them. Both ways of making the format (Report and the Collector) get
// the families and their values only here.
func promSeries(r *result.Report, sink promSink) {
	script := promLabel(r.Script)
	sink.checks("infra_guard_check_duration_seconds", func(c *result.CheckResult) float64 { return max(c.Duration, 0).Seconds() })
	sink.checks("infra_guard_check_status", func(c *result.CheckResult) float64 { return promStatus[c.Status.Valid()] })
	sink.checks("infra_guard_check_success", func(c *result.CheckResult) float64 {
		if st := c.Status.Valid(); st == result.Fail || st == result.Unknown {
			return 0
		}
		return 1
	})
	sink.set("infra_guard_last_run_timestamp_seconds", float64(runEnd(r).UnixNano())/1e9, script)
	sink.metrics()
	n := count(r)
	for _, st := range []struct { // by status name
		status string
		n      int
	}{{"fail", n.Fail}, {"ok", n.OK}, {"skip", n.Skip}, {"unknown", n.Unknown}, {"warn", n.Warn}} {
		sink.set("infra_guard_run_checks", float64(st.n), script, st.status)
	}
	sink.set("infra_guard_run_duration_seconds", max(r.Duration, 0).Seconds(), script)
	sink.set("infra_guard_run_exit_code", float64(r.ExitCode), script)
	sink.set("infra_guard_script_loaded", scriptLoaded(r), script)
}

// promFill sets the Collector's gauges from a report, in report order:
// of two series with the same labels the later Set wins.
type promFill struct {
	g   promGauges
	r   *result.Report
	err error
}

func (f *promFill) checks(name string, value func(c *result.CheckResult) float64) {
	script := promLabel(f.r.Script)
	for i := range f.r.Checks {
		c := &f.r.Checks[i]
		f.set(name, value(c), promLabel(c.Name), script)
	}
}

func (f *promFill) metrics() {
	script := promLabel(f.r.Script)
	for _, c := range f.r.Checks {
		for _, m := range c.Metrics {
			f.set("infra_guard_metric", m.Value, promLabel(c.Name), promLabel(m.Name), script, promLabel(m.Unit))
		}
	}
}

func (f *promFill) set(name string, v float64, labels ...string) {
	m, err := f.g[name].GetMetricWithLabelValues(labels...)
	if err != nil {
		f.err = cmp.Or(f.err, fmt.Errorf("prometheus: %w", err))
		return
	}
	m.Set(v)
}

// fill sets the gauges from r.
func (g promGauges) fill(r *result.Report) error {
	f := &promFill{g: g, r: r}
	promSeries(r, f)
	return f.err
}

// promChecks are a report's checks in the order their series are
// written: by check label, and in report order among equal labels, of
// which the last wins (as the later Set does in the registry). Sorted
// once, the order serves every per-check family and the metrics.
type promChecks struct {
	order   []int    // indexes into the report's checks, sorted
	label   []string // each check's label value, by index
	escaped []string // the same, escaped as the exposition writes it
	repeats bool     // whether two checks share a label
}

func sortPromChecks(r *result.Report) promChecks {
	c := promChecks{order: make([]int, len(r.Checks)), label: make([]string, len(r.Checks)), escaped: make([]string, len(r.Checks))}
	for i := range r.Checks {
		c.order[i] = i
		c.label[i], c.escaped[i] = promText(r.Checks[i].Name)
	}
	slices.SortFunc(c.order, func(a, b int) int { return cmp.Or(strings.Compare(c.label[a], c.label[b]), a-b) })
	for k := 1; k < len(c.order) && !c.repeats; k++ {
		c.repeats = c.label[c.order[k]] == c.label[c.order[k-1]]
	}
	return c
}

// run is the end of the run of checks from the k-th in order that share
// its label: those whose series are one.
func (c *promChecks) run(k int) int {
	end := k + 1
	for c.repeats && end < len(c.order) && c.label[c.order[end]] == c.label[c.order[k]] {
		end++
	}
	return end
}

// promWriter writes the families promSeries hands it, as
// expfmt.MetricFamilyToText writes a gauge family.
type promWriter struct {
	s       *stream
	r       *result.Report
	sorted  promChecks
	script  []byte       // the script label, escaped
	name    string       // the family being written
	prev    []string     // the label values of its last series (set)
	scratch []promMetric // one check's metrics, reused
	err     error
}

// promMetric is a series of infra_guard_metric: its metric and unit
// labels, as they are and escaped, and its value.
type promMetric struct {
	name, escName string
	unit, escUnit string
	v             float64
}

// begin writes the HELP and TYPE lines of a family, which must come
// after the one before by name.
func (p *promWriter) begin(name string) {
	if name <= p.name {
		p.err = cmp.Or(p.err, fmt.Errorf("prometheus: family %s after %s: promSeries must go by name", name, p.name))
	}
	p.name, p.prev = name, nil
	s := p.s
	s.b = append(s.b, "# HELP "+name+" "...)
	s.b = appendPromEscaped(s.b, promHelp[name], false)
	s.b = append(s.b, "\n# TYPE "+name+" gauge\n"...)
}

func (p *promWriter) checks(name string, value func(c *result.CheckResult) float64) {
	if len(p.sorted.order) == 0 {
		return // a family without series is not written
	}
	p.begin(name)
	head := name + `{check="`
	tail := `",script="` + string(p.script) + `"} `
	s := p.s
	for k := 0; k < len(p.sorted.order); {
		end := p.sorted.run(k)
		i := p.sorted.order[end-1] // the last wins
		s.b = append(s.b, head...)
		s.b = append(s.b, p.sorted.escaped[i]...)
		s.b = append(s.b, tail...)
		s.b = append(appendPromFloat(s.b, value(&p.r.Checks[i])), '\n')
		s.mark()
		k = end
	}
}

func (p *promWriter) metrics() {
	const name = "infra_guard_metric"
	s := p.s
	for k := 0; k < len(p.sorted.order); {
		// The metrics of the checks that share a label, sorted by
		// metric and unit label, in report order among equal ones.
		end := p.sorted.run(k)
		ms := p.scratch[:0]
		for _, i := range p.sorted.order[k:end] {
			for _, m := range p.r.Checks[i].Metrics {
				pm := promMetric{v: m.Value}
				pm.name, pm.escName = promText(m.Name)
				pm.unit, pm.escUnit = promText(m.Unit)
				ms = append(ms, pm)
			}
		}
		if len(ms) > 1 {
			slices.SortStableFunc(ms, func(a, b promMetric) int {
				return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.unit, b.unit))
			})
		}
		if len(ms) > 0 && p.name != name {
			p.begin(name)
		}
		check := p.sorted.escaped[p.sorted.order[k]]
		for j, m := range ms {
			if j+1 < len(ms) && m.name == ms[j+1].name && m.unit == ms[j+1].unit {
				continue // the later wins
			}
			s.b = append(s.b, name+`{check="`...)
			s.b = append(s.b, check...)
			s.b = append(s.b, `",metric="`...)
			s.b = append(s.b, m.escName...)
			s.b = append(s.b, `",script="`...)
			s.b = append(s.b, p.script...)
			s.b = append(s.b, `",unit="`...)
			s.b = append(s.b, m.escUnit...)
			s.b = append(s.b, `"} `...)
			s.b = append(appendPromFloat(s.b, m.v), '\n')
			s.mark()
		}
		p.scratch = ms
		k = end
	}
}

func (p *promWriter) set(name string, v float64, labels ...string) {
	if name != p.name {
		p.begin(name)
	} else if slices.Compare(labels, p.prev) <= 0 {
		p.err = cmp.Or(p.err, fmt.Errorf("prometheus: %s%q after %q: promSeries must give its series in order", name, labels, p.prev))
	}
	p.prev = labels
	names := promLabels[name]
	if name == promBuildInfo {
		names = promBuildLabels
	}
	s := p.s
	s.b = append(s.b, name...)
	for j, l := range names {
		if j == 0 {
			s.b = append(s.b, '{')
		} else {
			s.b = append(s.b, ',')
		}
		s.b = append(append(s.b, l...), `="`...)
		s.b = append(appendPromEscaped(s.b, labels[j], true), '"')
	}
	s.b = append(s.b, "} "...)
	s.b = append(appendPromFloat(s.b, v), '\n')
	s.mark()
}

// promText is a text of the report as a label value, through NoCommands
// and promLabel, and that escaped. For the usual name (ASCII, without
// ':', '#' or a byte to escape) both are s itself, which one look at its
// bytes finds.
func promText(s string) (label, escaped string) {
	for i := 0; i < len(s); i++ {
		if !promPlain[s[i]] {
			label = promLabel(NoCommands(s))
			return label, string(appendPromEscaped(nil, label, true))
		}
	}
	return s, s
}

// promPlain marks the bytes that neither NoCommands, promLabel nor the
// escaping of a label value look at.
var promPlain = func() (t [256]bool) {
	for c := range utf8.RuneSelf {
		t[c] = c != ':' && c != '#' && !promSpecial[c]
	}
	return t
}()

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
	// Most other values are a duration in seconds, a whole number of
	// nanoseconds: when f is the double nearest to n/1e9 (n < 1e15, at
	// most 15 digits), its shortest form is that decimal, as no other
	// decimal of 15 digits or fewer is nearest to the same double; and
	// %g writes it without an exponent from 1e-4 to 1e6. FuzzPromFloat
	// holds this to expfmt.
	if a := math.Abs(f); a >= 1e-4 && a < 1e6 {
		if n := math.Round(f * 1e9); n/1e9 == f {
			return appendNanos(b, int64(n))
		}
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// appendNanos appends n/1e9 in decimal, without trailing zeros.
func appendNanos(b []byte, n int64) []byte {
	if n < 0 {
		b, n = append(b, '-'), -n
	}
	b = strconv.AppendInt(b, n/1e9, 10)
	frac := n % 1e9
	if frac == 0 {
		return b
	}
	var digits [9]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i], frac = byte('0'+frac%10), frac/10
	}
	return append(append(b, '.'), bytes.TrimRight(digits[:], "0")...)
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
