package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/infra-guard/infra-guard/result"
)

// ghCommand is a parsed workflow command.
type ghCommand struct {
	name  string
	props map[string]string
	data  string
}

var ghCommandRE = regexp.MustCompile(`^::([a-z-]+)(?: ([^:]*))?::(.*)$`)

// ghUnescape reverses @actions/core's escaping (the runner's unescape
// order: %0D, %0A, %3A, %2C, then %25).
func ghUnescape(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%").Replace(s)
}

// parseGitHub splits the github format's stdout into commands and checks
// that every line is a workflow command, except the last (the summary).
func parseGitHub(t *testing.T, out string) ([]ghCommand, string) {
	t.Helper()
	ls := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var cmds []ghCommand
	for _, l := range ls[:len(ls)-1] {
		if strings.ContainsAny(l, "\r") {
			t.Errorf("github: raw CR in %q", l)
		}
		m := ghCommandRE.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("github: not a workflow command: %q", l)
			continue
		}
		c := ghCommand{name: m[1], props: map[string]string{}, data: ghUnescape(m[3])}
		if m[2] != "" {
			for _, kv := range strings.Split(m[2], ",") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Errorf("github: property %q in %q", kv, l)
				}
				c.props[k] = ghUnescape(v)
			}
		}
		cmds = append(cmds, c)
	}
	last := ls[len(ls)-1]
	if !strings.HasPrefix(last, "infra-guard: ") {
		t.Errorf("github: last line %q is not the summary", last)
	}
	return cmds, last
}

func TestGitHubCommands(t *testing.T) {
	for name, r := range allReports() {
		t.Run(name, func(t *testing.T) {
			masks := []string{"s3cr%t,:x", "line1\nline2\r\n", "", "s3cr%t,:x"}
			cmds, _ := parseGitHub(t, string(render(t, "github", Options{Getenv: noEnv, Masks: masks}, r)))
			// The masks come first, each value once, multi-line ones also line by line.
			wantMasks := []string{"s3cr%t,:x", "line1\nline2\r\n", "line1", "line2"}
			for i, m := range wantMasks {
				if i >= len(cmds) || cmds[i].name != "add-mask" || cmds[i].data != m {
					t.Fatalf("command %d = %+v, want add-mask %q", i, cmds[min(i, len(cmds)-1)], m)
				}
			}
			cmds = cmds[len(wantMasks):]
			for _, c := range cmds {
				if c.name == "add-mask" {
					t.Errorf("add-mask after other commands")
				}
			}

			// One annotation per problem check, pointing at its check() line.
			i := 0
			for _, e := range errorStrings(r) {
				c := cmds[i]
				i++
				if c.name != "error" || !strings.HasSuffix(e, c.data) || !strings.HasPrefix(e, c.props["file"]+":"+c.props["line"]+":"+c.props["col"]+": ") {
					t.Errorf("load error %q: %+v", e, c)
				}
			}
			if len(r.Errors) == 0 && len(r.Checks) == 0 {
				if cmds[i].name != "error" || cmds[i].data != "no checks registered" {
					t.Errorf("no checks: %+v", cmds[i])
				}
				i++
			}
			if r.Incomplete != "" {
				if cmds[i].name != "error" || !strings.Contains(cmds[i].data, r.Incomplete) {
					t.Errorf("incomplete: %+v", cmds[i])
				}
				i++
			}
			for _, c := range r.Checks {
				kind := map[result.Status]string{result.Warn: "warning", result.Fail: "error", result.Unknown: "error"}[c.Status]
				if kind == "" {
					continue
				}
				if i >= len(cmds) {
					t.Fatalf("no annotation for %q", c.Name)
				}
				cmd := cmds[i]
				i++
				if cmd.name != kind {
					t.Errorf("%q: ::%s, want ::%s", c.Name, cmd.name, kind)
				}
				if cmd.props["file"] != c.File || c.File != "" && cmd.props["line"] != strconv.Itoa(c.Line) {
					t.Errorf("%q: file=%q line=%q, want %s:%d", c.Name, cmd.props["file"], cmd.props["line"], c.File, c.Line)
				}
				if want := oneLine(c.Name) + " (" + c.Status.String() + ")"; cmd.props["title"] != want {
					t.Errorf("%q: title %q, want %q", c.Name, cmd.props["title"], want)
				}
				msg := sanitize(strings.TrimRight(c.Message, " \t\r\n"), true)
				if !strings.HasPrefix(cmd.data, msg) {
					t.Errorf("%q: message %q, want %q", c.Name, cmd.data, msg)
				}
				if c.Backtrace != "" && !strings.Contains(cmd.data, "Traceback") {
					t.Errorf("%q: message lacks the backtrace: %q", c.Name, cmd.data)
				}
			}
			if i != len(cmds) {
				t.Errorf("%d commands left over: %+v", len(cmds)-i, cmds[i:])
			}
		})
	}
}

func TestGitHubEscape(t *testing.T) {
	if got, want := escapeData("100%\r\n:,"), "100%25%0D%0A:,"; got != want {
		t.Errorf("escapeData = %q, want %q", got, want)
	}
	if got, want := escapeProperty("100%\r\n:,"), "100%25%0D%0A%3A%2C"; got != want {
		t.Errorf("escapeProperty = %q, want %q", got, want)
	}
	// A message cannot start a command of its own on a new line.
	r := &result.Report{Checks: []result.CheckResult{{
		Name: "x", Status: result.Fail, Message: "a\n::add-mask::oops\r\n::stop-commands::t\n%0A",
	}}, ExitCode: 2}
	out := string(render(t, "github", Options{Getenv: noEnv}, r))
	cmds, _ := parseGitHub(t, out)
	if len(cmds) != 1 || cmds[0].data != "a\n::add-mask::oops\n::stop-commands::t\n%0A" {
		t.Errorf("got %q", out)
	}
}

// ghPaths names a step summary and output file in a temp dir.
func ghPaths(t *testing.T) (summary, output string) {
	dir := t.TempDir()
	return filepath.Join(dir, "summary.md"), filepath.Join(dir, "output")
}

// openGH opens the files as the CLI does, for appending; they are closed
// when the test ends.
func openGH(t *testing.T, summary, output string) *GitHubFiles {
	t.Helper()
	open := func(path string) *os.File {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	s, o := open(summary), open(output)
	fi, err := s.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return &GitHubFiles{Summary: s, SummaryRoom: GitHubSummaryLimit - int(fi.Size()), Output: o}
}

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func TestGitHubFiles(t *testing.T) {
	summary, output := ghPaths(t)
	if err := os.WriteFile(summary, []byte("earlier step text\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(output, []byte("other=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := fixtures()["statuses"]
	render(t, "github", Options{Getenv: noEnv, GitHub: openGH(t, summary, output)}, r)

	md, _ := os.ReadFile(summary)
	rest, ok := strings.CutPrefix(string(md), "earlier step text\n")
	if !ok {
		t.Fatalf("the summary was not appended to:\n%s", md)
	}
	golden(t, "statuses.github.summary.md", []byte(rest))
	out, _ := os.ReadFile(output)
	outRest, ok := strings.CutPrefix(string(out), "other=1\n")
	if !ok {
		t.Fatalf("the output file was not appended to:\n%s", out)
	}
	golden(t, "statuses.github.output", []byte(outRest))

	// Every table row has five unescaped pipes: four cells.
	rows := 0
	for _, l := range strings.Split(rest, "\n") {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| status") && !strings.HasPrefix(l, "| ---") {
			rows++
			if n := len(regexp.MustCompile(`(^|[^\\])\|`).FindAllString(l, -1)); n != 5 {
				t.Errorf("row with %d cell separators: %q", n, l)
			}
		}
	}
	if rows != len(r.Checks) {
		t.Errorf("%d table rows, want %d", rows, len(r.Checks))
	}
	outs := parseOutputs(t, outRest)
	if outs["status"] != "fail" || outs["exit_code"] != "2" || outs["failed"] != "nginx,broken" {
		t.Errorf("outputs %q", outs)
	}
	var failed []string
	if err := json.Unmarshal([]byte(outs["failed_json"]), &failed); err != nil || !slices.Equal(failed, []string{"nginx", "broken"}) {
		t.Errorf("failed_json %q: %v", outs["failed_json"], err)
	}
}

// parseOutputs reads a $GITHUB_OUTPUT file as the runner does: name=value
// lines and name<<DELIM heredocs.
func parseOutputs(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ls := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i := 0; i < len(ls); i++ {
		l := ls[i]
		if name, delim, ok := strings.Cut(l, "<<"); ok && !strings.Contains(name, "=") {
			end := slices.Index(ls[i+1:], delim)
			if end < 0 {
				t.Fatalf("heredoc %q never ends:\n%s", delim, s)
			}
			out[name] = strings.Join(ls[i+1:i+1+end], "\n")
			i += 1 + end
			continue
		}
		name, value, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("output line %q", l)
		}
		out[name] = value
	}
	return out
}

func TestGitHubOutputHeredoc(t *testing.T) {
	summary, output := ghPaths(t)
	r := &result.Report{Checks: []result.CheckResult{
		{Name: "multi\nline", Status: result.Fail},
		{Name: "comma, name", Status: result.Unknown},
		{Name: "fine", Status: result.OK},
	}, ExitCode: 2}
	render(t, "github", Options{Getenv: noEnv, GitHub: openGH(t, summary, output)}, r)
	data, _ := os.ReadFile(output)
	if !regexp.MustCompile(`(?m)^failed<<ghadelimiter_[0-9a-f]{32}$`).Match(data) {
		t.Errorf("no heredoc for a value with a newline:\n%s", data)
	}
	outs := parseOutputs(t, string(data))
	if outs["failed"] != "multi\nline,comma, name" {
		t.Errorf("failed = %q", outs["failed"])
	}
	var failed []string
	if err := json.Unmarshal([]byte(outs["failed_json"]), &failed); err != nil || !slices.Equal(failed, []string{"multi\nline", "comma, name"}) {
		t.Errorf("failed_json %q: %v", outs["failed_json"], err)
	}
}

// TestGitHubSummaryLimit: with the summary file nearly full, the table is
// cut to what fits, problems first, and says so; the file never passes
// 1 MiB. With no room at all, nothing is appended.
func TestGitHubSummaryLimit(t *testing.T) {
	r := &result.Report{Script: "guard.star", Started: started, ExitCode: 2}
	for i := range 2000 {
		st := result.OK
		if i%100 == 99 {
			st = result.Fail
		}
		r.Checks = append(r.Checks, result.CheckResult{
			Name: "check-" + strconv.Itoa(i), Status: st, Duration: time.Millisecond,
			Message: strings.Repeat("x", 2000), // cut to maxCellRunes in the table
		})
	}
	summary, output := ghPaths(t)
	const prefill = GitHubSummaryLimit - 100_000
	if err := os.WriteFile(summary, []byte(strings.Repeat("p", prefill)), 0o644); err != nil {
		t.Fatal(err)
	}
	render(t, "github", Options{Getenv: noEnv, GitHub: openGH(t, summary, output)}, r)
	data, _ := os.ReadFile(summary)
	if len(data) > GitHubSummaryLimit {
		t.Fatalf("summary is %d bytes, over the %d limit", len(data), GitHubSummaryLimit)
	}
	md := string(data[prefill:])
	if !regexp.MustCompile(`\n_\d+ of 2000 checks not shown: GitHub keeps at most 1 MiB of a step's summary\._\n`).MatchString(md) {
		t.Errorf("no truncation note in:\n%s", md[max(0, len(md)-500):])
	}
	for i := 99; i < 2000; i += 100 {
		if !strings.Contains(md, "| check-"+strconv.Itoa(i)+" |") {
			t.Errorf("failing check-%d was cut before passing checks", i)
		}
	}
	if strings.Contains(md, strings.Repeat("x", maxCellRunes)) || !strings.Contains(md, strings.Repeat("x", maxCellRunes-1)+"…") {
		t.Errorf("messages are not cut to %d characters", maxCellRunes)
	}

	// A full file is left alone.
	full := strings.Repeat("p", GitHubSummaryLimit-10)
	if err := os.WriteFile(summary, []byte(full), 0o644); err != nil {
		t.Fatal(err)
	}
	render(t, "github", Options{Getenv: noEnv, GitHub: openGH(t, summary, output)}, r)
	if data, _ := os.ReadFile(summary); string(data) != full {
		t.Errorf("a full summary file was appended to (%d bytes)", len(data))
	}
}

// TestGitHubWorkspace: annotation paths are made relative to
// $GITHUB_WORKSPACE, as GitHub wants them, when the file lies inside it.
func TestGitHubWorkspace(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	ws := filepath.Dir(wd) // the test runs in report/
	r := &result.Report{Checks: []result.CheckResult{
		{Name: "rel", Status: result.Fail, File: "guard.star", Line: 1},
		{Name: "abs", Status: result.Fail, File: filepath.Join(ws, "ci", "guard.star"), Line: 2},
		{Name: "outside", Status: result.Fail, File: "/elsewhere/guard.star", Line: 3},
	}, ExitCode: 2}
	env := map[string]string{"GITHUB_WORKSPACE": ws}
	cmds, _ := parseGitHub(t, string(render(t, "github", Options{Getenv: getenv(env)}, r)))
	var files []string
	for _, c := range cmds {
		files = append(files, c.props["file"])
	}
	if want := []string{"report/guard.star", "ci/guard.star", "/elsewhere/guard.star"}; !slices.Equal(files, want) {
		t.Errorf("files %q, want %q", files, want)
	}
}

func TestGitHubFileError(t *testing.T) {
	rep, _ := New("github", Options{Getenv: noEnv, GitHub: &GitHubFiles{Summary: failWriter{}}})
	var out strings.Builder
	err := rep.Report(&out, fixtures()["statuses"])
	if err == nil || !strings.Contains(err.Error(), "$GITHUB_STEP_SUMMARY") {
		t.Errorf("error = %v, want one naming $GITHUB_STEP_SUMMARY", err)
	}
	if !strings.Contains(out.String(), "::error") {
		t.Errorf("the annotations were not written before the error:\n%s", out.String())
	}
}
