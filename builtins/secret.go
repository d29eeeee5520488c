// This file holds the Secret type: a value read with secret() whose text
// never turns back into a plain Starlark string (DESIGN §4). Concatenation
// with + spreads the taint; str() and repr() show <secret:NAME>.
package builtins

import (
	"fmt"

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
