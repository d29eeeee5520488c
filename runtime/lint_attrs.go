package runtime

// This file holds the attribute suggestions for the results of the
// probes: disk().used_pct should suggest .used_percent, while
// go.starlark.net's spelling hint, which ignores underscores and counts
// edits only, suggests .used. vet finds such typos without running
// anything; a run rewrites the hint of the error it gets.

import (
	"fmt"
	"regexp"
	"slices"
	"sync"

	"go.starlark.net/syntax"
)

// resultFields are the attributes of each probe's result, by the type name
// its errors use. guardtest's TestResultFields keeps them in step with
// the builtins.
var resultFields = map[string][]string{
	"disk":          {"free", "fstype", "inodes_percent", "inodes_total", "inodes_used", "path", "total", "used", "used_percent"},
	"memory":        {"available", "swap_percent", "swap_total", "swap_used", "total", "used", "used_percent"},
	"loadavg":       {"cores", "load1", "load15", "load5"},
	"host":          {"boot_time", "hostname", "kernel", "os", "platform", "platform_version", "uptime_seconds"},
	"process":       {"count", "pids", "procs", "zombies"},
	"proc":          {"cmdline", "name", "pid", "rss", "start_time", "state", "user"},
	"file":          {"age_seconds", "exists", "is_dir", "mode", "mtime", "read", "sha256", "size"},
	"tcp":           {"duration_ms", "error", "ok", "response", "tls"},
	"dns":           {"duration_ms", "error", "ok", "records"},
	"tls_cert":      {"days_left", "error", "issuer", "not_after", "ok", "sans", "subject", "verified"},
	"http_response": {"attempts", "body", "duration_ms", "error", "first_attempt_ms", "headers", "json", "ok", "status", "tls", "truncated", "url"},
}

// ResultFields returns the attributes resultFields gives the result type
// named name, for guardtest's check that they match the builtins.
func ResultFields(name string) []string { return slices.Clone(resultFields[name]) }

// ResultTypes are the type names of ResultFields.
func ResultTypes() []string {
	var out []string
	for k := range resultFields {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// probeResult is the result type of each probe, by builtin name.
var probeResult = map[string]string{
	"disk": "disk", "memory": "memory", "loadavg": "loadavg", "host": "host",
	"process": "process", "file": "file", "tcp": "tcp", "dns": "dns",
	"tls_cert": "tls_cert", "http_check": "http_response",
}

// resultOf names a result type in messages by the builtin that makes it.
var resultOf = map[string]string{"http_response": "http_check()", "proc": "process().procs"}

func init() {
	for b, t := range probeResult {
		if _, ok := resultOf[t]; !ok {
			resultOf[t] = b + "()"
		}
	}
}

// attrSuggestion is the attribute of candidates that name most likely
// misspells: among those sharing the longest prefix with it (3 bytes at
// least), the nearest; else the nearest overall, if close enough.
func attrSuggestion(name string, candidates []string) string {
	best, bestLen := []string(nil), 2
	for _, c := range candidates {
		n := commonPrefix(name, c)
		switch {
		case n > bestLen:
			best, bestLen = []string{c}, n
		case n == bestLen && best != nil:
			best = append(best, c)
		}
	}
	if best == nil {
		best = candidates
	}
	return nearest(name, best, len(name)/2+1)
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// attrErrRE matches go.starlark.net's error for a missing attribute, with
// or without its spelling hint. It is compiled on first use, not at every
// start: most runs have no such error.
var attrErrRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`"?(\w+)"?( struct)? has no \.(\w+) (attribute|field or method)( \(did you mean \.\w+\?\))?`)
})

// betterAttrHint replaces the spelling hint of a missing attribute of a
// probe's result with attrSuggestion's.
func betterAttrHint(msg string) string {
	re := attrErrRE()
	return re.ReplaceAllStringFunc(msg, func(m string) string {
		sub := re.FindStringSubmatch(m)
		fields, ok := resultFields[sub[1]]
		if !ok {
			return m
		}
		out := m[:len(m)-len(sub[5])]
		if s := attrSuggestion(sub[3], fields); s != "" {
			out += fmt.Sprintf(" (did you mean .%s?)", s)
		}
		return out
	})
}

// attrs finds, in every function, attributes a probe's result does not
// have: probe(…).x, and v.x where v is assigned once from probe(…) or is
// the variable of a loop over disks().
func (l *linter) attrs(f *syntax.File) {
	syntax.Walk(f, func(n syntax.Node) bool {
		var body []syntax.Stmt
		switch fn := n.(type) {
		case *syntax.DefStmt:
			body = fn.Body
		case *syntax.LambdaExpr:
			body = []syntax.Stmt{&syntax.ReturnStmt{Result: fn.Body}}
		default:
			return true
		}
		types := map[string]string{}
		assigned := map[string]int{}
		walkStmts(body, func(n syntax.Node) {
			switch s := n.(type) {
			case *syntax.AssignStmt:
				syntax.Walk(s.LHS, func(n syntax.Node) bool {
					if id, ok := n.(*syntax.Ident); ok {
						assigned[id.Name]++
					}
					return true
				})
				if id, ok := s.LHS.(*syntax.Ident); ok && s.Op == syntax.EQ {
					if t := probeType(s.RHS); t != "" {
						types[id.Name] = t
					}
				}
			case *syntax.ForStmt:
				syntax.Walk(s.Vars, func(n syntax.Node) bool {
					if id, ok := n.(*syntax.Ident); ok {
						assigned[id.Name]++
					}
					return true
				})
				if id, ok := s.Vars.(*syntax.Ident); ok {
					if call, ok := s.X.(*syntax.CallExpr); ok && isName(call.Fn, "disks") {
						types[id.Name] = "disk"
					}
				}
			}
		})
		walkStmts(body, func(n syntax.Node) {
			dot, ok := n.(*syntax.DotExpr)
			if !ok {
				return
			}
			t := probeType(dot.X)
			if id, ok := dot.X.(*syntax.Ident); ok && assigned[id.Name] == 1 {
				t = types[id.Name]
			}
			fields, ok := resultFields[t]
			if !ok || slices.Contains(fields, dot.Name.Name) {
				return
			}
			msg := fmt.Sprintf("%s results have no .%s", resultOf[t], dot.Name.Name)
			if s := attrSuggestion(dot.Name.Name, fields); s != "" {
				msg += fmt.Sprintf(" (did you mean .%s?)", s)
			}
			l.out = append(l.out, finding(SevError, dot.Name.NamePos, "%s; they have %s", msg, joinFields(fields)))
		})
		return true
	})
}

// probeType is the result type of e when it is a call of a probe.
func probeType(e syntax.Expr) string {
	call, ok := e.(*syntax.CallExpr)
	if !ok {
		return ""
	}
	id, ok := call.Fn.(*syntax.Ident)
	if !ok {
		return ""
	}
	return probeResult[id.Name]
}

// walkStmts visits the nodes of stmts, not entering nested functions,
// which attrs visits on their own.
func walkStmts(stmts []syntax.Stmt, visit func(syntax.Node)) {
	for _, s := range stmts {
		syntax.Walk(s, func(n syntax.Node) bool {
			switch n.(type) {
			case *syntax.DefStmt, *syntax.LambdaExpr:
				return false
			}
			visit(n)
			return true
		})
	}
}

func joinFields(fields []string) string {
	out := ""
	for i, f := range fields {
		if i > 0 {
			out += ", "
		}
		out += "." + f
	}
	return out
}
