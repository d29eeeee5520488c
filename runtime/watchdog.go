package runtime

// This file holds the heap watchdog: Starlark cannot bound what a script
// allocates, so the run is cancelled when the Go heap outgrows a limit,
// before the kernel's OOM killer ends the process without a report.

import (
	"context"
	"fmt"
	"runtime/metrics"
	"time"
)

const heapMetric = "/memory/classes/heap/objects:bytes"

// watchHeap samples the heap every interval and cancels the run with a cause
// naming the limit when the heap is above it. stop ends the watch.
func watchHeap(ctx context.Context, limit uint64, interval time.Duration, cancel context.CancelCauseFunc, who string) (stop func()) {
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sample := []metrics.Sample{{Name: heapMetric}}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if used := sample[0].Value.Uint64(); used > limit {
				cancel(fmt.Errorf("stopped: the heap grew to %d MiB, past --max-heap %d MiB; %s", used>>20, limit>>20, who))
				return
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}
