package builtins

// This file holds the Secret type: a value read with secret() whose text
// never turns back into a plain Starlark string (docs/design.md). Concatenation
// with + spreads the taint; str() and repr() show <secret:NAME>. It also
// holds secret() itself, which reads NAME or the file NAME_FILE names.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Secret is tainted text. Its display form, what str() and repr() give, has
// each secret part replaced by <secret:NAME>; value is the real text, which
// only Go code can read, with Reveal.
type Secret struct {
	value   string
	display string
}

var (
	_ starlark.Value     = (*Secret)(nil)
	_ starlark.HasBinary = (*Secret)(nil)
)

// NewSecret returns the secret named name holding value.
func NewSecret(name, value string) *Secret {
	return &Secret{value: value, display: "<secret:" + name + ">"}
}

func (s *Secret) String() string        { return s.display }
func (s *Secret) Type() string          { return "secret" }
func (s *Secret) Freeze()               {}
func (s *Secret) Truth() starlark.Bool  { return s.value != "" }
func (s *Secret) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: secret") }

// Binary supports only + with strings and other secrets; the result is a
// Secret. Every other operator is refused so that nothing, comparison
// included, can be used to learn the value piece by piece.
func (s *Secret) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	if op != syntax.PLUS {
		return nil, fmt.Errorf("secret: operator %s is not supported; a secret can only be joined to strings with +", op)
	}
	var other *Secret
	switch y := y.(type) {
	case starlark.String:
		other = &Secret{value: string(y), display: string(y)}
	case *Secret:
		other = y
	default:
		return nil, fmt.Errorf("secret: cannot add %s to a secret; only strings and secrets", y.Type())
	}
	if side == starlark.Left {
		return &Secret{value: s.value + other.value, display: s.display + other.display}, nil
	}
	return &Secret{value: other.value + s.value, display: other.display + s.display}, nil
}

// Reveal returns the text of a string or a Secret, saying which it was. It
// is how builtins that send data (HTTP headers, bodies, URLs) accept both;
// ok is false for any other type.
func Reveal(v starlark.Value) (text string, secret, ok bool) {
	switch v := v.(type) {
	case starlark.String:
		return string(v), false, true
	case *Secret:
		return v.value, true, true
	}
	return "", false, false
}

// MaxSecretFile is the largest file secret() reads through NAME_FILE.
const MaxSecretFile = 64 << 10

// secret(name) reads NAME, or the file named by NAME_FILE, in the load
// phase only: the value is registered with the output scrubber before any
// check runs. A problem (unset, both set, a bad file) is recorded like
// env()'s and an empty Secret is returned, so the load goes on.
func secret(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	if err := checkEnvName(b.Name(), name); err != nil {
		return nil, err
	}
	cfg := configOf(thread)
	if !cfg.load {
		return nil, fmt.Errorf("%s: call secret(%q) at the top level of the script (e.g. TOKEN = secret(%q)), not inside a check: every secret is registered for scrubbing before any check runs", b.Name(), name, name)
	}
	value, err := readSecret(cfg, name)
	if err != nil {
		return cfg.problem(thread, NewSecret(name, ""), "%s: %v", b.Name(), err)
	}
	cfg.addSecret(name, value)
	return NewSecret(name, value), nil
}

// readSecret returns the value of NAME or of the file NAME_FILE names.
// Its errors name the variables and the path, never the value.
func readSecret(cfg *Config, name string) (string, error) {
	value, inEnv := cfg.get(name)
	path, inFile := cfg.get(name + "_FILE")
	switch {
	case inEnv && inFile:
		return "", fmt.Errorf("%s and %s_FILE are both set; set only one", name, name)
	case inEnv:
		return value, nil
	case !inFile:
		return "", fmt.Errorf("%s is not set; set %s, or %s_FILE to the path of a file that holds it", name, name, name)
	}
	fail := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("%s_FILE=%s: %s", name, path, fmt.Sprintf(format, args...))
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fail("%v", pathErr(err))
	}
	switch {
	case fi.IsDir():
		return fail("is a directory; want a file")
	case !fi.Mode().IsRegular():
		return fail("is not a regular file")
	case fi.Size() > MaxSecretFile:
		return fail("is %d bytes; a secret file may hold at most %d (64 KiB)", fi.Size(), MaxSecretFile)
	}
	f, err := os.Open(path)
	if err != nil {
		return fail("%v", pathErr(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSecretFile+1))
	if err != nil {
		return fail("%v", pathErr(err))
	}
	if len(data) > MaxSecretFile {
		return fail("holds more than %d bytes (64 KiB)", MaxSecretFile)
	}
	s := string(data)
	if strings.HasSuffix(s, "\r\n") {
		s = s[:len(s)-2]
	} else {
		s = strings.TrimSuffix(s, "\n")
	}
	if s == "" {
		return fail("is empty")
	}
	return s, nil
}

// pathErr drops the operation and path from an *os.PathError, which the
// message already names.
func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
