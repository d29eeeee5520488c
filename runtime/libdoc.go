package runtime

// This file holds what `infra-guard doc` shows of a module: its leading
// comment, and its public functions with their signatures and docstrings,
// read from the source without running it.

import (
	"context"
	"fmt"
	"strings"

	"go.starlark.net/syntax"
)

// ModuleDoc is the documentation of a module.
type ModuleDoc struct {
	Name  string    `json:"name"` // as given: @std//re.star, lib/x.star
	Doc   string    `json:"doc"`  // the leading comment block, without its #
	Funcs []FuncDoc `json:"functions"`
}

// FuncDoc is one public function: a top-level def whose name has no
// leading _, or a function a public struct holds ("re.search").
type FuncDoc struct {
	Name      string `json:"name"`
	Signature string `json:"signature"` // search(pattern, s)
	Doc       string `json:"doc"`       // the docstring, dedented
}

// ReadModule reads the module a doc target names: @std//NAME.star, a
// team library's @NAME//PATH.star (declared by opts.Libs or by guard.libs
// in the working directory, fetched if need be), or a file.
func ReadModule(ctx context.Context, name string, opts LoadOptions) ([]byte, error) {
	if !strings.HasPrefix(name, "@") {
		src, err := readSource(nil, name)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %v", name, unwrapPath(err))
		}
		return src, nil
	}
	ld := newLoader(ctx, "guard.star", false, opts)
	defer ld.close()
	id, err := ld.resolve(ld.main, name)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", name, err)
	}
	src, err := ld.read(id)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", name, err)
	}
	return src, nil
}

// DocModule extracts the documentation of module name from its source.
func DocModule(name string, src []byte) (*ModuleDoc, error) {
	f, err := dialect.Parse(name, src, 0)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(src), "\n")
	m := &ModuleDoc{Name: name, Doc: leadingComment(lines)}
	defs := map[string]*syntax.DefStmt{}
	for _, stmt := range f.Stmts {
		if d, ok := stmt.(*syntax.DefStmt); ok {
			defs[d.Name.Name] = d
		}
	}
	for _, stmt := range f.Stmts {
		switch s := stmt.(type) {
		case *syntax.DefStmt:
			if !strings.HasPrefix(s.Name.Name, "_") {
				m.Funcs = append(m.Funcs, funcDoc(s.Name.Name, s, lines))
			}
		case *syntax.AssignStmt:
			// NAME = struct(field = fn, ...): document NAME.field.
			id, ok := s.LHS.(*syntax.Ident)
			call, isCall := s.RHS.(*syntax.CallExpr)
			if !ok || !isCall || strings.HasPrefix(id.Name, "_") {
				continue
			}
			if fn, ok := call.Fn.(*syntax.Ident); !ok || fn.Name != "struct" {
				continue
			}
			for _, arg := range call.Args {
				kw, ok := arg.(*syntax.BinaryExpr)
				if !ok || kw.Op != syntax.EQ {
					continue
				}
				field, _ := kw.X.(*syntax.Ident)
				val, _ := kw.Y.(*syntax.Ident)
				if field == nil || val == nil || defs[val.Name] == nil {
					continue
				}
				m.Funcs = append(m.Funcs, funcDoc(id.Name+"."+field.Name, defs[val.Name], lines))
			}
		}
	}
	return m, nil
}

// leadingComment is the first block of # lines, without the marks.
func leadingComment(lines []string) string {
	var out []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if !strings.HasPrefix(t, "#") {
			break
		}
		t = strings.TrimPrefix(t, "#")
		t = strings.TrimPrefix(t, " ")
		out = append(out, strings.TrimRight(t, " "))
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

func funcDoc(name string, d *syntax.DefStmt, lines []string) FuncDoc {
	var params []string
	for _, p := range d.Params {
		params = append(params, sourceText(lines, p))
	}
	doc := ""
	if len(d.Body) > 0 {
		if e, ok := d.Body[0].(*syntax.ExprStmt); ok {
			if lit, ok := e.X.(*syntax.Literal); ok && lit.Token == syntax.STRING {
				doc = dedent(lit.Value.(string))
			}
		}
	}
	return FuncDoc{Name: name, Signature: name + "(" + strings.Join(params, ", ") + ")", Doc: doc}
}

// sourceText is a node's text as written, on one line.
func sourceText(lines []string, n syntax.Node) string {
	start, end := n.Span()
	if start.Line < 1 || int(end.Line) > len(lines) {
		return ""
	}
	if start.Line == end.Line {
		l := lines[start.Line-1]
		return safeSlice(l, int(start.Col)-1, int(end.Col)-1)
	}
	var parts []string
	for i := start.Line; i <= end.Line; i++ {
		l := lines[i-1]
		switch i {
		case start.Line:
			l = safeSlice(l, int(start.Col)-1, len(l))
		case end.Line:
			l = safeSlice(l, 0, int(end.Col)-1)
		}
		parts = append(parts, strings.TrimSpace(l))
	}
	return strings.Join(parts, " ")
}

func safeSlice(s string, i, j int) string {
	i, j = max(0, min(i, len(s))), max(0, min(j, len(s)))
	if i > j {
		return ""
	}
	return s[i:j]
}

// dedent removes the indentation that the lines after the first of a
// docstring share, as Python's inspect.cleandoc does.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	indent := -1
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	for i := 1; i < len(lines); i++ {
		if len(lines[i]) >= indent && indent > 0 {
			lines[i] = lines[i][indent:]
		} else {
			lines[i] = strings.TrimSpace(lines[i])
		}
	}
	lines[0] = strings.TrimSpace(lines[0])
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
