package builtins

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/infra-guard/infra-guard/result"
	"go.starlark.net/starlark"
)

// A long returned value is cut for the UNKNOWN message on a rune
// boundary: the message stays valid UTF-8 for the reports.
func TestToResultCutsOnRune(t *testing.T) {
	for n := range 4 {
		v := starlark.String(strings.Repeat("x", n) + strings.Repeat("é", 40))
		r := ToResult(v)
		if r.Status != result.Unknown || !strings.HasSuffix(strings.Split(r.Message, ";")[0], "...") {
			t.Fatalf("ToResult(%s) = %s, want UNKNOWN with the value cut", v, r)
		}
		if !utf8.ValidString(r.Message) {
			t.Errorf("ToResult(%s) message %q is not valid UTF-8", v, r.Message)
		}
	}
}

// A check that returns a deeply nested value is described at once: the
// value's own String looks for cycles along the whole path, which takes
// minutes at 600,000 levels, after the check's deadline. (Issue 10, item 3.)
func TestToResultDeepValueIsQuick(t *testing.T) {
	var l starlark.Value = starlark.NewList(nil)
	for range 600_000 {
		l = starlark.NewList([]starlark.Value{l})
	}
	done := make(chan *Result, 1)
	go func() { done <- ToResult(l) }()
	select {
	case r := <-done:
		if !strings.HasPrefix(r.Message, "check returned list [[[[") {
			t.Errorf("message = %q", r.Message)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ToResult of a 600,000-deep list took more than 5s")
	}
	if got := ToResult(starlark.Tuple{starlark.MakeInt(1), starlark.String("a")}).Message; !strings.HasPrefix(got, `check returned tuple (1, "a");`) {
		t.Errorf("message = %q", got)
	}
}
