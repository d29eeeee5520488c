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

	"github.com/infra-guard/infra-guard/result"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
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
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitSkipped `xml:"skipped"`
	SystemOut *junitText    `xml:"system-out"`
}

// junitText is element content written as CDATA, so multi-line text stays
// readable in the file (encoding/xml would write each newline as &#xA;).
type junitText struct {
	Text string `xml:",cdata"`
}

// junitProblem is a <failure> or an <error>.
type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"`
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
// script) in a single Write.
func (j *junitReporter) Report(w io.Writer, r *result.Report) error {
	r = withoutCommands(r) // the report may be read by a GitHub runner
	suite := junitSuite{
		Name:      oneLine(r.Script),
		Time:      seconds(r.Duration),
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

	for _, c := range r.Checks {
		tc := junitCase{
			Classname: oneLine(r.Script),
			Name:      oneLine(c.Name),
			Time:      seconds(c.Duration),
		}
		msg := xmlText(problemMessage(c))
		out := checkDetails(c)
		switch st := c.Status.Valid(); {
		case st == result.Fail, st == result.Warn && j.warnAsFailure:
			tc.Failure = &junitProblem{Message: msg, Type: st.String(), Body: out}
			suite.Failures++
		case st == result.Unknown:
			body := out
			if c.Backtrace != "" {
				body = strings.TrimRight(xmlText(c.Backtrace), "\n") + "\n" + out
			}
			tc.Error = &junitProblem{Message: msg, Type: st.String(), Body: body}
			suite.Errors++
		case st == result.Skip:
			tc.Skipped = &junitSkipped{Message: msg}
			tc.SystemOut = &junitText{out}
			suite.Skipped++
		default: // OK, and WARN as a pass
			tc.SystemOut = &junitText{out}
		}
		suite.Cases = append(suite.Cases, tc)
	}

	// A run that could not establish health (exit 3) without a failing
	// check to show for it gets a testcase that says why, so a CI view of
	// the report is never green while the job is not.
	runCase := func(name, typ, msg, body string) {
		suite.Cases = append(suite.Cases, junitCase{
			Classname: oneLine(r.Script), Name: name, Time: seconds(0),
			Error: &junitProblem{Message: xmlText(msg), Type: typ, Body: xmlText(body)},
		})
		suite.Errors++
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
	suite.Tests = len(suite.Cases)

	doc := junitSuites{
		Name:     "infra-guard",
		Tests:    suite.Tests,
		Failures: suite.Failures,
		Errors:   suite.Errors,
		Time:     suite.Time,
		Suites:   []junitSuite{suite},
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// problemMessage is a check's message for a one-line field that must not
// be empty (a <failure message>): the message, else the backtrace's last
// line ("Error: …"), else "check ended <status>".
func problemMessage(c result.CheckResult) string {
	if msg := strings.TrimRight(c.Message, " \t\r\n"); msg != "" {
		return msg
	}
	if bt := lines(c.Backtrace); len(bt) > 0 {
		return strings.TrimSpace(bt[len(bt)-1])
	}
	return "check ended " + c.Status.Valid().String()
}

// checkDetails is what <system-out> (or a <failure>'s body) holds: the
// status and message, the metrics with their limits, and where the check
// was registered.
func checkDetails(c result.CheckResult) string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(c.Status.Valid().String()))
	if msg := strings.TrimRight(c.Message, " \t\r\n"); msg != "" {
		b.WriteString(": " + msg)
	}
	b.WriteByte('\n')
	if len(c.Metrics) > 0 {
		b.WriteString("metrics:\n")
		for _, m := range c.Metrics {
			b.WriteString("  " + m.Name + " = " + formatFloat(m.Value) + m.Unit)
			var lim []string
			if m.Warn != "" {
				lim = append(lim, "warn "+m.Warn)
			}
			if m.Crit != "" {
				lim = append(lim, "crit "+m.Crit)
			}
			if len(lim) > 0 {
				b.WriteString(" (" + strings.Join(lim, ", ") + ")")
			}
			b.WriteByte('\n')
		}
	}
	if loc := location(c.File, c.Line); loc != "" {
		b.WriteString("at " + loc + "\n")
	}
	return xmlText(b.String())
}

var nonCharacters = strings.NewReplacer("\uFFFE", "\uFFFD", "\uFFFF", "\uFFFD")

// xmlText makes s fit XML 1.0 text, in attributes and in CDATA (which
// encoding/xml writes unchecked): control characters are shown escaped
// (\x1b), CRLF becomes LF, invalid UTF-8 and the non-characters U+FFFE
// and U+FFFF become U+FFFD.
func xmlText(s string) string {
	s = strings.ToValidUTF8(sanitize(s, true), "\uFFFD")
	return nonCharacters.Replace(s)
}

// seconds formats d as seconds with millisecond precision: "0.012".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(max(d, 0).Seconds(), 'f', 3, 64)
}

// junitTimestamp is t in UTC without a zone, as the JUnit schema's
// timestamp wants it ("2026-03-14T09:26:53").
func junitTimestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

// formatFloat writes a metric value exactly and without an exponent where
// that stays short.
func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}
