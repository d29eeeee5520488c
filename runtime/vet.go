package runtime

// This file holds vet: every syntax, resolve and load error of a script and
// the modules it loads, without running any check, and (VetAll) the strict
// findings of lint.go.

import (
	"context"
	"fmt"
	"slices"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/infra-guard/infra-guard/result"
)

// Vet parses and resolves the script and every module it loads, reporting
// all their errors; when there are none it runs the load phase, which has no
// side effects, and reports what that finds: every env(), require_env()
// and secret() problem, then the script's own error if it raised one. It
// returns the loaded guard when everything is clean. VetAll says more.
func Vet(ctx context.Context, path string, src []byte, opts LoadOptions) (*Guard, []result.Diagnostic) {
	g, fs := VetAll(ctx, path, src, opts)
	var errs []result.Diagnostic
	for _, f := range fs {
		if f.Severity == SevError {
			errs = append(errs, f.Diagnostic)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return g, nil
}

// VetAll is Vet with the strict checks of lint.go, as findings of every
// severity: errors (what stops the script, and the mistakes that make a
// check test the wrong thing), warnings (likely bugs) and, with
// opts.Placeholders, notes for variables that are not set. It returns the
// guard when there is no error.
func VetAll(ctx context.Context, path string, src []byte, opts LoadOptions) (*Guard, []Finding) {
	ld := newLoader(ctx, path, src != nil, opts)
	defer ld.close()
	var out []Finding
	seen := map[moduleID]bool{}
	// walk finds the load() statements the same way the load phase does,
	// through the loader's resolve and read, and with its wording.
	var walk func(id moduleID, src []byte)
	walk = func(id moduleID, src []byte) {
		if seen[id] {
			return
		}
		seen[id] = true
		// With its comments, which can silence a generic finding.
		f, err := dialect.Parse(ld.name(id), src, syntax.RetainComments)
		if err != nil {
			for _, d := range diagnose(err) {
				d.Msg = pythonHint(d.Msg, lineOf(src, int32(d.Line)))
				out = append(out, Finding{d, SevError})
			}
			return
		}
		var found []Finding
		if err := resolve.File(f, ld.predeclaredFor(id).Has, starlark.Universe.Has); err != nil {
			names := slices.Concat(keys(ld.predeclaredFor(id)), keys(starlark.Universe), globalNames(f))
			for _, d := range diagnose(err) {
				d.Msg = didYouMean(d.Msg, names)
				found = append(found, Finding{d, SevError})
			}
		}
		// The strict checks are for the user's own files: @std and team
		// libraries are linted where they are written.
		if id.lib == "" {
			found = append(found, lint(f)...)
			found = append(found, genericLint(f)...)
		}
		slices.SortStableFunc(found, func(a, b Finding) int { return a.Line - b.Line })
		out = append(out, found...)
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
				out = append(out, Finding{at(load.Load, fmt.Sprintf("cannot load %s: %v", name, err)), SevError})
				continue
			}
			walk(child, childSrc)
		}
	}
	given := src // nil for a file: Load reads it again, and resolves load()s beside it
	src, d := mainSource(path, src)
	if d != nil {
		return nil, []Finding{{*d, SevError}}
	}
	walk(ld.main, src)
	if slices.ContainsFunc(out, func(f Finding) bool { return f.Severity == SevError }) {
		return nil, out
	}
	opts.lintDone = true
	g, err := Load(ctx, path, given, opts)
	if err != nil {
		le := err.(*LoadError)
		var load []Finding
		for _, d := range le.Diagnostics {
			load = append(load, Finding{d, SevError})
		}
		for _, d := range le.Notes {
			load = append(load, Finding{d, SevNote})
		}
		// In the order of the script, as the env() calls were made.
		slices.SortStableFunc(load, func(a, b Finding) int {
			if a.File != b.File {
				return 0
			}
			return a.Line - b.Line
		})
		return nil, append(out, load...)
	}
	for _, n := range g.Notes {
		out = append(out, Finding{n, SevNote})
	}
	return g, out
}

func keys(d starlark.StringDict) []string {
	out := make([]string, 0, len(d))
	for k := range d {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
