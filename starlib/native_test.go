package starlib

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
)

// TestYAMLDeepNesting: a document nested far past MaxYAMLDepth, in flow
// or block style, is an error, quickly, not a stack overflow.
func TestYAMLDeepNesting(t *testing.T) {
	decode := native()["_yaml"].(interface {
		Attr(string) (starlark.Value, error)
	})
	fn, _ := decode.Attr("decode")
	docs := map[string]string{
		"flow":        strings.Repeat("[", 1_000_000) + strings.Repeat("]", 1_000_000),
		"flow maps":   strings.Repeat("{a: ", 100_000) + "1" + strings.Repeat("}", 100_000),
		"block":       block(1000),
		"just deeper": strings.Repeat("[", MaxYAMLDepth+2) + strings.Repeat("]", MaxYAMLDepth+2),
	}
	for name, doc := range docs {
		start := time.Now()
		_, err := starlark.Call(&starlark.Thread{}, fn.(starlark.Callable), starlark.Tuple{starlark.String(doc)}, nil)
		if err == nil {
			t.Errorf("%s: decoded, want an error", name)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %s", name, d)
		}
	}
	ok := strings.Repeat("[", MaxYAMLDepth) + strings.Repeat("]", MaxYAMLDepth)
	if _, err := starlark.Call(&starlark.Thread{}, fn.(starlark.Callable), starlark.Tuple{starlark.String(ok)}, nil); err != nil {
		t.Errorf("%d levels: %v", MaxYAMLDepth, err)
	}
}

func block(depth int) string {
	var b strings.Builder
	for i := range depth {
		b.WriteString(strings.Repeat(" ", i) + "a:\n")
	}
	return b.String()
}

// TestYAMLAliasBomb: aliases that expand exponentially stop at the value cap.
func TestYAMLAliasBomb(t *testing.T) {
	doc := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		doc += n + ": &" + n + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = n
	}
	fn, _ := native()["_yaml"].(interface {
		Attr(string) (starlark.Value, error)
	}).Attr("decode")
	start := time.Now()
	_, err := starlark.Call(&starlark.Thread{}, fn.(starlark.Callable), starlark.Tuple{starlark.String(doc)}, nil)
	if err == nil {
		t.Fatal("decoded, want an error")
	}
	t.Log(err, time.Since(start))
}

// BenchmarkDecodeChecks is what the first load of @std//checks.star in a
// process costs beyond later ones: decoding its compiled form.
func BenchmarkDecodeChecks(b *testing.B) {
	data, err := compiled.ReadFile("compiled/checks.starc")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := starlark.CompiledProgram(bytes.NewReader(data[len(Magic)+32:])); err != nil {
			b.Fatal(err)
		}
	}
}
