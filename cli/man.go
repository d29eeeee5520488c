package cli

// This file writes the man page of `infra-guard man`, as roff (man
// macros), from the command specs.

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/infra-guard/infra-guard/buildinfo"
)

func writeMan(w io.Writer, root *ffcli.Command, specs []cmdSpec, bi buildinfo.Info) error {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	date := bi.CommitTime
	if len(date) >= 10 {
		date = date[:10] // YYYY-MM-DD: the page changes with the source, not with the build
	}
	line(`.TH INFRA\-GUARD 1 "%s" "infra-guard %s" "User Commands"`, roffText(date), roffText(bi.Version))
	line(".SH NAME")
	line(`infra\-guard \- run Starlark guard scripts of health checks and exit with Nagios codes`)
	line(".SH SYNOPSIS")
	for _, s := range specs {
		line(`.B infra\-guard`)
		line("%s", roffText(strings.TrimPrefix(s.ShortUsage, "infra-guard ")))
		line(".br")
	}
	line(".SH DESCRIPTION")
	line("%s", roffParagraphs(root.LongHelp))
	line(".PP")
	line("Without a SCRIPT, infra\\-guard runs \\fI./guard.star\\fR, else its built\\-in default guard (root disk, inodes, memory, load).")

	line(".SH COMMANDS")
	for _, s := range specs[1:] {
		line(".SS %s", roffText(s.ShortUsage))
		line("%s", roffParagraphs(capitalize(s.ShortHelp)+"."))
		if s.Name == "run" {
			line(".PP")
			line("With no command, infra\\-guard takes the same flags and runs SCRIPT as \\fBrun\\fR does.")
		}
		for _, f := range s.Flags {
			line(".TP")
			if f.Bool {
				line(`.B \-\-%s`, roffText(f.Name))
			} else {
				line(`.BI \-\-%s " %s"`, roffText(f.Name), strings.ToUpper(strings.ReplaceAll(roffText(f.Name), `\-`, "_")))
			}
			text := capitalize(f.Usage)
			if f.Default != "" && !f.Bool && f.Default != "[]" {
				text += " (default: " + f.Default + ")"
			}
			line("%s", roffParagraphs(text))
		}
	}

	line(".SH ENVIRONMENT")
	line(".TP")
	line(".B INFRA_GUARD_\\fIFLAG\\fR")
	line("Sets a flag of run, vet and list, e.g. INFRA_GUARD_CHECK_TIMEOUT=10s for \\-\\-check\\-timeout (dashes become underscores). The command line wins.")
	line(".TP")
	line(".B NO_COLOR")
	line("When set, the text report is never coloured (it is coloured only on a terminal anyway).")
	line(".TP")
	line(".B NAME\\fR, \\fPNAME_FILE")
	line("What a script's secret(\"NAME\") reads: the value, or the path of a file that holds it. Its value never appears in anything infra\\-guard writes.")

	line(".SH EXIT STATUS")
	for _, e := range [][2]string{
		{"0", "Every check was ok or skipped."},
		{"1", "At least one check warned, nothing worse (\\-\\-warn\\-ok makes this 0)."},
		{"2", "At least one check failed, including checks that timed out."},
		{"3", "Unknown: bad flags, a script that does not load, no checks, a check that raised an error, or a run interrupted by SIGINT or SIGTERM."},
	} {
		line(".TP")
		line(".B %s", e[0])
		line("%s", e[1])
	}
	line(".SH FILES")
	line(".TP")
	line(".I ./guard.star")
	line("The script run when none is given.")
	line(".SH SEE ALSO")
	line("The README, docs/builtins.md (every builtin), docs/reports.md (every format) and docs/ci.md (CI snippets) at")
	line(".UR https://github.com/infra-guard/infra-guard")
	line(".UE .")
	_, err := io.WriteString(w, b.String())
	return err
}

// roffText escapes s for a roff text line or macro argument: backslashes,
// hyphens (so they stay ASCII hyphens: options can be copied), double
// quotes, and every non-ASCII character as a \[uXXXX] glyph, which groff
// reads whatever the input encoding.
func roffText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r == '"':
			b.WriteString(`\(dq`)
		case r == '\n' || r == '\t':
			b.WriteByte(' ')
		case r > unicode.MaxASCII:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		case r < ' ':
			// control characters have no place in a man page
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// roffParagraphs escapes text and keeps it from starting with a control
// character (. or '), line by line; an empty line starts a new paragraph.
func roffParagraphs(text string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			out = append(out, ".PP")
			continue
		}
		l = roffText(l)
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			l = `\&` + l
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
