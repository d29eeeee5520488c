package starlib

// This file holds _re, the Go half of @std//re.star: RE2 regular
// expressions (Go's regexp), compiled once per pattern.

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"

	"go.starlark.net/starlark"
)

var reFuncs = map[string]fn{
	"search":    reSearch(search),
	"match":     reSearch(matchStart),
	"fullmatch": reSearch(matchFull),
	"findall":   reFindall,
	"sub":       reSub,
	"split":     reSplit,
}

// The cache of compiled patterns, bounded: a script that builds patterns
// from data must not grow it without end.
const maxCached = 512

var (
	cacheMu sync.Mutex
	cache   = map[string]*regexp.Regexp{}
)

// compile returns the compiled pattern, from the cache when it is there.
// A bad pattern is an error that quotes it.
func compile(b *starlark.Builtin, pattern string) (*regexp.Regexp, error) {
	cacheMu.Lock()
	re, ok := cache[pattern]
	cacheMu.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		msg := err.Error()
		var e *syntax.Error
		if errors.As(err, &e) {
			msg = fmt.Sprintf("%s: %s", e.Code, e.Expr)
		}
		return nil, fmt.Errorf("%s: bad pattern %q: %s (the syntax is RE2, Go's regexp)", b.Name(), pattern, msg)
	}
	cacheMu.Lock()
	if len(cache) >= maxCached {
		clear(cache)
	}
	cache[pattern] = re
	cacheMu.Unlock()
	return re, nil
}

type mode int

const (
	search mode = iota
	matchStart
	matchFull
)

// reSearch makes search, match and fullmatch: the leftmost match, which
// for match must start at 0, and for fullmatch must also end at len(s).
func reSearch(m mode) fn {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var pattern string
		var s text
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "s", &s); err != nil {
			return nil, err
		}
		p := pattern
		switch m {
		case matchStart:
			p = `\A(?:` + pattern + `)`
		case matchFull:
			p = `\A(?:` + pattern + `)\z`
		}
		if _, err := compile(b, pattern); err != nil {
			return nil, err // named as the user wrote it
		}
		re, err := compile(b, p)
		if err != nil {
			return nil, err
		}
		loc := re.FindStringSubmatchIndex(string(s))
		if loc == nil {
			return starlark.None, nil
		}
		return &Match{s: string(s), loc: loc, names: re.SubexpNames()}, nil
	}
}

// Match is a successful match: re.search and friends return one.
type Match struct {
	s     string
	loc   []int // pairs of offsets, -1 for a group that did not take part
	names []string
}

var _ starlark.HasAttrs = (*Match)(nil)

func (m *Match) String() string {
	return fmt.Sprintf("<re.match span=(%d, %d) match=%s>", m.loc[0], m.loc[1], starlark.String(m.s[m.loc[0]:m.loc[1]]))
}
func (m *Match) Type() string          { return "re.match" }
func (m *Match) Freeze()               {}
func (m *Match) Truth() starlark.Bool  { return true }
func (m *Match) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: re.match") }
func (m *Match) AttrNames() []string   { return []string{"end", "group", "groups", "start"} }

func (m *Match) Attr(name string) (starlark.Value, error) {
	switch name {
	case "group":
		return starlark.NewBuiltin("re.match.group", m.group), nil
	case "groups":
		return starlark.NewBuiltin("re.match.groups", m.groups), nil
	case "start", "end":
		return starlark.NewBuiltin("re.match."+name, m.span(name == "end")), nil
	}
	return nil, nil
}

// index finds group i, a number or a name.
func (m *Match) index(b *starlark.Builtin, g starlark.Value) (int, error) {
	switch g := g.(type) {
	case starlark.Int:
		i, ok := g.Int64()
		if !ok || i < 0 || int(i) >= len(m.names) {
			return 0, fmt.Errorf("%s: no group %s (the pattern has %d)", b.Name(), g, len(m.names)-1)
		}
		return int(i), nil
	case starlark.String:
		for i, n := range m.names {
			if n != "" && n == string(g) {
				return i, nil
			}
		}
		return 0, fmt.Errorf("%s: no group named %s", b.Name(), g)
	}
	return 0, fmt.Errorf("%s: want a group number or name, got %s", b.Name(), g.Type())
}

func (m *Match) text(i int) starlark.Value {
	if m.loc[2*i] < 0 {
		return starlark.None
	}
	return starlark.String(m.s[m.loc[2*i]:m.loc[2*i+1]])
}

func (m *Match) group(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var g starlark.Value = starlark.MakeInt(0)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "i?", &g); err != nil {
		return nil, err
	}
	i, err := m.index(b, g)
	if err != nil {
		return nil, err
	}
	return m.text(i), nil
}

func (m *Match) groups(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	t := make(starlark.Tuple, 0, len(m.names)-1)
	for i := 1; i < len(m.names); i++ {
		t = append(t, m.text(i))
	}
	return t, nil
}

func (m *Match) span(end bool) fn {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var g starlark.Value = starlark.MakeInt(0)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "i?", &g); err != nil {
			return nil, err
		}
		i, err := m.index(b, g)
		if err != nil {
			return nil, err
		}
		k := 2 * i
		if end {
			k++
		}
		return starlark.MakeInt(m.loc[k]), nil // -1 for a group that took no part
	}
}

// findall is Python's: the matched texts when the pattern has no group,
// the group's texts when it has one, tuples of them when it has more.
func reFindall(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern string
	var s text
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "s", &s); err != nil {
		return nil, err
	}
	re, err := compile(b, pattern)
	if err != nil {
		return nil, err
	}
	var out []starlark.Value
	for _, loc := range re.FindAllStringSubmatchIndex(string(s), -1) {
		m := &Match{s: string(s), loc: loc, names: re.SubexpNames()}
		switch n := len(m.names) - 1; n {
		case 0:
			out = append(out, m.text(0))
		case 1:
			out = append(out, orEmpty(m.text(1)))
		default:
			t := make(starlark.Tuple, n)
			for i := range t {
				t[i] = orEmpty(m.text(i + 1))
			}
			out = append(out, t)
		}
	}
	return starlark.NewList(out), nil
}

func orEmpty(v starlark.Value) starlark.Value {
	if v == starlark.None {
		return starlark.String("")
	}
	return v
}

// sub replaces the first count matches (all when count is 0) with repl, in
// which $1, ${1} and ${name} stand for groups (Go's Regexp.Expand).
func reSub(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern, repl string
	var s text
	count := 0
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "repl", &repl, "s", &s, "count?", &count); err != nil {
		return nil, err
	}
	if count < 0 {
		return nil, fmt.Errorf("%s: count must be 0 (all) or more, got %d", b.Name(), count)
	}
	re, err := compile(b, pattern)
	if err != nil {
		return nil, err
	}
	n := -1
	if count > 0 {
		n = count
	}
	str := string(s)
	var out strings.Builder
	last := 0
	for _, loc := range re.FindAllStringSubmatchIndex(str, n) {
		out.WriteString(str[last:loc[0]])
		out.Write(re.ExpandString(nil, repl, str, loc))
		last = loc[1]
	}
	out.WriteString(str[last:])
	return starlark.String(out.String()), nil
}

// split cuts s around the matches, into at most maxsplit+1 pieces when
// maxsplit is more than 0.
func reSplit(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern string
	var s text
	maxsplit := 0
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "s", &s, "maxsplit?", &maxsplit); err != nil {
		return nil, err
	}
	re, err := compile(b, pattern)
	if err != nil {
		return nil, err
	}
	n := -1
	if maxsplit > 0 {
		n = maxsplit + 1
	}
	parts := re.Split(string(s), n)
	out := make([]starlark.Value, len(parts))
	for i, p := range parts {
		out[i] = starlark.String(p)
	}
	return starlark.NewList(out), nil
}
