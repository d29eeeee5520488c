package report

// This file holds WriteFileAtomic, which --report and the prometheus
// textfile output use so that a reader (node_exporter, a CI artifact
// upload, a person running cat) never sees a half-written report.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// defaultFileMode is the mode of a report file that did not exist before:
// readable by everyone, as node_exporter (often another user) must read it.
const defaultFileMode fs.FileMode = 0o644

// WriteFileAtomic replaces the file at path with what write writes, so that
// whoever opens path sees either the old content or the whole new content,
// never part of it.
//
// It writes to a temporary file in the same directory (".NAME.tmp-*", so a
// textfile collector looking for *.prom ignores it), flushes it to disk,
// gives it the old file's permissions (0644 for a new file) and renames it
// over path; then it syncs the directory so the rename survives a crash.
// On any error, or a panic in write, the temporary file is removed and the
// old file is left as it was. A symlink at path is replaced, not followed.
//
// A device or FIFO at path (/dev/null, /dev/stdout, a named pipe) is
// written to directly, never replaced: renaming over /dev/null as root
// would turn it into a regular file. A socket is refused.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return fmt.Errorf("write %s: not a file name", path)
	}
	if dir == "" {
		dir = "."
	}
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() && fi.Mode()&(fs.ModeDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0 {
		return writeSpecial(path, fi.Mode(), write)
	}
	mode := defaultFileMode
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("write %s: is a directory", path)
		}
		mode = fi.Mode().Perm()
	}

	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done { // an error or a panic in write
			f.Close()
			os.Remove(tmp)
		}
	}()

	// Errors of the temporary file (a full disk) name path: the user
	// has never heard of .NAME.tmp-*, and it is gone by then anyway.
	bw := bufio.NewWriterSize(targetWriter{f, path}, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	done = true
	syncDir(dir)
	return nil
}

// writeSpecial writes to a device or FIFO in place. A FIFO with no reader
// is an error at once rather than a run that hangs in open.
func writeSpecial(path string, mode fs.FileMode, write func(io.Writer) error) error {
	if mode&fs.ModeSocket != 0 {
		return fmt.Errorf("write %s: is a socket; name a file, a device or a FIFO", path)
	}
	flags := os.O_WRONLY
	if mode&fs.ModeNamedPipe != 0 {
		flags |= syscall.O_NONBLOCK // ENXIO when nobody reads
	}
	f, err := os.OpenFile(path, flags, 0)
	if errors.Is(err, syscall.ENXIO) {
		return fmt.Errorf("write %s: a FIFO with no reader", path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the *PathError's own path, which names the temporary
// file: the error should name the file the user asked for.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// targetWriter writes to the temporary file and words its errors as
// errors writing path.
type targetWriter struct {
	f    *os.File
	path string
}

func (w targetWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		err = fmt.Errorf("write %s: %w", w.path, unwrapPath(err))
	}
	return n, err
}

// syncDir makes a rename in dir durable. Some filesystems cannot sync a
// directory; the file itself is already synced, so that is not an error.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
