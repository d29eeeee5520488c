package builtins

// This file holds check results: the Result value scripts
// build with ok/warn/fail/skip, worst(), and the conversion of whatever a
// check function returned into a Result.

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/infra-guard/infra-guard/result"
)

// Result is a check's outcome as a Starlark value (.status, .message,
// .metrics, .long_text). It is immutable, so it is safe to share between
// threads.
type Result struct {
	Status  result.Status
	Message string
	Metrics []result.Metric // sorted by name
	// LongText is the lines of detail after the message that a plugin
	// printed (plugin()); "" for the other results.
	LongText string
}

var _ starlark.HasAttrs = (*Result)(nil)

func (r *Result) String() string {
	if r.Message == "" {
		return fmt.Sprintf("%s()", r.Status)
	}
	return fmt.Sprintf("%s(%q)", r.Status, r.Message)
}
func (r *Result) Type() string          { return "result" }
func (r *Result) Freeze()               {}
func (r *Result) Truth() starlark.Bool  { return r.Status == result.OK || r.Status == result.Skip }
func (r *Result) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: result") }
func (r *Result) AttrNames() []string {
	return []string{"long_text", "message", "metrics", "status"}
}

func (r *Result) Attr(name string) (starlark.Value, error) {
	switch name {
	case "status":
		return starlark.String(r.Status.String()), nil
	case "message":
		return starlark.String(r.Message), nil
	case "long_text":
		return starlark.String(r.LongText), nil
	case "metrics":
		d := starlark.NewDict(len(r.Metrics))
		for _, m := range r.Metrics {
			_ = d.SetKey(starlark.String(m.Name), starlark.Float(m.Value))
		}
		return d, nil
	}
	return nil, nil
}

// statusBuiltin makes ok(), warn(), fail() and skip().
func statusBuiltin(status result.Status) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var (
			msg     string
			metrics *starlark.Dict
		)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "msg?", &msg, "metrics?", &metrics); err != nil {
			return nil, err
		}
		ms, err := unpackMetrics(b.Name(), metrics)
		if err != nil {
			return nil, err
		}
		return &Result{Status: status, Message: msg, Metrics: ms}, nil
	}
}

func unpackMetrics(fn string, d *starlark.Dict) ([]result.Metric, error) {
	if d == nil {
		return nil, nil
	}
	ms := make([]result.Metric, 0, d.Len())
	for _, item := range d.Items() {
		name, ok := starlark.AsString(item[0])
		if !ok || name == "" {
			return nil, fmt.Errorf("%s: metrics keys must be non-empty strings, got %s", fn, item[0].String())
		}
		v, ok := toFloat(item[1])
		if !ok {
			return nil, fmt.Errorf("%s: metrics[%q] must be a number, got %s", fn, name, item[1].Type())
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: metrics[%q] must be a finite number, got %v", fn, name, v)
		}
		ms = append(ms, result.Metric{Name: name, Value: v})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	return ms, nil
}

// toFloat accepts a Starlark int or float.
func toFloat(v starlark.Value) (float64, bool) {
	switch v := v.(type) {
	case starlark.Int:
		f, _ := starlark.AsFloat(v)
		return f, true
	case starlark.Float:
		return float64(v), true
	}
	return 0, false
}

var (
	okResult    = &Result{Status: result.OK}
	falseResult = &Result{Status: result.Fail, Message: "check returned False"}
)

// ToResult converts what a check function returned into a Result: a result
// value as is, True/None as OK, False as FAIL. Anything else is UNKNOWN,
// with a message that names what was returned.
// The Results it returns are read, never changed, so these are shared.
func ToResult(v starlark.Value) *Result {
	switch v := v.(type) {
	case *Result:
		return v
	case starlark.NoneType:
		return okResult
	case starlark.Bool:
		if v {
			return okResult
		}
		return falseResult
	}
	s := shortString(v, 64)
	if len(s) > 60 {
		cut := 57
		for cut > 0 && !utf8.RuneStart(s[cut]) { // not inside a rune: reports want valid UTF-8
			cut--
		}
		s = s[:cut] + "..."
	}
	return &Result{Status: result.Unknown, Message: fmt.Sprintf(
		"check returned %s %s; return ok(), warn(), fail(), skip(), a bool or None", v.Type(), s)}
}

// worst(*results) returns the most severe result; the messages of all
// results are joined in argument order, the metrics merged.
// A single list or tuple argument is spread, so worst([a, b]) also works.
func worst(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: unexpected keyword argument %s", b.Name(), kwargs[0][0])
	}
	if len(args) == 1 {
		if seq, ok := args[0].(starlark.Indexable); ok && args[0].Type() != "string" {
			args = make(starlark.Tuple, seq.Len())
			for i := range args {
				args[i] = seq.Index(i)
			}
		}
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("%s: needs at least one result", b.Name())
	}
	out := &Result{Status: result.Skip}
	var msgs []string
	for i, a := range args {
		r, ok := a.(*Result)
		if !ok {
			if _, isBool := a.(starlark.Bool); !isBool && a != starlark.None {
				return nil, fmt.Errorf("%s: argument %d has type %s, want a result (ok(), warn(), …), a bool or None", b.Name(), i+1, a.Type())
			}
			r = ToResult(a)
		}
		if i == 0 || r.Status.Severity() > out.Status.Severity() {
			out.Status = r.Status
		}
		if r.Message != "" {
			msgs = append(msgs, r.Message)
		}
		out.Metrics = append(out.Metrics, r.Metrics...)
	}
	out.Message = strings.Join(msgs, "; ")
	sort.SliceStable(out.Metrics, func(i, j int) bool { return out.Metrics[i].Name < out.Metrics[j].Name })
	return out, nil
}

// shortString is v.String() cut to about max bytes, computed without
// walking more of v than that: the String of a 600,000-deep list takes
// minutes (it looks for cycles along the whole path) and the run has
// no deadline left to stop it.
func shortString(v starlark.Value, max int) string {
	var b strings.Builder
	writeShort(&b, v, max)
	return b.String()
}

func writeShort(b *strings.Builder, v starlark.Value, max int) {
	if b.Len() > max {
		return
	}
	seq := func(open, close string, n int, elem func(i int)) {
		b.WriteString(open)
		for i := 0; i < n && b.Len() <= max; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			elem(i)
		}
		b.WriteString(close)
	}
	switch v := v.(type) {
	case *starlark.List:
		seq("[", "]", v.Len(), func(i int) { writeShort(b, v.Index(i), max) })
	case starlark.Tuple:
		seq("(", ")", len(v), func(i int) { writeShort(b, v[i], max) })
	case *starlark.Dict:
		items := v.Items()
		seq("{", "}", len(items), func(i int) {
			writeShort(b, items[i][0], max)
			b.WriteString(": ")
			writeShort(b, items[i][1], max)
		})
	case *starlark.Set, *starlarkstruct.Struct:
		b.WriteString(v.Type() + "(...)")
	default:
		s := v.String() // a scalar, a string: no nesting to walk
		b.WriteString(s[:min(len(s), max+1-b.Len()+1)])
	}
}
