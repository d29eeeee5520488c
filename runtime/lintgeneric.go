package runtime

// This file holds vet's three generic checks: statements with no effect,
// unreachable statements and unused variables. They keep buildifier's
// names, wording and "# buildifier: disable=NAME" comments, which scripts
// carried when vet took them from buildtools/warn; that package linked
// protobuf's descriptor packages into every start of the binary, and its
// parser does not read while loops. These run on go.starlark.net's own
// tree and its resolver's bindings.
//
// Where they differ from buildifier, it is on purpose. fail() is
// infra-guard's result constructor, not Starlark's abort, so it does not
// end a block; a call of ok, warn, fail or skip whose result is dropped is
// reported as having no effect instead. A local whose name starts with "_"
// is never reported: the underscore is how a script says it is unused.
// And a top-level loop's code after a break or continue is unreachable
// too.

import (
	"fmt"
	"slices"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/syntax"
)

const (
	catNoEffect       = "no-effect"
	catUnreachable    = "unreachable"
	catUnusedVariable = "unused-variable"
)

// genericLint runs the three checks on a resolved file. Parsed with
// syntax.RetainComments, the file's disable comments are honoured.
func genericLint(f *syntax.File) []Finding {
	g := &genericLinter{comments: map[int32]lineComment{}}
	g.collectComments(f)
	g.block(f.Stmts, fileBlock)
	g.unused(f)
	slices.SortStableFunc(g.out, func(a, b genericFinding) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		if a.Col != b.Col {
			return a.Col - b.Col
		}
		return strings.Compare(a.cat, b.cat)
	})
	out := make([]Finding, len(g.out))
	for i, f := range g.out {
		out[i] = f.Finding
	}
	return out
}

type genericLinter struct {
	comments map[int32]lineComment // by line
	out      []genericFinding
}

type genericFinding struct {
	Finding
	cat string
}

// lineComment is the comment on a line; whole says it is the line's only
// content, so it can speak for the statement below it.
type lineComment struct {
	text  string
	whole bool
}

// lineRange is a range of a file's lines whose comments, and those of the
// comment lines directly above it, may silence a finding.
type lineRange struct{ from, to int32 }

func spanLines(n syntax.Node) lineRange {
	start, end := n.Span()
	return lineRange{start.Line, end.Line}
}

// headerLine is the first line of a statement: for an if, a loop or a
// def, a comment in its body speaks for the body, not for the statement.
func headerLine(n syntax.Node) lineRange {
	start, _ := n.Span()
	return lineRange{start.Line, start.Line}
}

func (g *genericLinter) collectComments(f *syntax.File) {
	syntax.Walk(f, func(n syntax.Node) bool {
		if n == nil {
			return true // Walk's call after a node's children
		}
		c := n.Comments()
		if c == nil {
			return true
		}
		for _, list := range [][]syntax.Comment{c.Before, c.After} {
			for _, cm := range list {
				g.comments[cm.Start.Line] = lineComment{cm.Text, true}
			}
		}
		for _, cm := range c.Suffix {
			g.comments[cm.Start.Line] = lineComment{cm.Text, false}
		}
		return true
	})
}

// report adds a finding in category cat at pos unless a comment on the
// given lines, or on the comment lines right above them, disables
// cat there.
func (g *genericLinter) report(cat string, pos syntax.Position, where []lineRange, msg string) {
	for _, r := range where {
		for l := r.from; l <= r.to; l++ {
			if c, ok := g.comments[l]; ok && disables(c.text, cat) {
				return
			}
		}
		for l := r.from - 1; ; l-- {
			c, ok := g.comments[l]
			if !ok || !c.whole {
				break
			}
			if disables(c.text, cat) {
				return
			}
		}
	}
	g.out = append(g.out, genericFinding{
		finding(SevWarning, pos, "%s (%s; silence with # buildifier: disable=%s)", msg, cat, cat),
		cat,
	})
}

// disables reports whether a comment turns cat off: "# buildifier:
// disable=a,b" (or buildozer:, its old spelling), or "# @unused" for an
// unused variable.
func disables(comment, cat string) bool {
	text := strings.TrimSpace(strings.TrimPrefix(comment, "#"))
	if cat == catUnusedVariable && strings.HasPrefix(text, "@unused") {
		return true
	}
	for _, tool := range []string{"buildifier:", "buildozer:"} {
		rest, ok := strings.CutPrefix(text, tool)
		if !ok {
			continue
		}
		list, ok := strings.CutPrefix(strings.TrimSpace(rest), "disable=")
		if !ok {
			return false
		}
		list, _, _ = strings.Cut(list, " ")
		return slices.Contains(strings.Split(list, ","), cat)
	}
	return false
}

type blockKind uint8

const (
	fileBlock  blockKind = iota // a file's statements
	defBlock                    // a function's body
	innerBlock                  // an if's or a loop's body
)

// block checks a block of statements for unreachable code and statements
// with no effect, and the blocks inside it.
func (g *genericLinter) block(stmts []syntax.Stmt, kind blockKind) {
	dead := false
	for i, stmt := range stmts {
		if !dead && i > 0 && terminates(stmts[i-1]) {
			dead = true // one finding for the rest of the block
			where := spanLines(stmt)
			switch stmt.(type) {
			case *syntax.IfStmt, *syntax.ForStmt, *syntax.WhileStmt, *syntax.DefStmt:
				where = headerLine(stmt)
			}
			start, _ := stmt.Span()
			g.report(catUnreachable, start, []lineRange{where}, "The statement is unreachable.")
		}
		switch s := stmt.(type) {
		case *syntax.ExprStmt:
			g.noEffect(s, kind, i == 0)
		case *syntax.IfStmt:
			g.block(s.True, innerBlock)
			g.block(s.False, innerBlock)
		case *syntax.ForStmt:
			g.block(s.Body, innerBlock)
		case *syntax.WhileStmt:
			g.block(s.Body, innerBlock)
		case *syntax.DefStmt:
			g.block(s.Body, defBlock)
		}
	}
}

// terminates reports whether control never reaches the statement after
// stmt: it returns, breaks, continues, calls Starlark's own fail (not
// infra-guard's, which makes a result), or is an if whose every branch
// does one of those.
func terminates(stmt syntax.Stmt) bool {
	switch s := stmt.(type) {
	case *syntax.ReturnStmt:
		return true
	case *syntax.BranchStmt:
		return s.Token == syntax.BREAK || s.Token == syntax.CONTINUE
	case *syntax.ExprStmt:
		call, ok := unparen(s.X).(*syntax.CallExpr)
		return ok && scopeOf(call.Fn, "fail") == resolve.Universal
	case *syntax.IfStmt:
		return len(s.False) > 0 && slices.ContainsFunc(s.True, terminates) && slices.ContainsFunc(s.False, terminates)
	}
	return false
}

// statusBuiltins make a check result and do nothing else.
var statusBuiltins = []string{"ok", "warn", "fail", "skip"}

// noEffect reports an expression statement that is not a call, or that
// calls one of statusBuiltins and drops the result. A string that opens a
// file or a function is its docstring, and a comprehension among a file's
// statements may be there for the calls it makes (check() for each of a
// list, say).
func (g *genericLinter) noEffect(s *syntax.ExprStmt, kind blockKind, first bool) {
	msg := "Expression result is not used."
	switch x := unparen(s.X).(type) {
	case *syntax.CallExpr:
		name := ""
		for _, n := range statusBuiltins {
			if scopeOf(x.Fn, n) == resolve.Predeclared {
				name = n
			}
		}
		if name == "" {
			return
		}
		msg += fmt.Sprintf(" %s() makes a check result and stops nothing: return it.", name)
	case *syntax.Literal:
		if x.Token == syntax.STRING && s.X == x {
			if first && kind != innerBlock {
				return
			}
			msg += " Docstrings should be the first statements of a file or a function (they may follow comment lines)."
		}
	case *syntax.Comprehension:
		if kind == fileBlock {
			return
		}
		msg += " Use a for-loop instead of a list comprehension."
	}
	start, _ := s.Span()
	g.report(catNoEffect, start, []lineRange{spanLines(s)}, msg)
}

func unparen(e syntax.Expr) syntax.Expr {
	for {
		p, ok := e.(*syntax.ParenExpr)
		if !ok {
			return e
		}
		e = p.X
	}
}

// scopeOf is the scope the resolver gave e if e is the identifier name,
// else resolve.Undefined.
func scopeOf(e syntax.Expr, name string) resolve.Scope {
	id, ok := e.(*syntax.Ident)
	if !ok || id.Name != name {
		return resolve.Undefined
	}
	if b, ok := id.Binding.(*resolve.Binding); ok {
		return b.Scope
	}
	return resolve.Undefined
}

// How a name is bound where the resolver first saw it bound.
type bindKind uint8

const (
	bindParam     bindKind = iota + 1
	bindAssign             // name = …
	bindUnpack             // a, name = …
	bindAugmented          // name += …: reads it only to write it again
	bindFor                // for name in …
	bindDef                // def name(…)
	bindOther              // a comprehension's or a lambda's variable, a load()ed name
)

func unpacked(k bindKind) bindKind {
	if k == bindAssign {
		return bindUnpack
	}
	return k
}

type binding struct {
	kind  bindKind
	pos   syntax.Position // where to report it
	where []lineRange     // for report
}

// unused reports the variables a file binds and never reads: a function's
// parameters, local variables and nested functions, unless their names
// start with "_"; and the file's own private globals (names with "_",
// which no other file can load) bound by an assignment or a def.
func (g *genericLinter) unused(f *syntax.File) {
	bound := map[*syntax.Ident]binding{}
	var defs []*syntax.DefStmt
	// targets records the names an assignment or a for loop binds.
	var targets func(e syntax.Expr, kind bindKind, where []lineRange)
	targets = func(e syntax.Expr, kind bindKind, where []lineRange) {
		switch e := e.(type) {
		case *syntax.Ident:
			bound[e] = binding{kind, e.NamePos, where}
		case *syntax.ParenExpr:
			targets(e.X, kind, where)
		case *syntax.TupleExpr:
			for _, x := range e.List {
				targets(x, unpacked(kind), where)
			}
		case *syntax.ListExpr:
			for _, x := range e.List {
				targets(x, unpacked(kind), where)
			}
		}
	}
	params := func(ps []syntax.Expr, kind bindKind, where lineRange) {
		for _, p := range ps {
			var id *syntax.Ident
			switch p := p.(type) {
			case *syntax.Ident:
				id = p
			case *syntax.BinaryExpr: // name = default
				id, _ = p.X.(*syntax.Ident)
			case *syntax.UnaryExpr: // *args, **kwargs
				id, _ = p.X.(*syntax.Ident)
			}
			if id != nil {
				bound[id] = binding{kind, id.NamePos, []lineRange{spanLines(p), where}}
			}
		}
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.AssignStmt:
			if n.Op == syntax.EQ {
				targets(n.LHS, bindAssign, []lineRange{spanLines(n)})
			} else if id, ok := n.LHS.(*syntax.Ident); ok {
				bound[id] = binding{bindAugmented, id.NamePos, nil}
			}
		case *syntax.ForStmt:
			targets(n.Vars, bindFor, []lineRange{headerLine(n), spanLines(n.Vars)})
		case *syntax.ForClause:
			targets(n.Vars, bindOther, nil)
		case *syntax.DefStmt:
			defs = append(defs, n)
			bound[n.Name] = binding{bindDef, n.Def, []lineRange{headerLine(n)}}
			params(n.Params, bindParam, headerLine(n))
		case *syntax.LambdaExpr:
			params(n.Params, bindOther, lineRange{})
		case *syntax.LoadStmt:
			for _, id := range n.To {
				bound[id] = binding{bindOther, id.NamePos, nil}
			}
		}
		return true
	})
	// Every other occurrence of a name reads it. A closure's variable
	// has its own binding in each function, with the same First.
	read := map[*syntax.Ident]bool{}
	syntax.Walk(f, func(n syntax.Node) bool {
		if id, ok := n.(*syntax.Ident); ok {
			if _, isBinding := bound[id]; !isBinding {
				if b, ok := id.Binding.(*resolve.Binding); ok && b.First != nil {
					read[b.First] = true
				}
			}
		}
		return true
	})
	check := func(b *resolve.Binding, want func(bindKind) bool) {
		id := b.First
		if id == nil || read[id] {
			return
		}
		how, ok := bound[id]
		if !ok || !want(how.kind) {
			return
		}
		what := "Variable"
		if how.kind == bindDef {
			what = "Function"
		}
		g.report(catUnusedVariable, how.pos, how.where, fmt.Sprintf("%s %q is unused. Please remove it.", what, id.Name))
	}
	for _, def := range defs {
		fn, ok := def.Function.(*resolve.Function)
		if !ok {
			continue
		}
		for _, b := range fn.Locals {
			if b.First != nil && !strings.HasPrefix(b.First.Name, "_") {
				check(b, func(k bindKind) bool { return k <= bindDef && k != bindAugmented })
			}
		}
	}
	if m, ok := f.Module.(*resolve.Module); ok {
		for _, b := range m.Globals {
			if b.First != nil && strings.HasPrefix(b.First.Name, "_") {
				check(b, func(k bindKind) bool { return k == bindAssign || k == bindDef })
			}
		}
	}
}
