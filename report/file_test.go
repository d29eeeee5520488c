package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// payload is a document that can tell when it is incomplete: a header with
// its length, a body of that length and a trailer repeating it.
func payload(n int) []byte {
	body := bytes.Repeat([]byte{byte('a' + n%26)}, n)
	return fmt.Appendf(nil, "BEGIN %d\n%s\nEND %d\n", n, body, n)
}

func checkPayload(data []byte) error {
	head, rest, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return fmt.Errorf("no header in %d bytes", len(data))
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(head), "BEGIN "))
	if err != nil {
		return fmt.Errorf("header %q", head)
	}
	want := fmt.Appendf(nil, "%s\nEND %d\n", bytes.Repeat([]byte{byte('a' + n%26)}, n), n)
	if !bytes.Equal(rest, want) {
		return fmt.Errorf("document of %d bytes cut or mixed: got %d bytes after the header", n, len(rest))
	}
	return nil
}

// TestWriteFileAtomicReaders: a reader polling the file while it is
// rewritten many times always reads one whole document.
func TestWriteFileAtomicReaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guard.prom")
	if err := WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write(payload(1)); return err }); err != nil {
		t.Fatal(err)
	}

	var (
		stop  atomic.Bool
		reads atomic.Int64
		wg    sync.WaitGroup
	)
	errc := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				data, err := os.ReadFile(path)
				if err != nil {
					errc <- fmt.Errorf("read: %v", err)
					return
				}
				if err := checkPayload(data); err != nil {
					errc <- err
					return
				}
				reads.Add(1)
			}
		}()
	}
	for i := range 200 {
		n := (i*7919)%(300<<10) + 1 // up to 300 KiB, more than one buffer
		err := WriteFileAtomic(path, func(w io.Writer) error {
			// Write in small pieces, as a slow writer would.
			p := payload(n)
			for len(p) > 0 {
				k := min(len(p), 4096)
				if _, err := w.Write(p[:k]); err != nil {
					return err
				}
				p = p[k:]
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if reads.Load() == 0 {
		t.Error("the readers read nothing")
	}
	assertNoTemp(t, filepath.Dir(path))
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestWriteFileAtomicMode(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "new.xml")
	if err := WriteFileAtomic(fresh, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(fresh); fi.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v, want 0644", fi.Mode().Perm())
	}

	private := filepath.Join(dir, "private.json")
	if err := os.WriteFile(private, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(private, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(private, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(private)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("rewritten file mode %v, want its old 0600", fi.Mode().Perm())
	}
	if data, _ := os.ReadFile(private); string(data) != "new" {
		t.Errorf("content %q", data)
	}
}

// TestWriteFileAtomicErrors: when writing fails or panics, the old file
// stays as it was and no temporary file is left.
func TestWriteFileAtomicErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.tap")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		_, _ = io.WriteString(w, strings.Repeat("half", 100_000))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("error = %v, want boom", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic was swallowed")
			}
		}()
		_ = WriteFileAtomic(path, func(w io.Writer) error {
			_, _ = io.WriteString(w, "half")
			panic("in write")
		})
	}()
	if data, _ := os.ReadFile(path); string(data) != "old" {
		t.Errorf("the old file changed to %q", data)
	}
	assertNoTemp(t, dir)

	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing", "r.xml"), filepath.Join(dir, "missing", "r.xml") + ": no such file or directory"},
		{dir, dir + ": is a directory"},
		{dir + "/", dir + "/: not a file name"},
	} {
		err := WriteFileAtomic(tc.path, func(io.Writer) error { return nil })
		if err == nil || err.Error() != "write "+tc.want {
			t.Errorf("WriteFileAtomic(%q) = %v, want %q", tc.path, err, "write "+tc.want)
		}
	}
	if os.Getuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		err := WriteFileAtomic(filepath.Join(ro, "r.xml"), func(io.Writer) error { return nil })
		if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), filepath.Join(ro, "r.xml")) {
			t.Errorf("read-only dir: %v", err)
		}
	}
}

// TestWriteFileAtomicReport writes a real report the way --report does.
func TestWriteFileAtomicReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guard.prom")
	rep, _ := New("prometheus", Options{Version: "v1.2.3", Commit: "7cf2bb0abcde", GoVersion: "go1.26.8"})
	r := fixtures()["statuses"]
	if err := WriteFileAtomic(path, func(w io.Writer) error { return rep.Report(w, r) }); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	parseProm(t, data)
	golden(t, "statuses.prom", data)
}

// TestWriteFileAtomicSpecialFiles: a device is written in place, never
// renamed over (as root that would replace /dev/null with a regular file);
// a FIFO with no reader is an error, not a hang; a FIFO with one gets the
// report.
func TestWriteFileAtomicSpecialFiles(t *testing.T) {
	hello := func(w io.Writer) error { _, err := io.WriteString(w, "report\n"); return err }
	if err := WriteFileAtomic("/dev/null", hello); err != nil {
		t.Fatalf("/dev/null: %v", err)
	}
	if fi, err := os.Lstat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a character device: %v %v", fi.Mode(), err)
	}

	fifo := filepath.Join(t.TempDir(), "report.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	err := WriteFileAtomic(fifo, hello)
	if err == nil || !strings.Contains(err.Error(), "no reader") {
		t.Errorf("FIFO without a reader: err = %v, want one saying there is no reader", err)
	}
	got := make(chan string, 1)
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := WriteFileAtomic(fifo, hello); err != nil {
		t.Fatalf("FIFO with a reader: %v", err)
	}
	go func() { b, _ := io.ReadAll(r); got <- string(b) }()
	if s := <-got; s != "report\n" {
		t.Errorf("the reader got %q", s)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", fi.Mode(), err)
	}
}
