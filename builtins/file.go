package builtins

// This file holds file(), which reports a file's metadata: whether it
// exists, its size, mode and age (what backup freshness checks need), and
// whose read() and sha256() methods read its contents, bounded, for
// config-drift and integrity checks.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
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
		var fields starlark.StringDict
		switch {
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
			// Like test -e: a missing file, a dangling link or a
			// path through a regular file all do not exist.
			fields = fileFields(nil, now)
		case err != nil:
			var pathErr *fs.PathError
			if errors.As(err, &pathErr) {
				err = pathErr.Err // sample() adds the path
			}
			return nil, err
		default:
			fields = fileFields(fi, now)
		}
		// The methods open the path stat saw; errors name it as written.
		fields["read"] = starlark.NewBuiltin("read", fileRead(path, resolvePath(thread, path)))
		fields["sha256"] = starlark.NewBuiltin("sha256", fileSHA256(path, resolvePath(thread, path)))
		return fields, nil
	})
}

// DefaultReadLimit is what file().read() reads at most unless told.
const DefaultReadLimit = 1 << 20

// fileRead makes file(path).read(limit="1MiB"), which returns the
// contents of the regular file at path, or an error when it holds more
// than limit bytes: a check that compares a config file must not read a
// log of gigabytes by mistake.
func fileRead(path, open string) Fn {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		limit := byteSize(DefaultReadLimit)
		if err := starlark.UnpackArgs("file.read", args, kwargs, "limit?", &limit); err != nil {
			return nil, err
		}
		var data []byte
		err := openRegular(thread, "file.read", path, open, func(f io.Reader, size int64) error {
			if size > int64(limit) {
				return fmt.Errorf("is %s, more than the limit of %s; pass a larger limit= if reading it all is intended", formatBytes(size), formatBytes(int64(limit)))
			}
			var err error
			data, err = io.ReadAll(io.LimitReader(f, int64(limit)+1))
			if err == nil && len(data) > int(limit) { // it grew since the stat
				err = fmt.Errorf("holds more than the limit of %s; pass a larger limit= if reading it all is intended", formatBytes(int64(limit)))
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		return starlark.String(data), nil
	}
}

// fileSHA256 makes file(path).sha256(), the hex SHA-256 of the contents
// of the regular file at path, read as a stream (no size limit; the
// check's deadline bounds it).
func fileSHA256(path, open string) Fn {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackArgs("file.sha256", args, kwargs); err != nil {
			return nil, err
		}
		var sum string
		err := openRegular(thread, "file.sha256", path, open, func(f io.Reader, _ int64) error {
			h := sha256.New()
			if _, err := io.Copy(h, f); err != nil {
				return err
			}
			sum = hex.EncodeToString(h.Sum(nil))
			return nil
		})
		if err != nil {
			return nil, err
		}
		return starlark.String(sum), nil
	}
}

// openRegular opens the file open (path as the script wrote it, resolved)
// through the Deps, refuses anything but a regular file (a FIFO would
// block, a device never end), and passes it to use, under the check's
// deadline. Errors read "name: path: what".
func openRegular(thread *starlark.Thread, name, path, open string, use func(f io.Reader, size int64) error) error {
	ctx := Context(thread)
	if ctx == nil {
		return fmt.Errorf("%s() can only be called inside a check function (the load phase has no side effects)", name)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %s: %w", name, path, context.Cause(ctx))
	}
	opener := depsOf(thread).Contents
	_, err := withContext(ctx, func() (struct{}, error) {
		f, err := opener.Open(open)
		if err != nil {
			return struct{}{}, pathErr(err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return struct{}{}, pathErr(err)
		}
		switch {
		case fi.IsDir():
			return struct{}{}, fmt.Errorf("is a directory; read a file in it")
		case !fi.Mode().IsRegular():
			return struct{}{}, fmt.Errorf("is not a regular file (%s)", fi.Mode().Type())
		}
		return struct{}{}, pathErr(use(f, fi.Size()))
	})
	if err != nil {
		return fmt.Errorf("%s: %s: %w", name, path, err)
	}
	return nil
}

// byteSize is a size argument: a number of bytes, or a string with a
// binary unit ("512KiB", "1MiB", "2GiB"; "100B").
type byteSize int64

func (s *byteSize) Unpack(v starlark.Value) error {
	if i, ok := v.(starlark.Int); ok {
		n, ok := i.Int64()
		if !ok || n <= 0 {
			return fmt.Errorf("want a positive number of bytes, got %s", i)
		}
		*s = byteSize(n)
		return nil
	}
	str, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("want a size like \"1MiB\" or a number of bytes, got %s", v.Type())
	}
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if num, ok := strings.CutSuffix(str, u.suffix); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil || n <= 0 || n > math.MaxInt64/u.mult {
				break
			}
			*s = byteSize(n * u.mult)
			return nil
		}
	}
	return fmt.Errorf("%q is not a size; write it like \"64KiB\", \"1MiB\" or \"2GiB\"", str)
}

// formatBytes writes a size in the largest binary unit that divides it.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
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

// Open opens path for reading without blocking on a FIFO, which
// openRegular then refuses.
func (osHost) Open(path string) (fs.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
