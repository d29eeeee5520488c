package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

// BenchmarkScheduleNoop measures the run phase's cost per check: 1,000
// checks that do nothing, so what is timed is the scheduler — a goroutine,
// a thread, a deadline and a result per check. Target: at most 20 µs per
// check (see bench/README.md).
//
//	go test -run '^$' -bench Schedule -benchtime 20x ./runtime/
func BenchmarkScheduleNoop(b *testing.B) { benchmarkSchedule(b, 1000) }

// BenchmarkScheduleNoop10 is the same with 10 checks, the size of a small
// guard, where the fixed cost of a run weighs more.
func BenchmarkScheduleNoop10(b *testing.B) { benchmarkSchedule(b, 10) }

func benchmarkSchedule(b *testing.B, n int) {
	path := filepath.Join(b.TempDir(), "noop.star")
	src := fmt.Sprintf("def noop():\n    pass\n\nfor i in range(%d):\n    check(\"c%%d\" %% i, noop)\n", n)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	g, err := runtime.Load(context.Background(), path, nil, runtime.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if len(g.Checks) != n {
		b.Fatalf("loaded %d checks, want %d", len(g.Checks), n)
	}
	b.ReportAllocs()
	var rep *result.Report
	for b.Loop() {
		rep = g.Run(context.Background(), runtime.RunOptions{})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/check")
	if got := rep.Counts()[result.OK]; got != n {
		b.Fatalf("last run: %d checks OK, want %d: %+v", got, n, rep.Checks[0])
	}
}
