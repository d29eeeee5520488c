package runtime

// This file holds what fmt takes from buildifier's packages
// (github.com/bazelbuild/buildtools): its formatter, which is the Starlark
// formatter (go.starlark.net has none, and writing one by hand would be a
// second parser to keep in step). Its parser is not go.starlark.net's: it
// lacks while loops, which guard scripts may use, so a file it cannot parse
// is left unformatted, with a note saying so. vet's generic checks, which
// once came from buildtools/warn, are lintgeneric.go.

import (
	"bytes"
	"fmt"

	"github.com/bazelbuild/buildtools/build"
)

// Format returns src formatted as buildifier formats Starlark, without
// its BUILD-file rewrites (sorting lists, say), which could change what a
// script means. The result must still parse as a guard script with the
// same statements; anything else is an error, and src is left alone.
func Format(name string, src []byte) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("%s: the formatter failed (%v); please report this", name, p)
		}
	}()
	if _, err := dialect.Parse(name, src, 0); err != nil {
		return nil, err
	}
	f, err := build.ParseDefault(name, src)
	if err != nil {
		return nil, &UnformattableError{err}
	}
	out = build.FormatWithoutRewriting(f)
	if _, err := dialect.Parse(name, out, 0); err != nil {
		return nil, fmt.Errorf("%s: formatting would break the file (%v); please report this", name, err)
	}
	return out, nil
}

// UnformattableError is a file that is valid Starlark for guard scripts
// but that buildifier's parser cannot read (a while loop, say): fmt leaves
// it as it is.
type UnformattableError struct{ err error }

func (e *UnformattableError) Error() string {
	return fmt.Sprintf("%v: left as it is: the formatter's parser (buildifier's) does not read this file; while loops are the usual reason", e.err)
}

// Formatted reports whether src is formatted already.
func Formatted(name string, src []byte) (bool, error) {
	out, err := Format(name, src)
	if err != nil {
		return false, err
	}
	return bytes.Equal(out, src), nil
}
