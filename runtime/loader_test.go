package runtime

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"go.starlark.net/starlark"

	libspkg "github.com/infra-guard/infra-guard/libs"
)

// testLibs are the loader's libraries in these tests: the real @std and a
// small @t whose modules load each other.
var testLibs = map[string]fs.FS{
	"t": fstest.MapFS{
		"a.star":     {Data: []byte(`load("sub/b.star", "b")` + "\na = b + 1\n")},
		"sub/b.star": {Data: []byte(`load("../c.star", "c")` + "\nb = c + 1\n")},
		"c.star":     {Data: []byte("print(\"c ran\")\nc = 1\n")},
		"up.star":    {Data: []byte(`load("../x.star", "x")` + "\n")},
		"loop.star":  {Data: []byte(`load("loop2.star", "y")` + "\nx = 1\n")},
		"loop2.star": {Data: []byte(`load("loop.star", "x")` + "\ny = 1\n")},
		"notes.txt":  {Data: []byte("not a module")},
		"sub/d.star": {Data: []byte("d = 1\n")},
	},
}

// loaderTree makes base/app/guard.star and its neighbours, with links that
// stay inside app/ and links that leave it, and returns the script's path.
func loaderTree(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	files := map[string]string{
		"app/guard.star":      `check("a", lambda: True)`,
		"app/ok.star":         "ok = 1\n",
		"app/lib/web.star":    "web = 1\n",
		"app/lib/notstar.txt": "",
		"outside.star":        "secret = 1\n",
		"shared/x.star":       "x = 1\n",
		"app/lib/sub/.keep":   "",
		"app/a.star":          `load("b.star", "b")` + "\na = 1\n",
		"app/b.star":          `load("a.star", "a")` + "\nb = 1\n",
		"app/self.star":       `load("self.star", "x")` + "\ny = 1\n",
		"app/lib/bad.star":    "y = 0\nx = 1 // y\n",
		"app/dir.star/.keep":  "",
	}
	for name, text := range files {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"app/in.star":     "ok.star",                                 // stays inside: followed
		"app/esc.star":    "../outside.star",                         // leaves app/
		"app/abs.star":    filepath.Join(base, "app", "ok.star"),     // absolute, even to inside
		"app/shared":      "../shared",                               // a directory outside
		"app/lib/up.star": filepath.Join("..", "..", "outside.star"), // two levels up
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(base, name)); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(base, "app", "guard.star")
}

// TestLoaderResolve covers resolving and reading a module name: the module
// it names, or the error that says why not.
func TestLoaderResolve(t *testing.T) {
	path := loaderTree(t)
	app := filepath.Dir(path)
	web := moduleID{path: "lib/web.star"}
	tests := []struct {
		name    string
		from    moduleID // zero: the main script
		load    string
		want    moduleID
		wantErr string
	}{
		{name: "relative", load: "ok.star", want: moduleID{path: "ok.star"}},
		{name: "nested", load: "lib/web.star", want: web},
		{name: "relative to the loading file", from: web, load: "../ok.star", want: moduleID{path: "ok.star"}},
		{name: "dot-dot inside the root", load: "lib/sub/../web.star", want: web},
		{name: "dot segments", load: "./lib/./web.star", want: web},
		{name: "symlink inside", load: "in.star", want: moduleID{path: "in.star"}},
		{name: "dot-dot out", load: "../outside.star", wantErr: "outside.star is outside the script's directory " + app},
		{name: "dot-dot out from below", from: web, load: "../../outside.star", wantErr: "is outside the script's directory"},
		{name: "absolute", load: "/etc/passwd.star", wantErr: "want a path relative to the loading file"},
		{name: "empty", load: "", wantErr: "want a path relative to the loading file"},
		{name: "not .star", load: "lib/notstar.txt", wantErr: "module names end in .star"},
		{name: "symlink out", load: "esc.star", wantErr: filepath.Join(app, "esc.star") + " is a symlink to ../outside.star, outside the script's directory " + app},
		{name: "symlink absolute", load: "abs.star", wantErr: "is a symlink to the absolute path"},
		{name: "symlinked directory out", load: "shared/x.star", wantErr: filepath.Join(app, "shared") + " is a symlink to ../shared, outside"},
		{name: "symlink out from below", from: web, load: "up.star", wantErr: "lib/up.star is a symlink to ../../outside.star"},
		{name: "missing", load: "missing.star", wantErr: "no such file " + filepath.Join(app, "missing.star")},
		{name: "directory", load: "dir.star", wantErr: "cannot read " + filepath.Join(app, "dir.star") + ": it is a directory; a script must be a regular file"},
		{name: "@std", load: "@std//default.star", want: moduleID{"std", "default.star"}},
		{name: "@std from a library file", from: web, load: "@std//default.star", want: moduleID{"std", "default.star"}},
		{name: "@std missing", load: "@std//nope.star", wantErr: "no module nope.star in @std (modules: checks.star, default.star, encoding.star"},
		{name: "@std absolute", load: "@std///etc/x.star", wantErr: "want a path relative"},
		{name: "@std dot-dot out", load: "@std//../app/ok.star", wantErr: "../app/ok.star is outside the library @std"},
		{name: "unknown library", load: "@team//x.star", wantErr: "unknown library @team (known: @std, @t)"},
		{name: "malformed library", load: "@std/x.star", wantErr: "want @LIBRARY//PATH.star"},
		{name: "library without path", load: "@std//", wantErr: "want @LIBRARY//PATH.star"},
		{name: "in a library, relative", from: moduleID{"t", "a.star"}, load: "sub/b.star", want: moduleID{"t", "sub/b.star"}},
		{name: "in a library, dot-dot inside", from: moduleID{"t", "sub/b.star"}, load: "../c.star", want: moduleID{"t", "c.star"}},
		{name: "in a library, dot-dot out", from: moduleID{"t", "up.star"}, load: "../x.star", wantErr: "../x.star is outside the library @t"},
		{name: "in a library, missing", from: moduleID{"t", "sub/b.star"}, load: "zz.star", wantErr: "no module sub/zz.star in @t (modules: b.star, d.star)"},
		{name: "in a library, not .star", from: moduleID{"t", "a.star"}, load: "notes.txt", wantErr: "module names end in .star"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ld := newLoader(context.Background(), path, false, LoadOptions{})
			defer ld.close()
			useLibs(ld, testLibs)
			from := tt.from
			if from == (moduleID{}) {
				from = ld.main
			}
			id, err := ld.resolve(from, tt.load)
			if err == nil {
				_, err = ld.read(id)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("load(%q): %v", tt.load, err)
			case tt.wantErr == "" && id != tt.want:
				t.Fatalf("load(%q) = %+v, want %+v", tt.load, id, tt.want)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("load(%q) = %v, want an error containing %q", tt.load, err, tt.wantErr)
			}
		})
	}
}

// TestLoaderExec covers what happens once modules run: caching, cycles by
// name, errors at their own position, relative loads inside a library.
func TestLoaderExec(t *testing.T) {
	path := loaderTree(t)
	app := filepath.Dir(path)
	tests := []struct {
		name, src, wantErr string
	}{
		{name: "library loads resolve inside it", src: `load("@t//a.star", "a")` + "\nif a != 3: fail(a)\n"},
		{name: "cached", src: `load("@t//a.star", "a")` + "\n" + `load("@t//c.star", "c")` + "\n" + `load("@t//sub/../c.star", c2 = "c")` + "\n"},
		{name: "cycle", src: `load("a.star", "a")`, wantErr: "load cycle: " + filepath.Join(app, "a.star") + " -> " + filepath.Join(app, "b.star") + " -> " + filepath.Join(app, "a.star")},
		{name: "self", src: `load("self.star", "x")`, wantErr: "load cycle: " + filepath.Join(app, "self.star") + " -> " + filepath.Join(app, "self.star")},
		{name: "main", src: `load("guard.star", "x")`, wantErr: "load cycle: " + path + " -> " + path},
		{name: "cycle in a library", src: `load("@t//loop.star", "x")`, wantErr: "load cycle: @t//loop.star -> @t//loop2.star -> @t//loop.star"},
		{name: "error at its position", src: `load("lib/bad.star", "x")`, wantErr: filepath.Join(app, "lib", "bad.star") + ":2:7: floored division by zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ld := newLoader(context.Background(), path, false, LoadOptions{})
			defer ld.close()
			useLibs(ld, testLibs)
			ran := 0
			thread := &starlark.Thread{Load: ld.load, Print: func(*starlark.Thread, string) { ran++ }}
			_, err := starlark.ExecFileOptions(dialect, thread, path, tt.src, ld.predeclared)
			if strings.Contains(tt.src, "@t//c.star") && ran != 1 {
				t.Errorf("@t//c.star ran %d times, want once", ran)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(describe(err), tt.wantErr)):
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestLoadStdDefault loads the default guard's module from a user script:
// its checks join the script's, once however often it is loaded.
func TestLoadStdDefault(t *testing.T) {
	g, err := Load(context.Background(), "guard.star", []byte(`
load("@std//default.star", "CHECKS")
load("@std//default.star", again = "CHECKS")
check("mine", lambda: True, after = CHECKS)
`), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range g.Checks {
		names = append(names, c.Name+"@"+c.File)
	}
	want := "root-disk@@std//default.star root-inodes@@std//default.star memory@@std//default.star load@@std//default.star mine@guard.star"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("checks = %s, want %s", got, want)
	}
}

// TestDefaultScript: the built-in default guard loads, with its four
// checks, and vet finds nothing wrong with it.
func TestDefaultScript(t *testing.T) {
	g, diags := Vet(context.Background(), DefaultScriptName, DefaultScript, LoadOptions{})
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	if len(g.Checks) != 4 || g.Script != DefaultScriptName {
		t.Errorf("script %q, %d checks, want %q and 4", g.Script, len(g.Checks), DefaultScriptName)
	}
}

// useLibs declares and opens libs in ld, as if guard.libs had named them.
func useLibs(ld *loader, libs map[string]fs.FS) {
	ld.libs.specs = map[string]libspkg.Spec{}
	ld.libs.opened = map[string]fs.FS{}
	for name, fsys := range libs {
		ld.libs.specs[name] = libspkg.Spec{Name: name}
		ld.libs.opened[name] = fsys
	}
}

// Vet of a script outside the working directory resolves its relative
// load()s from the script's directory, as Load does (it once handed Load
// the text it had read, which made Load take the script for the embedded
// guard and resolve from the working directory).
func TestVetScriptElsewhere(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lib", "m.star"), []byte("def f():\n    return True\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "guard.star")
	if err := os.WriteFile(path, []byte("load(\"lib/m.star\", \"f\")\ncheck(\"a\", f)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g, errs := Vet(t.Context(), path, nil, LoadOptions{})
	if len(errs) > 0 || g == nil || len(g.Checks) != 1 {
		t.Fatalf("Vet(%s): %v", path, errs)
	}
}
