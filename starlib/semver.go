package starlib

// This file holds _semver, the Go half of @std//semver.star, on
// github.com/Masterminds/semver/v3: versions with or without a leading v,
// and constraints such as ">=1.4, <2", "~1.2", "^1.2.3" and "1.x || 2.x".

import (
	"fmt"

	"github.com/Masterminds/semver/v3"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

var semverFuncs = map[string]fn{
	"parse": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var s text
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "v", &s); err != nil {
			return nil, err
		}
		v, err := version(b, string(s))
		if err != nil {
			return nil, err
		}
		return starlarkstruct.FromStringDict(starlark.String("semver.version"), starlark.StringDict{
			"major":      starlark.MakeUint64(v.Major()),
			"minor":      starlark.MakeUint64(v.Minor()),
			"patch":      starlark.MakeUint64(v.Patch()),
			"prerelease": starlark.String(v.Prerelease()),
			"build":      starlark.String(v.Metadata()),
			"text":       starlark.String(v.String()),
		}), nil
	},
	"compare": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x, y text
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &x, "b", &y); err != nil {
			return nil, err
		}
		a, err := version(b, string(x))
		if err != nil {
			return nil, err
		}
		c, err := version(b, string(y))
		if err != nil {
			return nil, err
		}
		return starlark.MakeInt(a.Compare(c)), nil
	},
	"satisfies": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var s, constraint text
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "v", &s, "constraint", &constraint); err != nil {
			return nil, err
		}
		v, err := version(b, string(s))
		if err != nil {
			return nil, err
		}
		c, err := semver.NewConstraint(string(constraint))
		if err != nil {
			return nil, fmt.Errorf("%s: bad constraint %q: %v", b.Name(), string(constraint), err)
		}
		return starlark.Bool(c.Check(v)), nil
	},
}

func version(b *starlark.Builtin, s string) (*semver.Version, error) {
	v, err := semver.NewVersion(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not a version like 1.4.2 or v1.4.2-rc.1: %v", b.Name(), s, err)
	}
	return v, nil
}
