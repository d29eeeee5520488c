// Package action tests the GitHub Action at the repository root
// (action.yml and the scripts in this directory).
package action

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/infra-guard/infra-guard/cli"
)

// TestMain makes this test binary infra-guard when it is called that: the
// release archive the tests serve holds a copy of it under that name.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "infra-guard" {
		os.Exit(cli.Main(os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
	}
	os.Exit(m.Run())
}

// action is what the test reads of action.yml.
type action struct {
	Inputs map[string]struct {
		Default string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionStep struct {
	ID    string            `yaml:"id"`
	Shell string            `yaml:"shell"`
	Env   map[string]string `yaml:"env"`
	Run   string            `yaml:"run"`
}

// actionRunner runs action.yml's steps as a GitHub runner would: each
// step's run: text with bash -eo pipefail, its env: with the ${{ }}
// expressions filled in, and GITHUB_OUTPUT read back after each step.
type actionRunner struct {
	t        *testing.T
	act      action
	toolDir  string // RUNNER_TOOL_CACHE, shared by runs that test caching
	workDir  string
	inputs   map[string]string
	ref      string // github.action_ref
	outputs  map[string]map[string]string
	extraEnv []string
}

type stepResult struct {
	id     string
	err    error
	output string
}

func loadAction(t *testing.T) action {
	t.Helper()
	b, err := os.ReadFile("../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var act action
	if err := yaml.Unmarshal(b, &act); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if act.Runs.Using != "composite" || len(act.Runs.Steps) == 0 {
		t.Fatalf("action.yml: want a composite action with steps, got %q with %d steps", act.Runs.Using, len(act.Runs.Steps))
	}
	return act
}

var expr = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// eval fills in the ${{ }} expressions the action uses.
func (r *actionRunner) eval(s string) string {
	return expr.ReplaceAllStringFunc(s, func(m string) string {
		e := expr.FindStringSubmatch(m)[1]
		switch {
		case e == "github.action_ref":
			return r.ref
		case strings.HasPrefix(e, "inputs."):
			name := strings.TrimPrefix(e, "inputs.")
			in, ok := r.act.Inputs[name]
			if !ok {
				r.t.Fatalf("action.yml uses undeclared input %q", name)
			}
			if v, ok := r.inputs[name]; ok {
				return v
			}
			return in.Default
		case strings.HasPrefix(e, "steps."):
			parts := strings.Split(e, ".") // steps.ID.outputs.NAME
			if len(parts) != 4 || parts[2] != "outputs" {
				r.t.Fatalf("action.yml: cannot evaluate %q", e)
			}
			return r.outputs[parts[1]][parts[3]]
		}
		r.t.Fatalf("action.yml: the test cannot evaluate %q", e)
		return ""
	})
}

// run runs the steps until one fails, as a runner does.
func (r *actionRunner) run() []stepResult {
	r.outputs = map[string]map[string]string{}
	wd, _ := os.Getwd()
	repo := filepath.Dir(wd) // where action.yml is
	tmp := r.t.TempDir()
	var results []stepResult
	for i, step := range r.act.Runs.Steps {
		if step.Shell != "bash" {
			r.t.Fatalf("step %s: shell %q, want bash (the only shell on every runner OS)", step.ID, step.Shell)
		}
		outFile := filepath.Join(tmp, fmt.Sprintf("output.%d", i))
		script := filepath.Join(tmp, fmt.Sprintf("step.%d.sh", i))
		if err := os.WriteFile(script, []byte(r.eval(step.Run)), 0o644); err != nil {
			r.t.Fatal(err)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Dir = r.workDir
		cmd.Env = append([]string{
			"PATH=" + os.Getenv("PATH"),
			"HOME=" + tmp,
			"RUNNER_OS=Linux",
			"RUNNER_ARCH=" + map[string]string{"amd64": "X64", "arm64": "ARM64", "arm": "ARM"}[runtime.GOARCH],
			"RUNNER_TEMP=" + tmp,
			"RUNNER_TOOL_CACHE=" + r.toolDir,
			"GITHUB_ACTION_PATH=" + repo,
			"GITHUB_OUTPUT=" + outFile,
			"GITHUB_PATH=" + filepath.Join(tmp, "path"),
			"GITHUB_ACTIONS=true",
		}, r.extraEnv...)
		for k, v := range step.Env {
			cmd.Env = append(cmd.Env, k+"="+r.eval(v))
		}
		out, err := cmd.CombinedOutput()
		outs, _ := os.ReadFile(outFile)
		r.outputs[step.ID] = parseGitHubOutput(r.t, string(outs))
		results = append(results, stepResult{id: step.ID, err: err, output: string(out)})
		if err != nil {
			break
		}
	}
	return results
}

// parseGitHubOutput reads name=value lines and name<<DELIM blocks.
func parseGitHubOutput(t *testing.T, s string) map[string]string {
	m := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if name, delim, ok := strings.Cut(l, "<<"); ok && !strings.Contains(name, "=") {
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			m[name] = strings.Join(val, "\n")
			continue
		}
		if name, val, ok := strings.Cut(l, "="); ok {
			m[name] = val
		} else if l != "" {
			t.Errorf("GITHUB_OUTPUT: bad line %q", l)
		}
	}
	return m
}

// fakeRelease serves release downloads on 127.0.0.1 as GitHub lays them
// out: /TAG/SHA256SUMS and /TAG/ARCHIVE, and counts the requests.
type fakeRelease struct {
	mu    sync.Mutex
	files map[string][]byte
	hits  int
}

func (f *fakeRelease) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits++
	b, ok := f.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(b)
}

// releaseArchive builds infra-guard_VERSION_linux_ARCH.tar.gz as goreleaser
// does, with this test binary as infra-guard (TestMain runs the command
// line when the binary is called infra-guard), and returns its name and bytes.
func releaseArchive(t *testing.T, version string) (string, []byte) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{
		{"README.md", 0o644, []byte("# infra-guard\n")},
		{"LICENSE", 0o644, []byte("Apache License\n")},
		{"infra-guard", 0o755, bin},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	gz.Close()
	arch := runtime.GOARCH
	if arch == "arm" {
		arch = "armv7"
	}
	return fmt.Sprintf("infra-guard_%s_linux_%s.tar.gz", strings.TrimPrefix(version, "v"), arch), buf.Bytes()
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestAction runs the GitHub Action's steps against a fake release server:
// install from a verified archive, the tool cache on the second run, the
// outputs, and a checksum mismatch that must not install anything.
func TestAction(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the action test runs the Linux archive")
	}
	for _, tool := range []string{"bash", "curl", "tar", "sha256sum", "awk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	act := loadAction(t)
	for name, out := range act.Outputs {
		if !expr.MatchString(out.Value) {
			t.Errorf("output %s has no value expression", name)
		}
	}

	name, archive := releaseArchive(t, "v0.1.0")
	rel := &fakeRelease{files: map[string][]byte{
		"/v0.1.0/" + name:    archive,
		"/v0.1.0/SHA256SUMS": []byte(sha256Hex(archive) + "  " + name + "\n" + sha256Hex(nil) + "  other.tar.gz\n"),
		"/v0.2.0/" + strings.Replace(name, "0.1.0", "0.2.0", 1): append(append([]byte{}, archive...), 0), // tampered
		"/v0.2.0/SHA256SUMS": []byte(sha256Hex(archive) + "  " + strings.Replace(name, "0.1.0", "0.2.0", 1) + "\n"),
		"/v0.3.0/SHA256SUMS": []byte(sha256Hex(archive) + "  something-else.tar.gz\n"),
		"/v0.3.0/" + strings.Replace(name, "0.1.0", "0.3.0", 1): archive,
	}}
	srv := httptest.NewServer(rel)
	defer srv.Close()

	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "guard.star"), []byte(`
check("up", lambda: True)
check("slow", lambda: warn("p99 over budget"))
check("later", lambda: skip("not today"))
`), 0o644)
	os.WriteFile(filepath.Join(work, "broken.star"), []byte(`
check("up", lambda: True)
check("down", lambda: fail("connection refused"))
`), 0o644)
	toolDir := t.TempDir()
	runner := func(inputs map[string]string, ref string) *actionRunner {
		if _, ok := inputs["download-url"]; !ok {
			inputs["download-url"] = srv.URL
		}
		return &actionRunner{t: t, act: act, toolDir: toolDir, workDir: work, inputs: inputs, ref: ref}
	}
	hits := func() int {
		rel.mu.Lock()
		defer rel.mu.Unlock()
		n := rel.hits
		rel.hits = 0
		return n
	}
	wantOutputs := func(t *testing.T, got map[string]string, want map[string]string) {
		t.Helper()
		for k, v := range want {
			if got[k] != v {
				t.Errorf("output %s = %q, want %q (all: %v)", k, got[k], v, got)
			}
		}
	}

	t.Run("version from the action's tag, verified and installed", func(t *testing.T) {
		r := runner(map[string]string{"args": "--warn-ok"}, "v0.1.0")
		res := r.run()
		if len(res) != 2 || res[1].err != nil {
			t.Fatalf("steps: %+v", res)
		}
		if !strings.Contains(res[0].output, "as SHA256SUMS says") || !strings.Contains(res[0].output, "infra-guard ") {
			t.Errorf("install step output:\n%s", res[0].output)
		}
		wantOutputs(t, r.outputs["install"], map[string]string{"version": "v0.1.0", "cache-hit": "false"})
		wantOutputs(t, r.outputs["run"], map[string]string{
			"exit-code": "0", "checks": "3", "ok": "1", "warn": "1", "fail": "0", "unknown": "0", "skip": "1",
			"exit_code": "0", "status": "ok", // the github format's own outputs (--warn-ok: a warning is ok)
		})
		if n := hits(); n != 2 {
			t.Errorf("%d downloads, want 2 (SHA256SUMS and the archive)", n)
		}
		// The action's own outputs, as a workflow sees them.
		for name, want := range map[string]string{
			"exit-code": "0", "checks": "3", "warn": "1", "skip": "1",
			"status": "ok", "failed-json": "[]", "version": "v0.1.0",
		} {
			if got := r.eval(act.Outputs[name].Value); got != want {
				t.Errorf("action output %s = %q, want %q", name, got, want)
			}
		}
		if !strings.Contains(res[1].output, "::warning ") {
			t.Errorf("no warning annotation in the run step's output:\n%s", res[1].output)
		}
	})

	t.Run("tool cache, failing checks", func(t *testing.T) {
		r := runner(map[string]string{"version": "0.1.0", "script": "broken.star", "format": "text"}, "main")
		res := r.run()
		if len(res) != 2 || res[0].err != nil {
			t.Fatalf("steps: %+v", res)
		}
		if code := exitCode(res[1].err); code != 2 {
			t.Errorf("run step exited %d, want 2:\n%s", code, res[1].output)
		}
		wantOutputs(t, r.outputs["install"], map[string]string{"cache-hit": "true"})
		wantOutputs(t, r.outputs["run"], map[string]string{"exit-code": "2", "checks": "2", "ok": "1", "fail": "1"})
		if _, ok := r.outputs["run"]["status"]; ok {
			t.Errorf("format text wrote the github format's outputs: %v", r.outputs["run"])
		}
		if n := hits(); n != 0 {
			t.Errorf("%d downloads, want none: the tool cache has v0.1.0", n)
		}
	})

	t.Run("checksum mismatch", func(t *testing.T) {
		r := runner(map[string]string{"version": "v0.2.0"}, "")
		res := r.run()
		if len(res) != 1 || res[0].err == nil {
			t.Fatalf("install of a tampered archive did not fail: %+v", res)
		}
		if !strings.Contains(res[0].output, "::error title=infra-guard action::checksum mismatch for "+strings.Replace(name, "0.1.0", "0.2.0", 1)) {
			t.Errorf("install output:\n%s", res[0].output)
		}
		if entries, _ := os.ReadDir(filepath.Join(toolDir, "infra-guard", "0.2.0")); len(entries) != 0 {
			t.Errorf("the tool cache holds %d entries for the tampered release", len(entries))
		}
	})

	t.Run("archive not in SHA256SUMS", func(t *testing.T) {
		res := runner(map[string]string{"version": "v0.3.0"}, "").run()
		if len(res) != 1 || res[0].err == nil || !strings.Contains(res[0].output, "is not listed in the release's SHA256SUMS") {
			t.Fatalf("steps: %+v", res)
		}
	})

	t.Run("no release tag", func(t *testing.T) {
		hits()
		res := runner(map[string]string{}, "main").run()
		if len(res) != 1 || res[0].err == nil || !strings.Contains(res[0].output, "use the action at a release tag") {
			t.Fatalf("steps: %+v", res)
		}
		if n := hits(); n != 0 {
			t.Errorf("%d downloads, want none", n)
		}
	})

	t.Run("download URL from INFRA_GUARD_DOWNLOAD_URL", func(t *testing.T) {
		r := runner(map[string]string{"download-url": ""}, "v0.1.0")
		r.extraEnv = []string{"INFRA_GUARD_DOWNLOAD_URL=" + srv.URL}
		r.toolDir = t.TempDir() // empty cache: must download
		hits()
		res := r.run()
		if len(res) != 2 || res[0].err != nil {
			t.Fatalf("steps: %+v", res)
		}
		if n := hits(); n != 2 {
			t.Errorf("%d downloads from INFRA_GUARD_DOWNLOAD_URL, want 2", n)
		}
	})
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
