package report

// This file keeps the text of a report from being taken for GitHub
// Actions workflow commands. A job's log is everything a step writes, so a
// text, tap, nagios, json, junit or prometheus report on stdout is read by
// the runner line by line, and a check's message or name comes from a
// server or a script: a line "::add-mask::…", "::error::…" or
// "::stop-commands::…" in it would be run (the runner trims leading white
// space first, and the text and tap formats indent continuation lines),
// and so would "##[error]…" anywhere in a line (the runner's older command
// form). The github format writes commands on purpose, each message
// escaped onto its own command's line, and does not use this. The CLI's
// log handler uses NoCommands too: a log line cannot start with "::", but
// a printed server body can hold "##[".

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/infra-guard/infra-guard/result"
)

// NoCommands returns s with a backslash before the "::" that starts a line
// (after white space) and inside every "##[" ("##\["), so that no line of
// it is a workflow command wherever a format puts it. The rest of the text
// is unchanged, so a secret in it is still the same bytes for the
// scrubber; only the backslash is new.
func NoCommands(s string) string {
	if !mayCommand(s) {
		return s
	}
	s = strings.ReplaceAll(s, "##[", `##\[`)
	var b strings.Builder
	b.Grow(len(s) + 8)
	lineStart := true
	for i := 0; i < len(s); {
		if lineStart {
			lineStart = false
			j := i
			for j < len(s) {
				r, n := utf8.DecodeRuneInString(s[j:])
				if r == '\n' || r == '\r' || !runnerSpace(r) {
					break
				}
				j += n
			}
			b.WriteString(s[i:j])
			i = j
			if strings.HasPrefix(s[i:], "::") {
				b.WriteByte('\\')
			}
			continue
		}
		c := s[i]
		b.WriteByte(c)
		i++
		// The runner reads lines as .NET's ReadLine splits them: at \n,
		// \r and \r\n.
		if c == '\n' || c == '\r' {
			lineStart = true
		}
	}
	return b.String()
}

// runnerSpace reports the characters the runner trims from the start of a
// line (.NET's char.IsWhiteSpace, which is Unicode's White_Space), and the
// zero-width ones some trimmers also drop: treating too many as space only
// adds a backslash that was not needed.
func runnerSpace(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200b' || r == '\u180e' || r == '\ufeff'
}

// mayCommand reports whether NoCommands may change s. It looks for the
// single bytes first, which is most of the time all it takes.
func mayCommand(s string) bool {
	if i := strings.IndexByte(s, ':'); i >= 0 && strings.Contains(s[i:], "::") {
		return true
	}
	i := strings.IndexByte(s, '#')
	return i >= 0 && strings.Contains(s[i:], "##[")
}

// withoutCommands returns r with every text a format may write through
// NoCommands. r itself is not changed: when no text needs it, the usual
// case, the result is r itself, since a copy of 100,000 checks took as
// long as writing them; else it is a copy.
func withoutCommands(r *result.Report) *result.Report {
	if !hasCommands(r) {
		return r
	}
	return r.MapText(NoCommands)
}

// hasCommands reports whether NoCommands would change any of the texts
// that Report.MapText maps (TestHasCommandsSeesEveryText keeps the two
// lists in step).
func hasCommands(r *result.Report) bool {
	if mayCommand(r.Script) || mayCommand(r.Incomplete) || mayCommand(r.Host) {
		return true
	}
	for _, d := range r.Errors {
		if mayCommand(d.File) || mayCommand(d.Msg) {
			return true
		}
	}
	for i := range r.Checks {
		c := &r.Checks[i]
		if mayCommand(c.Name) || mayCommand(c.Message) || mayCommand(c.Backtrace) || mayCommand(c.File) {
			return true
		}
		for _, t := range c.Tags {
			if mayCommand(t) {
				return true
			}
		}
		for _, m := range c.Metrics {
			if mayCommand(m.Name) || mayCommand(m.Unit) || mayCommand(m.Warn) || mayCommand(m.Crit) {
				return true
			}
		}
	}
	return false
}
