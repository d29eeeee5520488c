package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infra-guard/infra-guard/runtime"
)

// BenchmarkLoadNested measures the load phase of a guard that loads two
// library files, one of them from the other and from the guard (cached):
// resolving, confining and reading the files, and executing each once.
//
//	go test -run '^$' -bench Load ./runtime/
func BenchmarkLoadNested(b *testing.B) {
	dir := b.TempDir()
	files := map[string]string{
		"guard.star": `load("lib/web.star", "web")
load("lib/common.star", "helper")
for i in range(10):
    check("web%d" % i, web)
check("db", helper)
`,
		"lib/web.star": `load("common.star", "helper", "label")
def web():
    return ok(label)
`,
		"lib/common.star": `label = "from lib"
def helper():
    return True
`,
	}
	for name, src := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	benchmarkLoad(b, filepath.Join(dir, "guard.star"), nil, 11)
}

// BenchmarkLoadDefault measures the load phase of the built-in default guard.
func BenchmarkLoadDefault(b *testing.B) {
	benchmarkLoad(b, runtime.DefaultScriptName, runtime.DefaultScript, 4)
}

// BenchmarkLoadSmall measures the load phase of bench/small.star, the
// small guard bench/run.sh times as a whole process.
func BenchmarkLoadSmall(b *testing.B) {
	benchmarkLoad(b, filepath.Join("..", "bench", "small.star"), nil, 12)
}

func benchmarkLoad(b *testing.B, path string, src []byte, checks int) {
	b.ReportAllocs()
	for b.Loop() {
		g, err := runtime.Load(context.Background(), path, src, runtime.LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(g.Checks) != checks {
			b.Fatalf("loaded %d checks, want %d", len(g.Checks), checks)
		}
	}
}

// BenchmarkLoadManyChecks measures check() itself: a guard registering
// 10,000 checks whose names are literals, so that the script's own string
// formatting is not what is timed.
func BenchmarkLoadManyChecks(b *testing.B) {
	const n = 10_000
	var src strings.Builder
	src.WriteString("def f():\n    return True\nfor name in [\n")
	for i := range n {
		fmt.Fprintf(&src, "    \"c%d\",\n", i)
	}
	src.WriteString("]:\n    check(name, f)\n")
	path := filepath.Join(b.TempDir(), "guard.star")
	if err := os.WriteFile(path, []byte(src.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	benchmarkLoad(b, path, nil, n)
}
