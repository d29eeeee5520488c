package runtime

// This file holds the module loader: it resolves the module names of load()
// statements to files in fs.FS roots — the script's own directory, opened
// with os.OpenRoot, and the named libraries such as @std — reads them, and
// executes each module once.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"go.starlark.net/starlark"
)

// moduleID names a module: its root — "" for the script's directory, else a
// library's name — and its clean, slash-separated path inside that root, as
// fs.ValidPath wants it. Modules are cached and cycles found by moduleID.
type moduleID struct{ lib, path string }

// loader resolves load() statements and executes each module once, on the
// loading thread, so its steps count against the load phase's budget.
//
// A relative module name resolves against the loading module's directory in
// the loading module's root; "@NAME//PATH" against the top of library NAME.
// Nothing leaves its root: ".." above the top is refused by name, and every
// read of the script's directory goes through an os.Root, which refuses
// symlinks that lead out of it (or are absolute) and absolute paths.
type loader struct {
	ctx         context.Context // for fetching URL libraries
	dir         string          // the script's directory as the user gave it ("." for an embedded script: the working directory)
	embedded    bool
	main        moduleID
	mainName    string   // the script's path as the user gave it
	root        *os.Root // the script's directory, opened on first use
	predeclared starlark.StringDict
	std         starlark.StringDict // predeclared for @std's modules: predeclared and starlib.Native
	cache       map[moduleID]*module
	stack       []moduleID // being loaded, for cycles; the loading module is last
	libs        libraries  // the named roots; see libs.go
}

type module struct {
	globals starlark.StringDict
	err     error
	done    bool
}

// newLoader prepares to load the script at path; embedded means the script's
// text is not in a file (the built-in default guard), and then relative
// loads resolve against the working directory. Nothing is opened yet: a
// script that loads nothing from its directory costs no os.Root, and one
// that loads no team library reads no guard.libs.
func newLoader(ctx context.Context, path string, embedded bool, opts LoadOptions) *loader {
	dir := filepath.Dir(path)
	if embedded {
		dir = "."
	}
	main := moduleID{path: filepath.ToSlash(filepath.Base(path))}
	return &loader{
		ctx:         ctx,
		dir:         dir,
		embedded:    embedded,
		main:        main,
		mainName:    path,
		libs:        libraries{opts: opts.Libs},
		predeclared: predeclared(opts.Extra),
		// The main script is being loaded from the start, so a load() of
		// it is a cycle.
		cache: map[moduleID]*module{main: {}},
		stack: []moduleID{main},
	}
}

// close releases the script's directory. The loader must not be used after.
func (l *loader) close() {
	if l.root != nil {
		l.root.Close()
	}
	l.libs.close()
}

// load is the thread's Load function. Its errors follow Starlark's
// "cannot load NAME: ", so they say what is wrong and how to fix it.
func (l *loader) load(thread *starlark.Thread, name string) (starlark.StringDict, error) {
	id, err := l.resolve(l.stack[len(l.stack)-1], name)
	if err != nil {
		return nil, err
	}
	if m, ok := l.cache[id]; ok {
		if !m.done {
			return nil, fmt.Errorf("load cycle: %s", l.chain(id))
		}
		return m.globals, m.err
	}
	src, err := l.read(id)
	if err != nil {
		return nil, err
	}
	m := &module{}
	l.cache[id] = m
	l.stack = append(l.stack, id)
	m.globals, m.err = l.exec(thread, id, src)
	l.stack = l.stack[:len(l.stack)-1]
	m.done = true
	if m.err != nil {
		m.err = loaded(m.err)
	}
	return m.globals, m.err
}

// resolve maps the module name of a load() in module from to the module it
// names, refusing names that leave their root. It reads nothing.
func (l *loader) resolve(from moduleID, name string) (moduleID, error) {
	if rest, ok := strings.CutPrefix(name, "@"); ok {
		lib, p, ok := strings.Cut(rest, "//")
		if !ok || lib == "" || strings.Contains(lib, "/") || p == "" {
			return moduleID{}, errors.New(`want @LIBRARY//PATH.star, like "@std//default.star"`)
		}
		if err := l.declared(lib); err != nil {
			return moduleID{}, err
		}
		// The rest resolves from the top of the library.
		from, name = moduleID{lib: lib}, p
	}
	switch {
	case name == "" || path.IsAbs(name) || filepath.IsAbs(name):
		return moduleID{}, errors.New(`want a path relative to the loading file, like "lib/web.star", or a library module, like "@std//default.star"`)
	case !strings.HasSuffix(name, ".star"):
		return moduleID{}, errors.New("module names end in .star")
	}
	p := path.Join(path.Dir(from.path), name)
	if p == ".." || strings.HasPrefix(p, "../") {
		if from.lib != "" {
			return moduleID{}, fmt.Errorf("%s is outside the library @%s; paths in a library may not go above its top", name, from.lib)
		}
		return moduleID{}, fmt.Errorf("%s is outside the script's directory %s; scripts may only load files beside or below them", abs(filepath.Join(l.dir, filepath.FromSlash(p))), abs(l.dir))
	}
	return moduleID{lib: from.lib, path: p}, nil
}

// read returns the text of module id, or an error that names it as the
// user would and says why it cannot be read.
func (l *loader) read(id moduleID) ([]byte, error) {
	fsys, err := l.rootFS(id.lib)
	if err != nil {
		return nil, err
	}
	src, err := readSource(fsys, id.path)
	if err == nil {
		if d := checkText(l.name(id), src); d != nil {
			return nil, &loadedError{d: *d, cause: errors.New(d.String())}
		}
		return src, nil
	}
	switch {
	case errors.Is(err, fs.ErrNotExist) && id.lib != "":
		return nil, fmt.Errorf("no module %s in @%s%s", id.path, id.lib, modules(fsys, path.Dir(id.path)))
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("no such file %s", l.name(id))
	}
	if link, target, ok := escapingLink(fsys, id.path); ok {
		where := l.where(id.lib)
		if filepath.IsAbs(target) {
			return nil, fmt.Errorf("%s is a symlink to the absolute path %s; links in %s must be relative and stay inside it", l.name(moduleID{id.lib, link}), target, where)
		}
		return nil, fmt.Errorf("%s is a symlink to %s, outside %s", l.name(moduleID{id.lib, link}), target, where)
	}
	// The os.Root's own error names the directory's path as opened; the
	// user knows the module by its name.
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return nil, fmt.Errorf("cannot read %s: %v", l.name(id), err)
}

// rootFS returns the root named lib: a library, or the script's directory,
// which it opens the first time.
func (l *loader) rootFS(lib string) (fs.FS, error) {
	if lib != "" {
		return l.library(lib)
	}
	if l.root == nil {
		root, err := os.OpenRoot(l.dir)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("cannot open the script's directory %s: %v", l.dir, err)
		}
		l.root = root
	}
	return l.root.FS(), nil
}

// name is how messages and positions name module id: the script's own path
// as the user gave it, other files of its directory relative to that path,
// library modules as @NAME//PATH.
func (l *loader) name(id moduleID) string {
	switch {
	case id == l.main:
		return l.mainName
	case id.lib != "":
		return "@" + id.lib + "//" + id.path
	}
	return filepath.Join(l.dir, filepath.FromSlash(id.path))
}

// where names a root in a sentence.
func (l *loader) where(lib string) string {
	if lib != "" {
		return "the library @" + lib
	}
	return "the script's directory " + abs(l.dir)
}

// chain names the modules of a load cycle, from the module that started it
// to id again.
func (l *loader) chain(id moduleID) string {
	start := slices.Index(l.stack, id)
	var names []string
	for _, m := range append(l.stack[start:], id) {
		names = append(names, l.name(m))
	}
	return strings.Join(names, " -> ")
}

// modules lists, for a message, the .star files in directory dir of a
// library: " (modules: a.star, b.star)", or "" when there are none.
func modules(fsys fs.FS, dir string) string {
	const most = 20
	pattern := "*.star"
	if dir != "." {
		pattern = dir + "/" + pattern
	}
	names, _ := fs.Glob(fsys, pattern)
	if len(names) == 0 {
		return ""
	}
	for i, n := range names {
		names[i] = path.Base(n)
	}
	if len(names) > most {
		names = append(names[:most], "…")
	}
	return " (modules: " + strings.Join(names, ", ") + ")"
}

// escapingLink finds the symlink that keeps p from being read in fsys: the
// first element of p that is a link which cannot be followed. An os.Root
// reports only "path escapes from parent", not which link or where to.
func escapingLink(fsys fs.FS, p string) (link, target string, ok bool) {
	elems := strings.Split(p, "/")
	for i := range elems {
		q := strings.Join(elems[:i+1], "/")
		fi, err := fs.Lstat(fsys, q)
		if err != nil {
			return "", "", false
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		if _, err := fs.Stat(fsys, q); err == nil || errors.Is(err, fs.ErrNotExist) {
			continue // a link that stays inside (or leads nowhere)
		}
		target, err := fs.ReadLink(fsys, q)
		return q, target, err == nil
	}
	return "", "", false
}

// abs is filepath.Abs for messages, which can do with the relative path.
func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
