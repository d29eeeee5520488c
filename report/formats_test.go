package report

// Validation of the CI and monitoring formats by parsing them back the way
// their consumers do: JUnit with encoding/xml against the structure of
// Jenkins' junit.xsd, TAP with a small TAP 14 reader, Nagios perfdata with
// the guidelines' grammar as a regexp. (Prometheus and GitHub are in
// prometheus_test.go and github_test.go.)

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/infra-guard/infra-guard/result"
)

// hostile is a report whose names and messages hold everything a format
// must escape: its own delimiters, control characters, invalid UTF-8,
// XML's "]]>" and non-characters, YAML-looking text, leading blanks.
func hostile() *result.Report {
	r := &result.Report{
		Script:   "dir/my guard.star",
		Started:  started,
		Duration: 2 * time.Second,
		Checks: []result.CheckResult{
			{
				Name: `a#b\c "q" 'x'=y|z, w: v`, Status: result.Fail,
				Message: "100% done:\r\nline2, with: colons \x1b[31mred ]]> <tag> &amp; \xff bad \ufffe nonchar",
				Metrics: []result.Metric{
					{Name: "lat ency=ms'", Value: 1e-7, Unit: "GB", Warn: "@10:20", Crit: "~:0.5"},
					{Name: "huge", Value: 1e21, Unit: "B", Warn: "1e+22"},
				},
				File: "dir/my guard.star", Line: 3, Duration: time.Millisecond,
			},
			{
				Name: "multi\nline # SKIP", Status: result.Warn,
				Message: " leading blank\n\n  \ntrailing  \n\n", File: "dir/lib,x.star", Line: 9,
				Metrics: []result.Metric{{Name: "dup", Value: 1}, {Name: "dup", Value: 2}},
			},
			{Name: "ok one", Status: result.OK, Message: "key: value\n- item\n\t tab first\n"},
			{Name: "# hash", Status: result.Skip, Message: `because \# reasons`},
			{
				Name: "unk", Status: result.Unknown, Message: "",
				Backtrace: "Traceback (most recent call last):\n  x.star:1:1: in f\nError: boom",
			},
			// Labels that collide once joined: "a_b_c" twice.
			{Name: "a", Status: result.OK, Metrics: []result.Metric{{Name: "b_c", Value: 1}}},
			{Name: "a_b", Status: result.OK, Metrics: []result.Metric{{Name: "c", Value: 2, Unit: "%"}}},
		},
	}
	r.ExitCode = result.Judge(r, false)
	return r
}

// allReports is every golden fixture plus the hostile one.
func allReports() map[string]*result.Report {
	rs := fixtures()
	rs["hostile"] = hostile()
	return rs
}

// ---- JUnit ----

// The attributes the Jenkins xunit plugin's junit-10.xsd allows on each
// element (../shared/reference/junit-10.xsd; consumers_test.go runs
// xmllint against the file itself); a test fails on any other, and on a
// missing required one. The report also sets tests, failures and errors on
// <testsuites>, which the schema has as optional.
var (
	junitSuitesAttrs = attrSet{required: []string{"tests", "failures", "errors"}, optional: []string{"name", "time"}}
	junitSuiteAttrs  = attrSet{
		required: []string{"name", "tests", "failures", "errors"},
		optional: []string{"group", "time", "skipped", "timestamp", "hostname", "id", "package", "file", "log", "url", "version"},
	}
	junitCaseAttrs    = attrSet{required: []string{"name"}, optional: []string{"time", "classname", "group"}}
	junitProblemAttrs = attrSet{optional: []string{"message", "type"}}
)

type attrSet struct{ required, optional []string }

func (s attrSet) check(t *testing.T, where string, attrs []xml.Attr) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, a := range attrs {
		if !slices.Contains(s.required, a.Name.Local) && !slices.Contains(s.optional, a.Name.Local) {
			t.Errorf("%s: attribute %q is not in the schema", where, a.Name.Local)
		}
		m[a.Name.Local] = a.Value
	}
	for _, name := range s.required {
		if _, ok := m[name]; !ok {
			t.Errorf("%s: required attribute %q missing", where, name)
		}
	}
	return m
}

type xSuites struct {
	XMLName xml.Name   `xml:"testsuites"`
	Attrs   []xml.Attr `xml:",any,attr"`
	Suites  []xSuite   `xml:"testsuite"`
	Other   []xAny     `xml:",any"`
}

type xSuite struct {
	Attrs      []xml.Attr `xml:",any,attr"`
	Properties *struct {
		Property []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"property"`
	} `xml:"properties"`
	Cases []xCase `xml:"testcase"`
	Other []xAny  `xml:",any"`
}

type xCase struct {
	Attrs     []xml.Attr `xml:",any,attr"`
	Failure   []xProblem `xml:"failure"`
	Error     []xProblem `xml:"error"`
	Skipped   []xProblem `xml:"skipped"`
	SystemOut []string   `xml:"system-out"`
	Other     []xAny     `xml:",any"`
}

type xProblem struct {
	Attrs []xml.Attr `xml:",any,attr"`
	Body  string     `xml:",chardata"`
}

type xAny struct{ XMLName xml.Name }

var junitTimestampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`)

// parseJUnit decodes a junit report strictly and checks it against the
// schema's structure; it returns the testcases by name.
func parseJUnit(t *testing.T, out []byte) (xSuites, map[string]xCase) {
	t.Helper()
	var doc xSuites
	dec := xml.NewDecoder(strings.NewReader(string(out)))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("junit: not well-formed XML: %v\n%s", err, out)
	}
	for _, o := range doc.Other {
		t.Errorf("junit: unexpected element <%s> in <testsuites>", o.XMLName.Local)
	}
	root := junitSuitesAttrs.check(t, "<testsuites>", doc.Attrs)
	if len(doc.Suites) != 1 {
		t.Fatalf("junit: %d testsuites, want 1", len(doc.Suites))
	}
	s := doc.Suites[0]
	for _, o := range s.Other {
		t.Errorf("junit: unexpected element <%s> in <testsuite>", o.XMLName.Local)
	}
	sa := junitSuiteAttrs.check(t, "<testsuite>", s.Attrs)
	if ts, ok := sa["timestamp"]; ok && !junitTimestampRE.MatchString(ts) {
		t.Errorf("junit: timestamp %q is not yyyy-mm-ddThh:mm:ss", ts)
	}
	var failures, errors, skipped int
	cases := map[string]xCase{}
	for _, c := range s.Cases {
		ca := junitCaseAttrs.check(t, "<testcase>", c.Attrs)
		where := fmt.Sprintf("<testcase name=%q>", ca["name"])
		for _, o := range c.Other {
			t.Errorf("junit: %s: unexpected element <%s>", where, o.XMLName.Local)
		}
		if _, err := strconv.ParseFloat(ca["time"], 64); err != nil {
			t.Errorf("junit: %s: time %q: %v", where, ca["time"], err)
		}
		if n := len(c.Failure) + len(c.Error) + len(c.Skipped); n > 1 {
			t.Errorf("junit: %s has %d of failure/error/skipped, want at most one", where, n)
		}
		for _, p := range slices.Concat(c.Failure, c.Error) {
			pa := junitProblemAttrs.check(t, where+" <failure|error>", p.Attrs)
			if pa["message"] == "" || pa["type"] == "" {
				t.Errorf("junit: %s: failure/error without message or type: %v", where, pa)
			}
		}
		for _, p := range c.Skipped {
			junitProblemAttrs.check(t, where+" <skipped>", p.Attrs)
		}
		failures += len(c.Failure)
		errors += len(c.Error)
		skipped += len(c.Skipped)
		if _, dup := cases[ca["name"]]; dup {
			t.Errorf("junit: two testcases named %q", ca["name"])
		}
		cases[ca["name"]] = c
	}
	for attr, want := range map[string]int{"tests": len(s.Cases), "failures": failures, "errors": errors, "skipped": skipped} {
		if got := sa[attr]; got != strconv.Itoa(want) {
			t.Errorf("junit: testsuite %s=%q, counted %d", attr, got, want)
		}
		if _, ok := root[attr]; ok && attr != "skipped" && root[attr] != strconv.Itoa(want) {
			t.Errorf("junit: testsuites %s=%q, counted %d", attr, root[attr], want)
		}
	}
	return doc, cases
}

func attr(attrs []xml.Attr, name string) string {
	for _, a := range attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func TestJUnitValid(t *testing.T) {
	for name, r := range allReports() {
		for _, warnAsFailure := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/warnAsFailure=%v", name, warnAsFailure), func(t *testing.T) {
				out := render(t, "junit", Options{Version: "v9", WarnAsFailure: warnAsFailure}, r)
				doc, cases := parseJUnit(t, out)
				s := doc.Suites[0]
				if got := attr(s.Attrs, "name"); got != oneLine(r.Script) {
					t.Errorf("testsuite name = %q, want the script %q", got, r.Script)
				}
				for _, c := range r.Checks {
					tc, ok := cases[oneLine(c.Name)]
					if !ok {
						t.Errorf("no testcase for check %q", c.Name)
						continue
					}
					if got := attr(tc.Attrs, "classname"); got != oneLine(r.Script) {
						t.Errorf("%q: classname %q, want the script", c.Name, got)
					}
					// Where the check is defined is in the text Jenkins and
					// GitLab show, since the schema has no file= on a testcase.
					if loc := location(c.File, c.Line); loc != "" {
						text := strings.Join(tc.SystemOut, "")
						for _, p := range slices.Concat(tc.Failure, tc.Error) {
							text += p.Body
						}
						if !strings.Contains(text, "at "+loc+"\n") {
							t.Errorf("%q: the testcase's text does not say \"at %s\": %q", c.Name, loc, text)
						}
					}
					wantTime := strconv.FormatFloat(c.Duration.Seconds(), 'f', 3, 64)
					if got := attr(tc.Attrs, "time"); got != wantTime {
						t.Errorf("%q: time %q, want %q", c.Name, got, wantTime)
					}
					var want string
					switch c.Status {
					case result.Fail:
						want = "failure"
					case result.Warn:
						if warnAsFailure {
							want = "failure"
						}
					case result.Unknown:
						want = "error"
					case result.Skip:
						want = "skipped"
					}
					got := ""
					switch {
					case len(tc.Failure) > 0:
						got = "failure"
						if typ := attr(tc.Failure[0].Attrs, "type"); typ != c.Status.String() {
							t.Errorf("%q: failure type %q, want %q", c.Name, typ, c.Status)
						}
					case len(tc.Error) > 0:
						got = "error"
						if c.Backtrace != "" && !strings.Contains(tc.Error[0].Body, "Traceback") {
							t.Errorf("%q: error body lacks the backtrace: %q", c.Name, tc.Error[0].Body)
						}
					case len(tc.Skipped) > 0:
						got = "skipped"
					}
					if got != want {
						t.Errorf("%q (%s): got <%s>, want <%s>", c.Name, c.Status, got, want)
					}
					// Passing and skipped cases keep their message and metrics in system-out.
					if got == "" || got == "skipped" {
						if len(tc.SystemOut) != 1 {
							t.Errorf("%q: %d system-out, want 1", c.Name, len(tc.SystemOut))
						} else {
							for _, m := range c.Metrics {
								if !strings.Contains(tc.SystemOut[0], m.Name) {
									t.Errorf("%q: system-out lacks metric %q: %q", c.Name, m.Name, tc.SystemOut[0])
								}
							}
						}
					}
				}
				extra := 0
				if len(r.Errors) > 0 || len(r.Checks) == 0 {
					extra++
					if _, ok := cases["load"]; !ok || len(cases["load"].Error) != 1 {
						t.Errorf("no load testcase with an <error>")
					}
				}
				if r.Incomplete != "" {
					extra++
					if _, ok := cases["run"]; !ok || len(cases["run"].Error) != 1 {
						t.Errorf("no run testcase with an <error>")
					}
				}
				if len(s.Cases) != len(r.Checks)+extra {
					t.Errorf("%d testcases, want %d", len(s.Cases), len(r.Checks)+extra)
				}
				// Every load error, in full, in the load testcase.
				for _, e := range errorStrings(r) {
					if !strings.Contains(cases["load"].Error[0].Body, e) {
						t.Errorf("load error body lacks %q", e)
					}
				}
			})
		}
	}
}

// TestJUnitText: text survives the trip through XML, with control
// characters shown escaped and "]]>" kept inside CDATA.
func TestJUnitText(t *testing.T) {
	_, cases := parseJUnit(t, render(t, "junit", Options{}, hostile()))
	tc := cases[`a#b\c "q" 'x'=y|z, w: v`]
	if len(tc.Failure) != 1 {
		t.Fatalf("hostile check: %+v", tc)
	}
	msg := attr(tc.Failure[0].Attrs, "message")
	for _, want := range []string{"100% done:\nline2", `\x1b[31mred ]]> <tag> &amp; ` + "\ufffd bad \ufffd nonchar"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message attribute %q lacks %q", msg, want)
		}
		if !strings.Contains(tc.Failure[0].Body, want) {
			t.Errorf("failure body %q lacks %q", tc.Failure[0].Body, want)
		}
	}
	if _, ok := cases[`multi\nline # SKIP`]; !ok {
		t.Errorf("a newline in a name is not shown escaped: %v", slices.Collect(mapKeys(cases)))
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// ---- TAP ----

type tapPoint struct {
	ok        bool
	id        int
	desc      string
	directive string // "SKIP", "TODO", "WARN" or ""
	reason    string
	yaml      map[string]any
}

type tapDoc struct {
	plan   int // -1 without a plan
	points []tapPoint
	bail   *string
}

var (
	tapPlanRE  = regexp.MustCompile(`^1\.\.(\d+)(?: # (.*))?$`)
	tapPointRE = regexp.MustCompile(`^(not ok|ok)\b(?: (\d+))?(?: -)?(?: (.*))?$`)
	tapDirRE   = regexp.MustCompile(`(?i)^(SKIP|TODO|WARN)\S*(?:\s+(.*))?$`)
)

// parseTAP reads a TAP 14 document the way the spec tells a harness to,
// and fails the test on anything a strict harness would reject.
func parseTAP(t *testing.T, out string) tapDoc {
	t.Helper()
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("tap: no final newline")
	}
	ls := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if ls[0] != "TAP version 14" {
		t.Fatalf("tap: first line %q, want the version", ls[0])
	}
	doc := tapDoc{plan: -1}
	for i := 1; i < len(ls); i++ {
		l := ls[i]
		if strings.Contains(l, "\r") {
			t.Errorf("tap: line %d has a CR: %q", i+1, l)
		}
		if doc.bail != nil {
			t.Errorf("tap: line %d after Bail out!: %q", i+1, l)
		}
		switch m := tapPlanRE.FindStringSubmatch(l); {
		case m != nil:
			if doc.plan >= 0 {
				t.Errorf("tap: second plan on line %d", i+1)
			}
			doc.plan, _ = strconv.Atoi(m[1])
		case tapPointRE.MatchString(l):
			m := tapPointRE.FindStringSubmatch(l)
			p := tapPoint{ok: m[1] == "ok"}
			p.id, _ = strconv.Atoi(m[2])
			p.desc, p.directive, p.reason = splitDirective(m[3])
			if i+1 < len(ls) && ls[i+1] == "  ---" {
				end := slices.Index(ls[i+2:], "  ...")
				if end < 0 {
					t.Fatalf("tap: YAML block after line %d never ends", i+1)
				}
				block := ls[i+2 : i+2+end]
				var err error
				if p.yaml, err = parseYAML(block); err != nil {
					t.Errorf("tap: YAML block of test %d: %v\n%s", p.id, err, strings.Join(block, "\n"))
				}
				i += 2 + end
			}
			doc.points = append(doc.points, p)
		case strings.HasPrefix(l, "Bail out!"):
			reason := tapUnescape(strings.TrimPrefix(strings.TrimPrefix(l, "Bail out!"), " "))
			doc.bail = &reason
		case strings.HasPrefix(strings.TrimLeft(l, " "), "#"), strings.TrimSpace(l) == "":
		default:
			t.Errorf("tap: line %d is not TAP: %q", i+1, l)
		}
	}
	if doc.plan >= 0 && doc.plan != len(doc.points) {
		t.Errorf("tap: plan 1..%d but %d test points", doc.plan, len(doc.points))
	}
	for i, p := range doc.points {
		if p.id != i+1 {
			t.Errorf("tap: test point %d has id %d", i+1, p.id)
		}
	}
	return doc
}

// splitDirective splits a test point's text at the first unescaped "#"
// that has whitespace before it, unescaping \\ and \# (TAP 14 "Escaping").
func splitDirective(s string) (desc, directive, reason string) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '#'):
			b.WriteByte(s[i+1])
			i++
		case s[i] == '#' && i > 0 && s[i-1] == ' ':
			if m := tapDirRE.FindStringSubmatch(strings.TrimLeft(s[i+1:], " ")); m != nil {
				return strings.TrimSuffix(b.String(), " "), strings.ToUpper(m[1]), tapUnescape(m[2])
			}
			b.WriteByte('#')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), "", ""
}

func tapUnescape(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\#`, `#`).Replace(s)
}

// parseYAML reads the subset of YAML the tap format writes, each line
// still carrying TAP's two-space indent: "key: scalar", a double-quoted
// (JSON-compatible) string, a number, "{}", a flow list of strings, a
// literal block (|, |-, |+), or a nested "key:" mapping of numbers.
func parseYAML(block []string) (map[string]any, error) {
	out := map[string]any{}
	for i := 0; i < len(block); i++ {
		l, ok := strings.CutPrefix(block[i], "  ")
		if !ok && block[i] != "" {
			return nil, fmt.Errorf("line %q is not indented by two spaces", block[i])
		}
		key, val, ok := strings.Cut(l, ":")
		if !ok || key == "" || strings.HasPrefix(key, " ") {
			return nil, fmt.Errorf("line %q is not key: value", l)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		val = strings.TrimPrefix(val, " ")
		// continuation lines: indented further, or empty
		var more []string
		for i+1 < len(block) && (block[i+1] == "  " || block[i+1] == "" || strings.HasPrefix(block[i+1], "    ")) {
			i++
			more = append(more, strings.TrimPrefix(strings.TrimPrefix(block[i], "  "), "  "))
		}
		switch {
		case val == "":
			m := map[string]float64{}
			for _, ml := range more {
				k, v, ok := strings.Cut(ml, ": ")
				var ks string
				if !ok || json.Unmarshal([]byte(k), &ks) != nil {
					return nil, fmt.Errorf("%s: bad mapping line %q", key, ml)
				}
				if _, dup := m[ks]; dup {
					return nil, fmt.Errorf("%s: duplicate key %q", key, ks)
				}
				f, err := yamlNumber(v)
				if err != nil {
					return nil, fmt.Errorf("%s: %v", key, err)
				}
				m[ks] = f
			}
			out[key] = m
		case val == "|" || val == "|-" || val == "|+":
			trailing := 0
			for j := len(more) - 1; j >= 0 && more[j] == ""; j-- {
				trailing++
			}
			s := strings.Join(more[:len(more)-trailing], "\n")
			switch val {
			case "|":
				s += "\n"
			case "|+":
				s += strings.Repeat("\n", trailing+1)
			}
			out[key] = s
		case len(more) > 0:
			return nil, fmt.Errorf("%s: unexpected continuation lines %q", key, more)
		case strings.HasPrefix(val, `"`):
			var s string
			if err := json.Unmarshal([]byte(val), &s); err != nil {
				return nil, fmt.Errorf("%s: %v", key, err)
			}
			out[key] = s
		case strings.HasPrefix(val, "["):
			var s []string
			if err := json.Unmarshal([]byte(val), &s); err != nil {
				return nil, fmt.Errorf("%s: %v", key, err)
			}
			out[key] = s
		case val == "{}":
			out[key] = map[string]float64{}
		default:
			if f, err := yamlNumber(val); err == nil {
				out[key] = f
			} else if regexp.MustCompile(`^[a-z]+$`).MatchString(val) {
				out[key] = val
			} else {
				return nil, fmt.Errorf("%s: cannot read %q", key, val)
			}
		}
	}
	return out, nil
}

func yamlNumber(s string) (float64, error) {
	switch s {
	case ".nan":
		return math.NaN(), nil
	case ".inf":
		return math.Inf(1), nil
	case "-.inf":
		return math.Inf(-1), nil
	}
	if !regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`).MatchString(s) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return strconv.ParseFloat(s, 64)
}

func TestTAPValid(t *testing.T) {
	for name, r := range allReports() {
		for _, warnAsFailure := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/warnAsFailure=%v", name, warnAsFailure), func(t *testing.T) {
				doc := parseTAP(t, string(render(t, "tap", Options{WarnAsFailure: warnAsFailure}, r)))
				if len(r.Errors) > 0 || len(r.Checks) == 0 {
					if doc.bail == nil || doc.plan >= 0 || len(doc.points) > 0 {
						t.Fatalf("a run where nothing ran must bail out without a plan: %+v", doc)
					}
					if len(r.Errors) > 0 && !strings.HasPrefix(*doc.bail, firstLine(r.Errors[0].String())) {
						t.Errorf("bail out reason %q does not start with the first error", *doc.bail)
					}
					return
				}
				if doc.plan != len(r.Checks) {
					t.Errorf("plan 1..%d, want 1..%d", doc.plan, len(r.Checks))
				}
				if (r.Incomplete != "") != (doc.bail != nil) {
					t.Errorf("incomplete=%q but bail out=%v", r.Incomplete, doc.bail)
				}
				for i, c := range r.Checks {
					p := doc.points[i]
					wantOK := c.Status == result.OK || c.Status == result.Skip || c.Status == result.Warn && !warnAsFailure
					if p.ok != wantOK {
						t.Errorf("%q (%s): ok=%v, want %v", c.Name, c.Status, p.ok, wantOK)
					}
					if p.desc != oneLine(c.Name) {
						t.Errorf("description %q, want %q", p.desc, oneLine(c.Name))
					}
					wantDir := map[result.Status]string{result.Skip: "SKIP", result.Warn: "WARN"}[c.Status]
					if p.directive != wantDir {
						t.Errorf("%q: directive %q, want %q", c.Name, p.directive, wantDir)
					}
					if wantDir != "" && p.reason != firstLine(c.Message) {
						t.Errorf("%q: reason %q, want %q", c.Name, p.reason, firstLine(c.Message))
					}
					y := p.yaml
					if y == nil {
						t.Errorf("%q: no YAML block", c.Name)
						continue
					}
					if y["status"] != c.Status.String() {
						t.Errorf("%q: yaml status %v", c.Name, y["status"])
					}
					if want := strings.ToValidUTF8(c.Message, "\ufffd"); y["message"] != want {
						t.Errorf("%q: yaml message %q, want %q", c.Name, y["message"], want)
					}
					if y["duration_ms"] != millis(c.Duration) {
						t.Errorf("%q: yaml duration_ms %v, want %v", c.Name, y["duration_ms"], millis(c.Duration))
					}
					ms, _ := y["metrics"].(map[string]float64)
					for _, m := range c.Metrics {
						if got, ok := ms[m.Name]; !ok || got != lastValue(c.Metrics, m.Name) {
							t.Errorf("%q: yaml metrics[%q] = %v, want %v", c.Name, m.Name, got, m.Value)
						}
					}
					if loc := location(c.File, c.Line); loc != "" && y["location"] != loc {
						t.Errorf("%q: yaml location %v, want %q", c.Name, y["location"], loc)
					}
					if c.Backtrace != "" && y["backtrace"] != c.Backtrace {
						t.Errorf("%q: yaml backtrace %q", c.Name, y["backtrace"])
					}
					if len(c.Tags) > 0 && !slices.Equal(y["tags"].([]string), c.Tags) {
						t.Errorf("%q: yaml tags %v", c.Name, y["tags"])
					}
				}
			})
		}
	}
}

// TestTAPBlocks: multi-line strings round-trip exactly through the literal
// block styles, and fall back to quotes when a block cannot carry them.
func TestTAPBlocks(t *testing.T) {
	for _, msg := range []string{
		"a\nb", "a\nb\n", "a\nb\n\n\n", "a\n\nb", "a:\n  - b\n  c: d", "x\n\ty", "é\n☃\n",
		" lead\nx", "a\n  \nb", "a\r\nb", "a\n\x1b\n", "a\u2028b\nc", "\nfirst empty",
	} {
		r := &result.Report{Checks: []result.CheckResult{{Name: "c", Status: result.Fail, Message: msg}}, ExitCode: 2}
		out := string(render(t, "tap", Options{}, r))
		doc := parseTAP(t, out)
		if got := doc.points[0].yaml["message"]; got != msg {
			t.Errorf("message %q came back as %q:\n%s", msg, got, out)
		}
		if blockSafe(msg) != strings.Contains(out, "message: |") {
			t.Errorf("%q: blockSafe=%v but output:\n%s", msg, blockSafe(msg), out)
		}
	}
}

// lastValue is the value of the last metric called name.
func lastValue(ms []result.Metric, name string) float64 {
	var v float64
	for _, m := range ms {
		if m.Name == name {
			v = m.Value
		}
	}
	return v
}

// ---- Nagios ----

// The plugin output grammar of the guidelines: "STATE: text | perfdata".
// A perfdata item is 'label'=value[UOM];[warn];[crit];[min];[max].
var (
	nagiosFirstRE = regexp.MustCompile(`^(OK|WARNING|CRITICAL|UNKNOWN): ([^|]*?)(?: \| (.*))?$`)
	nagiosNum     = `-?[0-9]+(?:\.[0-9]+)?`
	nagiosRng     = `@?(?:~|` + nagiosNum + `)?(?::(?:` + nagiosNum + `)?)?`
	nagiosItemRE  = regexp.MustCompile(`^('(?:[^'=]|'')+'|[^'=\s]+)=(` + nagiosNum + `|U)(s|ms|us|%|B|KB|MB|TB|c)?` +
		`(?:;(` + nagiosRng + `)?(?:;(` + nagiosRng + `)?(?:;(` + nagiosNum + `)?(?:;(` + nagiosNum + `)?)?)?)?)?$`)
)

type perfItem struct {
	label, uom, warn, crit, min, max string
	value                            float64
}

// parsePerfdata splits perfdata at the blanks outside quotes and parses
// every item with nagiosItemRE.
func parsePerfdata(t *testing.T, s string) []perfItem {
	t.Helper()
	var items []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted = !quoted // '' inside a label toggles twice
			cur.WriteRune(r)
		case r == ' ' && !quoted:
			if cur.Len() == 0 {
				t.Errorf("nagios: double blank in perfdata %q", s)
			}
			items = append(items, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	items = append(items, cur.String())
	var out []perfItem
	for _, it := range items {
		m := nagiosItemRE.FindStringSubmatch(it)
		if m == nil {
			t.Errorf("nagios: perfdata item %q does not follow the guidelines", it)
			continue
		}
		label := m[1]
		if strings.HasPrefix(label, "'") {
			label = strings.ReplaceAll(label[1:len(label)-1], "''", "'")
		}
		v := math.NaN()
		if m[2] != "U" {
			v, _ = strconv.ParseFloat(m[2], 64)
		}
		for _, rg := range []string{m[4], m[5]} {
			if rg != "" {
				if _, err := result.ParseRange(rg); err != nil {
					t.Errorf("nagios: %q: %v", it, err)
				}
			}
		}
		out = append(out, perfItem{label: label, value: v, uom: m[3], warn: m[4], crit: m[5], min: m[6], max: m[7]})
	}
	return out
}

func TestNagiosValid(t *testing.T) {
	for name, r := range allReports() {
		t.Run(name, func(t *testing.T) {
			out := string(render(t, "nagios", Options{}, r))
			ls := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			m := nagiosFirstRE.FindStringSubmatch(ls[0])
			if m == nil {
				t.Fatalf("first line %q is not STATE: text | perfdata", ls[0])
			}
			if want := nagiosState[r.ExitCode]; m[1] != want {
				t.Errorf("state %s, want %s for exit %d", m[1], want, r.ExitCode)
			}
			var metrics []result.Metric
			for _, c := range r.Checks {
				metrics = append(metrics, c.Metrics...)
			}
			var items []perfItem
			if m[3] != "" {
				items = parsePerfdata(t, m[3])
			}
			if len(items) != len(metrics) {
				t.Fatalf("%d perfdata items, want one per metric (%d): %q", len(items), len(metrics), m[3])
			}
			seen := map[string]bool{}
			for i, it := range items {
				if seen[it.label] {
					t.Errorf("label %q repeated", it.label)
				}
				seen[it.label] = true
				if it.value != metrics[i].Value && !(math.IsNaN(it.value) && math.IsNaN(metrics[i].Value)) {
					t.Errorf("%s: value %v, want %v", it.label, it.value, metrics[i].Value)
				}
				if nagiosUOM[metrics[i].Unit] && it.uom != metrics[i].Unit || !nagiosUOM[metrics[i].Unit] && it.uom != "" {
					t.Errorf("%s: UOM %q for unit %q", it.label, it.uom, metrics[i].Unit)
				}
				if metrics[i].Warn != "" && it.warn == "" || metrics[i].Crit != "" && it.crit == "" {
					t.Errorf("%s: thresholds lost: %+v from %+v", it.label, it, metrics[i])
				}
			}
			// One long-text line per load error and per check that did not
			// pass, and the host when known.
			if r.Host != "" {
				if last := ls[len(ls)-1]; last != "checked on "+r.Host {
					t.Errorf("last long-text line %q, want the host", last)
				}
				ls = ls[:len(ls)-1]
			}
			want := len(r.Errors)
			for _, c := range r.Checks {
				if c.Status == result.Warn || c.Status == result.Fail || c.Status == result.Unknown {
					want++
				}
			}
			if len(ls)-1 != want {
				t.Errorf("%d long-text lines, want %d:\n%s", len(ls)-1, want, out)
			}
			for _, l := range ls[1:] {
				if strings.Contains(l, "|") || !regexp.MustCompile(`^\[(WARNING|CRITICAL|UNKNOWN)\] `).MatchString(l) {
					t.Errorf("long-text line %q", l)
				}
			}
		})
	}
}

func TestNagiosPerfdata(t *testing.T) {
	out := string(render(t, "nagios", Options{}, hostile()))
	first, _, _ := strings.Cut(out, "\n")
	_, perf, _ := strings.Cut(first, " | ")
	got := map[string]perfItem{}
	for _, it := range parsePerfdata(t, perf) {
		got[it.label] = it
	}
	for label, want := range map[string]perfItem{
		`a#b\c "q" 'x'_y¦z, w: v_lat ency_ms'`: {value: 1e-7, warn: "@10:20", crit: "~:0.5"}, // GB dropped
		`a#b\c "q" 'x'_y¦z, w: v_huge`:         {value: 1e21, uom: "B", warn: "10000000000000000000000"},
		`multi\nline # SKIP_dup`:               {value: 1},
		`multi\nline # SKIP_dup_2`:             {value: 2},
		"a_b_c":                                {value: 1},
		"a_b_c_2":                              {value: 2, uom: "%", min: "0", max: "100"},
	} {
		it, ok := got[label]
		want.label = label
		if !ok || it != want {
			t.Errorf("perfdata %q = %+v, want %+v (all: %q)", label, it, want, perf)
		}
	}
	if !strings.Contains(perf, `'a#b\c "q" ''x''_y¦z, w: v_huge'=1000000000000000000000B;10000000000000000000000`) {
		t.Errorf("perfdata %q: quoting or number format", perf)
	}
}

// TestJUnitBuildProperties: the suite says which build wrote it, and leaves
// out what it does not know.
func TestJUnitBuildProperties(t *testing.T) {
	r := fixtures()["statuses"]
	props := func(opts Options) map[string]string {
		doc, _ := parseJUnit(t, render(t, "junit", opts, r))
		m := map[string]string{}
		if doc.Suites[0].Properties == nil {
			t.Fatal("no <properties>")
		}
		for _, p := range doc.Suites[0].Properties.Property {
			m[p.Name] = p.Value
		}
		return m
	}
	got := props(Options{Version: "v0.1.0", Commit: "7cf2bb0", GoVersion: "go1.26.8"})
	for k, want := range map[string]string{"infra_guard.version": "v0.1.0", "infra_guard.commit": "7cf2bb0", "infra_guard.go_version": "go1.26.8"} {
		if got[k] != want {
			t.Errorf("property %s = %q, want %q", k, got[k], want)
		}
	}
	if got := props(Options{Version: "v0.1.0"}); got["infra_guard.commit"] != "" || got["infra_guard.go_version"] != "" {
		t.Errorf("unknown commit or Go version written as properties: %v", got)
	}
}

// TestDistinctHashes compares distinctHashes with a sort, on sets of
// random hashes of every size up to a few thousand, with and without a
// repeat, and on hashes that share their top bits.
func TestDistinctHashes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	reference := func(h []uint64) bool {
		h = slices.Clone(h)
		slices.Sort(h)
		for i := 1; i < len(h); i++ {
			if h[i] == h[i-1] {
				return false
			}
		}
		return true
	}
	for n := range 3000 {
		h := make([]uint64, n)
		for i := range h {
			h[i] = rng.Uint64()
			if n%3 == 0 {
				h[i] >>= 40 // all in the first bucket or few
			}
		}
		if n > 1 && n%2 == 0 {
			h[rng.IntN(n)] = h[rng.IntN(n)] // perhaps itself
		}
		if got, want := distinctHashes(h), reference(h); got != want {
			t.Fatalf("%d hashes: distinctHashes %v, a sort %v", n, got, want)
		}
	}
}

// TestNagiosPlainTexts: the nagios format's shortcuts for a plain name
// or message give what the general way does, on awkward and plain text.
func TestNagiosPlainTexts(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 4))
	texts := []string{"check-000123", "value 42 (warn > 80, crit > 90)", "  padded  ", "a\tb", " lead", "trail \n", "x=y", "::x", "a|b"}
	for range 3000 {
		texts = append(texts, awkwardText(rng))
	}
	for _, s := range texts {
		if got, want := nagiosName(s), oneLine(NoCommands(s)); got != want {
			t.Errorf("nagiosName(%q) = %q, want %q", s, got, want)
		}
		c := &result.CheckResult{Name: "c", Status: result.Fail, Message: s, Backtrace: awkwardText(rng)}
		mapped := *c
		mapped.Message, mapped.Backtrace = NoCommands(c.Message), NoCommands(c.Backtrace)
		if got, want := nagiosProblemText(c), flatten(problemMessage(mapped)); got != want {
			t.Errorf("nagiosProblemText(%q) = %q, want %q", s, got, want)
		}
	}
}
