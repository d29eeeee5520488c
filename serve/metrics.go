package serve

// This file holds /metrics: a prometheus.Collector over what the server
// keeps. A scrape only reads; counters move when a check runs, once per
// run, never per scrape. Every series but the script's is labelled by
// check, so the label cardinality is bounded by the number of checks (and,
// for infra_guard_check_metric, the metrics each reports).

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/infra-guard/infra-guard/report"
	"github.com/infra-guard/infra-guard/result"
)

var (
	descStatus = prometheus.NewDesc("infra_guard_check_status",
		"The check's reported status (after fail_after/ok_after): 0 ok, 1 warn, 2 fail, 3 unknown (the exit codes), -1 skip; absent until its first result.",
		[]string{"check"}, nil)
	descDuration = prometheus.NewDesc("infra_guard_check_duration_seconds",
		"How long the check's runs took.", []string{"check"}, nil)
	descLastRun = prometheus.NewDesc("infra_guard_check_last_run_timestamp_seconds",
		"When the check's latest run started, in seconds since the Unix epoch.", []string{"check"}, nil)
	descRuns = prometheus.NewDesc("infra_guard_check_runs_total",
		"Runs of the check, by the status each ended in (before fail_after/ok_after).", []string{"check", "status"}, nil)
	descFlapping = prometheus.NewDesc("infra_guard_check_flapping",
		"1 when the check changed between passing and failing at least 4 times in its last 10 results.", []string{"check"}, nil)
	descMetric = prometheus.NewDesc("infra_guard_check_metric",
		"A metric the check's latest run reported (ok(metrics=...), threshold()), with its unit.", []string{"check", "metric", "unit"}, nil)
	descLoad = prometheus.NewDesc("infra_guard_script_load_success",
		"1 when the latest load or reload of the script succeeded, 0 when it failed (the previous checks keep running).", nil, nil)
	descReloads = prometheus.NewDesc("infra_guard_script_reloads_total",
		"Reloads of the script, by result: success or failure.", []string{"result"}, nil)
	descLoadTime = prometheus.NewDesc("infra_guard_script_last_load_success_timestamp_seconds",
		"When the running script was loaded, in seconds since the Unix epoch.", nil, nil)
)

type collector Server

var statuses = []result.Status{result.OK, result.Warn, result.Fail, result.Unknown, result.Skip}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStatus, descDuration, descLastRun, descRuns, descFlapping, descMetric, descLoad, descReloads, descLoadTime} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := (*Server)(c)
	s.mu.RLock()
	defer s.mu.RUnlock()
	load := 0.0
	if s.loadOK {
		load = 1
	}
	ch <- prometheus.MustNewConstMetric(descLoad, prometheus.GaugeValue, load)
	for _, r := range []string{"success", "failure"} {
		ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, float64(s.reloads[r]), r)
	}
	if s.cur == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(descLoadTime, prometheus.GaugeValue, float64(s.cur.at.UnixNano())/1e9)
	for _, st := range s.cur.order {
		name := label(st.check.Name)
		for _, r := range statuses {
			ch <- prometheus.MustNewConstMetric(descRuns, prometheus.CounterValue, float64(st.runs[r]), name, r.String())
		}
		if !st.has {
			continue
		}
		ch <- prometheus.MustNewConstMetric(descStatus, prometheus.GaugeValue, report.PromStatus(st.reported.status), name)
		buckets := make(map[float64]uint64, len(durationBuckets))
		for i, le := range durationBuckets {
			buckets[le] = st.buckets[i]
		}
		ch <- prometheus.MustNewConstHistogram(descDuration, st.count, st.sum, buckets, name)
		l, _ := st.latest()
		ch <- prometheus.MustNewConstMetric(descLastRun, prometheus.GaugeValue, float64(l.started)/1e9, name)
		flap := 0.0
		if st.flapping() {
			flap = 1
		}
		ch <- prometheus.MustNewConstMetric(descFlapping, prometheus.GaugeValue, flap, name)
		// Two metrics of one name in one result would be one series: the
		// last wins, as in the prometheus format.
		seen := map[[2]string]int{}
		var ms []prometheus.Metric
		for _, m := range l.metrics() {
			k := [2]string{label(m.Name), label(m.Unit)}
			pm := prometheus.MustNewConstMetric(descMetric, prometheus.GaugeValue, m.Value, name, k[0], k[1])
			if i, ok := seen[k]; ok {
				ms[i] = pm
				continue
			}
			seen[k] = len(ms)
			ms = append(ms, pm)
		}
		for _, m := range ms {
			ch <- m
		}
	}
}

// label makes s a label value: valid UTF-8 (Prometheus rejects anything
// else).
func label(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
