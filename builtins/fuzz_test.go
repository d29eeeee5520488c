package builtins

import (
	"strings"
	"testing"
	"time"
	"unicode"
)

// alnum keeps the letters and digits of s, so a fuzzed credential can be
// put in a URL as is and searched for in the result.
func alnum(s string) string {
	return strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return -1
	}, s)
}

// FuzzRedactURL: whatever the credentials, neither the password, a query
// value nor the fragment survives RedactURL, in a URL alone or in text; and
// no input makes it panic.
func FuzzRedactURL(f *testing.F) {
	f.Add("https", "pw123456", "tok987654", "frag1234", "/health")
	f.Add("http", "a", "b", "", "")
	f.Add("ftp", "PASSWORDX", "VALUEX", "X", "/a b")
	f.Fuzz(func(t *testing.T, scheme, pw, val, frag, path string) {
		RedactURL(scheme + "://" + pw + "@" + val + path) // must not panic
		pw, val, frag = "Pw"+alnum(pw)+"Zq", "Qv"+alnum(val)+"Zq", "Fg"+alnum(frag)+"Zq"
		u := "https://user:" + pw + "@example.test" + "/p?token=" + val + "&other=" + val + "#" + frag
		for _, out := range []string{RedactURL(u), redactURLsIn(`Get "` + u + `": connection refused`)} {
			for _, secret := range []string{pw, val, frag} {
				if strings.Contains(out, secret) {
					t.Fatalf("%q survives in %q", secret, out)
				}
			}
		}
	})
}

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
