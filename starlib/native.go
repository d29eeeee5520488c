package starlib

// This file holds the Go half of @std: the functions that re.star,
// yaml.star, encoding.star and semver.star wrap. They are predeclared for
// @std's own modules only (Native), under names that start with "_", so a
// guard reaches them through the documented .star modules and nothing else.

import (
	"fmt"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/infra-guard/infra-guard/builtins"
)

// Native returns the names @std's modules see besides the builtins every
// script sees: _re, _yaml, _base64, _hex, _hashlib and _semver, modules of
// Go functions. Each call returns a new dict; the modules are shared.
func Native() starlark.StringDict {
	mods := native()
	d := make(starlark.StringDict, len(mods))
	for k, v := range mods {
		d[k] = v
	}
	return d
}

// native makes the modules when a guard first loads from @std, not at
// every start.
var native = sync.OnceValue(func() starlark.StringDict {
	return starlark.StringDict{
		"_re":      module("re", reFuncs),
		"_yaml":    module("yaml", yamlFuncs),
		"_base64":  module("base64", base64Funcs),
		"_hex":     module("hex", hexFuncs),
		"_hashlib": module("hashlib", hashlibFuncs),
		"_semver":  module("semver", semverFuncs),
	}
})

type fn = func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)

// module makes a frozen module of builtins, each named module.name in
// errors ("re.search: …").
func module(name string, fns map[string]fn) *starlarkstruct.Module {
	m := &starlarkstruct.Module{Name: name, Members: starlark.StringDict{}}
	for n, f := range fns {
		m.Members[n] = starlark.NewBuiltin(name+"."+n, f)
	}
	m.Freeze()
	return m
}

// text unpacks a string argument and refuses a secret() value by name:
// encoding, hashing or parsing one would hand its text, or a reversible
// form of it, to the script, out of the scrubber's reach.
type text string

func (t *text) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case starlark.String:
		*t = text(v)
		return nil
	case starlark.Bytes:
		*t = text(v)
		return nil
	case *builtins.Secret:
		return fmt.Errorf("got a secret (%s), which this function refuses: its result would carry the secret's value out of the scrubber's reach", v)
	}
	return fmt.Errorf("got %s, want string", v.Type())
}
