// Command load is the load generator of bench/serve: C keep-alive
// connections on 127.0.0.1 each sending GET requests back to back for D,
// then one line: requests per second, p50 and p99 latency, errors.
//
//	load -c 8 -d 10s http://127.0.0.1:9417/healthz
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"
)

func main() {
	conns := flag.Int("c", 8, "connections")
	dur := flag.Duration("d", 10*time.Second, "duration")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: load [-c N] [-d DUR] URL")
		os.Exit(2)
	}
	url := flag.Arg(0)
	tr := &http.Transport{MaxIdleConnsPerHost: *conns, DisableCompression: true}
	client := &http.Client{Transport: tr}
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	codes := map[int]int{}
	end := time.Now().Add(*dur)
	var wg sync.WaitGroup
	for range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<16)
			myErrs := 0
			myCodes := map[int]int{}
			for time.Now().Before(end) {
				t0 := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					myErrs++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(t0))
				myCodes[resp.StatusCode]++
			}
			mu.Lock()
			all = append(all, lat...)
			errs += myErrs
			for k, v := range myCodes {
				codes[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(all)
	if len(all) == 0 {
		fmt.Fprintln(os.Stderr, "load: no request succeeded")
		os.Exit(1)
	}
	q := func(p float64) time.Duration { return all[int(float64(len(all)-1)*p)] }
	fmt.Printf("%.0f req/s  p50 %s  p99 %s  errors %d  statuses %v\n",
		float64(len(all))/dur.Seconds(), q(.5).Round(time.Microsecond), q(.99).Round(time.Microsecond), errs, codes)
}
