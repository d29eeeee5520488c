package report

// This file holds the tap format: TAP version 14
// (https://testanything.org/tap-version-14-specification.html), one test
// point per check with a YAML diagnostics block.
//
//	TAP version 14
//	1..3
//	ok 1 - root-disk
//	  ---
//	  status: ok
//	  message: "root disk 41.5% used"
//	  ...
//	ok 2 - api # WARN database degraded
//	  ---
//	  …
//	not ok 3 - nginx
//	  ---
//	  …
//	# 3 checks: 1 ok, 1 warn, 1 fail, 0 unknown, 0 skipped in 1.3s — exit 2
//
// FAIL and UNKNOWN are "not ok"; OK is "ok"; SKIP is "ok … # SKIP reason".
// WARN is "ok" with a "# WARN message" directive: TAP 14 defines only SKIP
// and TODO (which means "not expected to work yet", the wrong meaning) and
// says harnesses must not treat an unknown directive as a failure and
// should show it with the description. With Options.WarnAsFailure, WARN is
// "not ok". A run that did not load, has no checks or was interrupted ends
// with "Bail out!", which every harness treats as a failure (a plan of 1..0
// would read as "all skipped", a pass).

import (
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/infra-guard/infra-guard/result"
)

type tapReporter struct{ warnAsFailure bool }

var _ Reporter = (*tapReporter)(nil)

func newTAP(opts Options) Reporter { return &tapReporter{warnAsFailure: opts.WarnAsFailure} }

// Report writes r as a TAP 14 document, streamed (see stream).
func (t *tapReporter) Report(w io.Writer, r *result.Report) error {
	r = withoutCommands(r) // the report may be read by a GitHub runner
	s := newStream(w)
	s.b = append(s.b, "TAP version 14\n"...)
	summary := "# " + (&textReporter{}).summary(r) + "\n"

	if len(r.Errors) > 0 || len(r.Checks) == 0 {
		// Nothing ran: the errors as comments, then a bail out.
		for _, e := range r.Errors {
			for _, l := range lines(e.String()) {
				s.b = append(s.b, strings.TrimRight("# "+l, " ")+"\n"...)
			}
		}
		s.b = append(s.b, summary...)
		reason := "no checks registered"
		if len(r.Errors) > 0 {
			reason = firstLine(r.Errors[0].String())
			if n := len(r.Errors) - 1; n > 0 {
				reason += " (and " + plural(n, "more load error") + ")"
			}
		}
		s.b = append(s.b, "Bail out! "+tapEscape(reason)+"\n"...)
		return s.end()
	}

	s.b = append(s.b, "1.."...)
	s.b = strconv.AppendInt(s.b, int64(len(r.Checks)), 10)
	s.b = append(s.b, '\n')
	for i := range r.Checks {
		s.b = t.appendPoint(s.b, i+1, &r.Checks[i])
		s.mark()
	}
	s.b = append(s.b, summary...)
	if r.Incomplete != "" {
		s.b = append(s.b, "Bail out! "+tapEscape("run incomplete: "+oneLine(r.Incomplete))+"\n"...)
	}
	return s.end()
}

// appendPoint appends check c as test point n with its YAML block.
func (t *tapReporter) appendPoint(b []byte, n int, c *result.CheckResult) []byte {
	st := c.Status.Valid()
	if st == result.Fail || st == result.Unknown || st == result.Warn && t.warnAsFailure {
		b = append(b, "not "...)
	}
	b = append(b, "ok "...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, " - "...)
	b = append(b, tapEscape(oneLine(c.Name))...)
	switch st {
	case result.Skip:
		b = appendDirective(b, "SKIP", c.Message)
	case result.Warn:
		b = appendDirective(b, "WARN", c.Message)
	}
	b = append(b, "\n  ---\n"...)
	b = appendYAMLPlain(b, "status", st.String())
	b = appendYAMLStr(b, "message", c.Message)
	b = appendYAMLKey(b, "duration_ms")
	b = appendYAMLFloat(append(b, ' '), millis(c.Duration))
	b = append(b, '\n')
	if len(c.Metrics) == 0 {
		b = appendYAMLPlain(b, "metrics", "{}")
	} else {
		// A YAML mapping cannot repeat a key: of two metrics with one
		// name (worst() merges them) the first place and the last value
		// win, as in json.
		b = append(appendYAMLKey(b, "metrics"), '\n')
		for i, m := range c.Metrics {
			if slices.ContainsFunc(c.Metrics[:i], func(e result.Metric) bool { return e.Name == m.Name }) {
				continue
			}
			v := m.Value
			for _, later := range c.Metrics[i+1:] {
				if later.Name == m.Name {
					v = later.Value
				}
			}
			b = appendYAMLQuote(append(b, yamlIndent+"  "...), m.Name)
			b = appendYAMLFloat(append(b, ": "...), v)
			b = append(b, '\n')
		}
	}
	switch {
	case strings.ContainsRune(c.File, '\n'): // perhaps a block
		b = appendYAMLStr(b, "location", location(c.File, c.Line))
	case c.File != "": // location(c.File, c.Line) quoted, without making it
		b = append(appendYAMLKey(b, "location"), ` "`...)
		b = appendYAMLQuoted(b, c.File)
		if c.Line > 0 {
			b = strconv.AppendInt(append(b, ':'), int64(c.Line), 10)
		}
		b = append(b, "\"\n"...)
	}
	if len(c.Tags) > 0 {
		b = append(appendYAMLKey(b, "tags"), " ["...)
		for i, tag := range c.Tags {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendYAMLQuote(b, tag)
		}
		b = append(b, "]\n"...)
	}
	if c.Backtrace != "" {
		b = appendYAMLStr(b, "backtrace", c.Backtrace)
	}
	return append(b, "  ...\n"...)
}

// appendDirective appends " # NAME reason", the reason being the first
// line of msg.
func appendDirective(b []byte, name, msg string) []byte {
	b = append(b, " # "...)
	b = append(b, name...)
	if reason := firstLine(msg); reason != "" {
		b = append(b, ' ')
		b = append(b, tapEscape(reason)...)
	}
	return b
}

// firstLine is the first non-blank line of s, sanitized and trimmed.
func firstLine(s string) string {
	first, _, _ := strings.Cut(displayText(s), "\n")
	return strings.TrimSpace(first)
}

var tapEscaper = strings.NewReplacer(`\`, `\\`, `#`, `\#`)

// tapEscape escapes the two characters TAP 14 lets a description or reason
// escape: "\" and "#", so a "#" in a name never starts a directive.
func tapEscape(s string) string {
	if strings.IndexByte(s, '\\') < 0 && strings.IndexByte(s, '#') < 0 {
		return s
	}
	return tapEscaper.Replace(s)
}

// The YAML diagnostics block is "key: value" lines, each indented by
// TAP's two spaces.
const yamlIndent = "  "

func appendYAMLKey(b []byte, k string) []byte {
	b = append(b, yamlIndent...)
	b = append(b, k...)
	return append(b, ':')
}

// appendYAMLPlain appends a value that is already valid YAML.
func appendYAMLPlain(b []byte, k, v string) []byte {
	b = append(appendYAMLKey(b, k), ' ')
	b = append(b, v...)
	return append(b, '\n')
}

// appendYAMLStr appends a string: a literal block ("|") when it has
// several lines that a block can carry exactly, else a double-quoted
// scalar.
func appendYAMLStr(b []byte, k, s string) []byte {
	if !blockSafe(s) {
		b = appendYAMLQuote(append(appendYAMLKey(b, k), ' '), s)
		return append(b, '\n')
	}
	body := strings.TrimRight(s, "\n")
	trailing := len(s) - len(body)
	chomp := "-" // strip: no final newline
	switch {
	case trailing == 1:
		chomp = "" // clip: one final newline
	case trailing > 1:
		chomp = "+" // keep: all of them
	}
	b = appendYAMLPlain(b, k, "|"+chomp)
	for _, l := range strings.Split(body, "\n") {
		if l == "" {
			b = append(b, yamlIndent+"\n"...)
			continue
		}
		b = append(b, yamlIndent+"  "...)
		b = append(b, l...)
		b = append(b, '\n')
	}
	for range trailing - 1 {
		b = append(b, yamlIndent+"\n"...)
	}
	return b
}

// blockSafe reports whether s has several lines and a YAML literal block
// reproduces it exactly: only printable characters, no CR, no line made
// only of blanks (YAML would read it as indentation), and a first line
// that does not start with a blank (which would need an indentation
// indicator).
func blockSafe(s string) bool {
	if !strings.Contains(strings.TrimRight(s, "\n"), "\n") || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && !yamlPrintable(r) {
			return false
		}
	}
	if s[0] == ' ' || s[0] == '\t' || s[0] == '\n' {
		return false
	}
	for _, l := range strings.Split(s, "\n") {
		if l != "" && strings.TrimLeft(l, " \t") == "" {
			return false
		}
	}
	return true
}

// yamlPrintable reports the characters YAML allows unescaped (c-printable,
// less the few that parsers trip over), tab and line breaks aside.
func yamlPrintable(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return false
	case r == 0x2028, r == 0x2029, r == 0xfeff, r == 0xfffe, r == 0xffff, r == utf8.RuneError:
		return false
	}
	return true
}

// appendYAMLQuote appends s as a double-quoted scalar using only the
// escapes YAML and JSON share (\" \\ \n \r \t \uXXXX), so it is also a JSON
// string. Invalid UTF-8 becomes U+FFFD.
func appendYAMLQuote(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendYAMLQuoted(b, s)
	return append(b, '"')
}

// appendYAMLQuoted appends s escaped as appendYAMLQuote does, without the
// quotes.
func appendYAMLQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		start := i
		for i < len(s) && yamlPlain[s[i]] {
			i++
		}
		b = append(b, s[start:i]...)
		if i == len(s) {
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch r {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			if yamlPrintable(r) {
				b = utf8.AppendRune(b, r)
				continue
			}
			// Every character yamlPrintable refuses is below U+10000.
			b = append(b, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
		}
	}
	return b
}

// yamlPlain marks the ASCII bytes a quoted scalar holds as they are; the
// others, and the bytes of multi-byte characters, are looked at again.
var yamlPlain = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\'
	}
	return t
}()

// appendYAMLFloat appends v as a YAML number without an exponent, which
// YAML 1.1 parsers (PyYAML, SnakeYAML) would otherwise read as a string.
func appendYAMLFloat(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, ".nan"...)
	case math.IsInf(v, 1):
		return append(b, ".inf"...)
	case math.IsInf(v, -1):
		return append(b, "-.inf"...)
	}
	return appendDecimal(b, v)
}
