package builtins

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// call calls the predeclared builtin name on a thread running a check
// under ctx (nil: a thread in the load phase).
func call(t *testing.T, ctx context.Context, name string, args ...starlark.Value) (*starlarkstruct.Struct, error) {
	t.Helper()
	thread := &starlark.Thread{Name: t.Name()}
	if ctx != nil {
		SetContext(thread, ctx)
	}
	v, err := starlark.Call(thread, Predeclared()[name], args, nil)
	if err != nil {
		return nil, err
	}
	s, ok := v.(*starlarkstruct.Struct)
	if !ok {
		t.Fatalf("%s() returned %s, want a struct", name, v.Type())
	}
	return s, nil
}

func attr[T starlark.Value](t *testing.T, s *starlarkstruct.Struct, name string) T {
	t.Helper()
	v, err := s.Attr(name)
	if err != nil {
		t.Fatal(err)
	}
	x, ok := v.(T)
	if !ok {
		t.Fatalf("%s is a %s (%v)", name, v.Type(), v)
	}
	return x
}

func uint64Attr(t *testing.T, s *starlarkstruct.Struct, name string) uint64 {
	t.Helper()
	n, ok := attr[starlark.Int](t, s, name).Uint64()
	if !ok {
		t.Fatalf("%s does not fit a uint64", name)
	}
	return n
}

func percentAttr(t *testing.T, s *starlarkstruct.Struct, name string) float64 {
	t.Helper()
	p := float64(attr[starlark.Float](t, s, name))
	if p < 0 || p > 100 {
		t.Errorf("%s = %v, want a percentage", name, p)
	}
	return p
}

func TestDisk(t *testing.T) {
	for _, path := range []string{"/", t.TempDir()} {
		d, err := call(t, t.Context(), "disk", starlark.String(path))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(attr[starlark.String](t, d, "path")); got != path {
			t.Errorf("path = %q, want %q", got, path)
		}
		if attr[starlark.String](t, d, "fstype") == "" {
			t.Errorf("disk(%q).fstype is empty", path)
		}
		total, free, used := uint64Attr(t, d, "total"), uint64Attr(t, d, "free"), uint64Attr(t, d, "used")
		if total == 0 || free > total || used > total {
			t.Errorf("disk(%q): total %d, free %d, used %d", path, total, free, used)
		}
		percentAttr(t, d, "used_percent")
		if it, iu := uint64Attr(t, d, "inodes_total"), uint64Attr(t, d, "inodes_used"); iu > it {
			t.Errorf("disk(%q): inodes_used %d > inodes_total %d", path, iu, it)
		}
		percentAttr(t, d, "inodes_percent")
	}
}

// fstype comes from the mount that holds the path, after symlinks: /proc
// and a link to it are on proc, not on the root file system.
func TestDiskFstypeFromMountTable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	link := filepath.Join(t.TempDir(), "proc")
	if err := os.Symlink("/proc", link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/proc", "/proc/self", link} {
		d, err := call(t, t.Context(), "disk", starlark.String(path))
		if err != nil {
			t.Fatal(err)
		}
		if got := attr[starlark.String](t, d, "fstype"); got != "proc" {
			t.Errorf("disk(%q).fstype = %q, want proc", path, got)
		}
	}
}

func TestDiskDefaultsToRoot(t *testing.T) {
	d, err := call(t, t.Context(), "disk")
	if err != nil {
		t.Fatal(err)
	}
	if got := attr[starlark.String](t, d, "path"); got != "/" {
		t.Errorf("disk().path = %q, want /", got)
	}
}

func TestDiskMissingPath(t *testing.T) {
	_, err := call(t, t.Context(), "disk", starlark.String("/nope/not/here"))
	if err == nil || !strings.Contains(err.Error(), "disk: /nope/not/here: no such file or directory") {
		t.Errorf("disk(missing) error = %v, want it to name the path", err)
	}
}

func TestDiskCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	_, err := call(t, ctx, "disk", starlark.String("/"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("disk() on a cancelled context: error = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("disk() took %v to notice the cancelled context", d)
	}

	ctx, cancel = context.WithTimeoutCause(t.Context(), 0, errors.New("check timed out after 20s"))
	defer cancel()
	_, err = call(t, ctx, "disk", starlark.String("/srv"))
	if err == nil || !strings.HasSuffix(err.Error(), "disk: /srv: check timed out after 20s") {
		t.Errorf("disk() past the deadline: error = %v, want the context's cause", err)
	}
}

// A probe stuck in the kernel (statfs on a dead NFS mount) must not hold
// the check past its deadline. No test machine has a dead mount, so the
// read here blocks until the test lets it go.
func TestSampleHonoursDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := sample(ctx, starlark.NewBuiltin("disk", disk), "/mnt/nfs", func() (starlark.StringDict, error) {
		<-release
		return nil, nil
	})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "disk: /mnt/nfs: ") {
		t.Errorf("error = %v, want disk: /mnt/nfs: context deadline exceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("sample returned %v after the deadline", d)
	}
}

func BenchmarkDisk(b *testing.B) {
	thread := new(starlark.Thread)
	SetContext(thread, b.Context())
	fn := Predeclared()["disk"]
	for b.Loop() {
		if _, err := starlark.Call(thread, fn, starlark.Tuple{starlark.String("/")}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMemory(t *testing.T) {
	m, err := call(t, t.Context(), "memory")
	if err != nil {
		t.Fatal(err)
	}
	total, avail, used := uint64Attr(t, m, "total"), uint64Attr(t, m, "available"), uint64Attr(t, m, "used")
	if total == 0 || avail > total || used > total {
		t.Errorf("memory(): total %d, available %d, used %d", total, avail, used)
	}
	percentAttr(t, m, "used_percent")
	swapTotal, swapUsed := uint64Attr(t, m, "swap_total"), uint64Attr(t, m, "swap_used")
	if swapUsed > swapTotal {
		t.Errorf("memory(): swap_used %d > swap_total %d", swapUsed, swapTotal)
	}
	if p := percentAttr(t, m, "swap_percent"); swapTotal == 0 && p != 0 {
		t.Errorf("memory(): no swap, but swap_percent = %v", p)
	}
}

func TestLoadavg(t *testing.T) {
	l, err := call(t, t.Context(), "loadavg")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"load1", "load5", "load15"} {
		if v := attr[starlark.Float](t, l, name); v < 0 {
			t.Errorf("%s = %v", name, v)
		}
	}
	if cores, _ := attr[starlark.Int](t, l, "cores").Int64(); cores != int64(runtime.NumCPU()) {
		t.Errorf("cores = %d, want runtime.NumCPU() = %d", cores, runtime.NumCPU())
	}
}

// The load phase has no side effects: probes refuse to run without a
// check's context, before looking at their arguments.
func TestSystemBuiltinsRefuseLoadPhase(t *testing.T) {
	for _, name := range []string{"disk", "memory", "loadavg"} {
		_, err := call(t, nil, name)
		want := name + "() can only be called inside a check function"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s() in the load phase: error = %v, want %q", name, err, want)
		}
	}
}

func TestSystemBuiltinsArgs(t *testing.T) {
	for _, tt := range []struct {
		name string
		args starlark.Tuple
		want string
	}{
		{"disk", starlark.Tuple{starlark.MakeInt(1)}, "disk: for parameter path: got int, want string"},
		{"disk", starlark.Tuple{starlark.String("")}, "disk: path is empty"},
		{"memory", starlark.Tuple{starlark.None}, "memory: got 1 arguments, want at most 0"},
		{"loadavg", starlark.Tuple{starlark.None}, "loadavg: got 1 arguments, want at most 0"},
	} {
		_, err := call(t, t.Context(), tt.name, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s%v: error = %v, want %q", tt.name, tt.args, err, tt.want)
		}
	}
}
