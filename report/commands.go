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
	if !strings.Contains(s, "::") && !strings.Contains(s, "##[") {
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

// withoutCommands returns a copy of r whose every text a format may write
// has been through NoCommands. r itself is not changed.
func withoutCommands(r *result.Report) *result.Report { return r.MapText(NoCommands) }
