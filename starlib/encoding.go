package starlib

// This file holds _base64, _hex and _hashlib, the Go half of
// @std//encoding.star. Every function refuses a secret() value (see text).

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"

	"go.starlark.net/starlark"
)

var base64Funcs = map[string]fn{
	"encode": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var s text
		url := false
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s, "url?", &url); err != nil {
			return nil, err
		}
		return starlark.String(b64(url).EncodeToString([]byte(s))), nil
	},
	"decode": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var s text
		url := false
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s, "url?", &url); err != nil {
			return nil, err
		}
		// Padding is optional: tokens often come without it.
		in := strings.TrimRight(strings.TrimSpace(string(s)), "=")
		out, err := b64(url).WithPadding(base64.NoPadding).DecodeString(in)
		if err != nil {
			alphabet := "standard (+/)"
			if url {
				alphabet = "URL-safe (-_)"
			}
			return nil, fmt.Errorf("%s: not %s base64: %v", b.Name(), alphabet, err)
		}
		return starlark.String(out), nil
	},
}

func b64(url bool) *base64.Encoding {
	if url {
		return base64.URLEncoding
	}
	return base64.StdEncoding
}

var hexFuncs = map[string]fn{
	"encode": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var s text
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s); err != nil {
			return nil, err
		}
		return starlark.String(hex.EncodeToString([]byte(s))), nil
	},
	"decode": func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var s text
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s); err != nil {
			return nil, err
		}
		out, err := hex.DecodeString(strings.TrimSpace(string(s)))
		if err != nil {
			return nil, fmt.Errorf("%s: not hex: %v", b.Name(), err)
		}
		return starlark.String(out), nil
	},
}

var hashlibFuncs = map[string]fn{
	"sha256": digest(sha256.New),
	"sha1":   digest(sha1.New),
	"md5":    digest(md5.New),
}

// digest makes a function returning the hex digest of its argument.
func digest(h func() hash.Hash) fn {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var s text
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s); err != nil {
			return nil, err
		}
		d := h()
		d.Write([]byte(s))
		return starlark.String(hex.EncodeToString(d.Sum(nil))), nil
	}
}
