package builtins

import (
	"strings"
	"testing"
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
