package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

// BenchmarkScheduleNoop measures the run phase's cost per check: 1,000
// checks that do nothing, so what is timed is the scheduler — a thread
// made ready, a deadline, a worker's turn and a result per check. Target: at most 2 µs per
// check above BenchmarkScheduleFloor (see bench/README.md).
//
//	go test -run '^$' -bench Schedule -benchtime 20x ./runtime/
func BenchmarkScheduleNoop(b *testing.B) { benchmarkSchedule(b, 1000) }

// BenchmarkScheduleNoop10k is the same with 10,000 checks: ns/check
// here against BenchmarkScheduleNoop's shows that the cost per check does
// not grow with the number of checks.
func BenchmarkScheduleNoop10k(b *testing.B) { benchmarkSchedule(b, 10000) }

// BenchmarkScheduleFloor is the floor for BenchmarkScheduleNoop: the same
// 1,000 no-op functions called one after another, each on a fresh
// thread, with no deadline, result or concurrency — the least a runner of
// Starlark checks can do. Compare ns/check.
func BenchmarkScheduleFloor(b *testing.B) {
	const n = 1000
	_, prog, err := starlark.SourceProgramOptions(&syntax.FileOptions{}, "noop.star", "def noop():\n    pass\n", func(string) bool { return false })
	if err != nil {
		b.Fatal(err)
	}
	globals, err := prog.Init(&starlark.Thread{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	globals.Freeze()
	fn := globals["noop"]
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		for range n {
			if _, err := starlark.Call(&starlark.Thread{Name: "c"}, fn, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/check")
	cpu.report(b, n)
}

// cpuMeter reports the CPU time a benchmark used per check, all goroutines
// and the garbage collector included. On a loaded machine wall time
// includes waiting for a core; CPU time mostly does not.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuMeter {
	t, ok := processCPU()
	return cpuMeter{t, ok}
}

func (m cpuMeter) report(b *testing.B, n int) {
	if end, ok := processCPU(); ok && m.ok {
		b.ReportMetric(float64((end-m.start).Nanoseconds())/float64(b.N*n), "cpu-ns/check")
	}
}

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
	cpu := startCPU()
	for b.Loop() {
		rep = g.Run(context.Background(), runtime.RunOptions{})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/check")
	cpu.report(b, n)
	if got := rep.Counts()[result.OK]; got != n {
		b.Fatalf("last run: %d checks OK, want %d: %+v", got, n, rep.Checks[0])
	}
}

// TestNoopCheckAllocations holds the line that BenchmarkScheduleNoop
// measures: a check that calls no builtin costs one allocation, the
// locals of Starlark's call; its thread and run state are its worker's,
// handed on from the check before, and it has no deadline timer, context
// or goroutine of its own (36 allocations before, then 7). What a run or
// a worker makes once adds about 0.05 per check here.
func TestNoopCheckAllocations(t *testing.T) {
	const n = 1000
	path := filepath.Join(t.TempDir(), "noop.star")
	src := fmt.Sprintf("def noop():\n    pass\n\nfor i in range(%d):\n    check(\"c%%d\" %% i, noop)\n", n)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := runtime.Load(context.Background(), path, nil, runtime.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	perCheck := testing.AllocsPerRun(5, func() { g.Run(context.Background(), runtime.RunOptions{}) }) / n
	t.Logf("%.3f allocations per no-op check", perCheck)
	if perCheck > 1.5 {
		t.Errorf("%.2f allocations per no-op check, want at most 1.5", perCheck)
	}
}
