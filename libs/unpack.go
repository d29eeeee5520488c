package libs

// This file holds Unpack, which reads a library's .tar.gz and checks every
// entry before anything is written: only regular files and directories,
// relative paths that stay inside, a bounded total size.

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// Limits of an archive and of what it unpacks to.
const (
	MaxSize    = 32 << 20 // bytes: the archive, and the files it holds in all
	MaxEntries = 10000
)

// File is one regular file of an unpacked archive.
type File struct {
	Path string // clean, slash-separated, relative: fs.ValidPath holds
	Data []byte
	Exec bool // executable bit set; kept, though nothing runs it
}

// Unpack reads a gzip-compressed tar archive into memory and returns its
// files and directories. It refuses, naming the entry: absolute paths,
// paths with "..", links (symbolic or hard), devices, FIFOs, more than
// MaxEntries entries and more than MaxSize bytes of files. When every
// entry is inside one top-level directory (as tag archives from code hosts
// are), that directory is dropped from the paths: it is the library's root.
func Unpack(r io.Reader) (files []File, dirs []string, err error) {
	zr, err := gzip.NewReader(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("not a .tar.gz: %v", err)
	}
	tr := tar.NewReader(zr)
	total := int64(0)
	seen := map[string]bool{}
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("not a .tar.gz: %v", err)
		}
		if n >= MaxEntries {
			return nil, nil, fmt.Errorf("more than %d entries", MaxEntries)
		}
		if h.Typeflag == tar.TypeXGlobalHeader { // git archive's pax_global_header
			continue
		}
		p, err := entryPath(h.Name)
		if err != nil {
			return nil, nil, err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if p != "." {
				dirs = append(dirs, p)
			}
			continue
		case tar.TypeReg: // the reader reports the old TypeRegA as TypeReg or TypeDir
		case tar.TypeSymlink:
			return nil, nil, fmt.Errorf("entry %q is a symbolic link (to %q); a library archive may hold only files and directories", h.Name, h.Linkname)
		case tar.TypeLink:
			return nil, nil, fmt.Errorf("entry %q is a hard link (to %q); a library archive may hold only files and directories", h.Name, h.Linkname)
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return nil, nil, fmt.Errorf("entry %q is a device or FIFO; a library archive may hold only files and directories", h.Name)
		default:
			return nil, nil, fmt.Errorf("entry %q is of type %q; a library archive may hold only files and directories", h.Name, h.Typeflag)
		}
		if p == "." {
			return nil, nil, fmt.Errorf("entry %q is a file without a name", h.Name)
		}
		if seen[p] {
			return nil, nil, fmt.Errorf("entry %q appears twice", h.Name)
		}
		seen[p] = true
		if h.Size < 0 || total+h.Size > MaxSize {
			return nil, nil, fmt.Errorf("the files hold more than %d MiB", MaxSize>>20)
		}
		data, err := io.ReadAll(io.LimitReader(tr, h.Size+1))
		if err != nil {
			return nil, nil, fmt.Errorf("entry %q: %v", h.Name, err)
		}
		if int64(len(data)) != h.Size {
			return nil, nil, fmt.Errorf("entry %q: %d bytes, the header says %d", h.Name, len(data), h.Size)
		}
		total += h.Size
		files = append(files, File{Path: p, Data: data, Exec: h.Mode&0o111 != 0})
	}
	// A directory may not also be a file: it would fail half way through
	// writing, or worse.
	for _, f := range files {
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			if seen[d] {
				return nil, nil, fmt.Errorf("%q is both a file and a directory", d)
			}
		}
		if slices.Contains(dirs, f.Path) {
			return nil, nil, fmt.Errorf("%q is both a file and a directory", f.Path)
		}
	}
	files, dirs = stripTop(files, dirs)
	return files, dirs, nil
}

// entryPath cleans an entry's name into a path inside the archive, or
// refuses it.
func entryPath(name string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("an entry has no name")
	case strings.HasPrefix(name, "/") || strings.Contains(name, `\`) || (len(name) > 1 && name[1] == ':'):
		return "", fmt.Errorf("entry %q is an absolute path; a library archive holds relative paths only", name)
	case strings.ContainsRune(name, 0):
		return "", fmt.Errorf("entry %q has a NUL byte in its name", name)
	}
	for _, elem := range strings.Split(name, "/") {
		if elem == ".." {
			return "", fmt.Errorf("entry %q climbs out with ..; a library archive holds paths inside it only", name)
		}
	}
	p := path.Clean(name)
	if p != "." && !fs.ValidPath(p) {
		return "", fmt.Errorf("entry %q is not a valid path", name)
	}
	return p, nil
}

// stripTop drops the one top-level directory every entry is in, if there
// is one.
func stripTop(files []File, dirs []string) ([]File, []string) {
	top := ""
	for _, f := range files {
		first, _, ok := strings.Cut(f.Path, "/")
		if !ok || (top != "" && first != top) {
			return files, dirs
		}
		top = first
	}
	for _, d := range dirs {
		if first, _, _ := strings.Cut(d, "/"); first != top {
			return files, dirs
		}
	}
	if top == "" {
		return files, dirs
	}
	for i := range files {
		files[i].Path = strings.TrimPrefix(files[i].Path, top+"/")
	}
	var inner []string
	for _, d := range dirs {
		if d != top {
			inner = append(inner, strings.TrimPrefix(d, top+"/"))
		}
	}
	return files, inner
}

// write puts the unpacked files into the empty directory dst, through an
// os.Root so that nothing lands outside it whatever the paths say.
func write(dst string, files []File, dirs []string) error {
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, d := range dirs {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, f := range files {
		if d := path.Dir(f.Path); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		mode := fs.FileMode(0o644)
		if f.Exec {
			mode = 0o755
		}
		w, err := root.OpenFile(f.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err != nil {
			return err
		}
		_, err = w.Write(f.Data)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
