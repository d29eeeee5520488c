package builtins

// This file holds the argument vocabulary the builtins (and check()) share,
// as starlark.Unpacker types for starlark.UnpackArgs: a positive Duration,
// an optional string where None means unset, and a StringList that takes
// one string or a list of them. One type per kind of argument means one
// wording for its errors and one set of accepted forms everywhere.

import (
	"fmt"
	"time"

	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
)

// Duration is a positive duration argument: a string Go's
// time.ParseDuration reads ("500ms", "5s", "1m30s") or a time.duration
// from the time module, which is what go.starlark.net's lib/time Duration
// accepts. Declare it with its default, as in
//
//	timeout = Duration(5 * time.Second)
type Duration time.Duration

var _ starlark.Unpacker = (*Duration)(nil)

// Unpack reads v through lib/time's Duration and refuses zero and
// negative durations: every duration argument is a timeout, and a timeout
// of zero would fail every call.
func (d *Duration) Unpack(v starlark.Value) error {
	var td starlarktime.Duration
	if err := td.Unpack(v); err != nil {
		if s, ok := v.(starlark.String); ok {
			return fmt.Errorf("%q is not a duration; write it like \"500ms\", \"5s\" or \"1m\"", string(s))
		}
		return fmt.Errorf("want a duration string like \"5s\", got %s", v.Type())
	}
	if td <= 0 {
		return fmt.Errorf("must be positive, got %s", time.Duration(td))
	}
	*d = Duration(td)
	return nil
}

// optString is a string argument that may be left out or None, which both
// mean unset; "" is a value, which the builtin may refuse.
type optString struct {
	s   string
	set bool
}

func (o *optString) Unpack(v starlark.Value) error {
	if v == starlark.None {
		*o = optString{}
		return nil
	}
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want string or None", v.Type())
	}
	o.s, o.set = s, true
	return nil
}

// StringList is an argument that takes a list or tuple of strings, or one
// string for a list of one: tags = "net" is tags = ["net"]. None leaves it
// empty.
type StringList []string

func (l *StringList) Unpack(v starlark.Value) error {
	if v == starlark.None {
		*l = nil
		return nil
	}
	if s, ok := starlark.AsString(v); ok {
		*l = StringList{s}
		return nil
	}
	it, ok := v.(starlark.Iterable)
	if !ok {
		return fmt.Errorf("got %s, want a string or a list of strings", v.Type())
	}
	iter := it.Iterate()
	defer iter.Done()
	var list StringList
	var x starlark.Value
	for i := 0; iter.Next(&x); i++ {
		s, ok := starlark.AsString(x)
		if !ok {
			return fmt.Errorf("element %d is %s, want string", i, x.Type())
		}
		list = append(list, s)
	}
	*l = list
	return nil
}
