// This file holds vet: every syntax, resolve and load error of a script and
// the files it loads, without running any check.
package runtime

import (
	"context"

	"github.com/infra-guard/infra-guard/result"
	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Vet parses and resolves the script and every file it loads, reporting all
// their errors; when there are none it runs the load phase, which has no
// side effects, and reports what that finds: every env(), require_env()
// and secret() problem, then the script's own error if it raised one. It
// returns the loaded guard when everything is clean.
func Vet(ctx context.Context, path string, src []byte, opts LoadOptions) (*Guard, []result.Diagnostic) {
	ld, err := newLoader(path, src != nil, opts.Extra)
	if err != nil {
		return nil, []result.Diagnostic{{Msg: err.Error()}}
	}
	var errs []result.Diagnostic
	seen := map[string]bool{}
	var walk func(abs, display string, src any)
	walk = func(abs, display string, src any) {
		if seen[abs] {
			return
		}
		seen[abs] = true
		f, err := dialect.Parse(display, src, 0)
		if err != nil {
			errs = append(errs, diagnose(err)...)
			return
		}
		if err := resolve.File(f, ld.predeclared.Has, starlark.Universe.Has); err != nil {
			errs = append(errs, diagnose(err)...)
		}
		for _, stmt := range f.Stmts {
			load, ok := stmt.(*syntax.LoadStmt)
			if !ok {
				continue
			}
			name, _ := load.Module.Value.(string)
			childAbs, childDisplay, err := ld.resolve(abs, name)
			if err != nil {
				errs = append(errs, at(load.Load, err.Error()))
				continue
			}
			walk(childAbs, childDisplay, nil)
		}
	}
	var srcAny any
	if src != nil {
		srcAny = src
	}
	walk(ld.mainAbs, path, srcAny)
	if len(errs) > 0 {
		return nil, errs
	}
	g, err := Load(ctx, path, src, opts)
	if err != nil {
		return nil, err.(*LoadError).Diagnostics
	}
	return g, nil
}
