package report

// This file holds the junit format: JUnit XML as Jenkins' junit step and
// GitLab's artifacts:reports:junit read it, in the shape of Jenkins'
// junit.xsd: testsuites > testsuite > testcase, one testcase per check.
// It is valid against the xunit plugin's junit-10.xsd, which allows no
// file= or line= on <testcase>: where a check is defined ("at
// guard.star:14") is the last line of its <system-out>, <failure> or
// <error> text, which Jenkins and GitLab both show.
//
//	<testsuites name="infra-guard" tests="2" failures="1" errors="0" time="0.015">
//	  <testsuite name="guard.star" tests="2" failures="1" errors="0" skipped="0" time="0.015" timestamp="2026-03-14T09:26:53">
//	    <testcase classname="guard.star" name="root-disk" time="0.012">
//	      <system-out>OK: root disk 41.5% used … at guard.star:14</system-out>
//	    </testcase>
//	    <testcase classname="guard.star" name="nginx" time="0.003">
//	      <failure message="check returned False" type="fail">FAIL: … at guard.star:16</failure>
//	    </testcase>
//	  </testsuite>
//	</testsuites>

import (
	"bytes"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/infra-guard/infra-guard/result"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     junitSeconds `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       junitSeconds    `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Hostname   string          `xml:"hostname,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      junitSeconds  `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitSkipped `xml:"skipped"`
	SystemOut *junitText    `xml:"system-out"`
}

// junitText is element content written as CDATA, so multi-line text stays
// readable in the file (encoding/xml would write each newline as &#xA;).
type junitText struct {
	Text []byte `xml:",cdata"`
}

// junitProblem is a <failure> or an <error>.
type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    []byte `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

type junitReporter struct {
	version, commit, goVersion string
	warnAsFailure              bool
}

var _ Reporter = (*junitReporter)(nil)

func newJUnit(opts Options) Reporter {
	return &junitReporter{version: opts.Version, commit: opts.Commit, goVersion: opts.GoVersion, warnAsFailure: opts.WarnAsFailure}
}

// Report writes r as one JUnit XML document with one testsuite (the
// script): what encoding/xml's Encoder, indented two spaces, writes for
// the junitSuites of r after xml.Header, and a final newline. It is
// written by hand, one testcase at a time, streamed: encoding/xml's
// reflection took 8 times the text format's time for 100,000 checks, and
// the document was held whole. TestJUnitMatchesEncoding holds it to
// encoding/xml's bytes.
func (j *junitReporter) Report(w io.Writer, r *result.Report) error {
	r = withoutCommands(r) // the report may be read by a GitHub runner
	suite := j.suite(r)
	s := newStream(w)
	b := append(s.b, xml.Header...)
	b = append(b, `<testsuites name="infra-guard" tests="`...)
	b = strconv.AppendInt(b, int64(suite.Tests), 10)
	b = append(b, `" failures="`...)
	b = strconv.AppendInt(b, int64(suite.Failures), 10)
	b = append(b, `" errors="`...)
	b = strconv.AppendInt(b, int64(suite.Errors), 10)
	b = append(b, `" time="`...)
	b = suite.Time.append(b)
	b = append(b, "\">\n  <testsuite name=\""...)
	b = appendXMLAttr(b, suite.Name)
	for _, a := range [...]struct {
		name string
		n    int
	}{{`" tests="`, suite.Tests}, {`" failures="`, suite.Failures}, {`" errors="`, suite.Errors}, {`" skipped="`, suite.Skipped}} {
		b = append(b, a.name...)
		b = strconv.AppendInt(b, int64(a.n), 10)
	}
	b = append(b, `" time="`...)
	b = suite.Time.append(b)
	if suite.Timestamp != "" {
		b = append(b, `" timestamp="`...)
		b = appendXMLAttr(b, suite.Timestamp)
	}
	if suite.Hostname != "" {
		b = append(b, `" hostname="`...)
		b = appendXMLAttr(b, suite.Hostname)
	}
	b = append(b, "\">\n    <properties>"...)
	for _, p := range suite.Properties {
		b = append(b, "\n      <property name=\""...)
		b = appendXMLAttr(b, p.Name)
		b = append(b, `" value="`...)
		b = appendXMLAttr(b, p.Value)
		b = append(b, `"></property>`...)
	}
	s.b = append(b, "\n    </properties>"...)
	j.cases(r, func(tc *junitCase) {
		s.b = appendJUnitCase(s.b, tc)
		s.mark()
	})
	s.b = append(s.b, "\n  </testsuite>\n</testsuites>\n"...)
	return s.end()
}

// junitKind is the element a check's testcase carries besides
// <system-out>, which also decides what it counts as in the suite.
type junitKind int

const (
	kindPass junitKind = iota
	kindFailure
	kindError
	kindSkipped
)

func (j *junitReporter) kind(st result.Status) junitKind {
	switch st = st.Valid(); {
	case st == result.Fail, st == result.Warn && j.warnAsFailure:
		return kindFailure
	case st == result.Unknown:
		return kindError
	case st == result.Skip:
		return kindSkipped
	}
	return kindPass // OK, and WARN as a pass
}

// runCases are the testcases that say why a run could not establish
// health (exit 3) without a failing check to show for it, so a CI view of
// the report is never green while the job is not.
func runCases(r *result.Report) []junitCase {
	var cases []junitCase
	runCase := func(name, typ, msg, body string) {
		cases = append(cases, junitCase{
			Classname: oneLine(r.Script), Name: name, Time: 0,
			Error: &junitProblem{Message: xmlText(msg), Type: typ, Body: []byte(xmlText(body))},
		})
	}
	switch {
	case len(r.Errors) > 0:
		msg := strings.TrimRight(r.Errors[0].String(), "\n")
		if len(r.Errors) > 1 {
			msg = "load failed with " + plural(len(r.Errors), "error")
		}
		runCase("load", "load", msg, errorText(r))
	case len(r.Checks) == 0:
		runCase("load", "load", "no checks registered", "the script registers no checks")
	}
	if r.Incomplete != "" {
		runCase("run", "incomplete", "run incomplete: "+r.Incomplete, "the run was interrupted before every check had finished: "+r.Incomplete)
	}
	return cases
}

// suite is r's testsuite without its testcases, counted.
func (j *junitReporter) suite(r *result.Report) junitSuite {
	suite := junitSuite{
		Name:      oneLine(r.Script),
		Time:      junitSeconds(r.Duration),
		Timestamp: junitTimestamp(r.Started),
		Hostname:  oneLine(r.Host),
		Properties: []junitProperty{
			{"infra_guard.version", j.version},
			{"infra_guard.exit_code", strconv.Itoa(int(r.ExitCode))},
		},
	}
	for _, p := range []junitProperty{{"infra_guard.commit", j.commit}, {"infra_guard.go_version", j.goVersion}} {
		if p.Value != "" {
			suite.Properties = append(suite.Properties, p)
		}
	}
	if n := rounds(r); n > 1 {
		suite.Properties = append(suite.Properties, junitProperty{"infra_guard.rounds", strconv.Itoa(n)})
	}
	if r.Incomplete != "" {
		suite.Properties = append(suite.Properties, junitProperty{"infra_guard.incomplete", xmlText(r.Incomplete)})
	}
	for i := range r.Checks {
		switch j.kind(r.Checks[i].Status) {
		case kindFailure:
			suite.Failures++
		case kindError:
			suite.Errors++
		case kindSkipped:
			suite.Skipped++
		}
	}
	run := runCases(r)
	suite.Errors += len(run)
	suite.Tests = len(r.Checks) + len(run)
	return suite
}

// cases hands each testcase of r to yield, the checks' and then the run's.
// The testcase and what it points to are reused: yield must not keep them.
func (j *junitReporter) cases(r *result.Report, yield func(*junitCase)) {
	var (
		tc      junitCase
		problem junitProblem
		skipped junitSkipped
		out     junitText
	)
	classname := oneLine(r.Script)
	var scratch, body []byte // reused for each check's details, and an error's body
	for i := range r.Checks {
		c := &r.Checks[i]
		tc = junitCase{Classname: classname, Name: oneLine(c.Name), Time: junitSeconds(c.Duration)}
		details := checkDetails(c, &scratch)
		msg := func() string { return xmlText(problemMessage(*c)) } // not for a pass, which shows none
		switch st := c.Status.Valid(); j.kind(st) {
		case kindFailure:
			problem = junitProblem{Message: msg(), Type: st.String(), Body: details}
			tc.Failure = &problem
		case kindError:
			body = body[:0]
			if c.Backtrace != "" {
				body = append(append(body, strings.TrimRight(xmlText(c.Backtrace), "\n")...), '\n')
			}
			body = append(body, details...)
			problem = junitProblem{Message: msg(), Type: st.String(), Body: body}
			tc.Error = &problem
		case kindSkipped:
			skipped = junitSkipped{Message: msg()}
			out = junitText{details}
			tc.Skipped, tc.SystemOut = &skipped, &out
		default:
			out = junitText{details}
			tc.SystemOut = &out
		}
		yield(&tc)
	}
	for _, rc := range runCases(r) {
		yield(&rc)
	}
}

// appendJUnitCase appends tc as encoding/xml indents it inside the
// testsuite.
func appendJUnitCase(b []byte, tc *junitCase) []byte {
	b = append(b, "\n    <testcase classname=\""...)
	b = appendXMLAttr(b, tc.Classname)
	b = append(b, `" name="`...)
	b = appendXMLAttr(b, tc.Name)
	b = append(b, `" time="`...)
	b = tc.Time.append(b)
	b = append(b, `">`...)
	children := false
	for _, p := range [...]struct {
		name string
		p    *junitProblem
	}{{"failure", tc.Failure}, {"error", tc.Error}} {
		if p.p == nil {
			continue
		}
		children = true
		b = append(b, "\n      <"...)
		b = append(b, p.name...)
		b = append(b, ` message="`...)
		b = appendXMLAttr(b, p.p.Message)
		b = append(b, `" type="`...)
		b = appendXMLAttr(b, p.p.Type)
		b = append(b, `">`...)
		b = appendCDATA(b, p.p.Body)
		b = append(b, "</"...)
		b = append(b, p.name...)
		b = append(b, '>')
	}
	if tc.Skipped != nil {
		children = true
		b = append(b, "\n      <skipped"...)
		if tc.Skipped.Message != "" {
			b = append(b, ` message="`...)
			b = appendXMLAttr(b, tc.Skipped.Message)
			b = append(b, '"')
		}
		b = append(b, "></skipped>"...)
	}
	if tc.SystemOut != nil {
		children = true
		b = append(b, "\n      <system-out>"...)
		b = appendCDATA(b, tc.SystemOut.Text)
		b = append(b, "</system-out>"...)
	}
	if children {
		b = append(b, "\n    "...)
	}
	return append(b, "</testcase>"...)
}

// appendXMLAttr appends s escaped for an attribute value as encoding/xml
// escapes it (its EscapeString): the five predefined entities as &#34;
// &#39; &amp; &lt; &gt;, tab, newline and carriage return as character
// references, and what XML cannot hold (invalid UTF-8, most control
// characters) as U+FFFD. FuzzXMLAttr compares the two.
func appendXMLAttr(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		if xmlPlain[s[i]] {
			i++
			continue
		}
		r, width := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch r {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if !xmlChar(r) || r == utf8.RuneError && width == 1 {
				esc = "\uFFFD"
				break
			}
			i += width
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		i += width
		last = i
	}
	return append(b, s[last:]...)
}

// xmlPlain marks the ASCII bytes an attribute value holds as they are;
// the others, and the bytes of multi-byte characters, are looked at again.
var xmlPlain = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c < utf8.RuneSelf && !strings.ContainsRune(`"'&<>`, rune(c))
	}
	return t
}()

// xmlChar reports the characters XML 1.0 allows (its Char production).
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// appendCDATA appends s as encoding/xml writes ",cdata" content: nothing
// for "", else one CDATA section, split where s holds "]]>".
func appendCDATA(b, s []byte) []byte {
	if len(s) == 0 {
		return b
	}
	b = append(b, "<![CDATA["...)
	for {
		before, after, found := bytes.Cut(s, []byte("]]>"))
		if !found {
			break
		}
		b = append(b, before...)
		b = append(b, "]]]]><![CDATA[>"...)
		s = after
	}
	b = append(b, s...)
	return append(b, "]]>"...)
}

// problemMessage is a check's message for a one-line field that must not
// be empty (a <failure message>): the message, else the backtrace's last
// line ("Error: …"), else "check ended <status>".
func problemMessage(c result.CheckResult) string {
	if msg := trimBlanks(c.Message); msg != "" {
		return msg
	}
	if bt := lines(c.Backtrace); len(bt) > 0 {
		return strings.TrimSpace(bt[len(bt)-1])
	}
	return "check ended " + c.Status.Valid().String()
}

// upperStatus is each status's name in capitals, as checkDetails starts.
var upperStatus = func() (names [result.Skip + 1]string) {
	for st := range names {
		names[st] = strings.ToUpper(result.Status(st).String())
	}
	return names
}()

// checkDetails is what <system-out> (or a <failure>'s body) holds: the
// status and message, the metrics with their limits, and where the check
// was registered. It is built in scratch, reused space: the result is
// valid until the next call. Whether it fits XML as it is, is asked of
// the report's texts in it, not of the whole: what joins them is
// printable ASCII or a newline, which neither ends nor starts a character,
// so the whole fits when each of them does.
func checkDetails(c *result.CheckResult, scratch *[]byte) []byte {
	b := append((*scratch)[:0], upperStatus[c.Status.Valid()]...)
	fit := true
	if msg := trimBlanks(c.Message); msg != "" {
		b = append(b, ": "...)
		b = append(b, msg...)
		fit = xmlFit(msg)
	}
	b = append(b, '\n')
	if len(c.Metrics) > 0 {
		b = append(b, "metrics:\n"...)
		for _, m := range c.Metrics {
			b = append(b, "  "...)
			b = append(b, m.Name...)
			b = append(b, " = "...)
			b = appendDecimal(b, m.Value)
			b = append(b, m.Unit...)
			switch {
			case m.Warn != "" && m.Crit != "":
				b = append(append(append(append(b, " (warn "...), m.Warn...), ", crit "...), m.Crit...)
				b = append(b, ')')
			case m.Warn != "":
				b = append(append(append(b, " (warn "...), m.Warn...), ')')
			case m.Crit != "":
				b = append(append(append(b, " (crit "...), m.Crit...), ')')
			}
			b = append(b, '\n')
			fit = fit && xmlFit(m.Name) && xmlFit(m.Unit) && xmlFit(m.Warn) && xmlFit(m.Crit)
		}
	}
	if c.File != "" {
		b = append(b, "at "...)
		b = append(b, c.File...)
		if c.Line > 0 {
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(c.Line), 10)
		}
		b = append(b, '\n')
		fit = fit && xmlFit(c.File)
	}
	*scratch = b
	if fit {
		return b
	}
	return []byte(xmlText(string(b)))
}

var nonCharacters = strings.NewReplacer("\uFFFE", "\uFFFD", "\uFFFF", "\uFFFD")

// xmlText makes s fit XML 1.0 text, in attributes and in CDATA (which
// encoding/xml writes unchecked): control characters are shown escaped
// (\x1b), CRLF becomes LF, invalid UTF-8 and the non-characters U+FFFE
// and U+FFFF become U+FFFD.
func xmlText(s string) string {
	if xmlFit(s) {
		return s
	}
	s = strings.ToValidUTF8(sanitize(s, true), "\uFFFD")
	return nonCharacters.Replace(s)
}

// xmlFit reports whether xmlText would return s as it is, in one pass
// rather than the three that would change it.
func xmlFit(s string) bool {
	for i := 0; i < len(s); {
		if i+8 <= len(s) && printable8(s[i:i+8]) { // the bulk of a message
			i += 8
			continue
		}
		if !xmlSuspect[s[i]] {
			i++
			continue
		}
		if c := s[i]; c < utf8.RuneSelf {
			if c != '\t' && c != '\n' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || isControl(r) || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += size
	}
	return true
}

// printable8 reports whether the eight bytes of s are all
// printable ASCII (0x20 to 0x7E), testing them as one word: none has its
// high bit set, none is below 0x20 (subtracting 0x20 would borrow and set
// it), none is 0x7F (adding 1 would set it). TestPrintable8 compares it
// with a look at each byte.
func printable8(s string) bool {
	w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	const ones, high = 0x0101010101010101, 0x8080808080808080
	return (w|(w+ones)|(w-0x20*ones)&^w)&high == 0
}

// xmlSuspect marks the bytes xmlFit looks at twice: ASCII controls, DEL,
// and every byte of a multi-byte character.
var xmlSuspect = func() (t [256]bool) {
	for c := range t {
		t[c] = c < 0x20 || c >= 0x7f
	}
	return t
}()

// junitSeconds is a duration written as seconds with millisecond
// precision: "0.012".
type junitSeconds time.Duration

func (d junitSeconds) MarshalText() ([]byte, error) { return d.append(nil), nil }

// append appends d as strconv.FormatFloat(d.Seconds(), 'f', 3, 64) does,
// by integer arithmetic where that gives the same digits (FuzzSeconds):
// below 2^52 ns (52 days) d.Seconds() is within half a nanosecond of d,
// so it rounds as d does unless d ends in exactly half a millisecond.
func (d junitSeconds) append(b []byte) []byte {
	ns := max(time.Duration(d), 0)
	if ns >= 1<<52 || ns%time.Millisecond == time.Millisecond/2 {
		return strconv.AppendFloat(b, ns.Seconds(), 'f', 3, 64)
	}
	ms := (ns + time.Millisecond/2) / time.Millisecond
	b = strconv.AppendInt(b, int64(ms/1000), 10)
	frac := ms % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// junitTimestamp is t in UTC without a zone, as the JUnit schema's
// timestamp wants it ("2026-03-14T09:26:53").
func junitTimestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}
