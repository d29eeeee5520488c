// This file holds the Nagios threshold range syntax
// (https://nagios-plugins.org/doc/guidelines.html#THRESHOLDFORMAT): what
// threshold() accepts and what the nagios format writes in perfdata.

package result

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

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
		return Range{}, fmt.Errorf("invalid range %q: start %s is greater than end %s", s, FormatNumber(r.Start), FormatNumber(r.End))
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
		s = FormatNumber(r.End) // "10" for 0:10
	case math.IsInf(r.Start, -1) && math.IsInf(r.End, 1):
		s = "~:"
	case math.IsInf(r.Start, -1):
		s = "~:" + FormatNumber(r.End)
	case math.IsInf(r.End, 1):
		s = FormatNumber(r.Start) + ":"
	default:
		s = FormatNumber(r.Start) + ":" + FormatNumber(r.End)
	}
	if r.Inside {
		s = "@" + s
	}
	return s
}

// Describe says when r alerts, for messages: "> 80", "outside 10..20".
func (r Range) Describe() string {
	lowOpen, highOpen := math.IsInf(r.Start, -1), math.IsInf(r.End, 1)
	lo, hi := FormatNumber(r.Start), FormatNumber(r.End)
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

// FormatNumber writes n exactly and without exponent where that stays
// short: "80", "85.2", "1e+21", "1e-07".
func FormatNumber(n float64) string {
	if n == math.Trunc(n) && math.Abs(n) < 1e21 {
		return strconv.FormatFloat(n, 'f', -1, 64)
	}
	return strconv.FormatFloat(n, 'g', -1, 64)
}
