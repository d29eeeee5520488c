// This file holds the system probes: disk(), memory(), loadavg().
package builtins

import (
	"go.starlark.net/starlark"
)

// TODO(helper): implemented by the system builtins work.
func disk(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if _, err := runContext(thread, b); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

func memory(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if _, err := runContext(thread, b); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

func loadavg(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if _, err := runContext(thread, b); err != nil {
		return nil, err
	}
	return starlark.None, nil
}
