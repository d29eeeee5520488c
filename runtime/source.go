package runtime

// This file reads script text: the main script and every module it loads
// must be a regular file of bounded size with no NUL byte, so a FIFO, a
// device or a huge file is a clear load error instead of a hang, an
// unbounded read or a script silently cut short.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/infra-guard/infra-guard/result"
)

// MaxScriptSize is the most a script or a loaded module may hold. Guard
// scripts are small; a larger file is a mistake (a log, a binary) whose
// parse would take the memory and time that the checks need.
const MaxScriptSize = 4 << 20

// readSource reads the file name from fsys (os.DirFS semantics for a
// plain path when fsys is nil), refusing what is not a regular file of at
// most MaxScriptSize bytes.
func readSource(fsys fs.FS, name string) ([]byte, error) {
	// A FIFO blocks in open until a writer comes: look before opening.
	if fi, err := stat(fsys, name); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, notRegular(fi)
	}
	var f fs.File
	var err error
	if fsys == nil {
		// O_NONBLOCK: should a FIFO take the file's place after the look,
		// open still returns at once.
		f, err = os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	} else {
		f, err = fsys.Open(name)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(fi)
	}
	if fi.Size() > MaxScriptSize {
		return nil, fmt.Errorf("it is %d bytes, more than the %d a script may have", fi.Size(), MaxScriptSize)
	}
	// The file may grow between Stat and read: read one byte past the limit.
	src, err := io.ReadAll(io.LimitReader(f, MaxScriptSize+1))
	if err != nil {
		return nil, err
	}
	if len(src) > MaxScriptSize {
		return nil, fmt.Errorf("it is more than the %d bytes a script may have", MaxScriptSize)
	}
	return src, nil
}

// unwrapPath drops a *PathError's operation and path: the message names
// the script already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func stat(fsys fs.FS, name string) (fs.FileInfo, error) {
	if fsys == nil {
		return os.Stat(name)
	}
	return fs.Stat(fsys, name)
}

func notRegular(fi fs.FileInfo) error {
	kind := "not a regular file"
	switch m := fi.Mode(); {
	case m.IsDir():
		kind = "a directory"
	case m&fs.ModeNamedPipe != 0:
		kind = "a FIFO"
	case m&fs.ModeDevice != 0:
		kind = "a device"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	}
	return fmt.Errorf("it is %s; a script must be a regular file", kind)
}

// mainSource is the main script's text: src when the caller has it (the
// built-in default guard), else the file at path, read by readSource and
// checked by checkText.
func mainSource(path string, src []byte) ([]byte, *result.Diagnostic) {
	if src == nil {
		var err error
		if src, err = readSource(nil, path); err != nil {
			return nil, &result.Diagnostic{File: path, Msg: "cannot read the script: " + unwrapPath(err).Error()}
		}
	}
	return src, checkText(path, src)
}

// checkText refuses a NUL byte, which the Starlark scanner takes as the end
// of the file: everything after it would be dropped without a word.
func checkText(name string, src []byte) *result.Diagnostic {
	i := bytes.IndexByte(src, 0)
	if i < 0 {
		return nil
	}
	line := 1 + bytes.Count(src[:i], []byte("\n"))
	col := 1 + i - (bytes.LastIndexByte(src[:i], '\n') + 1)
	return &result.Diagnostic{File: name, Line: line, Col: col,
		Msg: "a NUL byte: scripts are text (is this a binary file, or saved as UTF-16?)"}
}
