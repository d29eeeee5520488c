package runtime

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSourceRefused: a script (or a loaded module) that is not a regular
// file of bounded size with no NUL byte is a load error naming it — never
// a hang in open (a FIFO), an unbounded read (/dev/zero) or a script
// silently cut at the NUL. Vet and Load say the same.
func TestSourceRefused(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo.star")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path, want string }{
		{"fifo", fifo, "fifo.star: cannot read the script: it is a FIFO; a script must be a regular file"},
		{"directory", dir, "cannot read the script: it is a directory"},
		{"device", "/dev/zero", "/dev/zero: cannot read the script: it is a device"},
		{"too big", write("big.star", strings.Repeat("#", MaxScriptSize+1)), "more than the 4194304 a script may have"},
		{"nul", write("nul.star", "check(\"a\", lambda: True)\nx = 1\x00\nboom()\n"), "nul.star:2:6: a NUL byte"},
		{"fifo module", write("loads_fifo.star", "load(\"fifo.star\", \"x\")\ncheck(\"a\", lambda: True)\n"), "fifo.star: it is a FIFO; a script must be a regular file"},
		{"nul module", write("loads_nul.star", "load(\"nul.star\", \"x\")\ncheck(\"a\", lambda: True)\n"), "nul.star:2:6: a NUL byte"},
	}
	for _, tt := range tests {
		for _, vet := range []bool{false, true} {
			done := make(chan string, 1)
			go func() {
				var msg string
				if vet {
					_, ds := Vet(context.Background(), tt.path, nil, LoadOptions{})
					msg = lines(ds)
				} else if _, err := Load(context.Background(), tt.path, nil, LoadOptions{}); err != nil {
					msg = err.Error()
				}
				done <- msg
			}()
			select {
			case msg := <-done:
				if !strings.Contains(msg, tt.want) {
					t.Errorf("%s (vet %v): %q, want it to contain %q", tt.name, vet, msg, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s (vet %v): still reading after 5s", tt.name, vet)
			}
		}
	}
}
