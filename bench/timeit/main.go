// Command timeit runs commands N times each and reports, per command, the
// median wall time of a run and the peak resident set size, for
// bench/run.sh.
//
//	timeit [-n 30] [-warmup 1] [-ok 0] -- COMMAND [ARG...] [-- COMMAND [ARG...]]...
//
// With several commands the runs are interleaved (A B A B …), so a change
// in the machine's load during the measurement hits all of them alike.
// Wall time runs from just before the process starts to just after it has
// been waited for. Peak RSS is the child's ru_maxrss (KiB on Linux), so it
// counts the command alone, not timeit. CPU time is the child's user plus
// system time, which a busy machine changes less than the wall time. Stdout is discarded; stderr is kept
// and shown if a run fails. A run fails when it cannot start or exits with
// a code not in -ok; timeit then exits 1. One line per command goes to
// stdout, in the order given, then the RSS floor:
//
//	runs=30 median_ms=2.104 min_ms=1.871 max_ms=3.320 peak_rss_kib=10032 median_rss_kib=9904 median_cpu_ms=1.950
//	rss_floor_kib=3712
//
// The floor is there because Linux counts the parent's memory into a
// child's ru_maxrss: os/exec starts the child with vfork semantics, sharing
// timeit's address space until exec, and exec keeps the larger of the old
// and new high-water marks. So no command measures below timeit's own RSS
// at the time; rss_floor_kib is what /bin/true measures, taken last, when
// timeit is at its largest. A figure close to it is an upper bound.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 30, "timed runs")
	warmup := flag.Int("warmup", 1, "untimed runs first, to warm caches")
	okCodes := flag.String("ok", "0", "comma-separated exit codes that count as a successful run")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: timeit [-n N] [-warmup N] [-ok CODES] -- COMMAND [ARG...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 || *n < 1 || *warmup < 0 {
		flag.Usage()
		os.Exit(2)
	}
	ok := map[int]bool{}
	for _, s := range strings.Split(*okCodes, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintf(os.Stderr, "timeit: -ok: %q is not an exit code\n", s)
			os.Exit(2)
		}
		ok[c] = true
	}

	cmds := [][]string{nil}
	for _, arg := range flag.Args() {
		if arg == "--" {
			cmds = append(cmds, nil)
			continue
		}
		cmds[len(cmds)-1] = append(cmds[len(cmds)-1], arg)
	}
	for _, argv := range cmds {
		if len(argv) == 0 {
			flag.Usage()
			os.Exit(2)
		}
	}
	walls := make([][]time.Duration, len(cmds))
	rss := make([][]int64, len(cmds))
	cpus := make([][]time.Duration, len(cmds))
	for i := range *warmup + *n {
		for c, argv := range cmds {
			wall, maxrss, cpu, err := runOnce(argv, ok)
			if err != nil {
				fmt.Fprintf(os.Stderr, "timeit: run %d of %s: %v\n", i+1, strings.Join(argv, " "), err)
				os.Exit(1)
			}
			if i >= *warmup {
				walls[c] = append(walls[c], wall)
				rss[c] = append(rss[c], maxrss)
				cpus[c] = append(cpus[c], cpu)
			}
		}
	}
	for c := range cmds {
		w, r, u := walls[c], rss[c], cpus[c]
		slices.Sort(w)
		slices.Sort(r)
		slices.Sort(u)
		fmt.Printf("runs=%d median_ms=%.3f min_ms=%.3f max_ms=%.3f peak_rss_kib=%d median_rss_kib=%d median_cpu_ms=%.3f\n",
			len(w), ms(median(w)), ms(w[0]), ms(w[len(w)-1]), r[len(r)-1], median(r), ms(median(u)))
	}
	fmt.Printf("rss_floor_kib=%d\n", rssFloor())
}

// rssFloor is the largest ru_maxrss of three runs of true, 0 without true.
func rssFloor() int64 {
	path, err := exec.LookPath("true")
	if err != nil {
		return 0
	}
	var floor int64
	for range 3 {
		_, maxrss, _, err := runOnce([]string{path}, map[int]bool{0: true})
		if err != nil {
			return 0
		}
		floor = max(floor, maxrss)
	}
	return floor
}

// runOnce runs the command and returns its wall time, ru_maxrss in KiB and
// CPU time.
// Its stderr goes to a file, not a pipe, so that timeit starts no copying
// goroutines and its own RSS, the floor of every figure, stays small.
// The collection before the run is outside the timed window.
func runOnce(argv []string, ok map[int]bool) (time.Duration, int64, time.Duration, error) {
	// Collect first: Go lets the heap grow to 4 MiB before its first GC,
	// and every MiB timeit reaches raises the floor of what it measures.
	runtime.GC()
	stderr, err := os.CreateTemp("", "timeit-stderr-")
	if err != nil {
		return 0, 0, 0, err
	}
	defer os.Remove(stderr.Name())
	defer stderr.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = nil // /dev/null
	cmd.Stderr = stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return 0, 0, 0, err
	}
	if code := cmd.ProcessState.ExitCode(); !ok[code] {
		msg, _ := os.ReadFile(stderr.Name())
		return 0, 0, 0, fmt.Errorf("%s; stderr:\n%s", cmd.ProcessState, msg)
	}
	ru, isRusage := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !isRusage {
		return 0, 0, 0, fmt.Errorf("no rusage on this system")
	}
	return wall, int64(ru.Maxrss), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

func median[T time.Duration | int64](sorted []T) T {
	m := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[m]
	}
	return (sorted[m-1] + sorted[m]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
