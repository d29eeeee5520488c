// This file turns Starlark errors into messages that start with
// file:line:col, the form editors and CI annotations understand.
package runtime

import (
	"errors"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// describe gives one message for a load-phase error; see describeAll.
func describe(err error) string { return strings.Join(describeAll(err), "\n") }

// describeAll gives the messages of a load-phase error, one per resolve
// error (vet lists them apart). Syntax and resolve errors already carry
// positions; an evaluation error gets the innermost Starlark frame's.
func describeAll(err error) []string {
	var list resolve.ErrorList
	if errors.As(err, &list) {
		msgs := make([]string, len(list))
		for i, e := range list {
			msgs[i] = e.Error()
		}
		return msgs
	}
	var evalErr *starlark.EvalError
	if errors.As(err, &evalErr) {
		return []string{errorPos(evalErr) + ": " + evalErr.Msg}
	}
	return []string{err.Error()}
}

// errorPos is the position of the innermost Starlark (not Go builtin) frame
// of an evaluation error, or of a syntax error.
func errorPos(err error) string {
	var synErr syntax.Error
	if errors.As(err, &synErr) {
		return synErr.Pos.String()
	}
	var evalErr *starlark.EvalError
	if !errors.As(err, &evalErr) {
		return "?"
	}
	for i := len(evalErr.CallStack) - 1; i >= 0; i-- {
		if pos := evalErr.CallStack[i].Pos; pos.Filename() != "<builtin>" {
			return pos.String()
		}
	}
	return "?"
}

// positioned makes an error from a loaded module carry its own position in
// its message, since the loading file's error only shows the load() line.
func positioned(err error) error {
	var evalErr *starlark.EvalError
	if errors.As(err, &evalErr) {
		return &posError{msg: errorPos(evalErr) + ": " + evalErr.Msg, cause: err}
	}
	return err
}

type posError struct {
	msg   string
	cause error
}

func (e *posError) Error() string { return e.msg }
func (e *posError) Unwrap() error { return e.cause }
