package runtime

import (
	"context"
	"testing"
)

// BenchmarkLoadStdChecks measures what loading @std//checks.star adds to
// the load phase: compare the two sub-benchmarks (the target is under
// 1 ms). Each Load parses and runs the module afresh, as a run does.
func BenchmarkLoadStdChecks(b *testing.B) {
	for _, bm := range []struct{ name, src string }{
		{"without", "check(\"a\", lambda: True)\n"},
		{"with", "load(\"@std//checks.star\", \"disk_usage\")\ncheck(\"a\", disk_usage)\n"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			src := []byte(bm.src)
			for b.Loop() {
				if _, err := Load(context.Background(), "guard.star", src, LoadOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
