package builtins

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
)

func TestFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "db.dump")
	if err := os.WriteFile(path, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil { // past the umask
		t.Fatal(err)
	}
	mtime := time.Now().Add(-26 * time.Hour).Truncate(time.Second).Add(250 * time.Millisecond)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "latest.dump")
	if err := os.Symlink("db.dump", link); err != nil {
		t.Fatal(err)
	}

	// A symlink reads as its target, as stat -L and test -e do.
	for _, p := range []string{path, link} {
		f, err := call(t, t.Context(), "file", starlark.String(p))
		if err != nil {
			t.Fatal(err)
		}
		if !bool(attr[starlark.Bool](t, f, "exists")) || bool(attr[starlark.Bool](t, f, "is_dir")) {
			t.Errorf("file(%q): %v, want an existing file", p, f)
		}
		if size := uint64Attr(t, f, "size"); size != 5 {
			t.Errorf("file(%q).size = %d, want 5", p, size)
		}
		if mode := attr[starlark.String](t, f, "mode"); mode != "0640" {
			t.Errorf("file(%q).mode = %q, want 0640", p, mode)
		}
		want := float64(mtime.UnixNano()) / 1e9
		if got := float64(attr[starlark.Float](t, f, "mtime")); got != want {
			t.Errorf("file(%q).mtime = %f, want %f", p, got, want)
		}
		age := float64(attr[starlark.Float](t, f, "age_seconds"))
		if want := time.Since(mtime).Seconds(); math.Abs(age-want) > 5 {
			t.Errorf("file(%q).age_seconds = %f, want about %f", p, age, want)
		}
	}

	d, err := call(t, t.Context(), "file", starlark.String(dir))
	if err != nil {
		t.Fatal(err)
	}
	if !bool(attr[starlark.Bool](t, d, "is_dir")) {
		t.Errorf("file(dir).is_dir is False")
	}
}

// A missing file is not an error: exists is False, and the figures are
// None, so that a freshness check on it fails instead of passing.
func TestFileMissing(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "f")
	if err := os.WriteFile(regular, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink("nowhere", dangling); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "nope"), filepath.Join(regular, "below"), dangling} {
		f, err := call(t, t.Context(), "file", starlark.String(p))
		if err != nil {
			t.Fatalf("file(%q): %v", p, err)
		}
		if attr[starlark.Bool](t, f, "exists") || attr[starlark.Bool](t, f, "is_dir") {
			t.Errorf("file(%q) = %v, want exists and is_dir False", p, f)
		}
		for _, name := range []string{"size", "mode", "mtime", "age_seconds"} {
			if v, _ := f.Attr(name); v != starlark.None {
				t.Errorf("file(%q).%s = %v, want None", p, name, v)
			}
		}
	}
}

func TestFileErrors(t *testing.T) {
	for _, tt := range []struct {
		args starlark.Tuple
		want string
	}{
		{nil, "file: missing argument for path"},
		{starlark.Tuple{starlark.String("")}, "file: path is empty"},
		{starlark.Tuple{starlark.MakeInt(1)}, "file: for parameter path: got int, want string"},
	} {
		_, err := call(t, t.Context(), "file", tt.args...)
		if err == nil || err.Error() != tt.want {
			t.Errorf("file%v: error = %v, want %s", tt.args, err, tt.want)
		}
	}

	if os.Geteuid() != 0 { // root enters any directory
		locked := filepath.Join(t.TempDir(), "locked")
		if err := os.Mkdir(locked, 0); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(locked, "f")
		_, err := call(t, t.Context(), "file", starlark.String(p))
		if err == nil || err.Error() != "file: "+p+": permission denied" {
			t.Errorf("file(%q): error = %v, want permission denied naming the path", p, err)
		}
	}

	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(errors.New("timed out after 1s"))
	_, err := call(t, ctx, "file", starlark.String("/"))
	if err == nil || err.Error() != "file: /: timed out after 1s" {
		t.Errorf("file() on an ended context: error = %v", err)
	}
}

func TestOctalMode(t *testing.T) {
	for mode, want := range map[fs.FileMode]string{
		0o644:                              "0644",
		0o755 | fs.ModeDir:                 "0755",
		0o755 | fs.ModeSetuid:              "4755",
		0o755 | fs.ModeSetgid:              "2755",
		0o777 | fs.ModeSticky | fs.ModeDir: "1777",
		0:                                  "0000",
	} {
		if got := octalMode(mode); got != want {
			t.Errorf("octalMode(%v) = %q, want %q", mode, got, want)
		}
	}
}

// file() sees special bits on a real file too.
func TestFileSetuid(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(p, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o755|fs.ModeSetuid); err != nil {
		t.Skip(err)
	}
	f, err := call(t, t.Context(), "file", starlark.String(p))
	if err != nil {
		t.Fatal(err)
	}
	if got := attr[starlark.String](t, f, "mode"); !strings.HasPrefix(string(got), "4") {
		t.Errorf("mode = %q, want 4755", got)
	}
}

// file().age_seconds follows the thread's clock (the one time.now() uses),
// so a script and its checks agree on "now" and tests can fix it.
func TestFileAgeUsesTheThreadClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "backup.dump")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	thread := &starlark.Thread{}
	SetContext(thread, t.Context())
	starlarktime.SetNow(thread, func() (time.Time, error) { return mtime.Add(36 * time.Hour), nil })
	v, err := starlark.Call(thread, Predeclared()["file"], starlark.Tuple{starlark.String(path)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	age, err := v.(starlark.HasAttrs).Attr("age_seconds")
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := starlark.AsFloat(age); f != 36*3600 {
		t.Errorf("age_seconds = %v, want %d", age, 36*3600)
	}
}
