package report

// This file holds the json format: the report as one versioned JSON document
// (schema_version 1), described by schema/report-v1.schema.json. The Go
// types below are the document as encoding/json would write it, which the
// hand-written encoder matches: they fix the key order; every array and
// object is always present, never null, so consumers can index without
// checks.

import (
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/infra-guard/infra-guard/result"
)

// SchemaVersion is the schema_version the json format writes. It changes
// only when a field is removed or changes meaning; adding a field does not.
const SchemaVersion = 1

type jsonReport struct {
	SchemaVersion    int         `json:"schema_version"`
	Tool             string      `json:"tool"`
	Version          string      `json:"version"`
	Script           string      `json:"script"`
	Host             string      `json:"host,omitempty"`
	Started          string      `json:"started"`
	DurationMS       float64     `json:"duration_ms"`
	Rounds           int         `json:"rounds"`
	ExitCode         int         `json:"exit_code"`
	Incomplete       bool        `json:"incomplete"`
	IncompleteReason string      `json:"incomplete_reason,omitempty"`
	Errors           []string    `json:"errors"`
	Totals           totals      `json:"totals"`
	Checks           []jsonCheck `json:"checks"`
}

type jsonCheck struct {
	Name       string             `json:"name"`
	Status     string             `json:"status"`
	Message    string             `json:"message"`
	DurationMS float64            `json:"duration_ms"`
	Metrics    map[string]float64 `json:"metrics"` // encoding/json sorts the keys
	Perfdata   []jsonPerfdata     `json:"perfdata,omitempty"`
	Tags       []string           `json:"tags"`
	Location   jsonLocation       `json:"location"`
	Backtrace  string             `json:"backtrace,omitempty"`
}

// jsonLocation is where a check was registered, written as location
// writes it ("file:line") without making the string.
type jsonLocation struct {
	file string
	line int
}

func (l jsonLocation) MarshalText() ([]byte, error) { return []byte(location(l.file, l.line)), nil }

// UnmarshalText reads a location back, as tests do.
func (l *jsonLocation) UnmarshalText(text []byte) error {
	s := string(text)
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if n, err := strconv.Atoi(s[i+1:]); err == nil && n > 0 {
			*l = jsonLocation{s[:i], n}
			return nil
		}
	}
	*l = jsonLocation{file: s}
	return nil
}

// jsonPerfdata is one metric in full, as Nagios perfdata carries it.
type jsonPerfdata struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
	Warn  string  `json:"warn,omitempty"`
	Crit  string  `json:"crit,omitempty"`
}

type jsonReporter struct{ version string }

var _ Reporter = (*jsonReporter)(nil)

func newJSON(opts Options) Reporter { return &jsonReporter{version: opts.Version} }

// Report writes r as one JSON document, indented two spaces, with a
// trailing newline: what encoding/json's Encoder, with SetIndent("", "  ")
// and SetEscapeHTML(false), writes for the jsonReport of r. It is written
// by hand, one check at a time, so that 100,000 checks are neither held
// as Go values nor as one encoded document (and encoding/json's
// reflection and its re-indenting pass took 7 times the text format's
// time); TestJSONMatchesEncoding holds it to encoding/json's bytes.
func (j *jsonReporter) Report(w io.Writer, r *result.Report) error {
	r = withoutCommands(r) // the report may be read by a GitHub runner
	doc := j.head(r)
	s := newStream(w)
	const in = "\n  " // a member of the document
	b := append(s.b, "{"+in+`"schema_version": `...)
	b = strconv.AppendInt(b, int64(doc.SchemaVersion), 10)
	b = append(b, ","+in+`"tool": `...)
	b = appendJSONString(b, doc.Tool)
	b = append(b, ","+in+`"version": `...)
	b = appendJSONString(b, doc.Version)
	b = append(b, ","+in+`"script": `...)
	b = appendJSONString(b, doc.Script)
	if doc.Host != "" {
		b = append(b, ","+in+`"host": `...)
		b = appendJSONString(b, doc.Host)
	}
	b = append(b, ","+in+`"started": `...)
	b = appendJSONString(b, doc.Started)
	b = append(b, ","+in+`"duration_ms": `...)
	b = appendJSONFloat(b, doc.DurationMS)
	b = append(b, ","+in+`"rounds": `...)
	b = strconv.AppendInt(b, int64(doc.Rounds), 10)
	b = append(b, ","+in+`"exit_code": `...)
	b = strconv.AppendInt(b, int64(doc.ExitCode), 10)
	b = append(b, ","+in+`"incomplete": `...)
	b = strconv.AppendBool(b, doc.Incomplete)
	if doc.IncompleteReason != "" {
		b = append(b, ","+in+`"incomplete_reason": `...)
		b = appendJSONString(b, doc.IncompleteReason)
	}
	b = append(b, ","+in+`"errors": `...)
	b = appendJSONStrings(b, in, doc.Errors)
	t := doc.Totals
	b = append(b, ","+in+`"totals": {`+in+`  "checks": `...)
	b = strconv.AppendInt(b, int64(t.Checks), 10)
	for _, n := range [...]struct {
		member string
		n      int
	}{{`"ok": `, t.OK}, {`"warn": `, t.Warn}, {`"fail": `, t.Fail}, {`"unknown": `, t.Unknown}, {`"skip": `, t.Skip}} {
		b = append(b, ","+in+"  "...)
		b = append(b, n.member...)
		b = strconv.AppendInt(b, int64(n.n), 10)
	}
	b = append(b, in+"}"...)
	b = append(b, ","+in+`"checks": `...)
	if len(r.Checks) == 0 {
		s.b = append(b, "[]\n}\n"...)
		return s.end()
	}
	s.b = append(b, '[')

	var c jsonCheck
	var keys []string // c.Metrics' keys, sorted, as encoding/json writes a map
	for i := range r.Checks {
		c.fill(&r.Checks[i])
		if i > 0 {
			s.b = append(s.b, ',')
		}
		s.b = append(s.b, "\n    "...)
		s.b, keys = appendJSONCheck(s.b, &c, keys)
		s.mark()
	}
	s.b = append(s.b, "\n  ]\n}\n"...)
	return s.end()
}

// head is r's jsonReport without its checks.
func (j *jsonReporter) head(r *result.Report) jsonReport {
	return jsonReport{
		SchemaVersion:    SchemaVersion,
		Tool:             "infra-guard",
		Version:          j.version,
		Script:           r.Script,
		Host:             r.Host,
		Started:          r.Started.UTC().Format(time.RFC3339Nano),
		DurationMS:       millis(r.Duration),
		Rounds:           rounds(r),
		ExitCode:         int(r.ExitCode),
		Incomplete:       r.Incomplete != "",
		IncompleteReason: r.Incomplete,
		Errors:           errorStrings(r),
		Totals:           count(r),
	}
}

// fill sets jc to c's jsonCheck, reusing jc's map and perfdata slice.
func (jc *jsonCheck) fill(c *result.CheckResult) {
	metrics, perf := jc.Metrics, jc.Perfdata[:0]
	if metrics == nil {
		metrics = make(map[string]float64, len(c.Metrics))
	}
	clear(metrics)
	for _, m := range c.Metrics {
		// JSON has no NaN or infinities; such a metric is left out
		// rather than failing the whole report.
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			continue
		}
		metrics[m.Name] = m.Value
		perf = append(perf, jsonPerfdata{Name: m.Name, Value: m.Value, Unit: m.Unit, Warn: m.Warn, Crit: m.Crit})
	}
	*jc = jsonCheck{
		Name:       c.Name,
		Status:     c.Status.Valid().String(),
		Message:    c.Message,
		DurationMS: millis(c.Duration),
		Metrics:    metrics,
		Perfdata:   perf,
		Tags:       nonNil(c.Tags),
		Location:   jsonLocation{c.File, c.Line},
		Backtrace:  c.Backtrace,
	}
}

// appendJSONCheck appends c as an element of "checks", indented for that
// depth, without the comma or newline before it. keys is scratch space
// for the metrics' names, returned for reuse.
func appendJSONCheck(b []byte, c *jsonCheck, keys []string) ([]byte, []string) {
	const (
		in  = "\n      " // a member of the check
		in2 = in + "  "  // a metric, a perfdata object
		in3 = in2 + "  " // a member of a perfdata object
	)
	b = append(b, "{"+in+`"name": `...)
	b = appendJSONString(b, c.Name)
	b = append(b, ","+in+`"status": `...)
	b = appendJSONString(b, c.Status)
	b = append(b, ","+in+`"message": `...)
	b = appendJSONString(b, c.Message)
	b = append(b, ","+in+`"duration_ms": `...)
	b = appendJSONFloat(b, c.DurationMS)
	b = append(b, ","+in+`"metrics": `...)
	var value []byte // the one metric's value as written, when there is one
	switch {
	case len(c.Metrics) == 0:
		b = append(b, "{}"...)
	case len(c.Perfdata) == 1: // the usual case, without the map's order
		b = append(b, "{"+in2...)
		b = appendJSONString(b, c.Perfdata[0].Name)
		b = append(b, ": "...)
		start := len(b)
		b = appendJSONFloat(b, c.Perfdata[0].Value)
		value = b[start:]
		b = append(b, in+"}"...)
	default:
		keys = keys[:0]
		for k := range c.Metrics {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, in2...)
			b = appendJSONString(b, k)
			b = append(b, ": "...)
			b = appendJSONFloat(b, c.Metrics[k])
		}
		b = append(b, in+"}"...)
	}
	if len(c.Perfdata) > 0 {
		b = append(b, ","+in+`"perfdata": [`...)
		for i, p := range c.Perfdata {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, in2+"{"+in3+`"name": `...)
			b = appendJSONString(b, p.Name)
			b = append(b, ","+in3+`"value": `...)
			if len(c.Perfdata) == 1 {
				b = append(b, value...) // already formatted above (the old bytes stay valid if b grew)
			} else {
				b = appendJSONFloat(b, p.Value)
			}
			if p.Unit != "" {
				b = append(b, ","+in3+`"unit": `...)
				b = appendJSONString(b, p.Unit)
			}
			if p.Warn != "" {
				b = append(b, ","+in3+`"warn": `...)
				b = appendJSONString(b, p.Warn)
			}
			if p.Crit != "" {
				b = append(b, ","+in3+`"crit": `...)
				b = appendJSONString(b, p.Crit)
			}
			b = append(b, in2+"}"...)
		}
		b = append(b, in+"]"...)
	}
	b = append(b, ","+in+`"tags": `...)
	b = appendJSONStrings(b, in, c.Tags)
	b = append(b, ","+in+`"location": "`...)
	b = appendJSONText(b, c.Location.file)
	if c.Location.file != "" && c.Location.line > 0 {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(c.Location.line), 10)
	}
	b = append(b, '"')
	if c.Backtrace != "" {
		b = append(b, ","+in+`"backtrace": `...)
		b = appendJSONString(b, c.Backtrace)
	}
	return append(b, "\n    }"...), keys
}

// appendJSONStrings appends an array of strings that is the value of a
// member at indent ("\n" and the member's indentation): "[]" when empty,
// as encoding/json writes it.
func appendJSONStrings(b []byte, indent string, ss []string) []byte {
	if len(ss) == 0 {
		return append(b, "[]"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, indent...)
		b = append(b, "  "...)
		b = appendJSONString(b, s)
	}
	b = append(b, indent...)
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// jsonPlain marks the ASCII bytes a JSON string holds as they are; the
// others, and the bytes of multi-byte characters, are looked at again.
var jsonPlain = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s quoted as encoding/json quotes a string with
// HTML escaping off (this is its appendString): '"', '\' and control
// characters escaped, invalid UTF-8 as \ufffd, and U+2028 and U+2029
// escaped for JSONP. FuzzJSONString compares the two.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONText(b, s)
	return append(b, '"')
}

// appendJSONText appends s escaped as appendJSONString does, without the
// quotes.
func appendJSONText(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if jsonPlain[s[i]] {
			i++
			continue
		}
		if c := s[i]; c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}

// appendJSONFloat appends a finite f as encoding/json writes a float64:
// like %g, but with exponents only below 1e-6 and from 1e21 on, and
// without padding the exponent to two digits.
func appendJSONFloat(b []byte, f float64) []byte {
	if abs := math.Abs(f); abs == 0 || abs >= 1e-6 && abs < 1e21 {
		return appendDecimal(b, f)
	}
	b = strconv.AppendFloat(b, f, 'e', -1, 64)
	if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' { // e-09 to e-9
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b
}

// millis is d in milliseconds with microsecond precision.
func millis(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)/time.Microsecond) / 1e3
}

// location is "file:line", "file" without a line, "" without a file.
func location(file string, line int) string {
	if file == "" {
		return ""
	}
	if line <= 0 {
		return file
	}
	return file + ":" + strconv.Itoa(line)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
