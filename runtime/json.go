package runtime

// This file wraps go.starlark.net's json module with a nesting limit:
// its decoder and encoder recurse once per level, so "[" * 2000000 ended
// the process with a Go stack overflow, which no recover catches.

import (
	"fmt"

	"go.starlark.net/lib/json"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// MaxNesting is how deeply json.decode and json.encode let arrays and
// objects nest. Real documents nest a few dozen levels.
const MaxNesting = 1000

// jsonModule is json.Module with decode and encode refusing values nested
// deeper than MaxNesting before the recursive code sees them.
var jsonModule = func() *starlarkstruct.Module {
	members := make(starlark.StringDict, len(json.Module.Members))
	for name, v := range json.Module.Members {
		members[name] = v
	}
	decode := json.Module.Members["decode"].(*starlark.Builtin)
	members["decode"] = starlark.NewBuiltin("json.decode", func(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(args) > 0 {
			if s, ok := starlark.AsString(args[0]); ok && jsonDepth(s) > MaxNesting {
				return nil, fmt.Errorf("json.decode: nesting deeper than %d", MaxNesting)
			}
		}
		return decode.CallInternal(thread, args, kwargs)
	})
	for _, name := range []string{"encode", "indent"} {
		inner := json.Module.Members[name].(*starlark.Builtin)
		if name == "indent" { // indent takes a string, not a value
			members[name] = starlark.NewBuiltin("json.indent", func(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
				if len(args) > 0 {
					if s, ok := starlark.AsString(args[0]); ok && jsonDepth(s) > MaxNesting {
						return nil, fmt.Errorf("json.indent: nesting deeper than %d", MaxNesting)
					}
				}
				return inner.CallInternal(thread, args, kwargs)
			})
			continue
		}
		members[name] = starlark.NewBuiltin("json.encode", func(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if len(args) > 0 && deeperThan(args[0], MaxNesting) {
				return nil, fmt.Errorf("json.encode: nesting deeper than %d", MaxNesting)
			}
			return inner.CallInternal(thread, args, kwargs)
		})
	}
	return &starlarkstruct.Module{Name: json.Module.Name, Members: members}
}()

// jsonDepth is the deepest nesting of arrays and objects in the JSON text
// s, counted without recursion; brackets inside strings do not count.
func jsonDepth(s string) int {
	depth, max := 0, 0
	inString, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			if depth > max {
				max = depth
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return max
}

// deeperThan reports whether v nests lists, tuples, dicts or structs more
// than limit levels deep. It recurses at most limit+1 levels and visits
// each container once per path, stopping at the first too-deep one; a
// cycle counts as too deep (json.encode refuses it anyway).
func deeperThan(v starlark.Value, limit int) bool {
	if limit < 0 {
		return true
	}
	switch v := v.(type) {
	case *starlark.List:
		for i := range v.Len() {
			if deeperThan(v.Index(i), limit-1) {
				return true
			}
		}
	case starlark.Tuple:
		for _, e := range v {
			if deeperThan(e, limit-1) {
				return true
			}
		}
	case *starlark.Dict:
		for _, kv := range v.Items() {
			if deeperThan(kv[1], limit-1) {
				return true
			}
		}
	case *starlarkstruct.Struct:
		for _, name := range v.AttrNames() {
			f, _ := v.Attr(name)
			if deeperThan(f, limit-1) {
				return true
			}
		}
	}
	return false
}
