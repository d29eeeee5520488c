package runtime

// This file holds vet: every syntax, resolve and load error of a script and
// the modules it loads, without running any check.

import (
	"context"
	"fmt"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/infra-guard/infra-guard/result"
)

// Vet parses and resolves the script and every module it loads, reporting
// all their errors; when there are none it runs the load phase, which has no
// side effects, and reports what that finds: every env(), require_env()
// and secret() problem, then the script's own error if it raised one. It
// returns the loaded guard when everything is clean.
func Vet(ctx context.Context, path string, src []byte, opts LoadOptions) (*Guard, []result.Diagnostic) {
	ld := newLoader(ctx, path, src != nil, opts)
	defer ld.close()
	var errs []result.Diagnostic
	seen := map[moduleID]bool{}
	// walk finds the load() statements the same way the load phase does,
	// through the loader's resolve and read, and with its wording.
	var walk func(id moduleID, src []byte)
	walk = func(id moduleID, src []byte) {
		if seen[id] {
			return
		}
		seen[id] = true
		f, err := dialect.Parse(ld.name(id), src, 0)
		if err != nil {
			errs = append(errs, diagnose(err)...)
			return
		}
		if err := resolve.File(f, ld.predeclaredFor(id).Has, starlark.Universe.Has); err != nil {
			errs = append(errs, diagnose(err)...)
		}
		for _, stmt := range f.Stmts {
			load, ok := stmt.(*syntax.LoadStmt)
			if !ok {
				continue
			}
			name, _ := load.Module.Value.(string)
			child, err := ld.resolve(id, name)
			var childSrc []byte
			if err == nil {
				childSrc, err = ld.read(child)
			}
			if err != nil {
				errs = append(errs, at(load.Load, fmt.Sprintf("cannot load %s: %v", name, err)))
				continue
			}
			walk(child, childSrc)
		}
	}
	src, d := mainSource(path, src)
	if d != nil {
		return nil, []result.Diagnostic{*d}
	}
	walk(ld.main, src)
	if len(errs) > 0 {
		return nil, errs
	}
	g, err := Load(ctx, path, src, opts)
	if err != nil {
		return nil, err.(*LoadError).Diagnostics
	}
	return g, nil
}
