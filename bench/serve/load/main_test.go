package main

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

// Every value lands in a bucket whose upper bound is at or above it and
// within 1/subBuckets of it, and buckets are in order.
func TestHistogramBuckets(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 999_999, 1_000_000, 1<<40 + 12345, 1<<63 - 1} {
		i := bucket(v)
		if i < prev {
			t.Errorf("bucket(%d) = %d, below the previous value's %d", v, i, prev)
		}
		prev = i
		if up := upper(i); up < v || float64(up-v) > float64(v)/subBuckets {
			t.Errorf("value %d: bucket %d's upper bound %d", v, i, up)
		}
		if i > 0 && upper(i-1) >= v {
			t.Errorf("value %d: the bucket below (%d) reaches %d", v, i-1, upper(i-1))
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h, other histogram
	for i := 1; i <= 990; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for range 10 {
		other.record(time.Second)
	}
	h.merge(&other)
	near := func(got, want time.Duration) bool { return got >= want && got-want <= want/100 }
	if q := h.quantile(.5); !near(q, 500*time.Microsecond) {
		t.Errorf("p50 %s, want 500µs", q)
	}
	if q := h.quantile(.99); !near(q, 990*time.Microsecond) {
		t.Errorf("p99 %s, want 990µs", q)
	}
	if q := h.quantile(.999); !near(q, time.Second) {
		t.Errorf("p99.9 %s, want 1s", q)
	}
	if m := h.max(); !near(m, time.Second) {
		t.Errorf("max %s, want 1s", m)
	}
}

func TestReadResponse(t *testing.T) {
	stream := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length: 2\r\n\r\nok" +
		"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: 1\r\n\r\n" +
		"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n" +
		"HTTP/1.1 200 OK\r\n\r\n"
	br := bufio.NewReader(strings.NewReader(stream))
	for _, want := range []int{200, 503, 404} {
		code, err := readResponse(br)
		if err != nil || code != want {
			t.Fatalf("readResponse: %d, %v; want %d", code, err, want)
		}
	}
	if _, err := readResponse(br); err == nil {
		t.Error("a response without a length: no error")
	}
}
