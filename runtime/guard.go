package runtime

// This file guards the allocations a single Starlark step can make:
// go.starlark.net lets [0] * (1 << 28) make 4 GiB in one step, which
// neither the step budget nor the heap watchdog (it samples) can stop
// before the kernel's OOM killer ends the process without a report. The
// script's syntax tree is rewritten before it is compiled so that every
// x * y and x + y go through repeat() and add(), which refuse a result
// larger than MaxAlloc, every list growth in place (l += y, l.extend(y)) goes through
// grow(), which refuses a y of more elements than one operation may make,
// and the builtins that turn a lazy range into a list check the length
// first.

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// MaxAlloc is the most memory one Starlark operation may ask for (a
// repetition, a range made a list), in bytes, at 16 bytes a list element.
const MaxAlloc = 256 << 20

// mulName is the predeclared name of the multiplication the rewritten
// tree calls; no script can spell it, as identifiers cannot hold a space.
const mulName = "*"

// growName is the predeclared name of the check on what x += y and
// x.extend(y) add; like mulName, no script can spell it.
const growName = "+="

// addName is the predeclared name of the guarded x + y.
const addName = "+"

// execGuarded is starlark.ExecFileOptions with the tree rewritten.
func execGuarded(thread *starlark.Thread, filename string, src any, predeclared starlark.StringDict) (starlark.StringDict, error) {
	f, err := dialect.Parse(filename, src, 0)
	if err != nil {
		return nil, err
	}
	return execTree(thread, f, predeclared)
}

// execTree rewrites the parsed file f, then resolves, compiles and
// executes it (starlark.ExecFileOptions from its second step on).
func execTree(thread *starlark.Thread, f *syntax.File, predeclared starlark.StringDict) (starlark.StringDict, error) {
	guardTree(f)
	prog, err := starlark.FileProgram(f, func(name string) bool {
		_, ok := predeclared[name]
		return ok || name == mulName || name == growName || name == addName
	})
	if err != nil {
		return nil, err
	}
	withMul := make(starlark.StringDict, len(predeclared)+1)
	for k, v := range predeclared {
		withMul[k] = v
	}
	withMul[mulName] = mulBuiltin
	withMul[growName] = growBuiltin
	withMul[addName] = addBuiltin
	g, err := prog.Init(thread, withMul)
	g.Freeze()
	return g, err
}

var mulBuiltin = starlark.NewBuiltin("repeat", func(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	x, y := args[0], args[1]
	if err := checkRepeat(x, y); err != nil {
		return nil, err
	}
	if err := checkRepeat(y, x); err != nil {
		return nil, err
	}
	return starlark.Binary(syntax.STAR, x, y)
})

// growBuiltin, grow([x,] y), returns y unless adding it (to x, when
// given) makes more than one operation may: l.extend(range(1 << 62)),
// l += range(1 << 62) and s += s on a 1 GiB string would otherwise grow
// a value without bound inside a single step.
var growBuiltin = starlark.NewBuiltin("grow", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	y := args[len(args)-1]
	var x starlark.Value = starlark.None
	if len(args) == 2 {
		x = args[0]
	}
	if err := checkAdd(x, y); err != nil {
		return nil, err
	}
	return y, nil
})

// addBuiltin is x + y, refused when the result would exceed MaxAlloc: a
// string doubled in a loop (s = s + s) reaches gigabytes in a few steps.
var addBuiltin = starlark.NewBuiltin("add", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if err := checkAdd(args[0], args[1]); err != nil {
		return nil, err
	}
	return starlark.Binary(syntax.PLUS, args[0], args[1])
})

// checkAdd refuses x + y (x None: y alone) when the result would be larger
// than MaxAlloc: strings and bytes by their length, lists and tuples at 16
// bytes an element.
func checkAdd(x, y starlark.Value) error {
	// Sizes saturate past MaxAlloc, so no sum of two overflows.
	size := func(v starlark.Value) int64 {
		switch v := v.(type) {
		case starlark.String:
			return int64(len(v))
		case starlark.Bytes:
			return int64(len(v))
		case starlark.Sequence:
			if n := int64(v.Len()); n >= 0 && n <= MaxAlloc/16 {
				return 16 * n
			}
			return MaxAlloc + 1
		}
		return 0
	}
	if size(x)+size(y) <= MaxAlloc {
		return nil
	}
	switch y.(type) {
	case starlark.String, starlark.Bytes:
		return fmt.Errorf("adding a %s would make %d MiB, more than the %d MiB one operation may make", y.Type(), (size(x)+size(y))>>20, MaxAlloc>>20)
	}
	n := int64(-1)
	if s, ok := y.(starlark.Sequence); ok {
		n = int64(s.Len())
	}
	return fmt.Errorf("adding a %s of %d elements is more than the %d one operation may make (%d MiB)", y.Type(), n, MaxAlloc/16, MaxAlloc>>20)
}

// checkRepeat refuses seq * n when the result would exceed MaxAlloc.
func checkRepeat(seq, n starlark.Value) error {
	count, ok := n.(starlark.Int)
	if !ok {
		return nil
	}
	var size, each int64
	switch seq := seq.(type) {
	case starlark.String:
		size, each = int64(len(seq)), 1
	case starlark.Bytes:
		size, each = int64(len(seq)), 1
	case *starlark.List:
		size, each = int64(seq.Len()), 16
	case starlark.Tuple:
		size, each = int64(len(seq)), 16
	default:
		return nil
	}
	c, ok := count.Int64()
	if !ok || c <= 0 || size == 0 {
		return nil // too large for Starlark itself, which says so; or empty
	}
	if c > MaxAlloc/(size*each) {
		return fmt.Errorf("repeat: %s of %d * %d would take %d MiB, more than the %d MiB one operation may allocate", seq.Type(), size, c, size*each*min(c, 1<<40/size/each)>>20, MaxAlloc>>20)
	}
	return nil
}

// guardTree rewrites every x * y in f into a call of mulName.
func guardTree(f *syntax.File) {
	for _, s := range f.Stmts {
		guardStmt(s)
	}
}

func guardStmts(ss []syntax.Stmt) {
	for _, s := range ss {
		guardStmt(s)
	}
}

func guardStmt(s syntax.Stmt) {
	switch s := s.(type) {
	case *syntax.AssignStmt:
		guardExpr(&s.LHS)
		guardExpr(&s.RHS)
		if s.Op == syntax.PLUS_EQ {
			if lhs, ok := s.LHS.(*syntax.Ident); ok { // x += y: x += grow(x, y)
				s.RHS = growCall(s.RHS, s.OpPos, &syntax.Ident{NamePos: lhs.NamePos, Name: lhs.Name})
			} else { // a[i] += y: evaluating a[i] twice could call twice
				s.RHS = growCall(s.RHS, s.OpPos)
			}
		}
		if s.Op == syntax.STAR_EQ {
			if lhs, ok := s.LHS.(*syntax.Ident); ok { // x *= n: x = x * n
				s.Op = syntax.EQ
				s.RHS = mulCall(&syntax.Ident{NamePos: lhs.NamePos, Name: lhs.Name}, s.RHS, s.OpPos)
			}
		}
	case *syntax.DefStmt:
		guardParams(s.Params)
		guardStmts(s.Body)
	case *syntax.ExprStmt:
		guardExpr(&s.X)
	case *syntax.ForStmt:
		guardExpr(&s.X)
		guardStmts(s.Body)
	case *syntax.WhileStmt:
		guardExpr(&s.Cond)
		guardStmts(s.Body)
	case *syntax.IfStmt:
		guardExpr(&s.Cond)
		guardStmts(s.True)
		guardStmts(s.False)
	case *syntax.ReturnStmt:
		if s.Result != nil {
			guardExpr(&s.Result)
		}
	}
}

// guardParams rewrites the default values of parameters (name = value).
func guardParams(params []syntax.Expr) {
	for _, p := range params {
		if b, ok := p.(*syntax.BinaryExpr); ok && b.Op == syntax.EQ {
			guardExpr(&b.Y)
		}
	}
}

func guardExprs(es []syntax.Expr) {
	for i := range es {
		guardExpr(&es[i])
	}
}

func guardExpr(p *syntax.Expr) {
	switch e := (*p).(type) {
	case *syntax.BinaryExpr:
		guardExpr(&e.X)
		guardExpr(&e.Y)
		switch e.Op {
		case syntax.STAR:
			*p = mulCall(e.X, e.Y, e.OpPos)
		case syntax.PLUS:
			*p = &syntax.CallExpr{Fn: &syntax.Ident{NamePos: e.OpPos, Name: addName}, Lparen: e.OpPos, Args: []syntax.Expr{e.X, e.Y}, Rparen: e.OpPos}
		}
	case *syntax.CallExpr:
		guardExpr(&e.Fn)
		for i, a := range e.Args {
			if b, ok := a.(*syntax.BinaryExpr); ok && b.Op == syntax.EQ { // name = value
				guardExpr(&b.Y)
				continue
			}
			guardExpr(&e.Args[i])
		}
		// x.extend(y): x.extend(grow(y))
		if dot, ok := e.Fn.(*syntax.DotExpr); ok && dot.Name.Name == "extend" && len(e.Args) == 1 {
			if kw, ok := e.Args[0].(*syntax.BinaryExpr); !ok || kw.Op != syntax.EQ {
				e.Args[0] = growCall(e.Args[0], e.Lparen)
			}
		}
	case *syntax.Comprehension:
		guardExpr(&e.Body)
		for _, c := range e.Clauses {
			switch c := c.(type) {
			case *syntax.ForClause:
				guardExpr(&c.X)
			case *syntax.IfClause:
				guardExpr(&c.Cond)
			}
		}
	case *syntax.CondExpr:
		guardExpr(&e.Cond)
		guardExpr(&e.True)
		guardExpr(&e.False)
	case *syntax.DictEntry:
		guardExpr(&e.Key)
		guardExpr(&e.Value)
	case *syntax.DictExpr:
		guardExprs(e.List)
	case *syntax.DotExpr:
		guardExpr(&e.X)
	case *syntax.IndexExpr:
		guardExpr(&e.X)
		guardExpr(&e.Y)
	case *syntax.LambdaExpr:
		guardParams(e.Params)
		guardExpr(&e.Body)
	case *syntax.ListExpr:
		guardExprs(e.List)
	case *syntax.ParenExpr:
		guardExpr(&e.X)
	case *syntax.SliceExpr:
		for _, q := range []*syntax.Expr{&e.X, &e.Lo, &e.Hi, &e.Step} {
			if *q != nil {
				guardExpr(q)
			}
		}
	case *syntax.TupleExpr:
		guardExprs(e.List)
	case *syntax.UnaryExpr:
		if e.X != nil {
			guardExpr(&e.X)
		}
	}
}

// mulCall is the call of mulName that replaces x * y, placed at the *.
func mulCall(x, y syntax.Expr, pos syntax.Position) *syntax.CallExpr {
	return &syntax.CallExpr{Fn: &syntax.Ident{NamePos: pos, Name: mulName}, Lparen: pos, Args: []syntax.Expr{x, y}, Rparen: pos}
}

// growCall is the call of growName around y (after x, when given),
// placed at pos.
func growCall(y syntax.Expr, pos syntax.Position, x ...syntax.Expr) *syntax.CallExpr {
	return &syntax.CallExpr{Fn: &syntax.Ident{NamePos: pos, Name: growName}, Lparen: pos, Args: append(x, y), Rparen: pos}
}

// sizedBuiltins are the universal builtins that make a list or tuple as
// long as an argument: list(range(1 << 28)) asks for 4 GiB at once, and
// list(range(1 << 62)) crashed makeslice.
var sizedBuiltins = []string{"list", "tuple", "sorted", "reversed", "enumerate", "zip", "set"}

// guardSized adds to d, for each of sizedBuiltins, the universal builtin
// refusing an argument longer than MaxAlloc allows.
func guardSized(d starlark.StringDict) {
	for _, name := range sizedBuiltins {
		b, ok := starlark.Universe[name].(*starlark.Builtin)
		if !ok {
			continue
		}
		d[name] = starlark.NewBuiltin(name, func(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			for _, a := range args {
				if s, ok := a.(starlark.Sequence); ok {
					if n := s.Len(); n < 0 || int64(n) > MaxAlloc/16 {
						return nil, fmt.Errorf("%s: the %s has %d elements, more than the %d one operation may make (%d MiB)", name, a.Type(), n, MaxAlloc/16, MaxAlloc>>20)
					}
				}
			}
			return b.CallInternal(thread, args, kwargs)
		})
	}
}
