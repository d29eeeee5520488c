package report

// The json, junit and prometheus formats are written by hand, for speed;
// these tests hold them to the bytes of the encoders they stand in for —
// encoding/json, encoding/xml, and client_golang's registry written by
// expfmt — on the fixtures and on random reports made of awkward text.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/infra-guard/infra-guard/result"
)

// awkward is text that some format escapes, replaces or refuses.
var awkward = []string{
	"", "a", "check", " ", "\t", "\n", "\r\n", "\r", "  ", "\n\n", "x y",
	"::error::x", "##[group]", "\x1b[31m", "\x00", "\x7f", "\u0085", "\xff", "\xc3",
	"\ufffe", "\uffff", "\ufffd", "\u2028", "\u2029", "\u00a0", "é", "日本", "😀",
	"]]>", "]]", "<", ">", "&", "\"", "'", "\\", "#", "|", "=", ",", ":", "%", "-", "_", "~", "@", "1e5",
}

var (
	awkwardFloats = []float64{0, 1, -1, 0.5, 41.5, 1e-7, 1e-6, 1e20, 1e21, 123456789, math.Copysign(0, -1), 3.14159, 100, -2.5e-9, math.NaN(), math.Inf(1), math.Inf(-1)}
	awkwardRanges = []string{"", "80", "10:", "~:5", "@1:2", "bad", "1e+22", "0:100", "-5:-1"}
	awkwardUnits  = []string{"", "%", "ms", "s", "B", "GB", "d", "c", "::x::", "a\"b"}
)

func awkwardText(rng *rand.Rand) string {
	var b strings.Builder
	for range rng.IntN(6) {
		b.WriteString(awkward[rng.IntN(len(awkward))])
	}
	return b.String()
}

// randomReport is a report of up to a dozen checks in every status (and
// a status out of range), with awkward text everywhere, repeated check
// and metric names, and sometimes load errors, an interruption or rounds.
func randomReport(rng *rand.Rand) *result.Report {
	pick := func(ss []string) string { return ss[rng.IntN(len(ss))] }
	r := &result.Report{Script: awkwardText(rng), Started: started, Duration: time.Duration(rng.IntN(5e9))}
	if rng.IntN(3) == 0 {
		r.Host = awkwardText(rng)
	}
	if rng.IntN(5) == 0 {
		r.Incomplete = awkwardText(rng) + "x"
	}
	if rng.IntN(6) == 0 {
		for range 1 + rng.IntN(3) {
			r.Errors = append(r.Errors, result.Diagnostic{File: awkwardText(rng), Line: rng.IntN(3), Col: rng.IntN(3), Msg: awkwardText(rng)})
		}
	}
	r.Rounds = rng.IntN(4)
	for range rng.IntN(13) {
		c := result.CheckResult{
			Name: awkwardText(rng), Status: result.Status(rng.IntN(6)), Message: awkwardText(rng),
			File: awkwardText(rng), Line: rng.IntN(3) - 1, Duration: time.Duration(rng.IntN(3e9)) - time.Microsecond,
		}
		if rng.IntN(8) == 0 && len(r.Checks) > 0 {
			c.Name = r.Checks[rng.IntN(len(r.Checks))].Name
		}
		if rng.IntN(4) == 0 {
			c.Backtrace = awkwardText(rng)
		}
		for range rng.IntN(3) {
			c.Tags = append(c.Tags, awkwardText(rng))
		}
		for range rng.IntN(4) {
			m := result.Metric{Name: awkwardText(rng), Value: awkwardFloats[rng.IntN(len(awkwardFloats))], Unit: pick(awkwardUnits), Warn: pick(awkwardRanges), Crit: pick(awkwardRanges)}
			if rng.IntN(5) == 0 && len(c.Metrics) > 0 {
				m.Name = c.Metrics[0].Name
			}
			c.Metrics = append(c.Metrics, m)
		}
		r.Checks = append(r.Checks, c)
	}
	r.ExitCode = result.Judge(r, rng.IntN(2) == 0)
	return r
}

// referenceCases are the fixtures, the hostile and workflow-command
// reports, many checks, and 300 random reports.
func referenceCases() map[string]*result.Report {
	cases := allReports()
	cases["commands"] = commandReport()
	cases["many"] = manyChecks(500)
	rng := rand.New(rand.NewPCG(14, 5))
	for i := range 300 {
		cases["random "+string(rune('a'+i%26))+strings.Repeat("'", i/26)] = randomReport(rng)
	}
	return cases
}

// jsonReference is r as encoding/json writes its jsonReport.
func jsonReference(t *testing.T, j *jsonReporter, r *result.Report) []byte {
	t.Helper()
	r = withoutCommands(r)
	doc := j.head(r)
	doc.Checks = []jsonCheck{}
	for i := range r.Checks {
		var c jsonCheck
		c.fill(&r.Checks[i])
		doc.Checks = append(doc.Checks, c)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestJSONMatchesEncoding(t *testing.T) {
	j := &jsonReporter{version: "v1.2.3\n\"x\""}
	for name, r := range referenceCases() {
		var got bytes.Buffer
		if err := j.Report(&got, r); err != nil {
			t.Fatal(err)
		}
		if want := jsonReference(t, j, r); !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: the json format differs from encoding/json:\n got:\n%s\nwant:\n%s", name, got.Bytes(), want)
		}
	}
}

func FuzzJSONString(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Add("all \x01\x08\x0c\x1f<>& of it \u2028\xed\xa0\x80")
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got)+"\n" != want.String() {
			t.Errorf("appendJSONString(%q) = %s, encoding/json: %s", s, got, want.Bytes())
		}
	})
}

func FuzzJSONFloat(f *testing.F) {
	for _, v := range awkwardFloats {
		f.Add(v)
	}
	f.Add(1e-300)
	f.Add(-1.7976931348623157e308)
	f.Add(5e-324)
	f.Fuzz(func(t *testing.T, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return // never written: the json format leaves such metrics out
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONFloat(nil, v); !bytes.Equal(got, want) {
			t.Errorf("appendJSONFloat(%v) = %s, encoding/json: %s", v, got, want)
		}
	})
}

// junitReference is r as encoding/xml writes its junitSuites, as the
// format did before it was written by hand.
func junitReference(t *testing.T, j *junitReporter, r *result.Report) []byte {
	t.Helper()
	r = withoutCommands(r)
	suite := j.suite(r)
	var failures, errs, skipped int
	j.cases(r, func(tc *junitCase) {
		c := *tc // cases reuses tc and what it points to
		if c.Failure != nil {
			p := *c.Failure
			p.Body = bytes.Clone(p.Body)
			c.Failure = &p
			failures++
		}
		if c.Error != nil {
			p := *c.Error
			p.Body = bytes.Clone(p.Body)
			c.Error = &p
			errs++
		}
		if c.Skipped != nil {
			s := *c.Skipped
			c.Skipped = &s
			skipped++
		}
		if c.SystemOut != nil {
			o := junitText{bytes.Clone(c.SystemOut.Text)}
			c.SystemOut = &o
		}
		suite.Cases = append(suite.Cases, c)
	})
	if suite.Tests != len(suite.Cases) || suite.Failures != failures || suite.Errors != errs || suite.Skipped != skipped {
		t.Errorf("suite counts %d tests, %d failures, %d errors, %d skipped; its testcases %d, %d, %d, %d",
			suite.Tests, suite.Failures, suite.Errors, suite.Skipped, len(suite.Cases), failures, errs, skipped)
	}
	doc := junitSuites{
		Name: "infra-guard", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Time: suite.Time,
		Suites: []junitSuite{suite},
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

func TestJUnitMatchesEncoding(t *testing.T) {
	for _, warnAsFailure := range []bool{false, true} {
		j := &junitReporter{version: "v1 <&\"'>", commit: "abc\tdef", goVersion: "go1.26", warnAsFailure: warnAsFailure}
		for name, r := range referenceCases() {
			var got bytes.Buffer
			if err := j.Report(&got, r); err != nil {
				t.Fatal(err)
			}
			if want := junitReference(t, j, r); !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s (warn as failure %v): the junit format differs from encoding/xml:\n got:\n%s\nwant:\n%s", name, warnAsFailure, got.Bytes(), want)
			}
		}
	}
}

func FuzzXMLText(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Add("a]]>b]]]>>c\x01\ud7ff\ue000\U0010ffff\xf4\x90\x80\x80")
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := xml.NewEncoder(&want)
		v := struct {
			XMLName xml.Name `xml:"e"`
			Attr    string   `xml:"a,attr"`
			Text    string   `xml:",cdata"`
		}{Attr: s, Text: s}
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		got := append(appendXMLAttr([]byte(`<e a="`), s), `">`...)
		got = append(appendCDATA(got, []byte(s)), "</e>"...)
		if string(got) != want.String() {
			t.Errorf("%q: appendXMLAttr and appendCDATA give\n%s\nencoding/xml:\n%s", s, got, want.Bytes())
		}
	})
}

// FuzzSanitized: the byte scan that lets sanitize return its input agrees
// with the plain reading, rune by rune.
func FuzzSanitized(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, true)
	}
	f.Add("\xc2\x85\xe0\xc2\x9f\xc2", false)
	f.Fuzz(func(t *testing.T, s string, keepNewlines bool) {
		want := true
		for _, r := range s {
			if isControl(r) && r != '\t' && (r != '\n' || !keepNewlines) {
				want = false
			}
		}
		if got := sanitized(s, keepNewlines); got != want {
			t.Errorf("sanitized(%q, %v) = %v, want %v", s, keepNewlines, got, want)
		}
	})
}

// FuzzSeconds: junitSeconds writes what FormatFloat writes for
// d.Seconds(), which it stands in for.
func FuzzSeconds(f *testing.F) {
	for _, d := range []int64{0, -1, 1, 499_999, 500_000, 500_001, 1_000_000, 1_234_567_891, 12_345_500_000, 1<<52 - 1, 1 << 52, 1<<62 + 1_500_000, math.MaxInt64} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, d int64) {
		for _, d := range []int64{d, d % (1 << 52), d % 1e12} { // the integer path's range too
			want := strconv.FormatFloat(max(time.Duration(d), 0).Seconds(), 'f', 3, 64)
			if got := string(junitSeconds(d).append(nil)); got != want {
				t.Errorf("junitSeconds(%d) = %s, FormatFloat: %s", d, got, want)
			}
		}
	})
}

func FuzzDecimal(f *testing.F) {
	for _, v := range awkwardFloats {
		f.Add(v)
	}
	f.Add(float64(1<<53 - 1))
	f.Add(float64(1 << 53))
	f.Add(-4503599627370497.0)
	f.Fuzz(func(t *testing.T, v float64) {
		for _, v := range []float64{v, math.Trunc(v), math.Mod(math.Trunc(v), 1<<54)} {
			if got, want := string(appendDecimal(nil, v)), strconv.FormatFloat(v, 'f', -1, 64); got != want {
				t.Errorf("appendDecimal(%v) = %s, FormatFloat: %s", v, got, want)
			}
		}
	})
}

// FuzzXMLFit: xmlText's one-pass test agrees with its three passes.
func FuzzXMLFit(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		slow := nonCharacters.Replace(strings.ToValidUTF8(sanitize(s, true), "\uFFFD"))
		if got := xmlFit(s); got != (slow == s) {
			t.Errorf("xmlFit(%q) = %v, but xmlText gives %q", s, got, slow)
		}
	})
}

// TestPrintable8 compares printable8 with a look at each byte, on words
// of bytes drawn mostly from the edges of the printable range.
func TestPrintable8(t *testing.T) {
	edges := []byte{0x00, 0x01, 0x09, 0x0a, 0x1f, 0x20, 0x21, 'x', 0x7e, 0x7f, 0x80, 0xc2, 0xfe, 0xff}
	rng := rand.New(rand.NewPCG(8, 8))
	word := make([]byte, 8)
	for range 200000 {
		want := true
		for k := range word {
			if rng.IntN(4) == 0 {
				word[k] = edges[rng.IntN(len(edges))]
			} else {
				word[k] = byte(rng.IntN(256))
			}
			if rng.IntN(2) == 0 {
				word[k] = 0x20 + byte(rng.IntN(0x5f))
			}
			want = want && word[k] >= 0x20 && word[k] <= 0x7e
		}
		if got := printable8(string(word)); got != want {
			t.Fatalf("printable8(%q) = %v", word, got)
		}
	}
}
