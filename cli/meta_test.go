package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/infra-guard/infra-guard/buildinfo"
)

// generate runs `infra-guard ARGS…`, which must exit 0, and returns stdout.
func generate(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := runIn(t, Env{}, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s", args, code, stderr)
	}
	return stdout
}

func TestVersionJSON(t *testing.T) {
	var got buildinfo.Info
	if err := json.Unmarshal([]byte(generate(t, "version", "--format", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if got != buildinfo.Get() {
		t.Errorf("version --format json = %+v, want %+v", got, buildinfo.Get())
	}
	text := generate(t, "version")
	for _, want := range []string{"infra-guard " + got.Version + "\n", "commit:", "commit time:", "dirty:", "go:          " + got.GoVersion} {
		if !strings.Contains(text, want) {
			t.Errorf("version output lacks %q:\n%s", want, text)
		}
	}
}

func TestVersionIgnoresFormatVariable(t *testing.T) {
	env := Env{Getenv: func(k string) string {
		if k == "INFRA_GUARD_FORMAT" {
			return "github" // meant for run
		}
		return ""
	}}
	if code, stdout, stderr := runIn(t, env, "version"); code != 0 || !strings.HasPrefix(stdout, "infra-guard ") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestHelpCommandIsDashH(t *testing.T) {
	for _, cmd := range [][2][]string{
		{{"help"}, {"-h"}},
		{{"help", "run"}, {"run", "-h"}},
		{{"help", "version"}, {"version", "-h"}},
	} {
		if got, want := generate(t, cmd[0]...), generate(t, cmd[1]...); got != want {
			t.Errorf("%v printed\n%s\nwant what %v prints:\n%s", cmd[0], got, cmd[1], want)
		}
	}
	if code, _, stderr := runIn(t, Env{}, "help", "nope"); code != 3 || !strings.Contains(stderr, `unknown command "nope"`) {
		t.Errorf("help nope: exit %d, stderr %q", code, stderr)
	}
}

// TestFlagChoicesInUsage keeps flagChoices honest: a flag's usage text
// names every value completion offers for it.
func TestFlagChoicesInUsage(t *testing.T) {
	a := newApp(Env{})
	n := 0
	for _, s := range cmdSpecs(a.commands()) {
		for _, f := range s.Flags {
			if len(f.Choices) == 0 || f.Suffix != "" {
				continue
			}
			n++
			for _, c := range f.Choices {
				if !strings.Contains(f.Usage, c) {
					t.Errorf("%s --%s: usage %q does not name %q", s.Name, f.Name, f.Usage, c)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no flag has choices")
	}
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func need(t *testing.T, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		t.Skipf("%s is not installed (.ci/run installs it)", program)
	}
	return path
}

func TestCompletionSyntax(t *testing.T) {
	for _, shell := range shells {
		t.Run(shell, func(t *testing.T) {
			bin := need(t, shell)
			script := writeTemp(t, "completion."+shell, generate(t, "completion", shell))
			out, err := exec.Command(bin, "-n", script).CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		})
	}
}

// TestBashCompletion asks the bash completion function what it offers,
// as bash does on TAB: COMP_WORDS and COMP_CWORD set, COMPREPLY read.
func TestBashCompletion(t *testing.T) {
	bash := need(t, "bash")
	script := writeTemp(t, "infra-guard.bash", generate(t, "completion", "bash"))
	dir := t.TempDir()
	for _, f := range []string{"guard.star", "web.star", "notes.txt", "lib/x.star"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	tests := []struct {
		words []string // the last one is the word being completed
		want  []string
	}{
		{[]string{""}, []string{"completion", "doc", "fmt", "guard.star", "help", "lib", "libs", "list", "man", "run", "serve", "test", "version", "vet", "web.star"}},
		{[]string{"run", ""}, []string{"guard.star", "lib", "web.star"}},
		{[]string{"run", "--format", ""}, []string{"github", "json", "junit", "nagios", "prometheus", "tap", "text"}},
		{[]string{"run", "--format", "=", "j"}, []string{"json", "junit"}},
		{[]string{"--log-level", "w"}, []string{"warn"}},
		{[]string{"--timeout", "5s", "v"}, []string{"version", "vet"}},
		{[]string{"--timeout", ""}, nil},
		{[]string{"list", "--"}, []string{"--lib", "--log-format", "--log-level", "--max-steps", "--timeout"}},
		{[]string{"vet", "--format", ""}, []string{"github", "json", "text"}},
		{[]string{"libs", ""}, []string{"add", "fetch"}},
		{[]string{"run", "--w"}, []string{"--wait", "--warn-ok"}},
		{[]string{"version", "--format", ""}, []string{"json", "text"}},
		{[]string{"run", "--report", "ju"}, []string{"junit="}},
		{[]string{"help", "c"}, []string{"completion"}},
		{[]string{"completion", ""}, []string{"bash", "fish", "zsh"}},
		{[]string{"man", ""}, nil},
	}
	for _, tt := range tests {
		words := append([]string{"infra-guard"}, tt.words...)
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+w+"'")
		}
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c",
			`source "$1" && COMP_WORDS=(`+strings.Join(quoted, " ")+`) && COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _infra_guard && printf '%s\n' "${COMPREPLY[@]}"`,
			"bash", script)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%q: %v\n%s", words, err, out)
			continue
		}
		got := strings.Fields(string(out))
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: offered %q, want %q", words, got, tt.want)
		}
	}
}

// TestManPage renders the man page with groff, warnings on, and wants no
// warning and every command and flag in it.
func TestManPage(t *testing.T) {
	groff := need(t, "groff")
	page := generate(t, "man")
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(page)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("groff: %v\n%s", err, out)
	}
	cmd = exec.Command(groff, "-man", "-Tutf8", "-P", "-cbou", "-rLL=200n")
	cmd.Stdin = strings.NewReader(page)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	a := newApp(Env{})
	for _, s := range cmdSpecs(a.commands()) {
		if !strings.Contains(text, strings.Join(strings.Fields(s.ShortUsage), " ")) {
			t.Errorf("the man page lacks %q", s.ShortUsage)
		}
		for _, f := range s.Flags {
			if !strings.Contains(text, "--"+f.Name) {
				t.Errorf("the man page lacks --%s", f.Name)
			}
		}
	}
}

func TestRoffText(t *testing.T) {
	for in, want := range map[string]string{
		`a-b`:          `a\-b`,
		`C:\dir`:       `C:\edir`,
		`say "hi"`:     `say \(dqhi\(dq`,
		"5 \u2014 six": `5 \[u2014] six`,
	} {
		if got := roffText(in); got != want {
			t.Errorf("roffText(%q) = %q, want %q", in, got, want)
		}
	}
	if got := roffParagraphs(".hidden\n'quote"); got != `\&.hidden`+"\n"+`\&'quote` {
		t.Errorf("roffParagraphs = %q", got)
	}
}
