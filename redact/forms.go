package redact

// This file holds the forms a secret value can take in output: the value
// itself and what encoders make of it — JSON and Go string escaping,
// XML/HTML escaping (and the two stacked, as a JUnit report of a JSON body
// has them), URL escaping, hex and base64 at every alignment.

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

const (
	// MinLen is the shortest value that is pattern-scrubbed. Shorter
	// values would match ordinary text; only the taint protects them.
	MinLen = 6
	// MinLineLen is the shortest line of a multi-line value that is
	// scrubbed on its own.
	MinLineLen = 8
	// chunkLen and chunkStep split long values into overlapping pieces, so
	// that patterns, and with them what a Writer holds back, stay short.
	// Every encoding here works character by character (base64 by 3-byte
	// groups, which the alignment shifts cover), so the pieces' encoded
	// forms cover the whole value's.
	chunkLen  = 64
	chunkStep = 56
	// longValue is the length above which a value is chunked.
	longValue = 2 * chunkLen
)

// forms returns the distinct texts to scrub for value, sorted: those of the value
// itself and, for a multi-line value, those of each line of at least
// MinLineLen bytes. It returns nil for values shorter than MinLen.
func forms(value string) []string {
	if len(value) < MinLen {
		return nil
	}
	units := chunks(value)
	if strings.ContainsRune(value, '\n') {
		for line := range strings.SplitSeq(value, "\n") {
			line = strings.TrimSuffix(line, "\r")
			if len(line) >= MinLineLen {
				units = append(units, chunks(line)...)
			}
		}
	}
	var out []string
	for _, u := range units {
		out = append(out, encodings(u)...)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if out[0] == "" {
		out = out[1:]
	}
	return out
}

// chunks splits a long value into overlapping pieces of about chunkLen
// bytes, the last one ending at the value's end; a short value is its own
// piece. Pieces start and end on character boundaries (moved by at most
// three bytes, which the overlap absorbs): a piece cut inside a character
// would have escaped forms (%+q's \u20ac, say) that occur nowhere.
func chunks(v string) []string {
	if len(v) <= longValue {
		return []string{v}
	}
	// In invalid UTF-8 a boundary may be further away; the piece is then
	// cut where the search gave up.
	runeStart := func(i int) int { // the first boundary at or after i
		for k := 1; k < utf8.UTFMax && i < len(v) && !utf8.RuneStart(v[i]); k++ {
			i++
		}
		return i
	}
	runeEnd := func(i int) int { // the last boundary at or before i
		for k := 1; k < utf8.UTFMax && i < len(v) && !utf8.RuneStart(v[i]); k++ {
			i--
		}
		return i
	}
	var out []string
	for i := 0; ; i += chunkStep {
		if i+chunkLen >= len(v) {
			return append(out, v[runeStart(len(v)-chunkLen):])
		}
		out = append(out, v[runeStart(i):runeEnd(i+chunkLen)])
	}
}

// encodings returns v and every encoded form of it that is scrubbed.
func encodings(v string) []string {
	jsons := []string{jsonHTML(v), jsonPlain(v), goQuote(v), goQuoteASCII(v), jsonASCII(v)}
	jsons = append(jsons, strings.ReplaceAll(jsons[1], "/", `\/`),
		// A JSON text inside a JSON string.
		jsonHTML(jsons[0]), jsonPlain(jsons[1]),
		// Starlark's json.encode quotes a string of bytes 0x20-0x7f with
		// strconv.Quote (so DEL is \x7f and < stays <) and any other
		// string with encoding/json; repr() is strconv.Quote too. Encoded
		// twice, the inner string may have taken either way and the outer
		// one either way as well.
		goQuote(jsons[2]), goQuote(jsons[0]), jsonHTML(jsons[2]))
	out := make([]string, 0, 64) // room for every form of most values
	out = append(out, v)
	out = append(out, jsons...)
	var escaped []string
	for _, s := range append([]string{v}, jsons...) {
		if slices.Contains(escaped, s) {
			continue
		}
		escaped = append(escaped, s)
		if markupChanges.any(s) { // else its escaped forms are s
			out = append(out, xmlText(s), html.EscapeString(s), xmlNamed(s))
		}
	}
	if urlChanges.any(v) {
		out = append(out, url.QueryEscape(v), url.PathEscape(v), userinfoEscape(v),
			escapedPath(v), escapedHost(v), (&url.URL{Fragment: v}).EscapedFragment())
	}
	// A server that reflects v into a Location header unescaped has its
	// "%XX" read as escapes by url.Parse; http.Client then shows the target
	// escaped afresh (when v also has a character a URL path cannot hold
	// as is, such as '"' or a space).
	if p, err := url.PathUnescape(v); err == nil && p != v {
		out = append(out, escapedPath(p))
	}
	if p, ok := punycode(v); ok {
		out = append(out, p)
	}
	// GitHub Actions workflow commands (::error ...::message).
	out = append(out, ghData.Replace(v), ghProperty.Replace(v), ghData.Replace(jsons[0]), ghData.Replace(jsons[1]))
	out = append(out, hex.EncodeToString([]byte(v)), upperHex(v))
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		raw := enc.EncodeToString([]byte(v))
		out = append(out, raw+strings.Repeat("=", (4-len(raw)%4)%4), raw) // padded, raw
		for shift := range 3 {
			out = append(out, base64Inner(enc, v, shift))
		}
	}
	return out
}

// upperHex is strings.ToUpper(hex.EncodeToString([]byte(v))).
func upperHex(v string) string {
	const digits = "0123456789ABCDEF"
	b := make([]byte, 0, 2*len(v))
	for i := 0; i < len(v); i++ {
		b = append(b, digits[v[i]>>4], digits[v[i]&15])
	}
	return string(b)
}

// byteSet is a set of bytes: those an escaper may change.
type byteSet [256]bool

// any reports whether v holds a byte of s.
func (s *byteSet) any(v string) bool {
	for i := 0; i < len(v); i++ {
		if s[v[i]] {
			return true
		}
	}
	return false
}

// changedBy is the set of the bytes outside printable ASCII and those in
// special.
func changedBy(special string) *byteSet {
	var s byteSet
	for b := range 256 {
		s[b] = b < 0x20 || b > 0x7e || strings.IndexByte(special, byte(b)) >= 0
	}
	return &s
}

// Each escaper here works byte by byte on printable ASCII, so a text with
// no byte in the set an escaper changes is its own escaped form, and
// computing that can be skipped: most secrets are such tokens, and a
// script may read a thousand of them (TestEscapersKeepBytesOutsideTheirSets).
var (
	quoteChanges  = changedBy(`"\<>&`)                           // JSON (HTML-safe or not), Go quoting
	markupChanges = changedBy(`"'&<>`)                           // XML, HTML
	urlChanges    = changedBy(" !\"#$%&'()*+,/:;<=>?@[\\]^`{|}") // net/url's escapes
)

// base64Inner is the part of the base64 encoding of a stream, holding v at
// a byte offset ≡ shift (mod 3), that depends on v alone: the characters
// whose 6 bits all come from v's bytes. That text appears in the encoding
// of any data holding v at such an offset (a password inside
// "user:password" in a Basic Authorization header, say). raw is an
// encoding without padding.
func base64Inner(raw *base64.Encoding, v string, shift int) string {
	data := make([]byte, shift+len(v)+2)
	copy(data[shift:], v)
	s := raw.EncodeToString(data)
	first := (8*shift + 5) / 6       // first character starting at or after v's first bit
	last := (8*(shift+len(v)))/6 - 1 // last character ending at or before v's last bit
	if last < first {
		return ""
	}
	return s[first : last+1]
}

// jsonHTML is v as encoding/json writes it inside a string by default,
// with <, > and & as \u003c, \u003e and \u0026.
func jsonHTML(v string) string {
	if !quoteChanges.any(v) {
		return v
	}
	b, _ := json.Marshal(v)
	return string(b[1 : len(b)-1])
}

// jsonPlain is v as encoding/json writes it with SetEscapeHTML(false), and
// as log/slog's JSON handler writes it.
func jsonPlain(v string) string {
	if !quoteChanges.any(v) {
		return v
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return string(b[1 : len(b)-1])
}

// goQuote is v as %q and log/slog's text handler write it.
func goQuote(v string) string {
	if !quoteChanges.any(v) {
		return v
	}
	q := strconv.Quote(v)
	return q[1 : len(q)-1]
}

func goQuoteASCII(v string) string {
	if !quoteChanges.any(v) {
		return v
	}
	q := strconv.QuoteToASCII(v)
	return q[1 : len(q)-1]
}

// jsonASCII is v as JSON encoders that escape every non-ASCII character
// write it (Python's json.dumps, for one).
func jsonASCII(v string) string {
	if !quoteChanges.any(v) {
		return v
	}
	var b strings.Builder
	for _, r := range jsonPlain(v) {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// xmlText is v as encoding/xml escapes character data and attributes.
func xmlText(v string) string {
	if !markupChanges.any(v) {
		return v
	}
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(v))
	return b.String()
}

// xmlNamed escapes with the five named XML entities only.
func xmlNamed(v string) string {
	if !markupChanges.any(v) {
		return v
	}
	return xmlNamedReplacer.Replace(v)
}

var xmlNamedReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

// ghData and ghProperty escape a GitHub Actions workflow command's message
// and its properties.
var (
	ghData     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// escapedPath is v as net/url writes it in a URL's path
// ((*url.URL).EscapedPath and String): like url.PathEscape, but '/', ';'
// and ',' are kept. A redirect target quoted in an error has this form.
func escapedPath(v string) string { return (&url.URL{Path: v}).EscapedPath() }

// escapedHost is v as net/url writes it as a URL's host.
func escapedHost(v string) string {
	return strings.TrimPrefix((&url.URL{Host: v}).String(), "//")
}

// punycode is v as net/http turns a host name into ASCII before it dials
// (UTS #46 lookup mapping, then punycode: "xn--…" labels), so it is what a
// DNS error names when v was the host or some of its labels. net/http
// converts a host that has a non-ASCII character anywhere, and then every
// label of it, so an ASCII v in such a host comes out lower-cased: that
// form is kept too. A conversion that fails leaves the host as it was.
func punycode(v string) (string, bool) {
	p, err := idna.Lookup.ToASCII(v)
	if err != nil || p == v {
		return "", false
	}
	return p, true
}

// userinfoEscape is v as net/url writes a password in a URL's userinfo.
func userinfoEscape(v string) string {
	s := url.UserPassword("u", v).String()
	return strings.TrimPrefix(s, "u:")
}
