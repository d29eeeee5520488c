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
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/infra-guard/infra-guard/result"
)

type tapReporter struct{ warnAsFailure bool }

var _ Reporter = (*tapReporter)(nil)

func newTAP(opts Options) Reporter { return &tapReporter{warnAsFailure: opts.WarnAsFailure} }

// Report writes r as a TAP 14 document in a single Write.
func (t *tapReporter) Report(w io.Writer, r *result.Report) error {
	r = withoutCommands(r) // the report may be read by a GitHub runner
	var b strings.Builder
	b.WriteString("TAP version 14\n")
	summary := "# " + (&textReporter{}).summary(r) + "\n"

	if len(r.Errors) > 0 || len(r.Checks) == 0 {
		// Nothing ran: the errors as comments, then a bail out.
		for _, e := range r.Errors {
			for _, l := range lines(e.String()) {
				b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
			}
		}
		b.WriteString(summary)
		reason := "no checks registered"
		if len(r.Errors) > 0 {
			reason = firstLine(r.Errors[0].String())
			if n := len(r.Errors) - 1; n > 0 {
				reason += " (and " + plural(n, "more load error") + ")"
			}
		}
		b.WriteString("Bail out! " + tapEscape(reason) + "\n")
		_, err := io.WriteString(w, b.String())
		return err
	}

	b.WriteString("1.." + strconv.Itoa(len(r.Checks)) + "\n")
	for i, c := range r.Checks {
		st := c.Status.Valid()
		ok := "ok"
		if st == result.Fail || st == result.Unknown || st == result.Warn && t.warnAsFailure {
			ok = "not ok"
		}
		b.WriteString(ok + " " + strconv.Itoa(i+1) + " - " + tapEscape(oneLine(c.Name)))
		switch st {
		case result.Skip:
			b.WriteString(directive("SKIP", c.Message))
		case result.Warn:
			b.WriteString(directive("WARN", c.Message))
		}
		b.WriteByte('\n')

		y := yamlWriter{b: &b, indent: "  "}
		b.WriteString("  ---\n")
		y.plain("status", st.String())
		y.str("message", c.Message)
		y.plain("duration_ms", yamlFloat(millis(c.Duration)))
		if len(c.Metrics) == 0 {
			y.plain("metrics", "{}")
		} else {
			// A YAML mapping cannot repeat a key: of two metrics with one
			// name (worst() merges them) the last wins, as in json.
			last := map[string]float64{}
			for _, m := range c.Metrics {
				last[m.Name] = m.Value
			}
			y.key("metrics")
			b.WriteByte('\n')
			for _, m := range c.Metrics {
				if v, ok := last[m.Name]; ok {
					y.plain("  "+yamlQuote(m.Name), yamlFloat(v))
					delete(last, m.Name)
				}
			}
		}
		if loc := location(c.File, c.Line); loc != "" {
			y.str("location", loc)
		}
		if len(c.Tags) > 0 {
			q := make([]string, len(c.Tags))
			for i, tag := range c.Tags {
				q[i] = yamlQuote(tag)
			}
			y.plain("tags", "["+strings.Join(q, ", ")+"]")
		}
		if c.Backtrace != "" {
			y.str("backtrace", c.Backtrace)
		}
		b.WriteString("  ...\n")
	}
	b.WriteString(summary)
	if r.Incomplete != "" {
		b.WriteString("Bail out! " + tapEscape("run incomplete: "+oneLine(r.Incomplete)) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// directive is " # NAME reason", the reason being the first line of msg.
func directive(name, msg string) string {
	if reason := firstLine(msg); reason != "" {
		return " # " + name + " " + tapEscape(reason)
	}
	return " # " + name
}

// firstLine is the first non-blank line of s, sanitized and trimmed.
func firstLine(s string) string {
	if ls := lines(s); len(ls) > 0 {
		return strings.TrimSpace(ls[0])
	}
	return ""
}

var tapEscaper = strings.NewReplacer(`\`, `\\`, `#`, `\#`)

// tapEscape escapes the two characters TAP 14 lets a description or reason
// escape: "\" and "#", so a "#" in a name never starts a directive.
func tapEscape(s string) string {
	return tapEscaper.Replace(s)
}

// yamlWriter writes "key: value" lines of a YAML diagnostics block, each
// line prefixed by indent (TAP's two spaces).
type yamlWriter struct {
	b      *strings.Builder
	indent string
}

func (y yamlWriter) key(k string) { y.b.WriteString(y.indent + k + ":") }

// plain writes a value that is already valid YAML.
func (y yamlWriter) plain(k, v string) {
	y.key(k)
	y.b.WriteString(" " + v + "\n")
}

// str writes a string: a literal block ("|") when it has several lines
// that a block can carry exactly, else a double-quoted scalar.
func (y yamlWriter) str(k, s string) {
	if !blockSafe(s) {
		y.plain(k, yamlQuote(s))
		return
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
	y.plain(k, "|"+chomp)
	for _, l := range strings.Split(body, "\n") {
		if l == "" {
			y.b.WriteString(y.indent + "\n")
			continue
		}
		y.b.WriteString(y.indent + "  " + l + "\n")
	}
	for range trailing - 1 {
		y.b.WriteString(y.indent + "\n")
	}
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

// yamlQuote writes s as a double-quoted scalar using only the escapes YAML
// and JSON share (\" \\ \n \r \t \uXXXX), so it is also a JSON string.
// Invalid UTF-8 becomes U+FFFD.
func yamlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if yamlPrintable(r) {
				b.WriteRune(r)
				continue
			}
			if r == utf8.RuneError {
				r = 0xfffd
			}
			b.WriteString(`\u`)
			h := strconv.FormatInt(int64(r), 16)
			b.WriteString(strings.Repeat("0", 4-len(h)) + h)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// yamlFloat writes v as a YAML number without an exponent, which YAML 1.1
// parsers (PyYAML, SnakeYAML) would otherwise read as a string.
func yamlFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return ".nan"
	case math.IsInf(v, 1):
		return ".inf"
	case math.IsInf(v, -1):
		return "-.inf"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
