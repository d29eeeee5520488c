package runtime

// This file turns Starlark errors into Diagnostics that carry
// file:line:col, the form editors and CI annotations understand.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/infra-guard/infra-guard/result"
)

// LoadError lists everything that stopped a script from loading.
type LoadError struct {
	Diagnostics []result.Diagnostic
	// Notes are the variables that were not set, under
	// LoadOptions.Placeholders: not what stopped the load.
	Notes []result.Diagnostic
}

func (e *LoadError) Error() string { return lines(e.Diagnostics) }

// lines gives diagnostics one a line.
func lines(ds []result.Diagnostic) string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.String())
	}
	return b.String()
}

// at makes a Diagnostic at a Starlark position.
func at(pos syntax.Position, msg string) result.Diagnostic {
	return result.Diagnostic{File: pos.Filename(), Line: int(pos.Line), Col: int(pos.Col), Msg: msg}
}

// diagnose gives the Diagnostics of a load-phase error: one per resolve
// error (vet lists them apart), else one. Syntax and resolve errors carry
// their positions; an evaluation error gets its innermost Starlark frame's,
// and an error inside a loaded file the position in that file.
func diagnose(err error) []result.Diagnostic {
	var list resolve.ErrorList
	if errors.As(err, &list) {
		ds := make([]result.Diagnostic, len(list))
		for i, e := range list {
			ds[i] = at(e.Pos, e.Msg)
		}
		return ds
	}
	var synErr syntax.Error
	if errors.As(err, &synErr) {
		return []result.Diagnostic{at(synErr.Pos, synErr.Msg)}
	}
	var inner *loadedError
	if errors.As(err, &inner) {
		return []result.Diagnostic{inner.d}
	}
	var evalErr *starlark.EvalError
	if errors.As(err, &evalErr) {
		msg := betterAttrHint(evalErr.Msg)
		if pos, ok := starlarkPos(evalErr); ok {
			return []result.Diagnostic{at(pos, msg)}
		}
		return []result.Diagnostic{{Msg: msg}}
	}
	return []result.Diagnostic{{Msg: err.Error()}}
}

// starlarkPos is the position of the innermost Starlark (not Go builtin)
// frame of an evaluation error, or of a syntax error.
func starlarkPos(err error) (syntax.Position, bool) {
	var synErr syntax.Error
	if errors.As(err, &synErr) {
		return synErr.Pos, true
	}
	var evalErr *starlark.EvalError
	if !errors.As(err, &evalErr) {
		return syntax.Position{}, false
	}
	for i := len(evalErr.CallStack) - 1; i >= 0; i-- {
		if pos := evalErr.CallStack[i].Pos; pos.Filename() != "<builtin>" {
			return pos, true
		}
	}
	return syntax.Position{}, false
}

// describe is diagnose in one line (or several), for a check's message.
func describe(err error) string { return lines(diagnose(err)) }

// errorPos is starlarkPos for messages: "file:line:col", or "?".
func errorPos(err error) string {
	if pos, ok := starlarkPos(err); ok {
		return pos.String()
	}
	return "?"
}

// loaded marks an error raised inside a loaded file with its own place,
// since the loading file's error only shows the load() line.
func loaded(err error) error {
	if ds := diagnose(err); len(ds) == 1 && ds[0].File != "" {
		return &loadedError{d: ds[0], cause: err}
	}
	return err
}

type loadedError struct {
	d     result.Diagnostic
	cause error
}

func (e *loadedError) Error() string { return e.d.String() }
func (e *loadedError) Unwrap() error { return e.cause }

// foldBacktrace folds runs of identical lines in a Starlark backtrace as
// Python does: a runaway recursion's 100,000 frames are three lines and
// "[Previous line repeated 99,997 more times]", not a 2.8 MB report.
func foldBacktrace(bt string) string {
	const keep = 3
	lines := strings.SplitAfter(bt, "\n")
	var b strings.Builder
	for i := 0; i < len(lines); {
		j := i + 1
		for j < len(lines) && lines[j] == lines[i] {
			j++
		}
		n := j - i
		for k := 0; k < min(n, keep); k++ {
			b.WriteString(lines[i])
		}
		if n > keep {
			indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " "))]
			fmt.Fprintf(&b, "%s[Previous line repeated %s more times]\n", indent, thousands(n-keep))
		}
		i = j
	}
	return b.String()
}

// thousands writes n with comma separators: 99,997.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
