package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
)

// testSecret needs escaping in JSON, XML and URLs, and has a multi-byte rune.
const testSecret = `s3cr"et<&>/+=x'y z\ü-0123`

// encoded returns named forms of v as the outside world writes them.
func encoded(v string) map[string]string {
	jsonOf := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	xmlOf := func(s string) string { var b bytes.Buffer; _ = xml.EscapeText(&b, []byte(s)); return b.String() }
	return map[string]string{
		"raw":        v,
		"json":       jsonOf(v),
		"xml":        xmlOf(v),
		"html":       html.EscapeString(v),
		"json+xml":   xmlOf(jsonOf(v)),
		"json+html":  html.EscapeString(jsonOf(v)),
		"%q":         fmt.Sprintf("%q", v),
		"%+q":        fmt.Sprintf("%+q", v),
		"query":      url.QueryEscape(v),
		"path":       url.PathEscape(v),
		"userinfo":   (&url.URL{Scheme: "https", User: url.UserPassword("bob", v), Host: "h"}).String(),
		"hex":        hex.EncodeToString([]byte(v)),
		"HEX":        strings.ToUpper(hex.EncodeToString([]byte(v))),
		"b64":        base64.StdEncoding.EncodeToString([]byte(v)),
		"b64raw":     base64.RawStdEncoding.EncodeToString([]byte(v)),
		"b64url":     base64.URLEncoding.EncodeToString([]byte(v)),
		"b64urlraw":  base64.RawURLEncoding.EncodeToString([]byte(v)),
		"basic":      "Basic " + base64.StdEncoding.EncodeToString([]byte("bob:"+v)),
		"b64shift1":  base64.StdEncoding.EncodeToString([]byte("x" + v + "tail")),
		"b64shift2":  base64.URLEncoding.EncodeToString([]byte("xy" + v)),
		"b64shift0":  base64.RawURLEncoding.EncodeToString([]byte("xyz" + v + "t")),
		"json-in-js": jsonOf(jsonOf(v)),
	}
}

// leaks returns the names of the forms of v whose secret-only part is still
// in out. For base64 of a larger text, that part is the inner text.
func leaks(out, v string) []string {
	var bad []string
	for _, f := range forms(v) {
		if strings.Contains(out, f) {
			bad = append(bad, fmt.Sprintf("%q", f))
		}
	}
	return bad
}

func TestStringScrubsEveryForm(t *testing.T) {
	s := New()
	if !s.Add("API_TOKEN", testSecret) {
		t.Fatal("Add reported the value as too short")
	}
	for name, form := range encoded(testSecret) {
		t.Run(name, func(t *testing.T) {
			in := "before " + form + " after"
			out := s.String(in)
			if bad := leaks(out, testSecret); len(bad) > 0 {
				t.Errorf("String(%q) = %q still holds %v", in, out, bad)
			}
			if !strings.Contains(out, "[REDACTED:API_TOKEN]") {
				t.Errorf("String(%q) = %q, want a marker", in, out)
			}
			if !strings.HasPrefix(out, "before ") || !strings.HasSuffix(out, " after") {
				t.Errorf("String(%q) = %q, surrounding text changed", in, out)
			}
		})
	}
}

func TestJSONEncoderOfScrubbedIsValid(t *testing.T) {
	s := New()
	s.Add("T", testSecret)
	doc, _ := json.Marshal(map[string]string{"msg": "got " + testSecret})
	out := s.String(string(doc))
	var v map[string]string
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("scrubbed JSON %s does not parse: %v", out, err)
	}
	if v["msg"] != "got [REDACTED:T]" {
		t.Errorf("msg = %q", v["msg"])
	}
}

func TestBase64AtEveryOffset(t *testing.T) {
	s := New()
	s.Add("P", testSecret)
	for pre := range 7 {
		for post := range 4 {
			data := strings.Repeat("a", pre) + testSecret + strings.Repeat("b", post)
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
				e := enc.EncodeToString([]byte(data))
				out := s.String("x " + e + " y")
				if !strings.Contains(out, "[REDACTED:P]") {
					t.Errorf("pre %d post %d: %q not scrubbed: %q", pre, post, e, out)
				}
				// What is left of the encoding is at most the 2 characters
				// on each side that mix in other bytes, plus the other bytes.
				left := len(strings.TrimSuffix(strings.TrimPrefix(out, "x "), " y")) - len("[REDACTED:P]")
				if max := (pre+post)*4/3 + 8; left > max {
					t.Errorf("pre %d post %d: %d characters left of %q: %q", pre, post, left, e, out)
				}
			}
		}
	}
}

func TestShortValueNotScrubbed(t *testing.T) {
	s := New()
	if s.Add("PIN", "12345") {
		t.Error("Add(5 bytes) = true, want false")
	}
	if got := s.String("pin 12345"); got != "pin 12345" {
		t.Errorf("String = %q", got)
	}
	if !s.Add("SIX", "123456") {
		t.Error("Add(6 bytes) = false, want true")
	}
}

func TestMultiLineValue(t *testing.T) {
	key := "-----BEGIN KEY-----\r\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nab\n-----END KEY-----\n"
	s := New()
	s.Add("KEY", key)
	for _, in := range []string{
		key,
		"line: MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu only",
		"-----END KEY-----",
	} {
		out := s.String(in)
		if strings.Contains(out, "MIIBOgIBAAJBAKj34") || strings.Contains(out, "END KEY") {
			t.Errorf("String(%q) = %q", in, out)
		}
	}
	// The short line "ab" alone is not a pattern.
	if got := s.String("ab"); got != "ab" {
		t.Errorf("String(ab) = %q", got)
	}
}

func TestLongValueIsChunked(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(' ' + r.IntN(95))
	}
	v := string(b)
	s := New()
	s.Add("BIG", v)
	for name, form := range encoded(v) {
		out := s.String("<" + form + ">")
		if len(out) > 400 {
			t.Errorf("%s: %d bytes left after scrubbing: %.200q…", name, len(out), out)
		}
	}
	if m := s.matcher(); m.maxLen > 6*chunkLen+8 {
		t.Errorf("longest pattern %d bytes", m.maxLen)
	}
}

func TestWriterSplitEverywhere(t *testing.T) {
	s := New()
	s.Add("API_TOKEN", testSecret)
	s.Add("OTHER", "another-secret-value")
	for name, form := range encoded(testSecret) {
		in := "line one\nit said " + form + " and another-secret-value\nlast"
		want := s.String(in)
		for cut := 0; cut <= len(in); cut++ {
			var buf bytes.Buffer
			w := s.Writer(&buf)
			w.Write([]byte(in[:cut]))
			w.Write([]byte(in[cut:]))
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if buf.String() != want {
				t.Fatalf("%s cut at %d: got %q, want %q", name, cut, buf.String(), want)
			}
		}
	}
}

func TestWriterByteAtATime(t *testing.T) {
	s := New()
	s.Add("T", testSecret)
	in := strings.Repeat("x", 100) + base64.StdEncoding.EncodeToString([]byte("u:"+testSecret)) + "\n" + testSecret
	var buf bytes.Buffer
	w := s.Writer(&buf)
	for i := range len(in) {
		w.Write([]byte{in[i]})
	}
	w.Close()
	if got, want := buf.String(), s.String(in); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWriterPassesLinesThroughAtOnce(t *testing.T) {
	s := New()
	s.Add("T", testSecret)
	var buf bytes.Buffer
	w := s.Writer(&buf)
	fmt.Fprintf(w, "level=INFO msg=%q\n", "token "+testSecret)
	if got := buf.String(); got != "level=INFO msg=\"token [REDACTED:T]\"\n" {
		t.Errorf("before Close: %q", got)
	}
	w.Write([]byte("partial " + testSecret[:5]))
	if got := buf.String(); !strings.HasSuffix(got, "partial ") {
		t.Errorf("want the text before a possible secret written: %q", got)
	}
	w.Close()
	if !strings.HasSuffix(buf.String(), "partial "+testSecret[:5]) {
		t.Errorf("after Close: %q", buf.String())
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func TestWriterHoldsBackLessThanLongestPattern(t *testing.T) {
	s := New()
	s.Add("T", testSecret)
	m := s.matcher()
	forms := forms(testSecret)
	for _, f := range forms {
		var buf bytes.Buffer
		w := s.Writer(&buf)
		in := "some text " + f[:len(f)-1]
		w.Write([]byte(in))
		if held := len(in) - buf.Len(); held > m.maxLen-1 || held < len(f)-1 {
			t.Errorf("%q: held back %d bytes, want between %d and %d", f, held, len(f)-1, m.maxLen-1)
		}
		w.Close()
		if buf.String() != in && leaks(in, testSecret) == nil {
			t.Errorf("%q: text without secrets changed: %q", f, buf.String())
		}
	}
}

func TestWriterWithoutSecretsIsTransparent(t *testing.T) {
	var buf bytes.Buffer
	w := New().Writer(&buf)
	w.Write([]byte("abc"))
	if buf.String() != "abc" {
		t.Errorf("held back with no secrets: %q", buf.String())
	}
	var nilScrubber *Scrubber
	w = nilScrubber.Writer(&buf)
	w.Write([]byte("def"))
	w.Close()
	if buf.String() != "abcdef" || nilScrubber.String("x") != "x" {
		t.Errorf("nil scrubber: %q", buf.String())
	}
}

func TestAddAfterWriterMade(t *testing.T) {
	s := New()
	var buf bytes.Buffer
	w := s.Writer(&buf)
	w.Write([]byte("start\n"))
	s.Add("LATE", testSecret)
	w.Write([]byte("now " + testSecret + "\n"))
	w.Close()
	if got := buf.String(); got != "start\nnow [REDACTED:LATE]\n" {
		t.Errorf("got %q", got)
	}
}

func TestOverlappingSecretsReplacedOnce(t *testing.T) {
	s := New()
	s.Add("A", "abcdefgh")
	s.Add("B", "efghijkl")
	if got := s.String("x abcdefghijkl y"); got != "x [REDACTED:A] y" {
		t.Errorf("got %q", got)
	}
	if got := s.String("abcdefghabcdefgh"); got != "[REDACTED:A][REDACTED:A]" {
		t.Errorf("got %q", got)
	}
}

func TestNameCleaned(t *testing.T) {
	s := New()
	s.Add(`bad"name<x>`, testSecret)
	if got := s.String(testSecret); got != "[REDACTED:bad_name_x_]" {
		t.Errorf("got %q", got)
	}
}

func TestHandler(t *testing.T) {
	s := New()
	s.Add("T", testSecret)
	for _, mk := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(Handler(mk(&buf), s)).With("pre", "p "+testSecret).WithGroup("g")
		log.Info("msg "+testSecret, "s", testSecret, "err", fmt.Errorf("wrapped: %s", testSecret),
			"list", []string{testSecret}, slog.Group("grp", "k", testSecret), testSecret, 1)
		if bad := leaks(buf.String(), testSecret); len(bad) > 0 {
			t.Errorf("log %s holds %v", buf.String(), bad)
		}
		if strings.Count(buf.String(), "[REDACTED:T]") < 6 {
			t.Errorf("log %s: want 6 markers", buf.String())
		}
	}
}

func TestWriterHoldUntilSecretsKnown(t *testing.T) {
	s := New()
	var buf bytes.Buffer
	w := s.Writer(&buf)
	w.Hold()
	fmt.Fprintf(w, "printed before secret() ran: %q\n", testSecret)
	if buf.Len() != 0 {
		t.Fatalf("held output went out: %q", buf.String())
	}
	s.Add("LATE", testSecret)
	if err := w.Release(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "printed before secret() ran: \"[REDACTED:LATE]\"\n" {
		t.Errorf("after Release: %q", got)
	}
	fmt.Fprintf(w, "after %s\n", testSecret)
	if !strings.HasSuffix(buf.String(), "after [REDACTED:LATE]\n") {
		t.Errorf("after Release, writes do not flow: %q", buf.String())
	}
	// Close releases too; held output with no secret at all goes out as is.
	var b2 bytes.Buffer
	w2 := New().Writer(&b2)
	w2.Hold()
	w2.Write([]byte("plain"))
	w2.Close()
	if b2.String() != "plain" {
		t.Errorf("Close after Hold: %q", b2.String())
	}
}

// A held writer keeps at most MaxHeld bytes and says how much it dropped,
// so a script printing in a loop at load time cannot hold all memory.
func TestHoldIsBounded(t *testing.T) {
	for _, end := range []string{"release", "close"} {
		t.Run(end, func(t *testing.T) {
			var out strings.Builder
			w := New().Writer(&out)
			w.Hold()
			line := []byte(strings.Repeat("x", 1023) + "\n")
			for range MaxHeld/len(line) + 100 {
				if _, err := w.Write(line); err != nil {
					t.Fatal(err)
				}
			}
			if end == "release" {
				w.Release()
			}
			w.Close()
			if out.Len() > MaxHeld+200 {
				t.Errorf("wrote %d bytes, want at most MaxHeld and a note", out.Len())
			}
			if !strings.Contains(out.String(), "[infra-guard: 102400 bytes written while the script loaded were dropped") {
				t.Errorf("no note about the dropped bytes: %q", out.String()[max(0, out.Len()-200):])
			}
		})
	}
}

// A long value of multi-byte characters is cut into pieces on character
// boundaries: a piece that started inside a character would have no
// escaped form (%+q, JSON with \u escapes, XML) that occurs in the output.
func TestLongValueChunkedOnRunes(t *testing.T) {
	v := strings.Repeat("€ü", 40) + "x" // 201 bytes, 3- and 2-byte runes
	s := New()
	s.Add("BIG", v)
	for name, form := range encoded(v) {
		out := s.String("<" + form + ">")
		left := strings.ToLower(strings.ReplaceAll(out, Marker("BIG"), ""))
		for _, piece := range []string{"€", "ü", "20ac", "00fc", "e282", "c3bc", "#x20ac", "%e2%82"} {
			if strings.Contains(left, piece) {
				t.Errorf("%s: %q left after scrubbing", name, out)
				break
			}
		}
	}
}

// TestDeferScrubsAtRelease: while deferred, a held writer keeps what is
// written and String passes text through; at release every secret added by
// then is scrubbed from what was held, including values added after the
// text that holds them was written.
func TestDeferScrubsAtRelease(t *testing.T) {
	s := New()
	s.Defer()
	var out strings.Builder
	w := s.Writer(&out)
	w.Hold()
	for i := range 50 {
		s.Add(fmt.Sprintf("S%d", i), fmt.Sprintf("value-%02d-abcdef", i))
		fmt.Fprintf(w, "line %d: %s\n", i, s.String(fmt.Sprintf("value-%02d-abcdef", i)))
	}
	if out.Len() != 0 {
		t.Fatalf("a held writer wrote %q", out.String())
	}
	s.Resume()
	if err := w.Release(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "abcdef") {
		t.Errorf("a secret survived the release:\n%s", out.String())
	}
	if got := strings.Count(out.String(), "[REDACTED:S"); got != 50 {
		t.Errorf("%d markers, want 50:\n%s", got, out.String())
	}
	if s.String("value-07-abcdef") != "[REDACTED:S7]" {
		t.Errorf("String after Resume does not scrub")
	}
}

// BenchmarkSecretsBetweenWrites is a script's load phase: a secret read,
// then a line logged, n times. Deferred scrubbing keeps it linear: one
// matcher built at release instead of one per line.
func BenchmarkSecretsBetweenWrites(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				s := New()
				s.Defer()
				w := s.Writer(io.Discard)
				w.Hold()
				for i := range n {
					s.Add(fmt.Sprintf("S%d", i), fmt.Sprintf("secret-value-%04d-xyz", i))
					fmt.Fprintf(w, "level=INFO msg=%q\n", s.String(fmt.Sprintf("read %d", i)))
				}
				s.Resume()
				w.Release()
				w.Close()
			}
		})
	}
}
