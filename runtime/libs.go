package runtime

// This file holds the loader's named roots: the embedded @std, and the
// team libraries declared by --lib (LibOptions.Flags) or by a guard.libs
// file beside the script, each opened on first use as its own fs.FS.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/libs"
	"github.com/infra-guard/infra-guard/starlib"
)

// LibOptions say where team libraries come from.
type LibOptions struct {
	// Flags are the --lib declarations; they win over guard.libs.
	Flags []libs.Spec
	// Cache keeps URL libraries; nil means libs.DefaultDir of the
	// process environment.
	Cache *libs.Cache
}

// libraries are the loader's named roots other than the script's directory.
type libraries struct {
	opts    LibOptions
	specs   map[string]libs.Spec // declared team libraries; nil until first needed
	err     error                // reading guard.libs
	opened  map[string]fs.FS
	failed  map[string]error // a library that would not open is not tried again
	closers []func() error
}

func (ls *libraries) close() {
	for _, c := range ls.closers {
		c()
	}
}

// declared checks that library lib is known, reading the declarations the
// first time a team library is named: guard.libs beside the script (none
// for the embedded default guard), then --lib over it.
func (l *loader) declared(lib string) error {
	if lib == "std" {
		return nil
	}
	ls := &l.libs
	if ls.specs == nil {
		ls.specs = map[string]libs.Spec{}
		ls.err = l.readDeclarations()
		for _, s := range ls.opts.Flags {
			ls.specs[s.Name] = s
		}
	}
	if ls.err != nil {
		return ls.err
	}
	if _, ok := ls.specs[lib]; !ok {
		names := []string{"@std"}
		for n := range ls.specs {
			names = append(names, "@"+n)
		}
		slices.Sort(names[1:])
		return fmt.Errorf("unknown library @%s (known: %s); declare it in %s beside the script (%s SOURCE) or with --lib %s=SOURCE",
			lib, strings.Join(names, ", "), libs.FileName, lib, lib)
	}
	return nil
}

// readDeclarations reads guard.libs from the script's directory, if it has
// one, into l.libs.specs.
func (l *loader) readDeclarations() error {
	if l.embedded {
		return nil
	}
	fsys, err := l.rootFS("")
	if err != nil {
		return err
	}
	file := filepath.Join(l.dir, libs.FileName)
	src, err := readSource(fsys, libs.FileName)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("cannot read %s: %v", file, unwrapPath(err))
	}
	specs, err := libs.Parse(file, src)
	if err != nil {
		return err
	}
	for _, s := range specs {
		l.libs.specs[s.Name] = s
	}
	return nil
}

// library returns the root of library lib, declared already, opening (and
// for a URL library, fetching) it on first use.
func (l *loader) library(lib string) (fs.FS, error) {
	if lib == "std" {
		return starlib.FS(), nil
	}
	ls := &l.libs
	if fsys, ok := ls.opened[lib]; ok {
		return fsys, nil
	}
	if err, ok := ls.failed[lib]; ok {
		return nil, err
	}
	cache := ls.opts.Cache
	if cache == nil {
		dir, err := libs.DefaultDir(os.Getenv)
		if err != nil {
			dir = filepath.Join(os.TempDir(), "infra-guard-libs")
		}
		cache = &libs.Cache{Dir: dir}
	}
	fsys, closeFn, err := cache.Open(l.ctx, ls.specs[lib])
	if err != nil {
		if ls.failed == nil {
			ls.failed = map[string]error{}
		}
		ls.failed[lib] = err
		return nil, err
	}
	if ls.opened == nil {
		ls.opened = map[string]fs.FS{}
	}
	ls.opened[lib] = fsys
	ls.closers = append(ls.closers, closeFn)
	return fsys, nil
}

// predeclaredFor is what module id sees: @std's modules also see the Go
// halves of re, yaml, encoding and semver (starlib.Native).
func (l *loader) predeclaredFor(id moduleID) starlark.StringDict {
	if id.lib != "std" {
		return l.predeclared
	}
	if l.std == nil {
		l.std = starlib.Native()
		for k, v := range l.predeclared {
			l.std[k] = v
		}
	}
	return l.std
}

// exec runs module id. An @std module runs from its compiled form when
// starlib has one for this text (starlib.Compiled), which skips the parse
// and compile that would take most of its cost.
func (l *loader) exec(thread *starlark.Thread, id moduleID, src []byte) (starlark.StringDict, error) {
	if id.lib == "std" {
		if prog := starlib.Compiled(id.path, src); prog != nil {
			return prog.Init(thread, l.predeclaredFor(id))
		}
	}
	if id.lib == "std" {
		// Our own code, run as compiled above when it can be: its
		// allocations are those of the values it is given.
		return starlark.ExecFileOptions(dialect, thread, l.name(id), src, l.predeclaredFor(id))
	}
	return execGuarded(thread, l.name(id), src, l.predeclaredFor(id))
}

// compileStd compiles @std module name as exec would run it, for
// starlib's compiled forms.
func compileStd(name string, src []byte) (*starlark.Program, error) {
	l := &loader{predeclared: predeclared(nil)}
	pre := l.predeclaredFor(moduleID{lib: "std", path: name})
	_, prog, err := starlark.SourceProgramOptions(dialect, l.name(moduleID{lib: "std", path: name}), src, pre.Has)
	return prog, err
}
