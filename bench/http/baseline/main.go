// Command baseline is the reference point of bench/http: N concurrent GET
// requests with a plain net/http client (one transport, idle connections
// kept per host as infra-guard's are), and nothing else: no Starlark, no
// scheduler, no retries, no report. It exits 1 if any request fails.
//
//	baseline URL N
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: baseline URL N")
		os.Exit(2)
	}
	url := os.Args[1]
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "baseline: N must be a positive integer")
		os.Exit(2)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}
	var (
		wg     sync.WaitGroup
		failed atomic.Int32
	)
	for range n {
		wg.Go(func() {
			resp, err := client.Get(url)
			if err != nil {
				failed.Add(1)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		fmt.Fprintf(os.Stderr, "baseline: %d of %d requests failed\n", f, n)
		os.Exit(1)
	}
	fmt.Printf("%d requests ok\n", n)
}
