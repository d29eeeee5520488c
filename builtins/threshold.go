package builtins

// This file holds threshold() and the Nagios range syntax it accepts
// (https://nagios-plugins.org/doc/guidelines.html#THRESHOLDFORMAT), which
// the Nagios reporter reuses to write perfdata.

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/infra-guard/infra-guard/result"
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

	status := result.OK
	switch {
	case c != nil && c.Alert(v):
		status = result.Fail
	case w != nil && w.Alert(v):
		status = result.Warn
	}
	if name == "" {
		name = "value"
	}
	return &Result{
		Status:  status,
		Message: thresholdMessage(name, v, unit, w, c),
		Metrics: []result.Metric{{Name: name, Value: v, Unit: unit, Warn: w.perfdata(), Crit: c.perfdata()}},
	}, nil
}

// limit is a parsed warn or crit argument, nil when the argument was None.
type limit struct {
	result.Range
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
		r, err := result.ParseRange(string(v))
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
		return &limit{result.Range{Start: math.Inf(-1), End: n}, result.FormatNumber(n)}, nil
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
		limits = append(limits, "warn "+warn.Describe())
	}
	if crit != nil {
		limits = append(limits, "crit "+crit.Describe())
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
			return result.FormatNumber(v)
		}
	}
	return result.FormatNumber(rounded)
}
