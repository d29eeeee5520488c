package runtime

// This file holds the strict part of vet: mistakes that load and run
// without an error but make a guard pass when it should not (a check
// function that returns None, a check in a loop that reads the loop
// variable when it runs, threshold() limits in the wrong order), and the
// hints that turn a bare parser or resolver error into a fix (a misspelt
// builtin, Python-only syntax).

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/syntax"

	"github.com/infra-guard/infra-guard/result"
)

// Severity says how much a Finding matters: an error stops the script
// from running, a warning is a likely bug, a note is for information.
type Severity string

const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
	SevNote    Severity = "note"
)

// Finding is one thing vet has to say about a script.
type Finding struct {
	result.Diagnostic
	Severity Severity
}

func (f Finding) String() string {
	if f.Severity == SevError {
		return f.Diagnostic.String()
	}
	d := f.Diagnostic
	d.Msg = string(f.Severity) + ": " + d.Msg
	return d.String()
}

func finding(sev Severity, pos syntax.Position, format string, args ...any) Finding {
	return Finding{at(pos, fmt.Sprintf(format, args...)), sev}
}

// lint looks for the silent mistakes in a parsed and resolved file.
func lint(f *syntax.File) []Finding {
	l := &linter{defs: map[string]*syntax.DefStmt{}, reported: map[*syntax.DefStmt]bool{}}
	l.collectDefs(f.Stmts)
	l.stmts(f.Stmts, nil)
	l.attrs(f)
	syntax.Walk(f, func(n syntax.Node) bool {
		if call, ok := n.(*syntax.CallExpr); ok {
			l.threshold(call)
		}
		return true
	})
	slices.SortStableFunc(l.out, func(a, b Finding) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	return l.out
}

type linter struct {
	defs     map[string]*syntax.DefStmt // functions defined outside functions
	reported map[*syntax.DefStmt]bool   // functions already said to return None
	out      []Finding
}

// collectDefs finds the functions defined at top level, inside top-level
// loops and ifs too.
func (l *linter) collectDefs(stmts []syntax.Stmt) {
	for _, stmt := range stmts {
		switch s := stmt.(type) {
		case *syntax.DefStmt:
			l.defs[s.Name.Name] = s
		case *syntax.ForStmt:
			l.collectDefs(s.Body)
		case *syntax.WhileStmt:
			l.collectDefs(s.Body)
		case *syntax.IfStmt:
			l.collectDefs(s.True)
			l.collectDefs(s.False)
		}
	}
}

// stmts visits top-level statements; loopVars are the variables of the
// top-level for loops around them.
func (l *linter) stmts(stmts []syntax.Stmt, loopVars []*syntax.Ident) {
	for _, stmt := range stmts {
		switch s := stmt.(type) {
		case *syntax.ForStmt:
			vars := slices.Clone(loopVars)
			syntax.Walk(s.Vars, func(n syntax.Node) bool {
				if id, ok := n.(*syntax.Ident); ok {
					vars = append(vars, id)
				}
				return true
			})
			l.stmts(s.Body, vars)
		case *syntax.WhileStmt:
			l.stmts(s.Body, loopVars)
		case *syntax.IfStmt:
			l.stmts(s.True, loopVars)
			l.stmts(s.False, loopVars)
		case *syntax.ExprStmt:
			if call, ok := s.X.(*syntax.CallExpr); ok && isName(call.Fn, "check") {
				l.check(call, loopVars)
			}
		}
	}
}

// check looks at one top-level check(name, fn, …) call.
func (l *linter) check(call *syntax.CallExpr, loopVars []*syntax.Ident) {
	fn := arg(call, 1, "fn")
	passed := arg(call, -1, "args") != nil || arg(call, -1, "kwargs") != nil
	var body syntax.Node
	switch fn := fn.(type) {
	case *syntax.LambdaExpr:
		body = fn.Body
	case *syntax.Ident:
		def := l.defs[fn.Name]
		if def == nil {
			return
		}
		body = &syntax.File{Stmts: def.Body} // only to walk it
		if !l.reported[def] {
			l.reported[def] = true
			if line, ok := returnsNone(def); ok {
				l.out = append(l.out, finding(SevWarning, def.Name.NamePos,
					"check function %s returns None on line %d, which counts as OK; return ok() explicitly or use `return True`", def.Name.Name, line))
			}
		}
	default:
		return
	}
	if passed || len(loopVars) == 0 {
		return
	}
	for _, v := range loopVars {
		var use *syntax.Ident
		syntax.Walk(body, func(n syntax.Node) bool {
			id, ok := n.(*syntax.Ident)
			if ok && use == nil && id.Name == v.Name {
				if b, ok := id.Binding.(*resolve.Binding); ok && b.Scope == resolve.Global {
					use = id
				}
			}
			return use == nil
		})
		if use != nil {
			start, _ := call.Span()
			l.out = append(l.out, finding(SevError, start,
				"check() in a for loop: its function reads the loop variable %s when the check runs, after the loop has ended, so every check of the loop sees the last %s; pass it with args=[%s] and take it as a parameter",
				v.Name, v.Name, v.Name))
			return
		}
	}
}

// returnsNone reports the line on which def can end without returning a
// value: a bare return, or the end of the body reached by falling off.
func returnsNone(def *syntax.DefStmt) (int, bool) {
	var bare int
	syntax.Walk(&syntax.File{Stmts: def.Body}, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.DefStmt, *syntax.LambdaExpr:
			return false // their returns are theirs
		case *syntax.ReturnStmt:
			if n.Result == nil && bare == 0 {
				bare = int(n.Return.Line)
			}
		}
		return true
	})
	if bare > 0 {
		return bare, true
	}
	if !ends(def.Body) {
		_, end := def.Span()
		return int(end.Line), true
	}
	return 0, false
}

// ends reports whether every path through stmts ends in a return (or
// an endless loop); a path that falls off the end returns None.
func ends(stmts []syntax.Stmt) bool {
	for _, stmt := range stmts {
		switch s := stmt.(type) {
		case *syntax.ReturnStmt:
			return true
		case *syntax.IfStmt:
			if ends(s.True) && ends(s.False) {
				return true
			}
		case *syntax.WhileStmt:
			// while True: with no break never falls off.
			if isName(s.Cond, "True") && !breaks(s.Body) {
				return true
			}
		}
	}
	return false
}

// breaks reports whether stmts break out of the loop they are in (a
// break in a nested loop is that loop's).
func breaks(stmts []syntax.Stmt) bool {
	for _, stmt := range stmts {
		switch s := stmt.(type) {
		case *syntax.BranchStmt:
			if s.Token == syntax.BREAK {
				return true
			}
		case *syntax.IfStmt:
			if breaks(s.True) || breaks(s.False) {
				return true
			}
		}
	}
	return false
}

// threshold flags threshold(v, warn=W, crit=C) with literal numbers where
// C < W: for the upper-bound limits a number means, the value passes crit
// before warn, so the check can never warn.
func (l *linter) threshold(call *syntax.CallExpr) {
	if !isName(call.Fn, "threshold") {
		return
	}
	warn, okW := number(arg(call, 1, "warn"))
	crit, okC := number(arg(call, 2, "crit"))
	if okW && okC && crit < warn {
		start, _ := call.Span()
		l.out = append(l.out, finding(SevError, start,
			"threshold(): crit %s is below warn %s, so the value reaches crit first and the check can never warn; a number means \"alert above\": swap them (warn=%s, crit=%s), or for a lower bound write ranges such as warn=\"%s:\", crit=\"%s:\"",
			fmtNum(crit), fmtNum(warn), fmtNum(crit), fmtNum(warn), fmtNum(warn), fmtNum(crit)))
	}
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// arg is the argument of call at position i (-1: keyword only) or named
// name, or nil.
func arg(call *syntax.CallExpr, i int, name string) syntax.Expr {
	pos := 0
	for _, a := range call.Args {
		if b, ok := a.(*syntax.BinaryExpr); ok && b.Op == syntax.EQ {
			if id, ok := b.X.(*syntax.Ident); ok && id.Name == name {
				return b.Y
			}
			continue
		}
		if u, ok := a.(*syntax.UnaryExpr); ok && (u.Op == syntax.STAR || u.Op == syntax.STARSTAR) {
			return nil // *args: positions unknown
		}
		if pos == i {
			return a
		}
		pos++
	}
	return nil
}

// number is the value of a literal int or float, maybe negated.
func number(e syntax.Expr) (float64, bool) {
	sign := 1.0
	if u, ok := e.(*syntax.UnaryExpr); ok && u.Op == syntax.MINUS {
		sign, e = -1, u.X
	}
	lit, ok := e.(*syntax.Literal)
	if !ok {
		return 0, false
	}
	switch v := lit.Value.(type) {
	case int64:
		return sign * float64(v), true
	case float64:
		return sign * v, true
	}
	return 0, false
}

func isName(e syntax.Expr, name string) bool {
	id, ok := e.(*syntax.Ident)
	return ok && id.Name == name
}

// didYouMean adds a suggestion to "undefined: NAME" from names (the
// predeclared names and the file's globals).
func didYouMean(msg string, names []string) string {
	name, ok := strings.CutPrefix(msg, "undefined: ")
	if !ok {
		return msg
	}
	if s := nearest(name, names, 1+len(name)/5); s != "" {
		return fmt.Sprintf("%s (did you mean %s?)", msg, s)
	}
	return msg
}

// nearest is the candidate closest to name by edit distance, if it is
// within limit edits of it (1 + len/5 is a typo of a name).
// (Hand-written: go.starlark.net's spell package is internal, and this is
// a dozen lines.)
func nearest(name string, candidates []string, limit int) string {
	best, bestD := "", math.MaxInt
	for _, c := range candidates {
		if c == name {
			continue
		}
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d <= limit && d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// globalNames are the names a file defines at top level.
func globalNames(f *syntax.File) []string {
	var names []string
	for _, stmt := range f.Stmts {
		switch s := stmt.(type) {
		case *syntax.DefStmt:
			names = append(names, s.Name.Name)
		case *syntax.LoadStmt:
			for _, id := range s.To {
				names = append(names, id.Name)
			}
		case *syntax.AssignStmt:
			syntax.Walk(s.LHS, func(n syntax.Node) bool {
				if id, ok := n.(*syntax.Ident); ok {
					names = append(names, id.Name)
				}
				return true
			})
		}
	}
	return names
}

// pythonHint explains a parser error caused by Python syntax that
// Starlark does not have, from the source line it is on.
func pythonHint(msg string, line string) string {
	word := strings.Fields(strings.TrimSpace(line) + " ")
	first := ""
	if len(word) > 0 {
		first = word[0]
	}
	var hint string
	switch {
	case first == "import" || (first == "from" && strings.Contains(line, " import ")):
		hint = `Starlark has no import: load your own modules with load("lib.star", "name"); json, time and math are predeclared, and the builtins (disk, http_check, env…) need no import`
	case first == "try" || first == "try:" || first == "except" || strings.HasPrefix(first, "except") || first == "raise":
		hint = "Starlark has no exceptions (try/except/raise): a check that hits an error ends UNKNOWN on its own; test values with if, and return fail(\"…\") or warn(\"…\")"
	case first == "class":
		hint = "Starlark has no classes: use struct(name = …) or a dict"
	case first == "with":
		hint = "Starlark has no with statement: builtins such as file() and http_check() open and close what they use themselves"
	case strings.Contains(line, `f"`) || strings.Contains(line, `f'`):
		hint = `Starlark has no f-strings: write "%s is %d%%" % (name, pct) or "{} is {}".format(name, pct)`
	default:
		return msg
	}
	return msg + " (" + hint + ")"
}

// lineOf is line n (1-based) of src.
func lineOf(src []byte, n int32) string {
	lines := strings.Split(string(src), "\n")
	if n < 1 || int(n) > len(lines) {
		return ""
	}
	return lines[n-1]
}
