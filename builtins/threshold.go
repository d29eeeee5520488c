// This file holds threshold() and the Nagios range syntax it accepts
// (https://nagios-plugins.org/doc/guidelines.html#THRESHOLDFORMAT), which
// the Nagios reporter reuses to write perfdata.
package builtins

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
)

// threshold(value, warn=None, crit=None, name="", unit="") judges value
// against a critical and a warning range, in that order, and returns an
// ok, warn or fail result with one metric. A number N as warn or crit means
// "alert above N"; a string is a Nagios range. It touches nothing outside
// the script, so it works while the script is loaded too.
func threshold(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		value starlark.Value
		warn  starlark.Value = starlark.None
		crit  starlark.Value = starlark.None
		name  string
		unit  string
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"value", &value, "warn?", &warn, "crit?", &crit, "name?", &name, "unit?", &unit); err != nil {
		return nil, err
	}
	v, ok := toFloat(value)
	if !ok {
		return nil, fmt.Errorf("%s: value must be an int or float, got %s", b.Name(), value.Type())
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, fmt.Errorf("%s: value must be a finite number, got %v", b.Name(), v)
	}
	w, err := unpackThreshold(b.Name(), "warn", warn)
	if err != nil {
		return nil, err
	}
	c, err := unpackThreshold(b.Name(), "crit", crit)
	if err != nil {
		return nil, err
	}

	status := OK
	switch {
	case c != nil && c.Alert(v):
		status = Fail
	case w != nil && w.Alert(v):
		status = Warn
	}
	if name == "" {
		name = "value"
	}
	return &Result{
		Status:  status,
		Message: thresholdMessage(name, v, unit, w, c),
		Metrics: []Metric{{Name: name, Value: v, Unit: unit, Warn: w.perfdata(), Crit: c.perfdata()}},
	}, nil
}

// limit is a parsed warn or crit argument, nil when the argument was None.
type limit struct {
	Range
	text string // as written to perfdata
}

func (l *limit) perfdata() string {
	if l == nil {
		return ""
	}
	return l.text
}

// unpackThreshold parses threshold()'s warn or crit argument.
func unpackThreshold(fn, param string, v starlark.Value) (*limit, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.String:
		r, err := ParseRange(string(v))
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", fn, param, err)
		}
		return &limit{r, r.String()}, nil
	case starlark.Int, starlark.Float:
		n, _ := toFloat(v)
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, fmt.Errorf("%s: %s must be a finite number, got %v", fn, param, n)
		}
		// Perfdata gets the plain number, as check_disk and friends
		// write it. Nagios reads it as 0:N, which differs from "above
		// N" only for negative values, rare in what checks measure.
		return &limit{Range{Start: math.Inf(-1), End: n}, formatNumber(n)}, nil
	}
	return nil, fmt.Errorf("%s: %s must be a number or a Nagios range string, got %s", fn, param, v.Type())
}

// thresholdMessage says the value and what it was judged against:
// "root disk 85.2% (warn > 80, crit > 90)".
func thresholdMessage(name string, v float64, unit string, warn, crit *limit) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(displayValue(v, warn, crit))
	if unit != "" && unit != "%" {
		b.WriteByte(' ') // "120 ms", but "85.2%"
	}
	b.WriteString(unit)
	var limits []string
	if warn != nil {
		limits = append(limits, "warn "+warn.describe())
	}
	if crit != nil {
		limits = append(limits, "crit "+crit.describe())
	}
	if len(limits) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(limits, ", "))
	}
	return b.String()
}

// displayValue rounds v for reading, to four significant digits or, from
// 1000 up, to an integer, unless rounding would put it on the other side of
// a limit: 80.00001 is shown exactly next to "warn > 80", or the message
// would contradict the status.
func displayValue(v float64, limits ...*limit) string {
	rounded := math.Round(v)
	if math.Abs(v) < 1000 {
		rounded, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 4, 64), 64)
	}
	for _, l := range limits {
		if l != nil && l.Alert(rounded) != l.Alert(v) {
			return formatNumber(v)
		}
	}
	return formatNumber(rounded)
}

// Range is a Nagios threshold range. It alerts when a value lies outside
// [Start, End], or inside it when Inside is set (the "@" prefix). Both ends
// are inclusive; an open end is an infinity.
//
//	10      alert if v < 0 or v > 10
//	10:     alert if v < 10
//	~:10    alert if v > 10
//	10:20   alert if v < 10 or v > 20
//	@10:20  alert if 10 ≤ v ≤ 20
type Range struct {
	Start  float64 // math.Inf(-1) for "~"
	End    float64 // math.Inf(+1) when nothing follows the colon
	Inside bool
}

const rangeSyntax = `use N (alert outside 0..N), N: (below N), ~:N (above N), N:M (outside N..M) or @N:M (inside N..M)`

// ParseRange parses a Nagios range. It is stricter than the C plugins,
// which read any unparsable text as 0: every number must parse, the start
// may not be empty (write 0:N or ~:N), and infinities are spelled "~" or
// an empty end, never "inf".
func ParseRange(s string) (Range, error) {
	r := Range{Start: 0, End: math.Inf(1)}
	text := s
	if rest, ok := strings.CutPrefix(text, "@"); ok {
		r.Inside = true
		text = rest
	}
	if text == "" {
		return Range{}, fmt.Errorf("invalid range %q: it is empty; %s", s, rangeSyntax)
	}
	start, end, hasColon := strings.Cut(text, ":")
	if !hasColon {
		// "10" means 0:10.
		n, err := parseBound(s, text)
		if err != nil {
			return Range{}, err
		}
		if n < 0 {
			return Range{}, fmt.Errorf("invalid range %q: a single number N means 0..N, so it cannot be negative; use ~:%s for alert above or %s: for alert below", s, text, text)
		}
		r.End = n
		return r, nil
	}
	switch start {
	case "~":
		r.Start = math.Inf(-1)
	case "":
		return Range{}, fmt.Errorf("invalid range %q: the start is missing; write 0%s or ~%s", s, text, text)
	default:
		n, err := parseBound(s, start)
		if err != nil {
			return Range{}, err
		}
		r.Start = n
	}
	if end != "" {
		n, err := parseBound(s, end)
		if err != nil {
			return Range{}, err
		}
		r.End = n
	}
	if r.Start > r.End {
		return Range{}, fmt.Errorf("invalid range %q: start %s is greater than end %s", s, formatNumber(r.Start), formatNumber(r.End))
	}
	return r, nil
}

// parseBound parses one end of the range s.
func parseBound(s, num string) (float64, error) {
	n, err := strconv.ParseFloat(num, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("invalid range %q: %s is too large", s, num)
	case err != nil:
		return 0, fmt.Errorf("invalid range %q: %q is not a number; %s", s, num, rangeSyntax)
	case math.IsInf(n, 0):
		return 0, fmt.Errorf("invalid range %q: write infinity as ~ at the start or an empty end; %s", s, rangeSyntax)
	case math.IsNaN(n):
		return 0, fmt.Errorf("invalid range %q: %s is not a number; %s", s, num, rangeSyntax)
	}
	return n, nil
}

// Alert reports whether v is outside the range (inside, for an "@" range).
func (r Range) Alert(v float64) bool {
	in := r.Start <= v && v <= r.End
	return in == r.Inside
}

// String returns the range in its shortest Nagios form; ParseRange reads
// it back to an equal Range.
func (r Range) String() string {
	var s string
	switch {
	case r.Start == 0 && !math.IsInf(r.End, 1):
		s = formatNumber(r.End) // "10" for 0:10
	case math.IsInf(r.Start, -1) && math.IsInf(r.End, 1):
		s = "~:"
	case math.IsInf(r.Start, -1):
		s = "~:" + formatNumber(r.End)
	case math.IsInf(r.End, 1):
		s = formatNumber(r.Start) + ":"
	default:
		s = formatNumber(r.Start) + ":" + formatNumber(r.End)
	}
	if r.Inside {
		s = "@" + s
	}
	return s
}

// describe says when r alerts, for messages: "> 80", "outside 10..20".
func (r Range) describe() string {
	lowOpen, highOpen := math.IsInf(r.Start, -1), math.IsInf(r.End, 1)
	lo, hi := formatNumber(r.Start), formatNumber(r.End)
	if r.Inside {
		switch {
		case lowOpen && highOpen:
			return "always"
		case lowOpen:
			return "<= " + hi
		case highOpen:
			return ">= " + lo
		}
		return "inside " + lo + ".." + hi
	}
	switch {
	case lowOpen && highOpen:
		return "never"
	case lowOpen:
		return "> " + hi
	case highOpen:
		return "< " + lo
	}
	return "outside " + lo + ".." + hi
}

// formatNumber writes n exactly and without exponent where that stays
// short: "80", "85.2", "1e+21", "1e-07".
func formatNumber(n float64) string {
	if n == math.Trunc(n) && math.Abs(n) < 1e21 {
		return strconv.FormatFloat(n, 'f', -1, 64)
	}
	return strconv.FormatFloat(n, 'g', -1, 64)
}
