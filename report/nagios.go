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
	"bytes"
	"hash/maphash"
	"io"
	"math"
	"math/bits"
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

// nagiosProblem starts the long text's line for a check that did not pass.
var nagiosProblem = [...]string{result.Warn: "[WARNING] ", result.Fail: "[CRITICAL] ", result.Unknown: "[UNKNOWN] "}

// maxSummaryNames is how many check names the first line lists per status;
// the long text lists them all.
const maxSummaryNames = 3

type nagiosReporter struct{}

var _ Reporter = (*nagiosReporter)(nil)

func newNagios(Options) Reporter { return &nagiosReporter{} }

// Report writes the plugin output, streamed (see stream): the
// performance data of 100,000 checks is one line of megabytes.
func (n *nagiosReporter) Report(w io.Writer, r *result.Report) error {
	// The report may be read by a GitHub runner, so every text written
	// goes through NoCommands. The report's own texts (load errors, host,
	// why the run was cut short) are few and go now; the checks' go as
	// they are written (a name, a problem's message, a metric's label and
	// range), for the format writes few of them: withoutCommands' look at
	// every message and file cost it a fifth of its time.
	// TestNoCommandsAsWritten holds the two ways to the same bytes.
	own := *r
	own.Checks = nil
	own = *own.MapText(NoCommands)
	own.Checks = r.Checks
	r = &own
	s := newStream(w)
	s.b = append(s.b, nagiosState[r.ExitCode.Status()]+": "...)
	s.b = appendNagiosText(s.b, nagiosSummary(r))
	appendPerfdata(s, r)
	s.b = append(s.b, '\n')
	for _, e := range r.Errors {
		s.b = append(s.b, "[UNKNOWN] "...)
		s.b = append(appendNagiosText(s.b, flatten(e.String())), '\n')
	}
	// Problems, worst first (FAIL, UNKNOWN, WARN), else in report order:
	// one pass to find them, since each pass over 100,000 checks is
	// mostly waiting for memory.
	var problems [result.Skip + 1][]int
	for i := range r.Checks {
		if st := r.Checks[i].Status.Valid(); st == result.Fail || st == result.Unknown || st == result.Warn {
			problems[st] = append(problems[st], i)
		}
	}
	for _, st := range []result.Status{result.Fail, result.Unknown, result.Warn} {
		for _, i := range problems[st] {
			c := &r.Checks[i]
			s.b = append(s.b, nagiosProblem[st]...)
			s.b = appendNagiosText(s.b, nagiosName(c.Name))
			s.b = append(s.b, ": "...)
			s.b = append(appendNagiosText(s.b, nagiosProblemText(c)), '\n')
			s.mark()
		}
	}
	if r.Host != "" {
		s.b = append(s.b, "checked on "...)
		s.b = append(appendNagiosText(s.b, oneLine(r.Host)), '\n')
	}
	return s.end()
}

// nagiosName is a check's name as the first line and the long text show
// it: through NoCommands, on one line. A name that labelPlain passes (the
// usual one) is all that as it is.
func nagiosName(name string) string {
	if labelPlain(name) {
		return name
	}
	return oneLine(NoCommands(name))
}

// nagiosProblemText is what the long text says of a check that did not
// pass: its message, or what problemMessage finds instead, through
// NoCommands and flattened. A message that labelPlain passes (on one
// line, nothing to escape or to take for a command) is only trimmed.
func nagiosProblemText(c *result.CheckResult) string {
	if msg := trimBlanks(c.Message); msg != "" && labelPlain(msg) {
		return strings.TrimSpace(msg)
	}
	text := *c
	text.Message, text.Backtrace = NoCommands(c.Message), NoCommands(c.Backtrace)
	return flatten(problemMessage(text))
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
	var counts [result.Skip + 1]int
	var names [result.Skip + 1][]string // the first maxSummaryNames of each
	for i := range r.Checks {
		st := r.Checks[i].Status.Valid()
		if counts[st]++; counts[st] <= maxSummaryNames {
			names[st] = append(names[st], nagiosName(r.Checks[i].Name))
		}
	}
	parts := []string{}
	for _, st := range []result.Status{result.Fail, result.Unknown, result.Warn, result.OK, result.Skip} {
		if counts[st] == 0 {
			continue
		}
		part := strconv.Itoa(counts[st]) + " " + nagiosStatusWord[st]
		if st == result.Fail || st == result.Unknown || st == result.Warn {
			list := strings.Join(names[st], ", ")
			if counts[st] > len(names[st]) {
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

// appendPerfdata appends " | " and every metric of every check as
// 'label'=value[UOM];[warn];[crit];[min];[max], separated by spaces, with
// unique labels "check_metric"; nothing when there are no metrics.
func appendPerfdata(s *stream, r *result.Report) {
	n := 0
	for i := range r.Checks {
		n += len(r.Checks[i].Metrics)
	}
	if n == 0 {
		return
	}
	s.b = append(s.b, " | "...)
	var seen map[string]bool // nil when every label is unique as it is
	if !labelsDistinct(r, n) {
		seen = make(map[string]bool, n)
	}
	var ranges nagiosRanges
	var unit struct { // the last unit looked up in nagiosUOM: metrics mostly share theirs
		name string
		ok   bool
	}
	var label []byte
	first := true
	for i := range r.Checks {
		c := &r.Checks[i]
		for _, m := range c.Metrics {
			if !first {
				s.b = append(s.b, ' ')
			}
			first = false
			label = appendNagiosLabel(label[:0], c.Name, m.Name, 0)
			if seen != nil {
				for i := 2; seen[string(label)]; i++ {
					label = appendNagiosLabel(label[:0], c.Name, m.Name, i)
				}
				seen[string(label)] = true
			}

			// A unit in nagiosUOM is one NoCommands leaves as it is.
			if m.Unit != unit.name {
				unit.name, unit.ok = m.Unit, nagiosUOM[m.Unit]
			}
			uom := m.Unit
			if !unit.ok {
				uom = ""
			}
			fields := [5]string{"", ranges.of(m.Warn, 0), ranges.of(m.Crit, 1)}
			if uom == "%" {
				fields[3], fields[4] = "0", "100"
			}
			last := len(fields) - 1
			for last > 0 && fields[last] == "" {
				last-- // trailing empty fields may be dropped
			}
			s.b = appendQuotedLabel(s.b, label)
			s.b = append(appendNagiosValue(append(s.b, '='), m.Value), uom...)
			for _, f := range fields[1 : last+1] {
				s.b = append(append(s.b, ';'), f...)
			}
			s.mark()
		}
	}
}

// labelsDistinct reports whether the labels of r's n metrics (without
// "_n") are all different, so that none needs a number: it compares their
// 64-bit hashes (distinctHashes), which takes a fraction of the time a set
// of 100,000 labels does. Equal labels hash alike, so distinct hashes mean
// distinct labels; two different labels that hash alike only cost the
// exact way.
func labelsDistinct(r *result.Report, n int) bool {
	seed := maphash.MakeSeed()
	hashes := make([]uint64, 0, n)
	var label []byte
	for i := range r.Checks {
		for _, m := range r.Checks[i].Metrics {
			label = appendNagiosLabel(label[:0], r.Checks[i].Name, m.Name, 0)
			hashes = append(hashes, maphash.Bytes(seed, label))
		}
	}
	return distinctHashes(hashes)
}

// distinctHashes reports whether no two of hashes, which are spread
// evenly, are equal. It puts them in buckets by their top bits, at least
// as many buckets as hashes, in two passes (a counting sort on those
// bits); equal hashes share a bucket, and each bucket, of a few at most,
// is compared within. That took a quarter of the time of sorting them.
func distinctHashes(hashes []uint64) bool {
	k := bits.Len(uint(len(hashes)))
	shift := 64 - k
	// Each bucket's size, then where it ends, then where it starts; the
	// one more at the end stays len(hashes).
	bucket := make([]int32, 1<<k+1)
	for _, h := range hashes {
		bucket[h>>shift]++
	}
	var sum int32
	for b := range bucket {
		sum += bucket[b]
		bucket[b] = sum
	}
	byBucket := make([]uint64, len(hashes))
	for _, h := range hashes {
		b := h >> shift
		bucket[b]--
		byBucket[bucket[b]] = h
	}
	for b := range len(bucket) - 1 {
		in := byBucket[bucket[b]:bucket[b+1]]
		for i, h := range in {
			if slices.Contains(in[i+1:], h) {
				return false
			}
		}
	}
	return true
}

// appendNagiosLabel appends nagiosLabel(check + "_" + metric), each name
// through NoCommands, with "_n" after it when n > 0, building no string
// when neither name needs escaping or NoCommands (nearly always).
func appendNagiosLabel(b []byte, check, metric string, n int) []byte {
	if !labelPlain(check) || !labelPlain(metric) {
		s := NoCommands(check) + "_" + NoCommands(metric)
		if n > 0 {
			s += "_" + strconv.Itoa(n)
		}
		return append(b, nagiosLabel(s)...)
	}
	b = append(append(append(b, check...), '_'), metric...)
	if n > 0 {
		b = strconv.AppendInt(append(b, '_'), int64(n), 10)
	}
	return b
}

// nagiosRanges remembers the last warn and crit range rewritten: checks
// mostly share their thresholds, and parsing them was a third of the
// format's time.
type nagiosRanges [2]struct{ in, out string }

func (c *nagiosRanges) of(s string, which int) string {
	if e := &c[which]; e.in != s { // the zero value is right for ""
		e.in, e.out = s, nagiosRange(NoCommands(s))
	}
	return c[which].out
}

var labelEscaper = strings.NewReplacer("=", "_", "|", "¦")

// labelPlain reports whether nagiosLabel and NoCommands leave s as it
// is, and so would leave it so inside a longer label: no "=", "|", ":",
// "#" or control character, and no 0xC2, which may start a C1 control (or
// may not: then the slow way gives the same).
func labelPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if !labelPlainByte[s[i]] {
			return false
		}
	}
	return true
}

var labelPlainByte = func() (t [256]bool) {
	for c := range t {
		t[c] = !suspect[c] && c != '=' && c != '|' && c != ':' && c != '#'
	}
	return t
}()

// nagiosLabel makes s a perfdata label: the guidelines allow any character
// but "=" and "'" (which quoting handles); "=" becomes "_", a "|" (which
// would end the perfdata) becomes "¦", and control characters are escaped.
func nagiosLabel(s string) string {
	return labelEscaper.Replace(oneLine(s))
}

// appendQuotedLabel appends a label, quoted when it has a blank or a
// quote, quotes doubled.
func appendQuotedLabel(b, label []byte) []byte {
	if !slices.ContainsFunc(label, func(c byte) bool { return c == ' ' || c == '\t' || c == '\'' }) {
		return append(b, label...)
	}
	b = append(append(b, '\''), bytes.ReplaceAll(label, []byte("'"), []byte("''"))...)
	return append(b, '\'')
}

// appendNagiosValue appends v in the class [-0-9.] the guidelines allow
// (no exponent), or "U" when it is not a number.
func appendNagiosValue(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, 'U')
	}
	return appendDecimal(b, v)
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
	if d := displayText(s); !strings.Contains(d, "\n") { // one line, or none
		return strings.TrimSpace(d)
	}
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

// appendNagiosText appends s kept out of the perfdata: a "|" would start
// it, so it becomes "¦".
func appendNagiosText(b []byte, s string) []byte {
	for {
		before, after, found := strings.Cut(s, "|")
		b = append(b, before...)
		if !found {
			return b
		}
		b = append(b, "¦"...)
		s = after
	}
}
