package builtins

// This file records which builtin call a check is in, so that a check
// that times out can say what it was waiting for: "timed out after 2s in
// http_check("https://api.example/health"), attempt 2 of 3".

import (
	"sync/atomic"
	"unicode/utf8"

	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/redact"
)

// Calls is the run-phase builtin call in progress on one check's thread.
// The runtime reads it from another goroutine when the check's deadline
// passes, so it is atomic.
type Calls struct{ cur atomic.Pointer[callState] }

type callState struct{ desc, detail string }

// TrackCalls starts recording the builtin calls made on thread.
func TrackCalls(thread *starlark.Thread) *Calls {
	c := &Calls{}
	mutableLocals(thread).Calls = c
	return c
}

// Current describes the call in progress, or the call that was in
// progress when the check's context ended; "" when there is none.
func (c *Calls) Current() string {
	p := c.cur.Load()
	switch {
	case p == nil:
		return ""
	case p.detail != "":
		return p.desc + ", " + p.detail
	}
	return p.desc
}

func callsOf(thread *starlark.Thread) *Calls {
	if l := localsOf(thread); l != nil {
		return l.Calls
	}
	return nil
}

// enter records the call b(args…) as in progress and returns the function
// that ends it. A call that ends because the check's context did is kept,
// so the timeout message can name it.
func enter(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple) func() {
	c := callsOf(thread)
	if c == nil {
		return func() {}
	}
	desc := b.Name() + "()"
	if len(args) > 0 {
		if s, ok := args[0].(starlark.String); ok {
			// A URL's credentials never reach the message; a secret
			// argument is a *Secret, whose repr is only its name.
			desc = b.Name() + "(" + starlark.String(shorten(redact.URL(string(s)), 80)).String() + ")"
		} else if sec, ok := args[0].(*Secret); ok {
			desc = b.Name() + "(" + sec.String() + ")"
		}
	}
	c.cur.Store(&callState{desc: desc})
	return func() {
		if ctx := Context(thread); ctx == nil || ctx.Err() == nil {
			c.cur.Store(nil)
		}
	}
}

// noteProgress adds detail ("attempt 2 of 3") to the call in progress.
func noteProgress(thread *starlark.Thread, detail string) {
	if c := callsOf(thread); c != nil {
		if p := c.cur.Load(); p != nil {
			c.cur.Store(&callState{desc: p.desc, detail: detail})
		}
	}
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
