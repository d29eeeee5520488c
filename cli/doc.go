package cli

// This file holds the doc command: the reference of every builtin, from
// the registry's own docs (builtins.Table, the source docs/builtins.md's
// reference is generated from), or of one builtin, or the functions and
// docstrings of a module: @std//re.star, @NAME//x.star or a file.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/runtime"
)

func (a *app) docCommand() *ffcli.Command {
	fs := a.flagSet("doc", a.libFlags)
	format := "text"
	fs.Var(&flagValue[string]{dst: &format, parse: oneOf("text", "markdown", "json")}, "format", "output: text, markdown or json")
	return a.command(&ffcli.Command{
		Name:       "doc",
		ShortUsage: "infra-guard doc [flags] [BUILTIN | @std//MODULE.star | @NAME//PATH.star | FILE]",
		ShortHelp:  "show the reference of the builtins, of one builtin, or of a module's functions",
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			a.releaseOutput()
			return a.execDoc(ctx, args, format)
		},
	})
}

func (a *app) execDoc(ctx context.Context, args []string, format string) error {
	if len(args) > 1 {
		return fmt.Errorf("want at most one TARGET, got %d arguments: %s", len(args), strings.Join(args, " "))
	}
	if len(args) == 0 {
		return writeBuiltins(a.env.Stdout, builtins.Table(), format)
	}
	target := args[0]
	for _, d := range builtins.Table() {
		if d.Name == target || d.Name+"()" == target {
			return writeBuiltins(a.env.Stdout, []builtins.Descriptor{d}, format)
		}
	}
	if !strings.HasPrefix(target, "@") && !strings.HasSuffix(target, ".star") {
		var names []string
		for _, d := range builtins.Table() {
			names = append(names, d.Name)
		}
		return a.fail(fmt.Errorf("no builtin %s (builtins: %s); a module is @std//NAME.star, @NAME//PATH.star or a .star file", target, strings.Join(names, ", ")))
	}
	src, err := runtime.ReadModule(ctx, target, runtime.LoadOptions{Libs: a.libOptions()})
	if err != nil {
		return a.fail(err)
	}
	m, err := runtime.DocModule(target, src)
	if err != nil {
		return a.fail(err)
	}
	return writeModule(a.env.Stdout, m, format)
}

// builtinDoc is one builtin as doc --format json shows it.
type builtinDoc struct {
	Name      string `json:"name"`
	Phase     string `json:"phase"`
	Signature string `json:"signature"`
	Doc       string `json:"doc"`
}

func splitDoc(d builtins.Descriptor) builtinDoc {
	sig, body, _ := strings.Cut(d.Doc, "\n\n")
	return builtinDoc{Name: d.Name, Phase: d.Phase.String(), Signature: strings.TrimSpace(sig), Doc: strings.TrimSpace(body)}
}

func phaseNote(phase string) string {
	if phase == "run" {
		return "Run phase: only inside a check function."
	}
	return "Load phase: also at the top level of the script."
}

// writeBuiltins renders descriptors in format.
func writeBuiltins(w io.Writer, ds []builtins.Descriptor, format string) error {
	docs := make([]builtinDoc, len(ds))
	for i, d := range ds {
		docs[i] = splitDoc(d)
	}
	switch format {
	case "json":
		return writeJSON(w, docs)
	case "markdown":
		_, err := io.WriteString(w, BuiltinsMarkdown(ds))
		return err
	}
	var b strings.Builder
	for i, d := range docs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s\n\n%s\n\n%s\n", d.Signature, wrap(phaseNote(d.Phase), "    "), wrap(d.Doc, "    "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// BuiltinsMarkdown is the reference of the builtins in Markdown, as
// docs/builtins.md holds it between its generated-section markers.
func BuiltinsMarkdown(ds []builtins.Descriptor) string {
	var b strings.Builder
	for i, d := range ds {
		doc := splitDoc(d)
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "### %s\n\n```python\n%s\n```\n\n*%s*\n\n%s\n", doc.Name, doc.Signature, phaseNote(doc.Phase), doc.Doc)
	}
	return b.String()
}

func writeModule(w io.Writer, m *runtime.ModuleDoc, format string) error {
	var b strings.Builder
	switch format {
	case "json":
		return writeJSON(w, m)
	case "markdown":
		fmt.Fprintf(&b, "# %s\n\n", m.Name)
		if m.Doc != "" {
			b.WriteString(markdownComment(m.Doc) + "\n")
		}
		for _, f := range m.Funcs {
			fmt.Fprintf(&b, "\n## %s\n\n```python\n%s\n```\n", f.Name, f.Signature)
			if f.Doc != "" {
				fmt.Fprintf(&b, "\n%s\n", f.Doc)
			}
		}
	default:
		fmt.Fprintf(&b, "%s\n", m.Name)
		if m.Doc != "" {
			fmt.Fprintf(&b, "\n%s\n", indent(m.Doc, "    "))
		}
		for _, f := range m.Funcs {
			fmt.Fprintf(&b, "\n%s\n", f.Signature)
			if f.Doc != "" {
				fmt.Fprintf(&b, "%s\n", indent(f.Doc, "    "))
			}
		}
		if len(m.Funcs) == 0 {
			b.WriteString("\n(no public functions)\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// markdownComment turns a module comment into Markdown: its indented
// example lines become a code block.
func markdownComment(doc string) string {
	var b strings.Builder
	inCode := false
	for _, l := range strings.Split(doc, "\n") {
		code := strings.HasPrefix(l, "    ")
		switch {
		case code && !inCode:
			b.WriteString("```python\n")
			inCode = true
		case !code && inCode && strings.TrimSpace(l) != "":
			closeCode(&b)
			inCode = false
		}
		if inCode {
			l = strings.TrimPrefix(l, "    ")
		}
		b.WriteString(l + "\n")
	}
	if inCode {
		closeCode(&b)
	}
	return b.String()
}

// closeCode ends a code block, without the blank line that ended it.
func closeCode(b *strings.Builder) {
	s := strings.TrimRight(b.String(), "\n") + "\n```\n\n"
	b.Reset()
	b.WriteString(s)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// wrap fills text to 80 columns, indented.
func wrap(text, prefix string) string {
	var b strings.Builder
	for p, para := range strings.Split(text, "\n\n") {
		if p > 0 {
			b.WriteString("\n\n")
		}
		col := 0
		for i, word := range strings.Fields(para) {
			if i == 0 {
				b.WriteString(prefix)
				col = len(prefix)
			} else if col+1+len(word) > 80 {
				b.WriteString("\n" + prefix)
				col = len(prefix)
			} else {
				b.WriteString(" ")
				col++
			}
			b.WriteString(word)
			col += len(word)
		}
	}
	return b.String()
}
