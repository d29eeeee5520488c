package runtime

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/infra-guard/infra-guard/starlib"
)

// TestStdCompiledFresh fails when a compiled @std module in
// starlib/compiled is missing or not made from the module's text;
// UPDATE_STD=1 writes them.
func TestStdCompiledFresh(t *testing.T) {
	names, err := fs.Glob(starlib.FS(), "*.star")
	if err != nil || len(names) == 0 {
		t.Fatal(names, err)
	}
	for _, name := range names {
		src, err := fs.ReadFile(starlib.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := compileStd(name, src)
		if err != nil {
			t.Fatal(err)
		}
		want, err := starlib.Encode(src, prog)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join("..", "starlib", "compiled", name+"c")
		got, _ := os.ReadFile(file)
		if bytes.Equal(got, want) {
			continue
		}
		if os.Getenv("UPDATE_STD") != "" {
			if err := os.WriteFile(file, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s is stale: %s changed; run UPDATE_STD=1 go test ./runtime -run TestStdCompiledFresh (runs still work, parsing the module instead)", file, name)
	}
}

// TestStdCompiledStale: a compiled form is used only for the text it was
// made from; for any other text the module is parsed as usual.
func TestStdCompiledStale(t *testing.T) {
	src, err := fs.ReadFile(starlib.FS(), "checks.star")
	if err != nil {
		t.Fatal(err)
	}
	if starlib.Compiled("checks.star", src) == nil {
		t.Error("no compiled form for checks.star")
	}
	if starlib.Compiled("re.star", append([]byte("# edited\n"), src...)) != nil {
		t.Error("a compiled form was used for a text it was not made from")
	}
}
