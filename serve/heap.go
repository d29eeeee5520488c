package serve

// This file holds serve's heap watchdog. Guard.Run watches the heap for a
// whole run; serve has no run, so the scheduler watches it instead and,
// when it grows past --max-heap, cancels the checks running at that
// moment (they end UNKNOWN, saying why) rather than let the kernel's OOM
// killer end the daemon.

import (
	"context"
	"fmt"
	"runtime/metrics"
	"time"
)

const heapMetric = "/memory/classes/heap/objects:bytes"

// heapEvery is how often the heap is sampled: often enough to catch a
// runaway allocation before it doubles, rarely enough to cost nothing.
const heapEvery = 50 * time.Millisecond

func (s *scheduler) watchHeap(ctx context.Context, limit uint64) {
	sample := []metrics.Sample{{Name: heapMetric}}
	tick := time.NewTicker(heapEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		used := sample[0].Value.Uint64()
		if used <= limit {
			continue
		}
		cause := fmt.Errorf("stopped: the heap grew to %d MiB, past --max-heap %d MiB; a check is allocating without bound", used>>20, limit>>20)
		s.srv.mu.Lock()
		var names []string
		for name, st := range s.states {
			if st.cancelRun != nil {
				st.cancelRun(cause)
				names = append(names, name)
			}
		}
		s.srv.mu.Unlock()
		if len(names) > 0 {
			s.srv.log.Error("the heap grew past --max-heap; cancelled the checks running", "heap_mib", used>>20, "max_heap_mib", limit>>20, "checks", names)
		}
	}
}
