package builtins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarktest"
	"go.starlark.net/syntax"
)

// fileOptions is the guard script dialect (docs/design.md).
var fileOptions = &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, Recursion: true}

// TestStarlark runs the Starlark-level tests in testdata/*.star, with the
// builtins and starlarktest's assert module predeclared; a failed assert
// reports the file and line. Files named load_*.star run as a script's
// load phase; the others run on a thread that has a check's context, as a
// check function would.
func TestStarlark(t *testing.T) {
	files, err := filepath.Glob("testdata/*.star")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.star files")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".star")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			execStar(t, file, !strings.HasPrefix(name, "load_"))
		})
	}
}

// execStar runs one test file, in the run phase when inCheck is set and in
// the load phase otherwise.
func execStar(t *testing.T, file string, inCheck bool) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	assertModule, err := starlarktest.LoadAssertModule()
	if err != nil {
		t.Fatal(err)
	}
	predeclared := Predeclared()
	predeclared["assert"] = assertModule["assert"]

	thread := &starlark.Thread{Name: file}
	starlarktest.SetReporter(thread, t)
	if inCheck {
		SetContext(thread, t.Context())
	}
	if _, err := starlark.ExecFileOptions(fileOptions, thread, file, src, predeclared); err != nil {
		if evalErr, ok := err.(*starlark.EvalError); ok {
			t.Fatal(evalErr.Backtrace())
		}
		t.Fatal(err)
	}
}
