package starlib

// This file holds _yaml, the Go half of @std//yaml.star, on
// go.yaml.in/yaml/v3. Documents become Starlark values through yaml.Node,
// so nesting depth and the values aliases expand to are bounded: a deep or
// "billion laughs" document is an error, not a stack overflow or an
// exhausted heap.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"

	"go.starlark.net/starlark"
	"go.yaml.in/yaml/v3"
)

const (
	// MaxYAMLDepth is the deepest nesting of lists and maps decode and
	// encode accept.
	MaxYAMLDepth = 100
	// maxYAMLValues bounds the values one decode makes, aliases expanded.
	maxYAMLValues = 1 << 20
)

var yamlFuncs = map[string]fn{"decode": yamlDecode, "encode": yamlEncode}

func yamlDecode(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s text
	all := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s, "all?", &all); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader([]byte(s)))
	var docs []starlark.Value
	c := &converter{b: b}
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		v, err := c.value(&n, 0)
		if err != nil {
			return nil, err
		}
		docs = append(docs, v)
	}
	switch {
	case all:
		return starlark.NewList(docs), nil
	case len(docs) == 0:
		return starlark.None, nil
	case len(docs) > 1:
		return nil, fmt.Errorf("%s: the text holds %d documents; pass all=True for a list of them", b.Name(), len(docs))
	}
	return docs[0], nil
}

type converter struct {
	b      *starlark.Builtin
	values int
}

func (c *converter) value(n *yaml.Node, depth int) (starlark.Value, error) {
	if depth > MaxYAMLDepth {
		return nil, fmt.Errorf("%s: line %d: nested more than %d levels deep", c.b.Name(), n.Line, MaxYAMLDepth)
	}
	if c.values++; c.values > maxYAMLValues {
		return nil, fmt.Errorf("%s: more than %d values (aliases expanded)", c.b.Name(), maxYAMLValues)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return starlark.None, nil
		}
		return c.value(n.Content[0], depth)
	case yaml.AliasNode:
		return c.value(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]starlark.Value, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := c.value(e, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return starlark.NewList(out), nil
	case yaml.MappingNode:
		d := starlark.NewDict(len(n.Content) / 2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				return nil, fmt.Errorf("%s: line %d: merge keys (<<) are not supported", c.b.Name(), k.Line)
			}
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("%s: line %d: a map key must be a string, not a list or map", c.b.Name(), k.Line)
			}
			val, err := c.value(v, depth+1)
			if err != nil {
				return nil, err
			}
			d.SetKey(starlark.String(k.Value), val)
		}
		return d, nil
	case yaml.ScalarNode:
		return scalar(c.b, n)
	}
	return nil, fmt.Errorf("%s: line %d: unexpected YAML node", c.b.Name(), n.Line)
}

// scalar resolves a scalar by its tag, as YAML 1.2's core schema does;
// timestamps and unknown tags stay text.
func scalar(b *starlark.Builtin, n *yaml.Node) (starlark.Value, error) {
	switch n.ShortTag() {
	case "!!null":
		return starlark.None, nil
	case "!!bool":
		var v bool
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", b.Name(), n.Line, err)
		}
		return starlark.Bool(v), nil
	case "!!int":
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", b.Name(), n.Line, err)
		}
		switch v := v.(type) {
		case int:
			return starlark.MakeInt(v), nil
		case int64:
			return starlark.MakeInt64(v), nil
		case uint64:
			return starlark.MakeUint64(v), nil
		case float64:
			// Too large for 64 bits: the text is still an integer.
			if i, ok := new(big.Int).SetString(n.Value, 0); ok {
				return starlark.MakeBigInt(i), nil
			}
			return starlark.Float(v), nil
		}
		return starlark.String(n.Value), nil
	case "!!float":
		// An integer too large for 64 bits resolves as a float: keep it exact.
		if i, ok := new(big.Int).SetString(n.Value, 10); ok {
			return starlark.MakeBigInt(i), nil
		}
		var v float64
		if err := n.Decode(&v); err != nil {
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return starlark.Float(f), nil
			}
			return nil, fmt.Errorf("%s: line %d: %v", b.Name(), n.Line, err)
		}
		return starlark.Float(v), nil
	}
	return starlark.String(n.Value), nil
}

func yamlEncode(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "v", &v); err != nil {
		return nil, err
	}
	n, err := node(b, v, 0)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	enc.Close()
	return starlark.String(buf.String()), nil
}

// node turns a Starlark value into a YAML node, keeping a dict's order.
func node(b *starlark.Builtin, v starlark.Value, depth int) (*yaml.Node, error) {
	if depth > MaxYAMLDepth {
		return nil, fmt.Errorf("%s: nested more than %d levels deep (does a list contain itself?)", b.Name(), MaxYAMLDepth)
	}
	scalar := func(tag, value string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
	}
	switch v := v.(type) {
	case starlark.NoneType:
		return scalar("!!null", "null"), nil
	case starlark.Bool:
		return scalar("!!bool", strconv.FormatBool(bool(v))), nil
	case starlark.Int:
		return scalar("!!int", v.String()), nil
	case starlark.Float:
		f := float64(v)
		switch {
		case math.IsInf(f, 1):
			return scalar("!!float", ".inf"), nil
		case math.IsInf(f, -1):
			return scalar("!!float", "-.inf"), nil
		case math.IsNaN(f):
			return scalar("!!float", ".nan"), nil
		}
		return scalar("!!float", strconv.FormatFloat(f, 'g', -1, 64)), nil
	case starlark.String:
		return scalar("!!str", string(v)), nil
	case *starlark.Dict:
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, kv := range v.Items() {
			k, ok := kv[0].(starlark.String)
			if !ok {
				return nil, fmt.Errorf("%s: dict keys must be strings, got %s", b.Name(), kv[0].Type())
			}
			val, err := node(b, kv[1], depth+1)
			if err != nil {
				return nil, err
			}
			m.Content = append(m.Content, scalar("!!str", string(k)), val)
		}
		return m, nil
	case starlark.Indexable: // list, tuple
		s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := 0; i < v.Len(); i++ {
			e, err := node(b, v.Index(i), depth+1)
			if err != nil {
				return nil, err
			}
			s.Content = append(s.Content, e)
		}
		return s, nil
	case starlark.HasAttrs: // a struct: a map of its fields
		if _, ok := v.(starlark.Callable); !ok && v.Type() != "secret" {
			m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			for _, name := range v.AttrNames() {
				a, err := v.Attr(name)
				if err != nil || a == nil {
					continue
				}
				if _, ok := a.(starlark.Callable); ok {
					continue
				}
				val, err := node(b, a, depth+1)
				if err != nil {
					return nil, err
				}
				m.Content = append(m.Content, scalar("!!str", name), val)
			}
			return m, nil
		}
	}
	if v.Type() == "secret" {
		return nil, fmt.Errorf("%s: got a secret (%s), which this function refuses: its result would carry the secret's value out of the scrubber's reach", b.Name(), v)
	}
	return nil, fmt.Errorf("%s: cannot encode a %s; want None, bool, int, float, string, list, tuple, dict or struct", b.Name(), v.Type())
}
