package builtins

import (
	"sync"
	"testing"
	"time"
)

// A slow creation holds up only the callers of its own key.
func TestRunSharedSlowCreateBlocksOnlyItsKey(t *testing.T) {
	run := NewRun()
	defer run.Close()
	release := make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	defer unblock() // before Close, so a failure cannot deadlock the test
	started := make(chan struct{})
	go run.Shared("slow", func() (any, func()) {
		close(started)
		<-release
		return 1, nil
	})
	<-started
	done := make(chan any)
	go func() { done <- run.Shared("fast", func() (any, func()) { return 2, nil }) }()
	select {
	case v := <-done:
		if v != 2 {
			t.Errorf("fast = %v, want 2", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shared(\"fast\") waited for the slow creation of another key")
	}
	unblock()
	if v := run.Shared("slow", nil); v != 1 {
		t.Errorf("slow = %v, want 1 (created once)", v)
	}
}

func TestRunCloseRunsClosersLastFirst(t *testing.T) {
	run := NewRun()
	var order []string
	run.Shared("a", func() (any, func()) { return nil, func() { order = append(order, "a") } })
	run.Shared("b", func() (any, func()) { return nil, func() { order = append(order, "b") } })
	run.Close()
	if len(order) != 2 || order[0] != "b" || order[1] != "a" {
		t.Errorf("closed %v, want [b a]", order)
	}
}
