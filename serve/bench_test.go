package serve

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// thousandChecks is 1,000 no-op checks on the given interval.
func thousandChecks(interval string) string {
	return fmt.Sprintf("def noop():\n    return True\n\nfor i in range(1000):\n    check(\"c%%d\" %% i, noop, interval = %q)\n", interval)
}

// BenchmarkHealthz: real GET /healthz requests on 127.0.0.1 against a
// server with 1,000 checks, from parallel keep-alive clients.
// bench/serve/run.sh measures the same from another process, with p99.
func BenchmarkHealthz(b *testing.B) {
	ts := start(b, thousandChecks("30s"), nil)
	defer ts.stop()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(ts.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatal("not ready in 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(ts.base + "/healthz")
			if err != nil {
				b.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "ok") {
				b.Errorf("%d %s", resp.StatusCode, body)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkScheduledRun: the process CPU time the scheduler spends per
// run of a no-op check (RunCheck, the result recorded, the next slot
// computed), from 1,000 checks every 100 ms (10,000 runs a second) over
// a 3 s window; run it with -benchtime 1x. %core-1000checks@30s is that
// cost times 33 runs a second: a floor, without the cost of waking an
// idle process for the runs, which a busy one never pays and which
// dominates at 30 s; bench/serve/run.sh measures that case itself.
func BenchmarkScheduledRun(b *testing.B) {
	ts := start(b, thousandChecks("100ms"), nil)
	defer ts.stop()
	time.Sleep(6 * time.Second) // every check past its first run
	count := func() uint64 {
		ts.mu.RLock()
		defer ts.mu.RUnlock()
		var n uint64
		for _, st := range ts.cur.order {
			n += st.count
		}
		return n
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.ResetTimer()
	var runs uint64
	var used, elapsed time.Duration
	for range b.N {
		n0, c0, t0 := count(), cpu(), time.Now()
		time.Sleep(3 * time.Second)
		runs += count() - n0
		used += cpu() - c0
		elapsed += time.Since(t0)
	}
	b.StopTimer()
	b.ReportMetric(float64(runs)/elapsed.Seconds(), "runs/s")
	b.ReportMetric(float64(used.Microseconds())/float64(runs), "cpu-µs/run")
	b.ReportMetric(100*float64(used)/float64(runs)*1000/30/float64(time.Second), "%core-1000checks@30s")
}
