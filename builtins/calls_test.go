package builtins

import (
	"context"
	"testing"

	"go.starlark.net/starlark"
)

// TestCallsNameTheCallInProgress: the call in progress is named with its
// first argument (a URL's credentials redacted, a secret by its name) and
// its progress; it is forgotten when it returns normally and kept when it
// returns because the check's context ended.
func TestCallsNameTheCallInProgress(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	thread := &starlark.Thread{}
	SetContext(thread, ctx)
	calls := TrackCalls(thread)
	b := starlark.NewBuiltin("http_check", nil)

	done := enter(thread, b, starlark.Tuple{starlark.String("https://u:pw@api.test/health?token=abc")})
	if got, want := calls.Current(), `http_check("https://u:REDACTED@api.test/health?token=REDACTED")`; got != want {
		t.Errorf("Current() = %s, want %s", got, want)
	}
	noteProgress(thread, "attempt 2 of 3")
	noteProgress(thread, "attempt 3 of 3")
	if got, want := calls.Current(), `http_check("https://u:REDACTED@api.test/health?token=REDACTED"), attempt 3 of 3`; got != want {
		t.Errorf("Current() = %s, want %s", got, want)
	}
	done()
	if got := calls.Current(); got != "" {
		t.Errorf("after a normal return, Current() = %q, want empty", got)
	}

	done = enter(thread, b, starlark.Tuple{&Secret{value: "not-shown", display: "<secret:API_URL>"}})
	cancel()
	done()
	if got, want := calls.Current(), "http_check(<secret:API_URL>)"; got != want {
		t.Errorf("after the context ended, Current() = %q, want %q", got, want)
	}
}
