package builtins

// This file reads the output of a Monitoring Plugins-compatible program
// (https://www.monitoring-plugins.org/doc/guidelines.html#AEN200): the
// first line is the message, the following lines the long text, and
// everything after the first "|" of a line is performance data, in the
// form 'label'=value[UOM];[warn];[crit];[min];[max], items separated by
// spaces. plugin() turns it into a result; nothing in it touches the
// system, so it is fuzzed.

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/infra-guard/infra-guard/result"
)

// PerfData is one item of performance data. Warn and Crit are Nagios
// ranges as result.ParseRange reads them ("" when absent); Min and Max
// are NaN when absent.
type PerfData struct {
	Label      string
	Value      float64
	Unit       string
	Warn, Crit string
	Min, Max   float64
}

// pluginOutput is a plugin's output split as the guidelines say.
type pluginOutput struct {
	Message  string
	LongText string
	Perf     []PerfData
	Problems []string // perfdata items that were left out, and why
}

// parsePluginOutput splits a plugin's standard output into its message
// (the text of the first line before any "|"), its long text (the other
// lines up to the one that holds a "|") and its performance data (after
// the "|" of the first line, after the "|" of a later line, and every
// line after that one).
func parsePluginOutput(out string) pluginOutput {
	out = strings.ReplaceAll(out, "\r\n", "\n")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	var (
		p        pluginOutput
		perf     []string
		long     []string
		longDone bool
	)
	first, firstPerf, _ := strings.Cut(lines[0], "|")
	p.Message = strings.TrimSpace(first)
	perf = append(perf, firstPerf)
	for _, line := range lines[1:] {
		if longDone {
			perf = append(perf, line)
			continue
		}
		text, rest, found := strings.Cut(line, "|")
		long = append(long, text)
		if found {
			perf = append(perf, rest)
			longDone = true
		}
	}
	p.LongText = strings.TrimRight(strings.Join(long, "\n"), " \n")
	for _, s := range perf {
		items, problems := parsePerfData(s)
		p.Perf = append(p.Perf, items...)
		p.Problems = append(p.Problems, problems...)
	}
	return p
}

// parsePerfData reads the performance data of one line. An item that does
// not follow the grammar, or whose value is "U" (undetermined), is left
// out and described in problems: a plugin's status and message stay
// useful when one of its numbers is not.
func parsePerfData(s string) (items []PerfData, problems []string) {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return items, problems
		}
		var item string
		item, s = nextPerfItem(s)
		pd, err := parsePerfItem(item)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%q: %v", item, err))
			continue
		}
		items = append(items, pd)
	}
}

// nextPerfItem cuts the first item off s: up to the next space outside a
// quoted label. In a quoted label two quotes stand for one.
func nextPerfItem(s string) (item, rest string) {
	i := 0
	if strings.HasPrefix(s, "'") {
		for i = 1; i < len(s); i++ {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
					continue
				}
				i++
				break
			}
		}
	}
	if j := strings.IndexAny(s[i:], " \t"); j >= 0 {
		return s[:i+j], s[i+j:]
	}
	return s, ""
}

// parsePerfItem reads 'label'=value[UOM];[warn];[crit];[min];[max].
func parsePerfItem(item string) (PerfData, error) {
	pd := PerfData{Min: math.NaN(), Max: math.NaN()}
	var rest string
	if strings.HasPrefix(item, "'") {
		var b strings.Builder
		i := 1
		closed := false
		for ; i < len(item); i++ {
			if item[i] == '\'' {
				if i+1 < len(item) && item[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				closed = true
				i++
				break
			}
			b.WriteByte(item[i])
		}
		if !closed {
			return pd, fmt.Errorf("the quoted label has no closing quote")
		}
		pd.Label = b.String()
		if !strings.HasPrefix(item[i:], "=") {
			return pd, fmt.Errorf("no = after the label")
		}
		rest = item[i+1:]
	} else {
		label, after, ok := strings.Cut(item, "=")
		if !ok {
			return pd, fmt.Errorf("no = between label and value")
		}
		if strings.Contains(label, "'") {
			return pd, fmt.Errorf("a label with a quote must be quoted, with the quote doubled")
		}
		pd.Label, rest = label, after
	}
	if pd.Label == "" {
		return pd, fmt.Errorf("the label is empty")
	}
	fields := strings.Split(rest, ";")
	if len(fields) > 5 {
		return pd, fmt.Errorf("more than 5 fields (value;warn;crit;min;max)")
	}
	fields = append(fields, make([]string, 5-len(fields))...)
	num, unit := splitUnit(fields[0])
	if num == "U" {
		return pd, fmt.Errorf("the value is undetermined (U)")
	}
	v, err := parsePerfNumber(num)
	if err != nil {
		return pd, fmt.Errorf("value: %v", err)
	}
	pd.Value, pd.Unit = v, unit
	for i, dst := range []*string{&pd.Warn, &pd.Crit} {
		if fields[1+i] == "" {
			continue
		}
		if _, err := result.ParseRange(fields[1+i]); err != nil {
			return pd, fmt.Errorf("%s: %v", [...]string{"warn", "crit"}[i], err)
		}
		*dst = fields[1+i]
	}
	for i, dst := range []*float64{&pd.Min, &pd.Max} {
		if fields[3+i] == "" {
			continue
		}
		n, err := parsePerfNumber(fields[3+i])
		if err != nil {
			return pd, fmt.Errorf("%s: %v", [...]string{"min", "max"}[i], err)
		}
		*dst = n
	}
	return pd, nil
}

// splitUnit splits "12.5MB" into the number and its unit of measure.
func splitUnit(s string) (num, unit string) {
	i := len(s)
	for i > 0 && !strings.ContainsRune("0123456789.", rune(s[i-1])) {
		i--
	}
	if i == 0 { // no digit at all: "U", or garbage parsePerfNumber refuses
		return s, ""
	}
	return s[:i], s[i:]
}

// parsePerfNumber reads a finite decimal number: [-]digits[.digits], the
// guideline's form (no exponent, no "inf", no hex).
func parsePerfNumber(s string) (float64, error) {
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || strings.Trim(digits, "0123456789.") != "" || strings.Count(digits, ".") > 1 || digits == "." {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return v, nil
}

// metrics converts performance data to a result's metrics, in the
// plugin's order. A label the plugin repeats keeps its first value.
func (p pluginOutput) metrics() []result.Metric {
	seen := map[string]bool{}
	var ms []result.Metric
	for _, pd := range p.Perf {
		if seen[pd.Label] {
			continue
		}
		seen[pd.Label] = true
		ms = append(ms, result.Metric{Name: pd.Label, Value: pd.Value, Unit: pd.Unit, Warn: pd.Warn, Crit: pd.Crit})
	}
	return ms
}
