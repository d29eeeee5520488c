package report

// This file holds the text format: one aligned line per check for a person
// at a terminal, continuation lines indented beneath it, and a summary line
// last.
//
//	OK    root-disk   12ms  root disk 41% used
//	UNKN  broken      <1ms  check raised an error
//	      Traceback (most recent call last):
//	        guard.star:9:12: in broken
//	      Error: floored division by zero
//	2 checks: 1 ok, 0 warn, 0 fail, 1 unknown, 0 skipped in 14ms — exit 3

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/infra-guard/infra-guard/result"
)

// ANSI SGR sequences.
const (
	ansiReset   = "\x1b[0m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiMagenta = "\x1b[35m"
	ansiDim     = "\x1b[2m"
)

// textStatus is each status's fixed-width label and colour.
var textStatus = [...]struct{ label, color string }{
	result.OK:      {"OK", ansiGreen},
	result.Warn:    {"WARN", ansiYellow},
	result.Fail:    {"FAIL", ansiRed},
	result.Unknown: {"UNKN", ansiMagenta},
	result.Skip:    {"SKIP", ansiDim},
}

const (
	labelWidth   = 4           // "WARN"
	indent       = "      "    // label + two spaces: continuation lines start under the name
	maxNameWidth = 32          // a longer name pushes only its own line out of alignment
	minDurWidth  = len("<1ms") // narrowest duration column
	exitSep      = " — exit "
)

type textReporter struct{ color, quiet bool }

var _ Reporter = (*textReporter)(nil)

func newText(opts Options) Reporter { return &textReporter{color: opts.Color, quiet: opts.Quiet} }

// Report writes one line per check in report order (with Quiet, only the
// checks that did not pass), each load error on a line starting "ERROR ",
// and a summary line, streaming: see stream.
func (t *textReporter) Report(w io.Writer, r *result.Report) error {
	r = withoutCommands(r) // the report may be read by a GitHub runner
	shown := func(c *result.CheckResult) bool {
		st := c.Status.Valid()
		return !t.quiet || st != result.OK && st != result.Skip
	}
	var dur []byte // one check's duration, reused
	nameW, durW := 0, minDurWidth
	for i := range r.Checks {
		if c := &r.Checks[i]; shown(c) {
			nameW = max(nameW, min(utf8.RuneCountInString(oneLine(c.Name)), maxNameWidth))
			dur = appendHumanDuration(dur[:0], c.Duration)
			durW = max(durW, len(dur))
		}
	}

	s := newStream(w)
	for i := range r.Checks {
		c := &r.Checks[i]
		if !shown(c) {
			continue
		}
		st := textStatus[c.Status.Valid()]
		b := t.appendPaint(s.b, st.color, st.label)
		b = appendSpaces(b, labelWidth-len(st.label)+2)
		name := oneLine(c.Name)
		b = append(b, name...)
		b = appendSpaces(b, max(nameW-utf8.RuneCountInString(name), 0)+2)
		dur = appendHumanDuration(dur[:0], c.Duration)
		b = appendSpaces(b, durW-len(dur))
		b = append(b, dur...)
		if msg := displayText(c.Message); msg != "" {
			first, rest, more := strings.Cut(msg, "\n")
			if first = strings.TrimRight(first, " \t"); first != "" {
				b = append(b, "  "...)
				b = append(b, first...)
			}
			b = append(b, '\n')
			if more {
				b = appendIndented(b, rest)
			}
		} else {
			b = append(b, '\n')
		}
		if bt := displayText(c.Backtrace); bt != "" {
			b = appendIndented(b, bt)
		}
		s.b = b
		s.mark()
	}

	for _, e := range r.Errors {
		msg := lines(e.String())
		if len(msg) == 0 {
			msg = []string{"(empty error)"}
		}
		s.b = t.appendPaint(s.b, ansiRed, "ERROR")
		s.b = append(s.b, " "+msg[0]+"\n"...)
		writeIndented(s, msg[1:])
	}

	s.b = append(s.b, t.summary(r)...)
	s.b = append(s.b, '\n')
	return s.end()
}

// summary is the last line: counts, total time and exit code, e.g.
// "3 checks: 1 ok, 1 warn, 1 fail, 0 unknown, 0 skipped in 34ms — exit 2".
func (t *textReporter) summary(r *result.Report) string {
	var b strings.Builder
	if r.Incomplete != "" {
		b.WriteString(t.paint(ansiMagenta, "INCOMPLETE") + " (" + oneLine(r.Incomplete) + "): ")
	}
	if r.BuiltIn {
		b.WriteString(t.paint(ansiYellow, "built-in default guard") + ": ")
	}
	n := count(r)
	switch {
	case n.Checks > 0:
		fmt.Fprintf(&b, "%s: %d ok, %s, %s, %s, %d skipped",
			plural(n.Checks, "check"), n.OK,
			t.nonzero(n.Warn, "warn", ansiYellow),
			t.nonzero(n.Fail, "fail", ansiRed),
			t.nonzero(n.Unknown, "unknown", ansiMagenta),
			n.Skip)
		if len(r.Errors) > 0 {
			b.WriteString(", " + t.paint(ansiRed, plural(len(r.Errors), "error")))
		}
		b.WriteString(" in " + humanDuration(r.Duration))
		if n := rounds(r); n > 1 {
			b.WriteString(" after " + strconv.Itoa(n) + " rounds")
		}
	case len(r.Errors) > 0:
		b.WriteString(t.paint(ansiRed, "load failed") + " with " + plural(len(r.Errors), "error") + ", no checks ran")
	default:
		b.WriteString(t.paint(ansiMagenta, "no checks registered"))
	}
	b.WriteString(exitSep + strconv.Itoa(int(r.ExitCode)))
	return b.String()
}

// nonzero formats "N word", coloured when N > 0.
func (t *textReporter) nonzero(n int, word, color string) string {
	s := strconv.Itoa(n) + " " + word
	if n > 0 {
		return t.paint(color, s)
	}
	return s
}

func (t *textReporter) paint(color, s string) string {
	return string(t.appendPaint(nil, color, s))
}

func (t *textReporter) appendPaint(b []byte, color, s string) []byte {
	if !t.color {
		return append(b, s...)
	}
	b = append(b, color...)
	b = append(b, s...)
	return append(b, ansiReset...)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// humanDuration formats d for a person: "0ms", "<1ms", "12ms", "1.2s",
// "34.5s", "2m5s". It rounds to the precision shown.
func humanDuration(d time.Duration) string { return string(appendHumanDuration(nil, d)) }

func appendHumanDuration(b []byte, d time.Duration) []byte {
	switch {
	case d <= 0:
		return append(b, "0ms"...)
	case d < time.Millisecond:
		return append(b, "<1ms"...)
	}
	if ms := d.Round(time.Millisecond); ms < time.Second {
		return append(strconv.AppendInt(b, ms.Milliseconds(), 10), "ms"...)
	}
	if ds := d.Round(100 * time.Millisecond); ds < time.Minute {
		return append(strconv.AppendFloat(b, ds.Seconds(), 'f', 1, 64), 's')
	}
	return append(b, d.Round(time.Second).String()...)
}

func writeIndented(w io.StringWriter, ls []string) {
	for _, l := range ls {
		if l == "" {
			_, _ = w.WriteString("\n")
			continue
		}
		_, _ = w.WriteString(indent + l + "\n")
	}
}

// appendIndented appends each line of text (display text, see
// displayText) under the check's name: writeIndented(lines(...)) without
// the slice of lines.
func appendIndented(b []byte, text string) []byte {
	for {
		l, rest, more := strings.Cut(text, "\n")
		if l = strings.TrimRight(l, " \t"); l != "" {
			b = append(b, indent...)
			b = append(b, l...)
		}
		b = append(b, '\n')
		if !more {
			return b
		}
		text = rest
	}
}

// appendSpaces appends n spaces (none when n <= 0).
func appendSpaces(b []byte, n int) []byte {
	for range n {
		b = append(b, ' ')
	}
	return b
}

// lines splits s into display lines: control characters escaped, trailing
// blanks and trailing empty lines dropped. An empty s has no lines.
func lines(s string) []string {
	s = displayText(s)
	if s == "" {
		return nil
	}
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		ls[i] = strings.TrimRight(l, " \t")
	}
	return ls
}

// displayText is s as lines splits it: control characters escaped,
// trailing blanks and trailing empty lines dropped.
func displayText(s string) string { return strings.TrimRight(sanitize(s, true), " \t\n") }

// oneLine is s sanitized for a single line: newlines are escaped too.
func oneLine(s string) string { return sanitize(s, false) }

// sanitize escapes control characters (ESC, CR, BEL, C1 controls…) so a
// message taken from a server or a script cannot move the cursor, recolour
// or overwrite the terminal. Tabs are kept; newlines are kept when
// keepNewlines, a CRLF counting as one newline.
func sanitize(s string, keepNewlines bool) string {
	if sanitized(s, keepNewlines) {
		return s
	}
	if keepNewlines {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t', r == '\n' && keepNewlines:
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x80 && isControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case isControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sanitized reports whether sanitize would return s as it is. It looks at
// bytes, not runes, which every format's hot loop can afford: the
// characters sanitize changes are ASCII, or C1 controls, which UTF-8
// writes only as 0xC2 followed by 0x80–0x9F (0xC2 is never a continuation
// byte, so it always starts a character).
func sanitized(s string, keepNewlines bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; suspect[c] && (c != '\t' && (c != '\n' || !keepNewlines) && c != 0xC2 ||
			c == 0xC2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] < 0xA0) {
			return false
		}
	}
	return true
}

// suspect marks the bytes sanitized looks at twice: ASCII controls, DEL,
// and 0xC2, the first byte of the C1 controls.
var suspect = func() (t [256]bool) {
	for c := range t {
		t[c] = c < 0x20 || c == 0x7f || c == 0xC2
	}
	return t
}()

// trimBlanks is strings.TrimRight(s, " \t\r\n"), without building the
// cutset's table on every call.
func trimBlanks(s string) string {
	for len(s) > 0 {
		switch s[len(s)-1] {
		case ' ', '\t', '\r', '\n':
			s = s[:len(s)-1]
			continue
		}
		break
	}
	return s
}

// isControl reports C0 and C1 control characters and DEL.
func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }
