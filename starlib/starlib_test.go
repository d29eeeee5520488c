package starlib_test

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"go.starlark.net/syntax"

	"github.com/infra-guard/infra-guard/runtime"
	"github.com/infra-guard/infra-guard/starlib"
)

// TestModulesLoad loads every @std module from a guard, as a user would,
// through vet: each must parse, resolve, load and export a public name.
func TestModulesLoad(t *testing.T) {
	names, err := fs.Glob(starlib.FS(), "*.star")
	if err != nil || len(names) == 0 {
		t.Fatalf("no modules in starlib.FS(): %v", err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			src, err := fs.ReadFile(starlib.FS(), name)
			if err != nil {
				t.Fatal(err)
			}
			export := firstPublic(t, name, src)
			guard := fmt.Sprintf("load(%q, %q)\ncheck(\"guard\", lambda: True)\n", "@std//"+name, export)
			if _, diags := runtime.Vet(context.Background(), "guard.star", []byte(guard), runtime.LoadOptions{}); len(diags) > 0 {
				t.Fatalf("load(\"@std//%s\", %q): %v", name, export, diags)
			}
		})
	}
}

// firstPublic is the first top-level name of the module a load() can import.
func firstPublic(t *testing.T, name string, src []byte) string {
	// The guard dialect (runtime.dialect); vet checks the module properly.
	f, err := (&syntax.FileOptions{Set: true, While: true, TopLevelControl: true, Recursion: true}).Parse(name, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range f.Stmts {
		var id *syntax.Ident
		switch s := stmt.(type) {
		case *syntax.DefStmt:
			id = s.Name
		case *syntax.AssignStmt:
			id, _ = s.LHS.(*syntax.Ident)
		}
		if id != nil && !strings.HasPrefix(id.Name, "_") {
			return id.Name
		}
	}
	t.Fatalf("%s exports nothing: a load() of it must name at least one symbol", name)
	return ""
}
