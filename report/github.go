package report

// This file holds the github format, for a GitHub Actions step: workflow
// commands on stdout (https://docs.github.com/actions/reference/workflow-commands-for-github-actions),
// a Markdown table appended to $GITHUB_STEP_SUMMARY and step outputs
// appended to $GITHUB_OUTPUT.
//
//	::add-mask::<each secret value>
//	::error file=guard.star,line=16,title=nginx (fail)::check returned False
//	::warning file=guard.star,line=15,title=api (warn)::database degraded
//	infra-guard: 3 checks: 1 ok, 1 warn, 1 fail, 0 unknown, 0 skipped in 1.3s — exit 2
//
// Only problems become annotations (FAIL and UNKNOWN ::error, WARN
// ::warning): a ::notice per passing check would bury them, and the step
// summary lists every check anyway.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/infra-guard/infra-guard/result"
)

// GitHubSummaryLimit is the most GitHub keeps of one step's summary file;
// past it the whole summary is dropped. The github format writes no more
// than what is left of it.
const GitHubSummaryLimit = 1 << 20

// maxCellRunes caps a message in the summary table, so one huge message
// (an HTTP body) does not take the whole 1 MiB.
const maxCellRunes = 1000

var githubEmoji = [...]string{
	result.OK: "✅", result.Warn: "⚠️", result.Fail: "❌", result.Unknown: "❓", result.Skip: "⏭️",
}

type githubReporter struct {
	masks  []string // the secrets' values, and each line of multi-line ones
	getenv func(string) string
	files  *GitHubFiles

	maskWriter io.Writer // where ::add-mask:: lines go; nil: with the report
}

var _ Reporter = (*githubReporter)(nil)

func newGitHub(opts Options) Reporter {
	g := &githubReporter{getenv: opts.getenv(), files: opts.GitHub, maskWriter: opts.MaskWriter}
	seen := map[string]bool{}
	add := func(s string) {
		if strings.TrimSpace(s) != "" && !seen[s] {
			seen[s] = true
			g.masks = append(g.masks, s)
		}
	}
	for _, m := range opts.Masks {
		add(m)
		// The runner masks a multi-line value line by line only when told
		// each line (GitHub's docs: "mask each line individually").
		if strings.ContainsAny(m, "\r\n") {
			for _, l := range strings.FieldsFunc(m, func(r rune) bool { return r == '\n' || r == '\r' }) {
				add(l)
			}
		}
	}
	return g
}

// Report writes the workflow commands to w, streamed (see stream), then
// appends to $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT when they are set.
func (g *githubReporter) Report(w io.Writer, r *result.Report) error {
	var masks []byte
	for _, m := range g.masks {
		masks = append(masks, "::add-mask::"+escapeData(m)+"\n"...)
	}
	s := newStream(w)
	if g.maskWriter != nil {
		if _, err := g.maskWriter.Write(masks); err != nil {
			return err
		}
	} else {
		s.b = append(s.b, masks...)
	}
	files := annotationFiles{workspace: g.getenv("GITHUB_WORKSPACE")}
	for _, e := range r.Errors {
		s.b = append(s.b, loadErrorCommand(e, &files)...)
	}
	if len(r.Errors) == 0 && len(r.Checks) == 0 {
		s.b = appendCommand(s.b, "error", "no checks registered", "title", "infra-guard")
	}
	if r.Incomplete != "" {
		s.b = appendCommand(s.b, "error", "run incomplete: "+r.Incomplete, "title", "infra-guard")
	}
	for i := range r.Checks {
		c := &r.Checks[i]
		st := c.Status.Valid()
		kind := "error"
		switch st {
		case result.Warn:
			kind = "warning"
		case result.OK, result.Skip:
			continue
		}
		msg := trimBlanks(c.Message)
		if c.Backtrace != "" {
			msg = strings.TrimLeft(msg+"\n"+strings.TrimRight(c.Backtrace, "\n"), "\n")
		}
		if msg == "" {
			msg = problemMessage(*c)
		}
		title := oneLine(c.Name) + " (" + st.String() + ")"
		switch file := files.of(c.File); {
		case file != "" && c.Line > 0:
			s.b = appendCommand(s.b, kind, msg, "file", file, "line", strconv.Itoa(c.Line), "title", title)
		case file != "":
			s.b = appendCommand(s.b, kind, msg, "file", file, "title", title)
		default:
			s.b = appendCommand(s.b, kind, msg, "title", title)
		}
		s.mark()
	}
	s.b = append(s.b, "infra-guard: "+(&textReporter{}).summary(r)+"\n"...)
	if err := s.end(); err != nil {
		return err
	}

	if g.files == nil {
		return nil
	}
	if f := g.files; f.Summary != nil {
		if _, err := io.WriteString(f.Summary, g.summary(r, f.SummaryRoom)); err != nil {
			return fmt.Errorf("github: $GITHUB_STEP_SUMMARY: %w", err)
		}
	}
	if f := g.files; f.Output != nil {
		if _, err := f.Output.Write(g.outputs(r)); err != nil {
			return fmt.Errorf("github: $GITHUB_OUTPUT: %w", err)
		}
	}
	return nil
}

// loadErrorCommand annotates a load error at its place, as far as it is known.
func loadErrorCommand(d result.Diagnostic, files *annotationFiles) string {
	if d.File == "" {
		return command("error", d.Msg, "title", "load error")
	}
	props := []string{"file", files.of(d.File)}
	if d.Line > 0 {
		props = append(props, "line", strconv.Itoa(d.Line))
		if d.Col > 0 {
			props = append(props, "col", strconv.Itoa(d.Col))
		}
	}
	return command("error", d.Msg, append(props, "title", "load error")...)
}

// annotationFiles makes files relative to $GITHUB_WORKSPACE, as
// annotations want them, when they lie inside; otherwise they are
// returned as they are. It remembers the last file: checks mostly share
// one, and each answer takes a getwd.
type annotationFiles struct {
	workspace string
	last, rel string
}

func (a *annotationFiles) of(file string) string {
	if a.workspace == "" || file == "" {
		return file
	}
	if file != a.last {
		a.last, a.rel = file, relativeTo(a.workspace, file)
	}
	return a.rel
}

func relativeTo(ws, file string) string {
	abs, err := filepath.Abs(file)
	if err != nil {
		return file
	}
	rel, err := filepath.Rel(ws, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return file
	}
	return filepath.ToSlash(rel)
}

// command formats a workflow command "::kind k=v,k=v::message", escaping as
// @actions/core does: the message's % CR LF, and also : and , in the
// property values. Control characters are shown escaped, as in text.
func command(kind, msg string, props ...string) string {
	return string(appendCommand(nil, kind, msg, props...))
}

// appendCommand appends command(kind, msg, props...).
func appendCommand(b []byte, kind, msg string, props ...string) []byte {
	b = append(append(b, "::"...), kind...)
	for i := 0; i+1 < len(props); i += 2 {
		if i == 0 {
			b = append(b, ' ')
		} else {
			b = append(b, ',')
		}
		b = append(append(b, props[i]...), '=')
		b = append(b, escapeProperty(sanitize(props[i+1], true))...)
	}
	b = append(b, "::"...)
	b = append(b, escapeData(sanitize(msg, true))...)
	return append(b, '\n')
}

// The escapers are built once: a Replacer per call was most of what the
// format allocated.
var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func escapeData(s string) string {
	return dataEscaper.Replace(s)
}

func escapeProperty(s string) string {
	return propertyEscaper.Replace(s)
}

// summary is the Markdown for the step summary, at most budget bytes: a
// heading, the counts, load errors, and a table of the checks. When the
// table does not fit, problems are kept before passing checks, and a last
// line says how many were left out. When not even the heading fits, it is
// "".
func (g *githubReporter) summary(r *result.Report, budget int) string {
	var head strings.Builder
	head.WriteString("### " + githubEmoji[r.ExitCode.Status()] + " infra-guard: " + mdText(r.Script) + " — exit " + strconv.Itoa(int(r.ExitCode)) + "\n\n")
	head.WriteString(mdText((&textReporter{}).summary(r)) + "\n\n")
	if r.Incomplete != "" {
		head.WriteString("> **Incomplete:** " + mdText(oneLine(r.Incomplete)) + "\n\n")
	}
	if len(r.Errors) > 0 {
		head.WriteString("Load errors:\n\n" + codeBlock(sanitize(errorText(r), true)) + "\n")
	}
	const note = "\n_%d of %d checks not shown: GitHub keeps at most 1 MiB of a step's summary._\n"
	const noteRoom = 128
	if len(r.Checks) == 0 {
		if head.Len() > budget {
			return ""
		}
		return head.String()
	}
	head.WriteString("| status | check | duration | message |\n| --- | --- | ---: | --- |\n")
	if head.Len()+noteRoom > budget {
		return ""
	}

	// Keep rows worst first, else in report order, until the budget is
	// spent; each row is made only when its turn comes, so 100,000
	// checks cost no more rows than fit.
	type row struct {
		check int
		text  string
	}
	var kept []row
	used := head.Len()
rows:
	for _, st := range []result.Status{result.Fail, result.Unknown, result.Warn, result.OK, result.Skip} { // by Severity
		for i := range r.Checks {
			c := &r.Checks[i]
			if c.Status.Valid() != st {
				continue
			}
			text := "| " + githubEmoji[st] + " " + upperStatus[st] +
				" | " + mdCell(c.Name) +
				" | " + mdText(humanDuration(c.Duration)) +
				" | " + mdCell(c.Message) + " |\n"
			if used+len(text)+noteRoom > budget {
				break rows
			}
			kept = append(kept, row{i, text})
			used += len(text)
		}
	}
	slices.SortFunc(kept, func(a, b row) int { return a.check - b.check })
	var b strings.Builder
	b.Grow(used + noteRoom)
	b.WriteString(head.String())
	for _, row := range kept {
		b.WriteString(row.text)
	}
	if len(kept) < len(r.Checks) {
		fmt.Fprintf(&b, note, len(r.Checks)-len(kept), len(r.Checks))
	}
	b.WriteByte('\n')
	return b.String()
}

// mdCell is s for a Markdown table cell: escaped, lines joined by <br>,
// cut to maxCellRunes.
func mdCell(s string) string {
	s = strings.TrimRight(sanitize(s, true), " \t\n")
	if utf8.RuneCountInString(s) > maxCellRunes {
		s = string([]rune(s)[:maxCellRunes-1]) + "…"
	}
	return strings.ReplaceAll(mdText(s), "\n", "<br>")
}

// mdText escapes what Markdown or HTML would read as markup: &, <, > as
// entities, and \ ` * _ [ ] | ~ with a backslash.
var mdText = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "|", `\|`, "~", `\~`,
).Replace

// codeBlock fences s with more backticks than it contains in a row.
func codeBlock(s string) string {
	fence := "```"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	return fence + "\n" + strings.TrimRight(s, "\n") + "\n" + fence + "\n"
}

// outputs is what $GITHUB_OUTPUT gets: status=, exit_code=, failed= (the
// FAIL and UNKNOWN checks, comma-separated) and failed_json= (the same as
// a JSON array, for fromJSON() when names contain commas).
func (g *githubReporter) outputs(r *result.Report) []byte {
	failed := []string{}
	for _, c := range r.Checks {
		if st := c.Status.Valid(); st == result.Fail || st == result.Unknown {
			failed = append(failed, c.Name)
		}
	}
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(failed) // []string cannot fail

	var b bytes.Buffer
	writeOutput(&b, "status", r.ExitCode.Status().String())
	writeOutput(&b, "exit_code", strconv.Itoa(int(r.ExitCode)))
	writeOutput(&b, "failed", strings.Join(failed, ","))
	writeOutput(&b, "failed_json", strings.TrimSuffix(js.String(), "\n"))
	return b.Bytes()
}

// writeOutput writes name=value, or, when value has a line break, the
// multi-line form "name<<DELIM\nvalue\nDELIM" with a random delimiter that
// the value does not contain, as @actions/core does.
func writeOutput(b *bytes.Buffer, name, value string) {
	if !strings.ContainsAny(value, "\r\n") {
		b.WriteString(name + "=" + value + "\n")
		return
	}
	var delim string
	for delim == "" || strings.Contains(value, delim) {
		var rnd [16]byte
		_, _ = rand.Read(rnd[:])
		delim = "ghadelimiter_" + hex.EncodeToString(rnd[:])
	}
	b.WriteString(name + "<<" + delim + "\n" + value + "\n" + delim + "\n")
}
