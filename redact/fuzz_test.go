package redact

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// writeSplit writes text to a fresh Writer of s in pieces whose lengths
// come from seed, and returns what came out.
func writeSplit(s *Scrubber, text string, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, seed>>7))
	var buf bytes.Buffer
	w := s.Writer(&buf)
	for len(text) > 0 {
		k := min(len(text), r.IntN(40))
		if r.IntN(8) == 0 {
			k = min(len(text), r.IntN(400))
		}
		w.Write([]byte(text[:k]))
		text = text[k:]
	}
	w.Close()
	return buf.String()
}

// FuzzWriter: for a random secret inside random text, in one of its
// encoded forms, written in random pieces, no form of the secret is left
// between the markers, and the stream gives what String gives.
func FuzzWriter(f *testing.F) {
	f.Add(testSecret, "before ", " after", uint8(0), uint64(1))
	f.Add("hunter2hunter2", "Authorization: ", "\n", uint8(17), uint64(2))
	f.Add("line one is long\nline two is long", "{\"body\":", "}", uint8(1), uint64(3))
	f.Add("p@ss w0rd&x=1", "https://h/?q=", "&z", uint8(22), uint64(4))
	f.Add("ab", "x", "y", uint8(0), uint64(5))
	f.Fuzz(func(t *testing.T, secret, prefix, suffix string, form uint8, seed uint64) {
		if len(secret) > 512 || len(prefix)+len(suffix) > 4096 {
			t.Skip()
		}
		s := New()
		const name = "FUZZ"
		scrubbed := s.Add(name, secret)
		all := encodings(secret)
		text := prefix + all[int(form)%len(all)] + suffix
		out := writeSplit(s, text, seed)
		if want := s.String(text); out != want {
			t.Fatalf("Writer gave %q, String gave %q", out, want)
		}
		if !scrubbed {
			if out != text {
				t.Fatalf("unscrubbed short secret: output %q differs from input %q", out, text)
			}
			return
		}
		for _, seg := range strings.Split(out, Marker(name)) {
			for _, f := range forms(secret) {
				if strings.Contains(seg, f) {
					t.Fatalf("form %q of %q survived in %q", f, secret, out)
				}
			}
		}
	})
}

// FuzzPassThrough: text that holds no form of any registered secret comes
// out byte for byte, however it is split.
func FuzzPassThrough(f *testing.F) {
	f.Add("time=2026-11-26T12:00:00Z level=INFO msg=\"ok\"\n", testSecret, uint64(1))
	f.Add("\x00\xff\n\n\r\n", "another-secret", uint64(2))
	f.Add(strings.Repeat("s3cr", 100), testSecret, uint64(3))
	f.Fuzz(func(t *testing.T, text, secret string, seed uint64) {
		s := New()
		s.Add("S", secret)
		for _, f := range forms(secret) {
			if strings.Contains(text, f) {
				t.Skip()
			}
		}
		if out := writeSplit(s, text, seed); out != text {
			t.Fatalf("got %q, want %q", out, text)
		}
		if out := s.String(text); out != text {
			t.Fatalf("String gave %q, want %q", out, text)
		}
	})
}

// FuzzURL: whatever the credentials, neither the password (whatever
// characters it holds, '/' '?' '#' '@' included), a query value nor the
// fragment survives URL, in a URL with or without a scheme, alone or in
// text; and no input makes it panic.
func FuzzURL(f *testing.F) {
	f.Add("https", "pw123456", "tok987654", "frag1234", "/health")
	f.Add("http", "a", "b", "", "")
	f.Add("ftp", "PASSWORDX", "VALUEX", "X", "/a b")
	f.Add("https", "12/ss", "v", "f", "/x")
	f.Add("https", "12?ss", "v", "f", "/x")
	f.Add("https", "p@ss#w", "v", "f", "")
	f.Fuzz(func(t *testing.T, scheme, pw, val, frag, path string) {
		URL(scheme + "://" + pw + "@" + val + path) // must not panic
		URLsIn(scheme + "://" + pw + "@" + val + path)
		// The password may hold anything but a line break (URLs in text
		// end at white space, so only URL itself is tried with those).
		pw = "Pw" + pw + "Zq"
		// A query value ends at '&' or '#', a path at '?' or '#': what
		// comes after is another part, redacted or not by its own rule.
		val = "Qv" + strings.Map(func(r rune) rune {
			if r == '&' || r == '#' {
				return -1
			}
			return r
		}, val) + "Zq"
		path = "/" + strings.Map(func(r rune) rune {
			if r == '?' || r == '#' {
				return -1
			}
			return r
		}, path)
		frag = "Fg" + frag + "Zq"
		for _, u := range []string{
			"https://user:" + pw + "@example.test" + path + "?token=" + val + "&other=" + val + "#" + frag,
			"user:" + pw + "@db.test:5432" + path + "?token=" + val + "#" + frag,
			"//user:" + pw + "@example.test" + path + "?token=" + val,
		} {
			out := URL(u)
			for _, secret := range []string{pw, val, frag} {
				if strings.Contains(u, secret) && strings.Contains(out, secret) {
					t.Fatalf("%q survives in URL(%q) = %q", secret, u, out)
				}
			}
		}
		if strings.ContainsAny(pw+val+frag+path, " \t\n\r\f\v\"'<>") {
			return
		}
		u := "https://user:" + pw + "@example.test" + path + "?token=" + val + "#" + frag
		out := URLsIn(`Get "` + u + `": connection refused`)
		for _, secret := range []string{pw, val, frag} {
			if strings.Contains(out, secret) {
				t.Fatalf("%q survives in URLsIn: %q", secret, out)
			}
		}
	})
}
