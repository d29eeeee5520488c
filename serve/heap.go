package serve

// This file holds serve's heap watchdog. Guard.Run watches the heap for a
// whole run; serve has no run, so the scheduler watches it while checks
// run and, when it grows past --max-heap, cancels the checks running at
// that moment (they end UNKNOWN, saying why) rather than let the kernel's
// OOM killer end the daemon. Only a running check allocates for the
// script, so the heap is sampled only while one runs, every heapEvery: an
// idle serve, or 1,000 checks of a few microseconds every 30 s, pays for
// no ticker.

import (
	"fmt"
	"runtime/metrics"
	"sync"
	"time"
)

const heapMetric = "/memory/classes/heap/objects:bytes"

// heapEvery is how often the heap is sampled while a check runs: often
// enough to catch a runaway allocation before it doubles.
const heapEvery = 50 * time.Millisecond

// heapWatch samples the heap while at least one check runs. Its timer is
// stopped whenever none does: 1,000 checks of a few microseconds every
// 30 s end before it would fire, and so never wake the process for it.
type heapWatch struct {
	s       *scheduler
	limit   uint64
	mu      sync.Mutex
	active  int
	timer   *time.Timer // armed while active > 0
	stopped bool
}

// begin is called as a check starts running, end as it stops.
func (h *heapWatch) begin() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.active++
	if h.active > 1 || h.stopped {
		return
	}
	if h.timer == nil {
		h.timer = time.AfterFunc(heapEvery, h.sample)
	} else {
		h.timer.Reset(heapEvery)
	}
}

func (h *heapWatch) end() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.active--; h.active == 0 && h.timer != nil {
		h.timer.Stop()
	}
}

func (h *heapWatch) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	if h.timer != nil {
		h.timer.Stop()
	}
}

func (h *heapWatch) sample() {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	if used := s[0].Value.Uint64(); used > h.limit {
		h.cancelRunning(used)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.active > 0 && !h.stopped {
		h.timer.Reset(heapEvery)
	}
}

func (h *heapWatch) cancelRunning(used uint64) {
	cause := fmt.Errorf("stopped: the heap grew to %d MiB, past --max-heap %d MiB; a check is allocating without bound", used>>20, h.limit>>20)
	srv := h.s.srv
	srv.mu.Lock()
	var names []string
	for name, st := range h.s.states {
		if st.cancelRun != nil {
			st.cancelRun(cause)
			names = append(names, name)
		}
	}
	srv.mu.Unlock()
	if len(names) > 0 {
		srv.log.Error("the heap grew past --max-heap; cancelled the checks running", "heap_mib", used>>20, "max_heap_mib", h.limit>>20, "checks", names)
	}
}
