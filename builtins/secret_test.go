package builtins

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/lib/json"
	"go.starlark.net/starlark"
)

func fmtSprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

func TestSecretFromEnvAndFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := strings.Repeat("x", MaxSecretFile+1)
	tests := []struct {
		name    string
		vars    map[string]string
		want    string // the value, when it loads
		problem string
	}{
		{"env", map[string]string{"TOK": "from-env-value"}, "from-env-value", ""},
		{"file", map[string]string{"TOK_FILE": write("a", "from-file-value\n")}, "from-file-value", ""},
		{"one newline trimmed", map[string]string{"TOK_FILE": write("b", "v-value-1\n\n")}, "v-value-1\n", ""},
		{"crlf trimmed", map[string]string{"TOK_FILE": write("c", "v-value-2\r\n")}, "v-value-2", ""},
		{"no newline", map[string]string{"TOK_FILE": write("d", "v-value-3")}, "v-value-3", ""},
		{"exactly 64 KiB", map[string]string{"TOK_FILE": write("e", big[:MaxSecretFile])}, big[:MaxSecretFile], ""},
		{"empty env counts as unset", map[string]string{"TOK": "", "TOK_FILE": write("f", "value-f")}, "value-f", ""},
		{"both", map[string]string{"TOK": "x", "TOK_FILE": write("g", "y")}, "", "secret: TOK and TOK_FILE are both set; set only one"},
		{"unset", nil, "", "secret: TOK is not set; set TOK, or TOK_FILE to the path of a file that holds it"},
		{"missing file", map[string]string{"TOK_FILE": filepath.Join(dir, "nope")}, "", "secret: TOK_FILE=" + filepath.Join(dir, "nope") + ": no such file or directory"},
		{"directory", map[string]string{"TOK_FILE": dir}, "", "secret: TOK_FILE=" + dir + ": is a directory; want a file"},
		{"empty file", map[string]string{"TOK_FILE": write("h", "")}, "", "is empty"},
		{"only a newline", map[string]string{"TOK_FILE": write("i", "\n")}, "", "is empty"},
		{"too big", map[string]string{"TOK_FILE": write("j", big)}, "", "is 65537 bytes; a secret file may hold at most 65536 (64 KiB)"},
		{"not regular", map[string]string{"TOK_FILE": "/dev/null"}, "", "TOK_FILE=/dev/null: is not a regular file"},
	}
	if os.Geteuid() != 0 { // root reads anything
		tests = append(tests, struct {
			name    string
			vars    map[string]string
			want    string
			problem string
		}{"unreadable", map[string]string{"TOK_FILE": func() string { p := write("k", "v"); os.Chmod(p, 0); return p }()}, "", "permission denied"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var registered []string
			cfg := NewLoadConfig(mapLookup(tt.vars), func(name, value string) { registered = append(registered, name+"="+value) })
			thread := &starlark.Thread{}
			SetConfig(thread, cfg)
			g, err := starlark.ExecFileOptions(fileOptions, thread, "guard.star", `S = secret("TOK")`, Predeclared())
			if err != nil {
				t.Fatal(err)
			}
			s := g["S"].(*Secret)
			if s.String() != "<secret:TOK>" {
				t.Errorf("str = %s", s)
			}
			errs := cfg.Errors()
			if tt.problem != "" {
				if len(errs) != 1 || !strings.Contains(errs[0].String(), tt.problem) || !strings.HasPrefix(errs[0].String(), "guard.star:1:11: ") {
					t.Fatalf("problems %q, want one containing %q", errs, tt.problem)
				}
				if s.Truth() || len(registered) > 0 || len(cfg.Secrets()) > 0 {
					t.Errorf("a failed secret was registered or is non-empty")
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("problems %q", errs)
			}
			if text, _, _ := Reveal(s); text != tt.want {
				t.Errorf("value %.40q, want %.40q", text, tt.want)
			}
			if len(registered) != 1 || registered[0] != "TOK="+tt.want {
				t.Errorf("registered %.60q", registered)
			}
			if sv := cfg.Secrets(); len(sv) != 1 || sv[0].Value != tt.want {
				t.Errorf("Secrets() = %v", sv)
			}
		})
	}
}

// Reading one secret twice registers it once.
func TestSecretRegisteredOnce(t *testing.T) {
	n := 0
	cfg := NewLoadConfig(mapLookup(map[string]string{"TOK": "value-value"}), func(string, string) { n++ })
	thread := &starlark.Thread{}
	SetConfig(thread, cfg)
	if _, err := starlark.ExecFileOptions(fileOptions, thread, "g.star", "a = secret(\"TOK\")\nb = secret(\"TOK\")", Predeclared()); err != nil {
		t.Fatal(err)
	}
	if n != 1 || len(cfg.Secrets()) != 1 {
		t.Errorf("registered %d times, Secrets %d", n, len(cfg.Secrets()))
	}
}

// The Secret type keeps its value to itself in every Starlark operation.
func TestSecretValueNotExposed(t *testing.T) {
	cfg := NewLoadConfig(mapLookup(map[string]string{"TOK": "hunter2hunter2"}), nil)
	thread := &starlark.Thread{}
	SetConfig(thread, cfg)
	g, err := starlark.ExecFileOptions(fileOptions, thread, "g.star", `
S = secret("TOK")
shown = [str(S), repr(S), "%s" % S, "{}".format(S), str("x" + S + "y"), str([S]), str({"k": S}), json.encode(str(S))]
truth = bool(S)
same = S == "hunter2hunter2"
`, predeclaredWithJSON())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(g["shown"].String(), "hunter2") {
		t.Errorf("value shown: %s", g["shown"])
	}
	if g["same"] != starlark.False {
		t.Error("a secret compares equal to its text")
	}
	if g["truth"] != starlark.True {
		t.Error("a set secret is falsy")
	}
	for _, expr := range []string{`len(S)`, `S[0]`, `[c for c in S]`, `S < "a"`, `S * 2`, `{S: 1}`, `fail(S)`, `json.encode(S)`, `"hunter2hunter2" in S`} {
		_, err := starlark.ExecFileOptions(fileOptions, thread, "e.star", "S = secret(\"TOK\")\nx = "+expr, predeclaredWithJSON())
		if err == nil {
			t.Errorf("%s: no error", expr)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error shows the value: %v", expr, err)
		}
	}
}

func jsonModule() starlark.Value { return json.Module }

func predeclaredWithJSON() starlark.StringDict {
	p := Predeclared()
	p["json"] = jsonModule()
	return p
}
