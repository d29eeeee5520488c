// This file holds threshold() and the Nagios range syntax it accepts.
package builtins

import "go.starlark.net/starlark"

// TODO(helper): implemented by the threshold work.
func threshold(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return starlark.None, nil
}
