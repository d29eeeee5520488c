package report

// This file holds the nagios format: plugin output as the Nagios plugin
// guidelines define it (https://nagios-plugins.org/doc/guidelines.html),
// for Nagios, Icinga, Naemon, Checkmk, Zabbix and Sensu: a first line with
// the state, a summary and the performance data, then one line per check
// that did not pass (the "long text").
//
//	CRITICAL: 3 checks: 1 critical (nginx), 1 warning (api), 1 ok | api_latency_ms=1234 'root-disk_root disk'=41.5%;80;90;0;100
//	[CRITICAL] nginx: check returned False
//	[WARNING] api: database degraded

import (
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/infra-guard/infra-guard/result"
)

// nagiosState is the service state of a run, by the status its exit code
// reads as, and nagiosStatusWord the word for a check's status in the
// summary and the long text.
var nagiosState = [...]string{result.OK: "OK", result.Warn: "WARNING", result.Fail: "CRITICAL", result.Unknown: "UNKNOWN"}

var nagiosStatusWord = [...]string{
	result.OK: "ok", result.Warn: "warning", result.Fail: "critical",
	result.Unknown: "unknown", result.Skip: "skipped",
}

// nagiosUOM are the units of measurement the guidelines allow. Any other
// unit is left out of the perfdata (the value stays), since graphers
// reject or misread a metric with an unknown UOM.
var nagiosUOM = map[string]bool{
	"s": true, "ms": true, "us": true, "%": true,
	"B": true, "KB": true, "MB": true, "TB": true, "c": true,
}

// maxSummaryNames is how many check names the first line lists per status;
// the long text lists them all.
const maxSummaryNames = 3

type nagiosReporter struct{}

var _ Reporter = (*nagiosReporter)(nil)

func newNagios(Options) Reporter { return &nagiosReporter{} }

// Report writes the plugin output in a single Write.
func (n *nagiosReporter) Report(w io.Writer, r *result.Report) error {
	r = withoutCommands(r) // the report may be read by a GitHub runner
	var b strings.Builder
	b.WriteString(nagiosState[r.ExitCode.Status()] + ": " + nagiosText(nagiosSummary(r)))
	if perf := nagiosPerfdata(r); perf != "" {
		b.WriteString(" | " + perf)
	}
	b.WriteByte('\n')
	for _, e := range r.Errors {
		b.WriteString("[UNKNOWN] " + nagiosText(flatten(e.String())) + "\n")
	}
	// Problems, worst first (FAIL, UNKNOWN, WARN), else in report order.
	problems := make([]result.CheckResult, 0, len(r.Checks))
	for _, c := range r.Checks {
		if st := c.Status.Valid(); st == result.Fail || st == result.Unknown || st == result.Warn {
			problems = append(problems, c)
		}
	}
	slices.SortStableFunc(problems, func(a, b result.CheckResult) int {
		return b.Status.Valid().Severity() - a.Status.Valid().Severity()
	})
	for _, c := range problems {
		line := "[" + strings.ToUpper(nagiosStatusWord[c.Status.Valid()]) + "] " + oneLine(c.Name) + ": " + flatten(problemMessage(c))
		b.WriteString(nagiosText(line) + "\n")
	}
	if r.Host != "" {
		b.WriteString("checked on " + nagiosText(oneLine(r.Host)) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// nagiosSummary is the text after "STATE: ": the counts per status, worst
// first, naming the checks that did not pass.
func nagiosSummary(r *result.Report) string {
	var prefix string
	if r.Incomplete != "" {
		prefix = "run incomplete (" + oneLine(r.Incomplete) + "); "
	}
	switch {
	case len(r.Errors) > 0:
		return prefix + "load failed with " + plural(len(r.Errors), "error") + ", no checks ran"
	case len(r.Checks) == 0:
		return prefix + "no checks registered"
	}
	names := map[result.Status][]string{}
	for _, c := range r.Checks {
		st := c.Status.Valid()
		names[st] = append(names[st], oneLine(c.Name))
	}
	parts := []string{}
	for _, st := range []result.Status{result.Fail, result.Unknown, result.Warn, result.OK, result.Skip} {
		ns := names[st]
		if len(ns) == 0 {
			continue
		}
		part := strconv.Itoa(len(ns)) + " " + nagiosStatusWord[st]
		if st == result.Fail || st == result.Unknown || st == result.Warn {
			shown := ns[:min(len(ns), maxSummaryNames)]
			list := strings.Join(shown, ", ")
			if len(ns) > len(shown) {
				list += ", …"
			}
			part += " (" + list + ")"
		}
		parts = append(parts, part)
	}
	var suffix string
	if n := rounds(r); n > 1 {
		suffix = " after " + strconv.Itoa(n) + " rounds"
	}
	return prefix + plural(len(r.Checks), "check") + ": " + strings.Join(parts, ", ") + suffix
}

// nagiosPerfdata is every metric of every check as
// 'label'=value[UOM];[warn];[crit];[min];[max], separated by spaces, with
// unique labels "check_metric".
func nagiosPerfdata(r *result.Report) string {
	var items []string
	seen := map[string]bool{}
	for _, c := range r.Checks {
		for _, m := range c.Metrics {
			label := nagiosLabel(c.Name + "_" + m.Name)
			for i := 2; seen[label]; i++ {
				label = nagiosLabel(c.Name + "_" + m.Name + "_" + strconv.Itoa(i))
			}
			seen[label] = true

			uom := m.Unit
			if !nagiosUOM[uom] {
				uom = ""
			}
			fields := []string{nagiosValue(m.Value) + uom, nagiosRange(m.Warn), nagiosRange(m.Crit), "", ""}
			if uom == "%" {
				fields[3], fields[4] = "0", "100"
			}
			for len(fields) > 1 && fields[len(fields)-1] == "" {
				fields = fields[:len(fields)-1] // trailing empty fields may be dropped
			}
			items = append(items, quoteLabel(label)+"="+strings.Join(fields, ";"))
		}
	}
	return strings.Join(items, " ")
}

var labelEscaper = strings.NewReplacer("=", "_", "|", "¦")

// nagiosLabel makes s a perfdata label: the guidelines allow any character
// but "=" and "'" (which quoting handles); "=" becomes "_", a "|" (which
// would end the perfdata) becomes "¦", and control characters are escaped.
func nagiosLabel(s string) string {
	return labelEscaper.Replace(oneLine(s))
}

// quoteLabel quotes a label that has a blank or a quote, doubling quotes.
func quoteLabel(s string) string {
	if !strings.ContainsAny(s, " \t'") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// nagiosValue writes v in the class [-0-9.] the guidelines allow (no
// exponent), or "U" when it is not a number.
func nagiosValue(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "U"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// nagiosRange rewrites a threshold range with numbers in the perfdata
// class (no exponent); a range that does not parse is left out.
func nagiosRange(s string) string {
	if s == "" {
		return ""
	}
	rg, err := result.ParseRange(s)
	if err != nil {
		return ""
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	var out string
	switch lowOpen, highOpen := math.IsInf(rg.Start, -1), math.IsInf(rg.End, 1); {
	case rg.Start == 0 && !highOpen:
		out = num(rg.End)
	case lowOpen && highOpen:
		out = "~:"
	case lowOpen:
		out = "~:" + num(rg.End)
	case highOpen:
		out = num(rg.Start) + ":"
	default:
		out = num(rg.Start) + ":" + num(rg.End)
	}
	if rg.Inside {
		out = "@" + out
	}
	return out
}

// flatten puts a multi-line message on one line: "a:\n  b\n  c" becomes
// "a: b; c".
func flatten(s string) string {
	var out strings.Builder
	for i, l := range lines(s) {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if i > 0 && out.Len() > 0 {
			if strings.HasSuffix(out.String(), ":") {
				out.WriteString(" ")
			} else {
				out.WriteString("; ")
			}
		}
		out.WriteString(l)
	}
	return out.String()
}

// nagiosText keeps text out of the perfdata: a "|" would start it.
func nagiosText(s string) string { return strings.ReplaceAll(s, "|", "¦") }
