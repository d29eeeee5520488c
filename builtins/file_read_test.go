package builtins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"go.starlark.net/starlark"
)

// fileMethod calls file(path).method(args...) on a check thread under ctx.
func fileMethod(t *testing.T, ctx context.Context, path, method string, kwargs ...starlark.Tuple) (starlark.Value, error) {
	t.Helper()
	thread := &starlark.Thread{Name: t.Name()}
	SetContext(thread, ctx)
	f, err := starlark.Call(thread, Predeclared()["file"], starlark.Tuple{starlark.String(path)}, nil)
	if err != nil {
		return nil, err
	}
	m, err := f.(starlark.HasAttrs).Attr(method)
	if err != nil || m == nil {
		t.Fatalf("file().%s: %v", method, err)
	}
	return starlark.Call(thread, m, nil, kwargs)
}

func TestFileReadAndSHA256(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	body := "worker_processes 2;\nlisten 443 ssl;\n"
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := fileMethod(t, t.Context(), conf, "read")
	if err != nil || v != starlark.String(body) {
		t.Fatalf("read() = %v, %v", v, err)
	}
	sum := sha256.Sum256([]byte(body))
	v, err = fileMethod(t, t.Context(), conf, "sha256")
	if err != nil || v != starlark.String(hex.EncodeToString(sum[:])) {
		t.Fatalf("sha256() = %v, %v", v, err)
	}

	big := filepath.Join(dir, "big.log")
	if err := os.WriteFile(big, make([]byte, 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	limit := func(v starlark.Value) starlark.Tuple { return starlark.Tuple{starlark.String("limit"), v} }
	for _, c := range []struct {
		path   string
		method string
		kwargs []starlark.Tuple
		want   string
	}{
		{big, "read", nil, "file.read: " + big + ": is 2 MiB, more than the limit of 1 MiB; pass a larger limit="},
		{big, "read", []starlark.Tuple{limit(starlark.String("64KiB"))}, "more than the limit of 64 KiB"},
		{big, "read", []starlark.Tuple{limit(starlark.String("1 MB"))}, `"1 MB" is not a size; write it like "64KiB"`},
		{big, "read", []starlark.Tuple{limit(starlark.MakeInt(0))}, "want a positive number of bytes"},
		{dir, "read", nil, "file.read: " + dir + ": is a directory"},
		{fifo, "read", nil, "is not a regular file (p---------)"},
		{fifo, "sha256", nil, "is not a regular file"},
		{filepath.Join(dir, "missing"), "read", nil, "file.read: " + dir + "/missing: no such file or directory"},
	} {
		_, err := fileMethod(t, t.Context(), c.path, c.method, c.kwargs...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("file(%q).%s(%v) error = %v, want %q", c.path, c.method, c.kwargs, err, c.want)
		}
	}
	for _, l := range []starlark.Value{starlark.String("2MiB"), starlark.MakeInt(2 << 20)} {
		v, err := fileMethod(t, t.Context(), big, "read", limit(l))
		if err != nil {
			t.Errorf("read(limit=%s): %v", l, err)
		} else if n := len(v.(starlark.String)); n != 2<<20 {
			t.Errorf("read(limit=%s) = %d bytes", l, n)
		}
	}

	// A check that is over reads nothing.
	ctx, cancel := context.WithCancel(t.Context())
	thread := &starlark.Thread{}
	SetContext(thread, ctx)
	f, err := starlark.Call(thread, Predeclared()["file"], starlark.Tuple{starlark.String(conf)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	read, _ := f.(starlark.HasAttrs).Attr("read")
	if _, err := starlark.Call(thread, read, nil, nil); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("read() after the deadline: %v", err)
	}
	// In the load phase, read() refuses like every run-phase builtin.
	if _, err := starlark.Call(&starlark.Thread{}, read, nil, nil); err == nil || !strings.Contains(err.Error(), "can only be called inside a check function") {
		t.Errorf("read() in the load phase: %v", err)
	}
}

// A relative path reads from the script's directory, like file()'s stat.
func TestFileReadRelative(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "expected.conf"), []byte("x=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	thread := &starlark.Thread{}
	SetContext(thread, t.Context())
	SetDir(thread, dir)
	f, err := starlark.Call(thread, Predeclared()["file"], starlark.Tuple{starlark.String("expected.conf")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	read, _ := f.(starlark.HasAttrs).Attr("read")
	if v, err := starlark.Call(thread, read, nil, nil); err != nil || v != starlark.String("x=1\n") {
		t.Errorf("read() = %v, %v", v, err)
	}
}
