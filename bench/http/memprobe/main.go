// Command memprobe runs bench/http's two workloads inside one process and
// says where their memory goes: what a waiting http_check costs beyond a
// plain net/http GET. It reads runtime/metrics every millisecond and
// prints two moments: the most memory in use (mapped by the Go runtime and
// not returned to the OS, which is what peak RSS follows) and the most
// goroutines (every request in flight), each split into heap objects,
// goroutine stacks and the rest. It also prints how long the run spent at
// each starting stack size of new goroutines, which Go sets at every
// collection from the average stack depth it saw.
//
//	memprobe plain URL N     N concurrent GETs through one plain transport, as bench/http/baseline
//	memprobe guard URL N     infra-guard's run phase: N checks that each call http_check(URL)
//
// With MEMPROBE_PROFILE=PREFIX it also writes PREFIX.inuse, a heap profile
// taken after a forced collection once MEMPROBE_GOROUTINES goroutines
// (default 2.5·N) are running, and PREFIX.alloc, every allocation of the
// run; it then samples allocations finely, which slows the run. Point it
// at bench/http/server with a delay longer than the fan-out (-delay 5s) to
// see every request in flight at once.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/infra-guard/infra-guard/result"
	igruntime "github.com/infra-guard/infra-guard/runtime"
)

// The metrics read, in the order of a sample's fields.
var names = []string{
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/sched/goroutines:goroutines",
	"/gc/stack/starting-size:bytes",
}

type sample struct {
	inUse, heap, stacks, goroutines, startingStack uint64
}

func main() {
	prefix := os.Getenv("MEMPROBE_PROFILE")
	if prefix != "" {
		runtime.MemProfileRate = 64
	}
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: memprobe plain|guard URL N")
		os.Exit(2)
	}
	mode, url := os.Args[1], os.Args[2]
	n, err := strconv.Atoi(os.Args[3])
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "memprobe: N must be a positive integer")
		os.Exit(2)
	}
	var work func() error
	switch mode {
	case "plain":
		work = func() error { return plain(url, n) }
	case "guard":
		g, err := load(url, n)
		if err != nil {
			fmt.Fprintln(os.Stderr, "memprobe:", err)
			os.Exit(1)
		}
		work = func() error { return run(g) }
	default:
		fmt.Fprintln(os.Stderr, "memprobe: the mode is plain or guard")
		os.Exit(2)
	}

	var (
		mostInUse, mostGoroutines sample
		atStartingSize            = map[uint64]int{} // samples taken at each starting stack size
		stop                      = make(chan struct{})
		wg                        sync.WaitGroup
	)
	wg.Go(func() {
		ms := make([]metrics.Sample, len(names))
		for i, name := range names {
			ms[i].Name = name
		}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(ms)
			s := sample{
				inUse:         ms[0].Value.Uint64() - ms[1].Value.Uint64(),
				heap:          ms[2].Value.Uint64(),
				stacks:        ms[3].Value.Uint64(),
				goroutines:    ms[4].Value.Uint64(),
				startingStack: ms[5].Value.Uint64(),
			}
			atStartingSize[s.startingStack]++
			if s.inUse >= mostInUse.inUse {
				mostInUse = s
			}
			if s.goroutines >= mostGoroutines.goroutines {
				mostGoroutines = s
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	if prefix != "" {
		at := n * 5 / 2
		if v, err := strconv.Atoi(os.Getenv("MEMPROBE_GOROUTINES")); err == nil {
			at = v
		}
		wg.Go(func() { profileAt(prefix+".inuse", at, stop) })
	}
	start := time.Now()
	err = work()
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	if err != nil {
		fmt.Fprintln(os.Stderr, "memprobe:", err)
		os.Exit(1)
	}
	if prefix != "" {
		writeProfile(prefix + ".alloc")
	}
	fmt.Printf("%s %d: %.2f s\n", mode, n, elapsed.Seconds())
	show := func(what string, s sample) {
		fmt.Printf("  %-20s in use %6.1f MiB = heap objects %5.1f + stacks %5.1f + other %4.1f; %5d goroutines, starting stack %d B\n",
			what, mib(s.inUse), mib(s.heap), mib(s.stacks), mib(s.inUse-s.heap-s.stacks), s.goroutines, s.startingStack)
	}
	show("most in use:", mostInUse)
	show("most goroutines:", mostGoroutines)
	fmt.Printf("  samples at each starting stack size: %v\n", atStartingSize)
}

func mib(v uint64) float64 { return float64(v) / (1 << 20) }

// plain is bench/http/baseline's work.
func plain(url string, n int) error {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			resp, err := client.Get(url)
			if err != nil {
				errs <- err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// load loads the guard bench/http/run.sh writes, without its print().
func load(url string, n int) (*igruntime.Guard, error) {
	src := fmt.Sprintf(`URL = %q

def probe():
    r = http_check(URL)
    if not r.ok:
        return fail(r.error or "status %%d" %% r.status)
    return ok()

for i in range(%d):
    check("http-%%d" %% i, probe)
`, url, n)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return igruntime.Load(context.Background(), "guard.star", []byte(src), igruntime.LoadOptions{Logger: logger})
}

func run(g *igruntime.Guard) error {
	rep := g.Run(context.Background(), igruntime.RunOptions{})
	for _, c := range rep.Checks {
		if c.Status != result.OK {
			return fmt.Errorf("check %s: %s %s", c.Name, c.Status, c.Message)
		}
	}
	return nil
}

func profileAt(path string, goroutines int, stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(time.Millisecond):
		}
		if runtime.NumGoroutine() >= goroutines {
			runtime.GC()
			writeProfile(path)
			return
		}
	}
}

func writeProfile(path string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "memprobe:", err)
	}
}
