package serve

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

// The ring keeps the last keep results in order as it wraps around, and
// never holds room for more than keep.
func TestHistoryRingWraps(t *testing.T) {
	const keep = 5
	var h history
	for i := 1; i <= 3*keep+2; i++ {
		h.add(entry{started: int64(i)}, keep)
		n := min(i, keep)
		if h.len() != n {
			t.Fatalf("after %d adds: %d entries, want %d", i, h.len(), n)
		}
		for j := range n {
			if got, want := h.at(j).started, int64(i-n+1+j); got != want {
				t.Fatalf("after %d adds: entry %d is %d, want %d", i, j, got, want)
			}
		}
		if l, ok := h.latest(); !ok || l.started != int64(i) {
			t.Fatalf("after %d adds: latest %d", i, l.started)
		}
		if cap(h.buf) > keep {
			t.Fatalf("after %d adds: room for %d, keep is %d", i, cap(h.buf), keep)
		}
	}
	var big history
	for i := range 250 {
		big.add(entry{started: int64(i)}, 100)
	}
	if cap(big.buf) != 100 || big.at(0).started != 150 || big.at(99).started != 249 {
		t.Errorf("--history 100 after 250 results: room for %d, oldest %d, newest %d", cap(big.buf), big.at(0).started, big.at(99).started)
	}
}

func recordingServer() (*Server, *checkState) {
	s := &Server{cfg: Config{History: 100, Scrub: func(s string) string { return strings.ReplaceAll(s, "hunter2", "[redacted]") }}}
	return s, newCheckState(&runtime.Check{Name: "disk", Tags: []string{"fs"}, File: "guard.star", Line: 3})
}

// A check that says the same thing run after run holds one copy of it, not
// one per result; a new text is kept, and the message shared when only the
// metrics changed.
func TestHistorySharesUnchangedText(t *testing.T) {
	s, st := recordingServer()
	started := time.Now()
	for range 150 {
		// A fresh copy each time, as a run makes it.
		msg := strings.Clone("disk 41% used")
		s.record(st, result.CheckResult{Name: "disk", Message: msg, Metrics: []result.Metric{{Name: "used", Value: 41, Unit: "%"}}}, started)
	}
	first := st.history.at(0).detail
	for i := range st.history.len() {
		if d := st.history.at(i).detail; d != first {
			t.Fatalf("result %d holds its own detail", i)
		}
	}
	s.record(st, result.CheckResult{Name: "disk", Message: strings.Clone("disk 41% used"), Metrics: []result.Metric{{Name: "used", Value: 42, Unit: "%"}}}, started)
	l, _ := st.latest()
	if l.detail == first || unsafe.StringData(l.message()) != unsafe.StringData(first.message) {
		t.Errorf("new metrics, same message: a new detail %v, the same text %v", l.detail != first, unsafe.StringData(l.message()) == unsafe.StringData(first.message))
	}
	if got := l.metrics()[0].Value; got != 42 {
		t.Errorf("latest metric %v, want 42", got)
	}
	s.record(st, result.CheckResult{Name: "disk", Message: "disk 90% used, password hunter2", Status: result.Fail}, started)
	l, _ = st.latest()
	if l.message() != "disk 90% used, password [redacted]" || l.status != result.Fail {
		t.Errorf("latest: %s %q", l.status, l.message())
	}
	r := l.result(st.check)
	if r.Name != "disk" || r.File != "guard.star" || r.Line != 3 || len(r.Tags) != 1 || r.Message != l.message() {
		t.Errorf("the result rebuilt from the entry: %+v", r)
	}
	if n := st.runCount(); n != 152 {
		t.Errorf("%d runs counted, want 152", n)
	}
}

// Recording a result that says what the previous one did allocates
// nothing once the history is full.
func TestRecordSteadyStateAllocatesNothing(t *testing.T) {
	s, st := recordingServer()
	r := result.CheckResult{Name: "disk", Message: "disk 41% used", Duration: time.Millisecond}
	started := time.Now()
	for range 100 {
		s.record(st, r, started)
	}
	if n := testing.AllocsPerRun(1000, func() { s.record(st, r, started) }); n != 0 {
		t.Errorf("record allocates %.1f times per result", n)
	}
}

// nullWriter is a ResponseWriter that keeps nothing.
type nullWriter struct{ h http.Header }

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nullWriter) WriteHeader(int)             {}

// The plain /healthz and /readyz that pass allocate nothing in serve's
// handler: a probe storm costs what net/http costs.
func TestPlainProbeAllocatesNothing(t *testing.T) {
	s := &Server{}
	s.healthyPlain.Store(true)
	s.readyPlain.Store(true)
	h := s.Handler()
	w := &nullWriter{h: http.Header{}}
	for _, path := range []string{"/healthz", "/readyz"} {
		req, err := http.NewRequest("GET", "http://127.0.0.1:9417"+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		h.ServeHTTP(w, req)
		if got := w.h.Get("Content-Type"); got != "text/plain; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", path, got)
		}
		if n := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, req) }); n != 0 {
			t.Errorf("GET %s allocates %.1f times", path, n)
		}
	}
}
