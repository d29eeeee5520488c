package redact_test

// This file checks the scrubber against the transformations infra-guard
// itself applies to a value on its way out, each done by the code that
// really does it (Starlark's json module and repr, net/url, net/http's
// host conversion, encoding/*, fmt) rather than by the scrubber's own list
// of forms: whatever a secret goes through, no part of the result that
// comes from the secret survives.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	starlarkjson "go.starlark.net/lib/json"
	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/redact"
)

// A transformation turns a text holding the secret into what infra-guard
// writes, and says which parts of that come from the secret alone (the
// needles): for an escape that works character by character, the escape
// of the secret; where the encoder picks its escaping by the whole text
// (Starlark's json.encode), each way it may have picked; for base64 of a
// larger text, the characters that depend on the secret's bytes alone.
type transformation struct {
	name string
	// apply returns the transformed text, or false when the transformation
	// does not apply to it (a host name that cannot be one).
	apply func(t *testing.T, text string) (string, bool)
	// needles are computed from the secret and its byte offset in text.
	needles func(t *testing.T, secret string, offset int) []string
}

// starlarkEncode is Starlark's json.encode of v.
func starlarkEncode(t *testing.T, v starlark.Value) string {
	t.Helper()
	out, err := starlark.Call(&starlark.Thread{}, starlarkjson.Module.Members["encode"], starlark.Tuple{v}, nil)
	if err != nil {
		t.Fatalf("json.encode: %v", err)
	}
	return string(out.(starlark.String))
}

// starlarkQuotings are the texts json.encode writes for s inside a larger
// string: as json.encode writes s alone, and as it writes s in a string
// that also holds a control character (json.encode picks its escaping by
// the whole string, so both may occur).
func starlarkQuotings(t *testing.T, s string) []string {
	alone := starlarkEncode(t, starlark.String(s))
	mixed := starlarkEncode(t, starlark.String(s+"\x01"))
	return []string{alone[1 : len(alone)-1], strings.TrimSuffix(mixed[1:len(mixed)-1], `\u0001`)}
}

// inner strips the first and last byte (the quotes).
func inner(s string) string { return s[1 : len(s)-1] }

// charwise is a transformation that escapes character by character, so
// the escape of the secret is a part of the escape of any text holding it.
func charwise(name string, f func(string) string) transformation {
	return transformation{
		name:    name,
		apply:   func(_ *testing.T, text string) (string, bool) { return f(text), true },
		needles: func(_ *testing.T, secret string, _ int) []string { return []string{f(secret)} },
	}
}

// base64Needle is the part of enc's encoding of a text holding secret at
// offset that does not change with the bytes around it.
func base64Needle(enc *base64.Encoding, secret string, offset int) string {
	shift := offset % 3
	a := enc.EncodeToString([]byte(strings.Repeat("\x00", shift) + secret + "\x00\x00"))
	b := enc.EncodeToString([]byte(strings.Repeat("\xff", shift) + secret + "\xff\xff"))
	start, end := 0, min(len(a), len(b))
	for start < end && a[start] != b[start] {
		start++
	}
	for end > start && a[end-1] != b[end-1] {
		end--
	}
	return a[start:end]
}

// dialedHost is the host name net/http dials for http://host/: what a
// DNS error would name.
func dialedHost(host string) (string, bool) {
	u, err := url.Parse("http://" + host + "/")
	if err != nil || u.Hostname() != host || u.Port() != "" {
		return "", false
	}
	var dialed string
	errDone := errors.New("dialed")
	client := &http.Client{Transport: &http.Transport{
		Proxy: nil,
		DialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
			dialed = addr
			return nil, errDone
		},
	}}
	req, err := http.NewRequest("GET", u.String(), nil)
	if err != nil {
		return "", false
	}
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
	}
	h, _, err := net.SplitHostPort(dialed)
	return h, err == nil
}

// githubData and githubProperty escape a workflow command's message and
// property values as the runner unescapes them (actions/runner's
// ActionCommand).
var (
	githubData     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	githubProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func transformations() []transformation {
	starlarkOnce := func(t *testing.T, s string) []string { return starlarkQuotings(t, s) }
	starlarkTwice := func(t *testing.T, s string) []string {
		var out []string
		for _, n := range starlarkQuotings(t, s) {
			out = append(out, starlarkQuotings(t, n)...)
		}
		return out
	}
	xmlEscape := func(s string) string {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	jsonOf := func(html bool) func(string) string {
		return func(s string) string {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(html)
			_ = enc.Encode(s)
			return inner(strings.TrimSuffix(b.String(), "\n"))
		}
	}
	ts := []transformation{
		{
			name:    "starlark json.encode",
			apply:   func(t *testing.T, s string) (string, bool) { return starlarkEncode(t, starlark.String(s)), true },
			needles: func(t *testing.T, s string, _ int) []string { return starlarkOnce(t, s) },
		},
		{
			name: "starlark json.encode twice",
			apply: func(t *testing.T, s string) (string, bool) {
				return starlarkEncode(t, starlark.String(starlarkEncode(t, starlark.String(s)))), true
			},
			needles: func(t *testing.T, s string, _ int) []string { return starlarkTwice(t, s) },
		},
		{
			// The inner text is printable ASCII, the outer one is not: the
			// two levels pick different escapings.
			name: "starlark json.encode twice, mixed",
			apply: func(t *testing.T, s string) (string, bool) {
				list := starlark.NewList([]starlark.Value{starlark.String(s), starlark.String("é")})
				return starlarkEncode(t, starlark.String(starlarkEncode(t, list))), true
			},
			needles: func(t *testing.T, s string, _ int) []string { return starlarkTwice(t, s) },
		},
		{
			name: "starlark json.decode",
			apply: func(t *testing.T, s string) (string, bool) {
				// A server that escapes every character still decodes to
				// the raw text.
				var b strings.Builder
				b.WriteByte('"')
				for _, r := range s {
					if r > 0xffff {
						r1, r2 := utf16Pair(r)
						fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
						continue
					}
					fmt.Fprintf(&b, `\u%04x`, r)
				}
				b.WriteByte('"')
				v, err := starlark.Call(&starlark.Thread{}, starlarkjson.Module.Members["decode"], starlark.Tuple{starlark.String(b.String())}, nil)
				if err != nil {
					t.Fatalf("json.decode: %v", err)
				}
				return string(v.(starlark.String)), true
			},
			needles: func(_ *testing.T, s string, _ int) []string { return []string{s} },
		},
		charwise("starlark repr", func(s string) string { return inner(starlark.String(s).String()) }),
		charwise("starlark repr twice", func(s string) string {
			return inner(starlark.String(starlark.String(s).String()).String())
		}),
		charwise("Go %q", func(s string) string { return inner(fmt.Sprintf("%q", s)) }),
		charwise("Go %+q", func(s string) string { return inner(fmt.Sprintf("%+q", s)) }),
		charwise("encoding/json", jsonOf(true)),
		charwise("encoding/json without HTML escaping", jsonOf(false)),
		charwise("URL path segment", url.PathEscape),
		charwise("URL path", func(s string) string { return (&url.URL{Path: s}).EscapedPath() }),
		charwise("URL query", url.QueryEscape),
		charwise("URL query values", func(s string) string { return strings.TrimPrefix(url.Values{"k": {s}}.Encode(), "k=") }),
		charwise("URL host", func(s string) string { return strings.TrimPrefix((&url.URL{Host: s}).String(), "//") }),
		charwise("URL fragment", func(s string) string { return (&url.URL{Fragment: s}).EscapedFragment() }),
		charwise("URL userinfo", func(s string) string {
			return strings.TrimSuffix(strings.TrimPrefix((&url.URL{User: url.UserPassword("u", s)}).String(), "//u:"), "@")
		}),
		{
			// A redirect target, resolved as http.Client does and shown
			// as the refused-redirect error shows it.
			name: "redirect target",
			apply: func(_ *testing.T, s string) (string, bool) {
				if strings.ContainsAny(s, "?#") {
					return "", false
				}
				base, _ := url.Parse("https://origin.example/start")
				u, err := base.Parse("/echo/" + s)
				if err != nil {
					return "", false
				}
				u.Scheme = "http"
				return u.String(), true
			},
			needles: func(_ *testing.T, s string, _ int) []string { return []string{(&url.URL{Path: s}).EscapedPath()} },
		},
		{
			// A server that reflects the secret into a Location header
			// as it is: url.Parse reads its "%XX" as escapes, and the
			// target is shown as it was sent when that is a valid path,
			// else escaped afresh.
			name: "redirect target reflected unescaped",
			apply: func(_ *testing.T, s string) (string, bool) {
				if strings.ContainsAny(s, "?#") {
					return "", false
				}
				base, _ := url.Parse("https://origin.example/start")
				u, err := base.Parse("/echo/" + s)
				if err != nil {
					return "", false
				}
				return u.String(), true
			},
			needles: func(_ *testing.T, s string, _ int) []string {
				out := []string{s}
				if p, err := url.PathUnescape(s); err == nil {
					out = append(out, (&url.URL{Path: p}).EscapedPath())
				}
				return out
			},
		},
		{
			// The secret as the host: net/http converts it to ASCII
			// (punycode) before it dials, and a DNS error names that.
			name: "host name as dialed",
			apply: func(_ *testing.T, s string) (string, bool) {
				return dialedHost(s)
			},
			needles: func(_ *testing.T, s string, _ int) []string {
				h, _ := dialedHost(s)
				return []string{h}
			},
		},
		charwise("hex", func(s string) string { return hex.EncodeToString([]byte(s)) }),
		charwise("HEX", func(s string) string { return strings.ToUpper(hex.EncodeToString([]byte(s))) }),
		charwise("XML", xmlEscape),
		charwise("JSON then XML", func(s string) string { return xmlEscape(jsonOf(true)(s)) }),
		charwise("GitHub command message", githubData.Replace),
		charwise("GitHub command property", githubProperty.Replace),
	}
	for _, enc := range []struct {
		name string
		e    *base64.Encoding
	}{
		{"base64", base64.StdEncoding}, {"base64 unpadded", base64.RawStdEncoding},
		{"base64url", base64.URLEncoding}, {"base64url unpadded", base64.RawURLEncoding},
	} {
		ts = append(ts, transformation{
			name:  enc.name,
			apply: func(_ *testing.T, s string) (string, bool) { return enc.e.EncodeToString([]byte(s)), true },
			needles: func(_ *testing.T, s string, offset int) []string {
				return []string{base64Needle(enc.e.WithPadding(base64.NoPadding), s, offset)}
			},
		})
	}
	return ts
}

// utf16Pair is r as a UTF-16 surrogate pair.
func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// checkTransformations runs secret, inside prefix and suffix, through every
// transformation and fails when a needle survives the scrubber.
func checkTransformations(t *testing.T, secret, prefix, suffix string) {
	s := redact.New()
	const name = "FUZZ"
	if !s.Add(name, secret) {
		return
	}
	marker := redact.Marker(name)
	text := prefix + secret + suffix
	for _, tr := range transformations() {
		out, ok := tr.apply(t, text)
		if !ok {
			continue
		}
		scrubbed := s.String(out)
		found := false
		for _, n := range tr.needles(t, secret, len(prefix)) {
			if n == "" || !strings.Contains(out, n) {
				continue // an escaping this text did not get
			}
			found = true
			for _, seg := range strings.Split(scrubbed, marker) {
				if strings.Contains(seg, n) {
					t.Errorf("%s: %q survives: %q scrubbed to %q", tr.name, n, out, scrubbed)
				}
			}
		}
		if found && !strings.Contains(scrubbed, marker) {
			t.Errorf("%s: no marker in %q", tr.name, scrubbed)
		}
	}
}

// TestTransformations: secrets with the characters each encoder treats
// specially.
func TestTransformations(t *testing.T) {
	for _, secret := range []string{
		"plain-token-123",
		"DEL\x7fin-the-middle",
		"Tk^ y/é-9f;a,b",
		`quote"back\slash`,
		"<html>&amp;'x'",
		"tënant-Ab9x",
		"münchen.example",
		"line one\nline two",
		"tab\there\x01ctl",
		"emoji-😀-token",
		"percent%41-colon:comma,",
		`40Psx8v5Qk"<&/+=sbhx5bZGyv'>%9E0L`, // a fake-secret whose "%9E" url.Parse decodes
		"\u2028sep\u2029rator",
	} {
		t.Run(secret, func(t *testing.T) {
			checkTransformations(t, secret, "", "")
			checkTransformations(t, secret, "prefix é ", " suffix")
			checkTransformations(t, secret, "ab", "\x7f")
		})
	}
}

// FuzzTransformations: random secrets, in random text, through every
// transformation. Secrets are at most 128 bytes (longer ones are matched
// in pieces, see the package comment) and all texts valid UTF-8 (an
// escape of a byte that is not a character depends on the bytes around
// it).
func FuzzTransformations(f *testing.F) {
	f.Add("DEL\x7fin-the-middle", "", "")
	f.Add("Tk^ y/é-9f", "x", "y")
	f.Add("tënant-Ab9x", "", "")
	f.Add(`q"u<o>t&e`, "é", "\n")
	f.Fuzz(func(t *testing.T, secret, prefix, suffix string) {
		if len(secret) > 128 || len(prefix)+len(suffix) > 256 ||
			!utf8.ValidString(secret) || !utf8.ValidString(prefix) || !utf8.ValidString(suffix) {
			t.Skip()
		}
		checkTransformations(t, secret, prefix, suffix)
	})
}
