package main

// The documentation's examples, run: every ```console block in README.md
// and docs/*.md is executed against the infra-guard binary and its output
// compared with what the block shows; every GitHub workflow snippet goes
// through actionlint; the alerting rules through promtool. So the docs
// cannot drift from the program.
//
// How a console block is written:
//
//   - `$ infra-guard ARGS…` runs the binary (testscript.Main in TestMain
//     puts it on $PATH) in a fresh temporary directory; the lines up to the
//     next `$ ` are its expected stdout. `VAR=value` words before the
//     command set environment variables. A command ending in `2>&1` also
//     shows stderr, in the order the two were written; `>/dev/null` drops
//     stdout. `$ cat FILE` shows a file an earlier command of the block
//     wrote.
//   - The files the commands read come from the same document: a fenced
//     block whose first line is a comment naming a file (`# guard.star`,
//     `# lib/web.star`), or that follows a line "`guard.star`:", is that
//     file, for every console block after it. A
//     block naming a file that exists in the repository
//     (`# docs/prometheus/alerts.yml`) must be that file, byte for byte.
//   - Durations, timestamps, percentages, sizes and versions are
//     normalised on both sides (see normalize), and runs of blanks count as
//     one, so `<1ms` matches `1.2s`. An expected line `…` stands for any
//     number of lines; a line ending in `…` for any line that starts so.
//   - `<!-- in an empty directory -->` on the line before a block runs it
//     without the document's files (for the built-in default guard).
//   - `<!-- not run: REASON -->` on the line before a block skips it; use
//     it only for output that depends on the machine.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/infra-guard/infra-guard/report"
)

// mdBlock is one fenced code block of a Markdown file.
type mdBlock struct {
	doc     string // the Markdown file
	line    int    // line of the opening fence
	lang    string // the info string's first word: console, yaml, python, …
	text    string // the content, each line ending in "\n"
	skipped string // the reason of a <!-- not run: … --> just before it
	label   string // the file a "`NAME`:" line just before it names
	empty   bool   // <!-- in an empty directory --> just before it
}

var (
	notRunRE   = regexp.MustCompile(`^<!-- not run: (.+) -->$`)
	fileNameRE = regexp.MustCompile(`^# ([A-Za-z0-9_./-]+\.(?:star|ya?ml|txt|json))$`)
	labelRE    = regexp.MustCompile("^`([A-Za-z0-9_./-]+\\.(?:star|ya?ml|txt|json))`:$")
)

// docFiles are the Markdown files whose examples are checked.
func docFiles(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob("docs/*.md")
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs: %v", err)
	}
	return append([]string{"README.md"}, docs...)
}

// mdBlocks returns the fenced blocks of a Markdown file in order.
func mdBlocks(t *testing.T, path string) []mdBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		blocks []mdBlock
		cur    *mdBlock
		prev   string // the last non-blank line outside a block
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &mdBlock{doc: path, line: n, lang: strings.Fields(line[3:] + " x")[0]}
			if m := notRunRE.FindStringSubmatch(prev); m != nil {
				cur.skipped = m[1]
			}
			cur.empty = prev == "<!-- in an empty directory -->"
			if m := labelRE.FindStringSubmatch(prev); m != nil {
				cur.label = m[1]
			}
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		case strings.TrimSpace(line) != "":
			prev = strings.TrimSpace(line)
		}
	}
	if cur != nil {
		t.Fatalf("%s:%d: code block never closed", path, cur.line)
	}
	return blocks
}

// fileName is the file a block stands for, from the "`NAME`:" line before
// it or its first line, or "".
func (b mdBlock) fileName() string {
	if b.label != "" {
		return b.label
	}
	first, _, _ := strings.Cut(b.text, "\n")
	if m := fileNameRE.FindStringSubmatch(first); m != nil {
		return m[1]
	}
	return ""
}

// TestDocsConsole runs every console block of the docs.
func TestDocsConsole(t *testing.T) {
	bin, err := exec.LookPath("infra-guard")
	if err != nil {
		t.Fatalf("infra-guard is not on PATH (TestMain puts it there): %v", err)
	}
	ran := 0
	for _, doc := range docFiles(t) {
		files := map[string]string{}
		for _, b := range mdBlocks(t, doc) {
			if name := b.fileName(); name != "" {
				if repo, err := os.ReadFile(name); err == nil {
					if string(repo) != b.text {
						t.Errorf("%s:%d: the block labelled %s differs from the repository's file; copy it over", doc, b.line, name)
					}
				}
				files[name] = b.text
				continue
			}
			if b.lang != "console" {
				continue
			}
			t.Run(fmt.Sprintf("%s:%d", doc, b.line), func(t *testing.T) {
				if b.skipped != "" {
					t.Skipf("not run: %s", b.skipped)
				}
				if b.empty {
					runConsole(t, bin, b, nil)
				} else {
					runConsole(t, bin, b, files)
				}
			})
			ran++
		}
	}
	if ran == 0 {
		t.Error("no console blocks found in the docs")
	}
}

// runConsole runs the commands of one console block in a temporary
// directory holding files and compares their output.
func runConsole(t *testing.T, bin string, b mdBlock, files map[string]string) {
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type step struct {
		line int
		cmd  string
		want []string
	}
	var steps []step
	for i, line := range strings.Split(strings.TrimSuffix(b.text, "\n"), "\n") {
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			steps = append(steps, step{line: b.line + 1 + i, cmd: cmd})
			continue
		}
		if len(steps) == 0 {
			t.Fatalf("%s:%d: output before the first \"$ \" command", b.doc, b.line+1+i)
		}
		steps[len(steps)-1].want = append(steps[len(steps)-1].want, line)
	}
	for _, s := range steps {
		got := runCommand(t, bin, dir, fmt.Sprintf("%s:%d", b.doc, s.line), s.cmd)
		if diff := compareOutput(s.want, got); diff != "" {
			t.Errorf("%s:%d: $ %s\n%s\nthe command printed:\n%s", b.doc, s.line, s.cmd, diff, got)
		}
	}
}

// runCommand runs one command line of a console block and returns what it
// printed.
func runCommand(t *testing.T, bin, dir, where, line string) string {
	words, err := splitWords(line)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TZ=UTC", "LANG=C.UTF-8"}
	for len(words) > 0 && regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`).MatchString(words[0]) {
		env = append(env, words[0])
		words = words[1:]
	}
	stderr, stdout := false, true
trailing:
	for len(words) > 0 {
		switch words[len(words)-1] {
		case "2>&1":
			stderr = true
		case "2>/dev/null":
		case ">/dev/null":
			stdout = false
		default:
			break trailing
		}
		words = words[:len(words)-1]
	}
	if len(words) == 0 {
		t.Fatalf("%s: no command in %q", where, line)
	}
	switch words[0] {
	case "cat":
		var b strings.Builder
		for _, name := range words[1:] {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			b.Write(data)
		}
		return b.String()
	case "infra-guard":
	default:
		t.Fatalf("%s: a console block may run infra-guard and cat, not %q; mark it <!-- not run: why --> if it cannot run here", where, words[0])
	}
	for _, w := range words {
		if strings.ContainsAny(w, "|;&<>`") && !strings.Contains(w, "=") {
			t.Fatalf("%s: shell syntax %q is not supported in a console block", where, w)
		}
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, words[1:]...)
	cmd.Dir, cmd.Env = dir, env
	if stdout {
		cmd.Stdout = &out
	}
	if stderr {
		cmd.Stderr = &out
	}
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("%s: %v", where, err)
		}
	}
	return out.String()
}

// splitWords splits a command line as a shell would, for the quoting the
// docs use: blanks separate words, '…' and "…" quote.
func splitWords(line string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
		quote rune
	)
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed %c in %q", quote, line)
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// normalizers replace what differs from run to run, in order.
var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?`), "<TIME>"},
	{regexp.MustCompile(`\b\d\.\d+e\+09\b`), "<UNIX>"},
	{regexp.MustCompile(`<1ms|&lt;1ms|\b\d+(?:\.\d+)?(?:ns|µs|us|ms|h|m|s)(?:\d+(?:\.\d+)?(?:ns|µs|us|ms|m|s))*\b`), "<DUR>"},
	{regexp.MustCompile(`(duration_ms"?: *)[0-9.]+`), "${1}<N>"},
	{regexp.MustCompile(`(\btime=")[0-9.]+"`), `${1}<S>"`},
	{regexp.MustCompile(`^(infra_guard_\w+_seconds\{[^}]*\}) \S+$`), "${1} <N>"},
	{regexp.MustCompile(`-?\b\d+(?:\.\d+)?%`), "<PCT>"},
	{regexp.MustCompile(`\b\d+(?:\.\d+)? ?(?:KiB|MiB|GiB|TiB|kB|MB|GB|TB|bytes)\b`), "<SIZE>"},
	{regexp.MustCompile(`\(devel\)|\bv\d+\.\d+\.\d+[-+.\w]*`), "<VERSION>"},
	{regexp.MustCompile(`((?:"host"|hostname)[=:] *")[^"]*"`), `${1}<HOST>"`},
	{regexp.MustCompile(`^checked on .+$`), "checked on <HOST>"},
	{regexp.MustCompile(`[ \t]+`), " "},
}

// normalize makes one line of output comparable.
func normalize(line string) string {
	line = strings.TrimRight(line, " \t")
	for _, n := range normalizers {
		line = n.re.ReplaceAllString(line, n.with)
	}
	return line
}

// compareOutput matches the lines a block shows against the output; it
// returns "" when they match, else what differs.
func compareOutput(want []string, got string) string {
	gotLines := strings.Split(got, "\n")
	trim := func(lines []string) []string {
		for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
			lines = lines[:len(lines)-1]
		}
		return lines
	}
	want, gotLines = trim(want), trim(gotLines)
	var match func(w, g int) bool
	match = func(w, g int) bool {
		for w < len(want) {
			line := want[w]
			if strings.TrimSpace(line) == "…" {
				for skip := g; skip <= len(gotLines); skip++ {
					if match(w+1, skip) {
						return true
					}
				}
				return false
			}
			if g >= len(gotLines) {
				return false
			}
			wl, gl := normalize(line), normalize(gotLines[g])
			if prefix, ok := strings.CutSuffix(wl, "…"); ok {
				if !strings.HasPrefix(gl, prefix) {
					return false
				}
			} else if wl != gl {
				return false
			}
			w, g = w+1, g+1
		}
		return g == len(gotLines)
	}
	if match(0, 0) {
		return ""
	}
	// Say where the first difference is, reading plainly line by line.
	var b strings.Builder
	for i := 0; i < max(len(want), len(gotLines)); i++ {
		var wl, gl string
		if i < len(want) {
			wl = normalize(want[i])
		}
		if i < len(gotLines) {
			gl = normalize(gotLines[i])
		}
		if wl != gl && strings.TrimSpace(wl) != "…" && !strings.HasSuffix(wl, "…") {
			fmt.Fprintf(&b, "first difference at output line %d (normalised):\n  docs: %q\n  got:  %q", i+1, wl, gl)
			return b.String()
		}
	}
	return "output differs (around a … line)"
}

// TestDocsNormalize pins what the comparison treats as equal.
func TestDocsNormalize(t *testing.T) {
	for _, tt := range []struct{ a, b string }{
		{"OK    root-disk   <1ms  root disk 41.2% (warn > 80, crit > 90)", "OK  root-disk  12ms  root disk 3.5% (warn > 80, crit > 90)"},
		{"3 checks: 2 ok in 1ms — exit 2", "3 checks: 2 ok in 1.3s — exit 2"},
		{`  "started": "2026-03-14T09:26:53.589793Z",`, `  "started": "2026-11-29T12:00:00.1Z",`},
		{`  "duration_ms": 1341,`, `  "duration_ms": 0.012,`},
		{`<testcase classname="g" name="x" time="0.012">`, `<testcase classname="g" name="x" time="0.000">`},
		{`infra_guard_last_run_timestamp_seconds{script="guard.star"} 1.773480414930793e+09`, `infra_guard_last_run_timestamp_seconds{script="guard.star"} 1.7959e+09`},
		{`memory: 23110 MiB available`, `memory: 812 MiB available`},
		{`  "host": "web1",`, `  "host": "ci-runner-7",`},
		{`<testsuite name="g" hostname="web1">`, `<testsuite name="g" hostname="vm">`},
		{`checked on web1`, `checked on vm`},
	} {
		if a, b := normalize(tt.a), normalize(tt.b); a != b {
			t.Errorf("normalize:\n  %q -> %q\n  %q -> %q", tt.a, a, tt.b, b)
		}
	}
	for _, tt := range []struct{ a, b string }{
		{"FAIL  nginx  3ms  check returned False", "OK  nginx  3ms  check returned False"},
		{"exit 2", "exit 3"},
		{"at guard.star:14", "at guard.star:15"},
	} {
		if normalize(tt.a) == normalize(tt.b) {
			t.Errorf("normalize makes %q and %q equal", tt.a, tt.b)
		}
	}
	if d := compareOutput([]string{"a", "…", "z"}, "a\nb\nc\nz\n"); d != "" {
		t.Errorf("… does not stand for lines: %s", d)
	}
	if d := compareOutput([]string{"a", "…"}, "a\nb\nc\nd\n"); d != "" {
		t.Errorf("a final … does not stand for the rest: %s", d)
	}
	if d := compareOutput([]string{"a", "z"}, "a\nb\nz\n"); d == "" {
		t.Error("a missing line goes unnoticed")
	}
	if d := compareOutput([]string{"::error title=x::boom%0A…"}, "::error title=x::boom%0ATraceback\n"); d != "" {
		t.Errorf("a trailing … is not a prefix: %s", d)
	}
}

// requireConsumers reports whether a missing consumer (xmllint, promtool,
// actionlint) fails the test instead of skipping it: .ci/run sets
// INFRA_GUARD_CONSUMERS=required once it has installed them.
func requireConsumers() bool { return os.Getenv("INFRA_GUARD_CONSUMERS") == "required" }

// lookTool finds a consumer's program, or skips (fails under
// INFRA_GUARD_CONSUMERS=required) saying how to get it.
func lookTool(t *testing.T, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if requireConsumers() {
			t.Fatalf("%s is not installed (%s), and INFRA_GUARD_CONSUMERS=required", name, install)
		}
		t.Skipf("%s is not installed (%s); .ci/run installs it", name, install)
	}
	return path
}

// workflowOf returns a YAML block as a GitHub Actions workflow: a whole
// workflow (it has jobs:) as it is, a list of steps wrapped into one job.
// ok is false for YAML that is neither (GitLab CI, Kubernetes, alerts).
func workflowOf(text string) (string, bool) {
	lines := strings.Split(text, "\n")
	var first string
	for _, l := range lines {
		if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "#") {
			first = l
			break
		}
	}
	switch {
	case regexp.MustCompile(`(?m)^jobs:`).MatchString(text) && strings.Contains(text, "runs-on:"):
		if !regexp.MustCompile(`(?m)^on:`).MatchString(text) {
			text = "on: push\n" + text
		}
		return text, true
	case regexp.MustCompile(`^- (run|uses|name):`).MatchString(first):
		var b strings.Builder
		b.WriteString("on: push\njobs:\n  doc:\n    runs-on: ubuntu-latest\n    steps:\n")
		for _, l := range lines {
			if l != "" {
				b.WriteString("      " + l)
			}
			b.WriteString("\n")
		}
		return b.String(), true
	}
	return "", false
}

// TestDocsWorkflows runs actionlint on every GitHub Actions snippet in the
// docs (README.md, docs/ci.md).
func TestDocsWorkflows(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, doc := range docFiles(t) {
		for _, b := range mdBlocks(t, doc) {
			if b.lang != "yaml" && b.lang != "yml" {
				continue
			}
			wf, ok := workflowOf(b.text)
			if !ok {
				continue
			}
			name := fmt.Sprintf("%s-%d.yml", strings.NewReplacer("/", "_", ".md", "").Replace(doc), b.line)
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, []byte(wf), 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, path)
		}
	}
	// README's step and docs/ci.md's workflow at least.
	if len(paths) < 2 {
		t.Fatalf("found %d workflow snippets in the docs, want at least 2: %v", len(paths), paths)
	}
	actionlint := lookTool(t, "actionlint", "go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.7")
	// shellcheck and pyflakes are left out: the snippets' run: lines call
	// scripts that are not there.
	cmd := exec.Command(actionlint, append([]string{"-shellcheck=", "-pyflakes=", "-no-color"}, paths...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("actionlint rejects a workflow snippet of the docs (file names are DOC-LINE.yml): %v\n%s", err, out)
	}
}

// TestDocsAlertRules runs the alerting rules' unit tests with promtool.
func TestDocsAlertRules(t *testing.T) {
	promtool := lookTool(t, "promtool", "Debian: apt-get install prometheus")
	for _, args := range [][]string{
		{"check", "rules", "docs/prometheus/alerts.yml"},
		{"test", "rules", "docs/prometheus/alerts_test.yml"},
	} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestDocsPodFailurePolicy checks the Kubernetes snippets against what the
// API server's validation demands of a podFailurePolicy (it cannot run
// here): every onPodConditions pattern names its status, and the exit-code
// rules name the container and use In or NotIn.
func TestDocsPodFailurePolicy(t *testing.T) {
	found := 0
	for _, doc := range docFiles(t) {
		for _, b := range mdBlocks(t, doc) {
			if !strings.Contains(b.text, "podFailurePolicy:") {
				continue
			}
			found++
			lines := strings.Split(b.text, "\n")
			for i, l := range lines {
				if strings.TrimSpace(l) == "onPodConditions:" {
					var pattern []string
					indent := len(l) - len(strings.TrimLeft(l, " "))
					for _, next := range lines[i+1:] {
						if len(next)-len(strings.TrimLeft(next, " ")) <= indent {
							break
						}
						pattern = append(pattern, strings.TrimSpace(next))
					}
					if !slices.ContainsFunc(pattern, func(s string) bool { return strings.HasPrefix(s, `status: "True"`) }) {
						t.Errorf("%s:%d: onPodConditions without status: \"True\" (the API server requires it up to 1.33): %q", doc, b.line+1+i, pattern)
					}
				}
				if s := strings.TrimSpace(l); strings.HasPrefix(s, "operator:") && s != "operator: In" && s != "operator: NotIn" {
					t.Errorf("%s:%d: %s; want In or NotIn", doc, b.line+1+i, s)
				}
			}
		}
	}
	if found == 0 {
		t.Error("no podFailurePolicy snippet found in the docs")
	}
}

// TestDocsUnknownFormat: the error docs/reports.md quotes for an unknown
// format name is the one report.New returns.
func TestDocsUnknownFormat(t *testing.T) {
	_, err := report.New("xml", report.Options{})
	if err == nil {
		t.Fatal(`report.New("xml") succeeded`)
	}
	data, rerr := os.ReadFile("docs/reports.md")
	if rerr != nil {
		t.Fatal(rerr)
	}
	if !strings.Contains(string(data), "`"+err.Error()+"`") {
		t.Errorf("docs/reports.md does not quote report.New's error: `%s`", err)
	}
}
