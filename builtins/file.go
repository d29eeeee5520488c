package builtins

// This file holds file(), which reports a file's metadata (never its
// contents): whether it exists, its size, mode and age. It is what backup
// freshness checks need.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"go.starlark.net/starlark"
)

// file(path) reports the metadata of the file at path, following symbolic
// links. A missing file is a result with exists = False, not an error.
func file(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := ctxOf(thread)
	var path string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, fmt.Errorf("%s: path is empty", b.Name())
	}
	files := depsOf(thread).Files
	return sample(ctx, b, path, func() (starlark.StringDict, error) {
		fi, err := files.Stat(resolvePath(thread, path))
		now := nowOf(thread)
		switch {
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
			// Like test -e: a missing file, a dangling link or a
			// path through a regular file all do not exist.
			return fileFields(nil, now), nil
		case err != nil:
			var pathErr *fs.PathError
			if errors.As(err, &pathErr) {
				err = pathErr.Err // sample() adds the path
			}
			return nil, err
		}
		return fileFields(fi, now), nil
	})
}

// fileFields are the attributes of a file() result; fi is nil for a file
// that does not exist, whose size, mode, mtime and age are None so that
// comparing them fails loudly instead of passing.
func fileFields(fi fs.FileInfo, now time.Time) starlark.StringDict {
	if fi == nil {
		return starlark.StringDict{
			"exists":      starlark.False,
			"is_dir":      starlark.False,
			"size":        starlark.None,
			"mode":        starlark.None,
			"mtime":       starlark.None,
			"age_seconds": starlark.None,
		}
	}
	mtime := fi.ModTime()
	return starlark.StringDict{
		"exists":      starlark.True,
		"is_dir":      starlark.Bool(fi.IsDir()),
		"size":        starlark.MakeInt64(fi.Size()),
		"mode":        starlark.String(octalMode(fi.Mode())),
		"mtime":       starlark.Float(float64(mtime.UnixNano()) / 1e9),
		"age_seconds": starlark.Float(now.Sub(mtime).Seconds()),
	}
}

// octalMode writes the permission bits as chmod and stat -c %a read them,
// with the setuid, setgid and sticky bits in front: "0644", "4755", "1777".
func octalMode(m fs.FileMode) string {
	bits := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		bits |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		bits |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		bits |= 0o1000
	}
	return fmt.Sprintf("%04o", bits)
}

// Stat is os.Stat.
func (osHost) Stat(path string) (fs.FileInfo, error) { return os.Stat(path) }
