// Command load is the load generator of bench/serve: C keep-alive
// connections on 127.0.0.1 each sending GET requests back to back for D,
// then one line: requests per second, latency quantiles, errors, status
// codes and the CPU the generator itself used.
//
//	load -c 8 -d 10s http://127.0.0.1:9417/healthz
//	load -client net/http -c 8 -d 10s http://127.0.0.1:9417/healthz
//	load -pid 1234 http://127.0.0.1:9417/healthz
//
// With -pid, the line also gives the CPU time the server (that process)
// spent per request, from /proc: a figure a busy machine moves far less
// than it moves throughput.
//
// It shares the machine's cores with the server it measures, so by
// default it costs as little as a client can: each connection writes one
// fixed request on a raw TCP connection and reads the status line,
// headers and body through a bufio.Reader, and each latency lands in a
// fixed log-linear histogram; nothing is allocated per request. -client
// net/http uses net/http's client instead, for comparison with figures
// taken that way (it spends about as much CPU per request as the server).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/bits"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	conns := flag.Int("c", 8, "connections")
	dur := flag.Duration("d", 10*time.Second, "duration")
	client := flag.String("client", "raw", "raw (HTTP/1.1 written on TCP) or net/http")
	pid := flag.Int("pid", 0, "the server's process ID, to report its CPU time per request")
	flag.Parse()
	if flag.NArg() != 1 || (*client != "raw" && *client != "net/http") {
		fmt.Fprintln(os.Stderr, "usage: load [-c N] [-d DUR] [-client raw|net/http] URL")
		os.Exit(2)
	}
	u, err := url.Parse(flag.Arg(0))
	if err != nil || u.Scheme != "http" {
		fmt.Fprintf(os.Stderr, "load: want an http:// URL, not %q\n", flag.Arg(0))
		os.Exit(2)
	}
	worker := rawWorker
	if *client == "net/http" {
		worker = netHTTPWorker(*conns)
	}

	cpu0, server0 := cpuTime(), processCPU(*pid)
	start := time.Now()
	end := start.Add(*dur)
	results := make([]*stats, *conns)
	var wg sync.WaitGroup
	for i := range results {
		results[i] = &stats{codes: map[int]int{}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker(u, end, results[i])
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu, server := cpuTime()-cpu0, processCPU(*pid)-server0

	total := &stats{codes: map[int]int{}}
	for _, r := range results {
		total.add(r)
	}
	if total.n == 0 {
		fmt.Fprintf(os.Stderr, "load: no request succeeded (%d errors: %v)\n", total.errs, total.lastErr)
		os.Exit(1)
	}
	if total.errs > 0 {
		fmt.Fprintf(os.Stderr, "load: %d errors, the last: %v\n", total.errs, total.lastErr)
	}
	q := func(p float64) string { return total.hist.quantile(p).Round(time.Microsecond).String() }
	codes := make([]int, 0, len(total.codes))
	for c := range total.codes {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var statuses bytes.Buffer
	for i, c := range codes {
		if i > 0 {
			statuses.WriteByte(',')
		}
		fmt.Fprintf(&statuses, "%d:%d", c, total.codes[c])
	}
	fmt.Printf("%.0f req/s  p50 %s  p99 %s  p99.9 %s  max %s  errors %d  statuses %s  client CPU %.2f cores",
		float64(total.n)/elapsed.Seconds(), q(.5), q(.99), q(.999), total.hist.max().Round(time.Microsecond),
		total.errs, statuses.String(), cpu.Seconds()/elapsed.Seconds())
	if *pid > 0 {
		fmt.Printf("  server CPU %.1f µs/req", float64(server.Microseconds())/float64(total.n))
	}
	fmt.Println()
}

// stats is one connection's account, merged at the end.
type stats struct {
	n       int
	errs    int
	lastErr error
	codes   map[int]int
	hist    histogram
}

func (s *stats) add(o *stats) {
	s.n += o.n
	s.errs += o.errs
	if o.lastErr != nil {
		s.lastErr = o.lastErr
	}
	for c, k := range o.codes {
		s.codes[c] += k
	}
	s.hist.merge(&o.hist)
}

// rawWorker sends GET requests back to back on one keep-alive connection
// until end, reconnecting after an error. One clock read per request: the
// end of one is the start of the next.
func rawWorker(u *url.URL, end time.Time, st *stats) {
	req := []byte("GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: infra-guard-bench\r\n\r\n")
	var conn net.Conn
	var br *bufio.Reader
	fail := func(err error) {
		st.errs++
		st.lastErr = err
		if conn != nil {
			conn.Close()
			conn = nil
		}
	}
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	code := 0
	codeCount := 0
	flushCode := func() {
		if codeCount > 0 {
			st.codes[code] += codeCount
			codeCount = 0
		}
	}
	defer flushCode()
	for now := time.Now(); now.Before(end); {
		if conn == nil {
			c, err := net.Dial("tcp", u.Host)
			if err != nil {
				fail(err)
				time.Sleep(10 * time.Millisecond)
				now = time.Now()
				continue
			}
			conn = c
			_ = conn.SetDeadline(end.Add(5 * time.Second)) // a hung server ends the run, not the generator
			if br == nil {
				br = bufio.NewReaderSize(conn, 16<<10)
			} else {
				br.Reset(conn)
			}
			now = time.Now()
		}
		if _, err := conn.Write(req); err != nil {
			fail(err)
			continue
		}
		c, err := readResponse(br)
		if err != nil {
			fail(err)
			continue
		}
		t := time.Now()
		st.hist.record(t.Sub(now))
		now = t
		st.n++
		// The status is almost always the previous one: count runs of it
		// rather than index the map per request.
		if c != code {
			flushCode()
			code = c
		}
		codeCount++
	}
}

var errMalformed = errors.New("malformed response")

// readResponse reads one response and returns its status code; the body
// is discarded. It knows Content-Length and chunked bodies, which is all a
// net/http server sends to a GET.
func readResponse(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	code, ok := atoi(line[9:12])
	if !ok {
		return 0, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	length, chunked := -1, false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 { // "\r\n": the end of the headers
			break
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found {
			return 0, fmt.Errorf("%w: header %q", errMalformed, line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			n, ok := atoi(value)
			if !ok {
				return 0, fmt.Errorf("%w: Content-Length %q", errMalformed, value)
			}
			length = n
		case asciiEqualFold(name, "Transfer-Encoding"):
			chunked = asciiEqualFold(value, "chunked")
		}
	}
	switch {
	case chunked:
		return code, discardChunked(br)
	case length >= 0:
		_, err := br.Discard(length)
		return code, err
	}
	return 0, fmt.Errorf("%w: neither Content-Length nor chunked; cannot keep the connection", errMalformed)
}

func discardChunked(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(bytes.TrimSpace(line), []byte(";"))
		n, err := strconv.ParseInt(string(size), 16, 64)
		if err != nil {
			return fmt.Errorf("%w: chunk size %q", errMalformed, line)
		}
		if n == 0 {
			for { // trailers, then "\r\n"
				line, err := br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(line) <= 2 {
					return nil
				}
			}
		}
		if _, err := br.Discard(int(n) + 2); err != nil {
			return err
		}
	}
}

func atoi(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' || n > 1<<40 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// netHTTPWorker is the same loop through net/http's client, for comparison.
func netHTTPWorker(conns int) func(*url.URL, time.Time, *stats) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, DisableCompression: true}}
	return func(u *url.URL, end time.Time, st *stats) {
		target := u.String()
		for now := time.Now(); now.Before(end); {
			resp, err := client.Get(target)
			if err != nil {
				st.errs++
				st.lastErr = err
				now = time.Now()
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			t := time.Now()
			st.hist.record(t.Sub(now))
			now = t
			st.n++
			st.codes[resp.StatusCode]++
		}
	}
}

// histogram counts latencies in log-linear buckets, as HdrHistogram does:
// exact below subBuckets nanoseconds, then subBuckets buckets per power
// of two, so any value is within 1/subBuckets (0.8 %) of its bucket's
// bounds. Fixed size, so recording never allocates.
const (
	subBits    = 7
	subBuckets = 1 << subBits
)

type histogram struct {
	counts [(64 - subBits + 1) * subBuckets]uint32
	top    int // highest bucket used
}

func bucket(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1 // v>>shift is in [subBuckets, 2*subBuckets)
	return (shift+1)*subBuckets + int(v>>shift) - subBuckets
}

// upper is the largest value that lands in bucket i.
func upper(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	shift := i/subBuckets - 1
	lo := uint64(i%subBuckets+subBuckets) << shift
	return lo + 1<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	i := bucket(uint64(max(d, 0)))
	h.counts[i]++
	h.top = max(h.top, i)
}

func (h *histogram) merge(o *histogram) {
	for i := range o.top + 1 {
		h.counts[i] += o.counts[i]
	}
	h.top = max(h.top, o.top)
}

// quantile is the upper bound of the bucket holding the p-quantile.
func (h *histogram) quantile(p float64) time.Duration {
	var total uint64
	for i := range h.top + 1 {
		total += uint64(h.counts[i])
	}
	rank := uint64(p*float64(total-1)) + 1
	var seen uint64
	for i := range h.top + 1 {
		if seen += uint64(h.counts[i]); seen >= rank {
			return time.Duration(upper(i))
		}
	}
	return h.max()
}

func (h *histogram) max() time.Duration { return time.Duration(upper(h.top)) }

// processCPU is the CPU time (user and system) process pid has used, from
// /proc/PID/stat; 0 for pid 0.
func processCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		fmt.Fprintf(os.Stderr, "load: %v\n", err)
		os.Exit(1)
	}
	// The command name, in parentheses, may hold spaces; utime and stime
	// are fields 14 and 15, the 12th and 13th after it.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every
// Linux architecture Go runs on.
const clockTicks = 100

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
