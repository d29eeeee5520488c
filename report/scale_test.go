package report

import (
	"fmt"
	"io"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/infra-guard/infra-guard/result"
)

// manyChecks is a report of n checks in every status, with a metric each.
func manyChecks(n int) *result.Report {
	r := &result.Report{Script: "guard.star", Started: started, Duration: time.Second, ExitCode: result.ExitFail}
	statuses := []result.Status{result.OK, result.OK, result.OK, result.Warn, result.Fail, result.Unknown, result.Skip}
	for i := range n {
		r.Checks = append(r.Checks, result.CheckResult{
			Name: fmt.Sprintf("check-%06d", i), Status: statuses[i%len(statuses)],
			Message: fmt.Sprintf("value %d (warn > 80, crit > 90)", i%100),
			Metrics: []result.Metric{{Name: "value", Value: float64(i % 100), Unit: "%", Warn: "80", Crit: "90"}},
			File:    "guard.star", Line: i + 1, Duration: time.Millisecond,
		})
	}
	return r
}

// scaleOptions are what the scale tests give every format: the github
// format also writes its step summary and outputs, as it does in Actions.
func scaleOptions() Options {
	return Options{Getenv: noEnv, GitHub: &GitHubFiles{Summary: io.Discard, SummaryRoom: GitHubSummaryLimit, Output: io.Discard}}
}

// TestReportersLinearAllocations fails when a format's allocations per
// check grow with the number of checks: 10,000 checks may cost at most
// 1.5 times per check what 1,000 do.
func TestReportersLinearAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 11,000 checks per format")
	}
	small, large := manyChecks(1000), manyChecks(10000)
	for _, name := range Names() {
		rep, err := New(name, scaleOptions())
		if err != nil {
			t.Fatal(err)
		}
		per := func(r *result.Report) float64 {
			return testing.AllocsPerRun(2, func() { _ = rep.Report(io.Discard, r) }) / float64(len(r.Checks))
		}
		a, b := per(small), per(large)
		if b > 1.5*a+1 {
			t.Errorf("%s: %.1f allocations per check at 1,000 checks, %.1f at 10,000", name, a, b)
		}
	}
}

// BenchmarkReporters renders each format at 1k, 10k and 100k checks; the
// text format is the floor the others are compared with (target: at most
// 1.6 times its time at 100k, bench/README.md). Besides wall time it
// reports cpu-ms/op, the process's CPU time (GC included) per report,
// which a machine loaded by others inflates less than wall time; and
// MB/op, the size of the report.
func BenchmarkReporters(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		r := manyChecks(n)
		for _, name := range Names() {
			rep, _ := New(name, scaleOptions())
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				var size countingWriter
				if err := rep.Report(&size, r); err != nil {
					b.Fatal(err)
				}
				cpu := processCPU()
				for b.Loop() {
					if err := rep.Report(io.Discard, r); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((processCPU()-cpu).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
				b.ReportMetric(float64(size.n)/1e6, "MB/op")
			})
		}
	}
}

// BenchmarkFormatsVsText is the time target (bench/README.md: every format
// at most 1.6 times the text format at 100,000 checks) measured so that a
// busy machine moves it little: each iteration renders the text format
// and then the other one, and x-text is the ratio of their least process
// CPU times. "short" is manyChecks; "long" gives every check a 400-byte
// message, as the whole-process bench (bench/formats) does, so that the
// text of the checks outweighs the format's own. Run it with a fixed
// count: go test -run '^$' -bench FormatsVsText -benchtime 20x ./report
func BenchmarkFormatsVsText(b *testing.B) {
	short, long := manyChecks(100000), manyChecks(100000)
	for i := range long.Checks {
		long.Checks[i].Message = fmt.Sprintf("check %d is fine %s", i, strings.Repeat("x", 400))
	}
	text, _ := New("text", scaleOptions())
	for _, size := range []struct {
		name string
		r    *result.Report
	}{{"short", short}, {"long", long}} {
		for _, name := range Names() {
			if name == "text" {
				continue
			}
			rep, _ := New(name, scaleOptions())
			b.Run(size.name+"/"+name, func(b *testing.B) {
				least := [2]time.Duration{math.MaxInt64, math.MaxInt64}
				for b.Loop() {
					for k, rp := range []Reporter{text, rep} {
						cpu := processCPU()
						if err := rp.Report(io.Discard, size.r); err != nil {
							b.Fatal(err)
						}
						least[k] = min(least[k], processCPU()-cpu)
					}
				}
				b.ReportMetric(float64(least[1])/float64(least[0]), "x-text")
				b.ReportMetric(float64(least[1].Microseconds())/1e3, "min-cpu-ms")
				b.ReportMetric(float64(least[0].Microseconds())/1e3, "text-min-cpu-ms")
			})
		}
	}
}

// processCPU is the user and system time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}
