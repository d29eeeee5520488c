package cli

// This file holds team libraries on the command line: the --lib flag
// (INFRA_GUARD_LIB) of every command that loads a script, and the libs
// command, which fetches what guard.libs names (libs fetch) and pins a new
// URL library (libs add).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/infra-guard/infra-guard/libs"
	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

// libFlags registers --lib, for the commands that load a script.
func (a *app) libFlags(fs *flag.FlagSet) {
	fs.Func("lib", "declare a team library for load(\"@NAME//…\"), as NAME=DIR or NAME=https://…/lib.tar.gz#sha256:HEX (repeatable, or comma-separated; wins over guard.libs)", func(v string) error {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item == "" {
				continue
			}
			s, err := libs.ParseFlag(item)
			if err != nil {
				return err
			}
			a.libs = append(a.libs, s)
		}
		return nil
	})
}

// libOptions are the runtime's LibOptions: --lib, and the cache under
// $XDG_CACHE_HOME (or ~/.cache).
func (a *app) libOptions() runtime.LibOptions {
	dir, err := libs.DefaultDir(a.env.Getenv)
	if err != nil {
		dir = filepath.Join(os.TempDir(), "infra-guard-libs")
	}
	return runtime.LibOptions{Flags: a.libs, Cache: &libs.Cache{Dir: dir}}
}

func (a *app) libsCommand() *ffcli.Command {
	fetch := a.command(&ffcli.Command{
		Name:       "fetch",
		ShortUsage: "infra-guard libs fetch [SCRIPT]",
		ShortHelp:  "fetch into the cache every URL library the guard.libs beside SCRIPT (default ./guard.star) names",
		LongHelp: "Fetches, verifies and unpacks every URL library that guard.libs declares, so later\n" +
			"runs need no network (a CI cache step, a container build). Directories are checked\n" +
			"to exist. Exits 3 when one cannot be had.",
		FlagSet: a.flagSet("libs fetch", a.logFlags),
		Exec:    a.execLibsFetch,
	})
	add := a.command(&ffcli.Command{
		Name:       "add",
		ShortUsage: "infra-guard libs add NAME SOURCE [SCRIPT]",
		ShortHelp:  "declare library NAME in the guard.libs beside SCRIPT (default ./guard.star); a URL is fetched and pinned by its sha256",
		FlagSet:    a.flagSet("libs add", a.logFlags),
		Exec:       a.execLibsAdd,
	})
	return a.command(&ffcli.Command{
		Name:        "libs",
		ShortUsage:  "infra-guard libs fetch|add …",
		ShortHelp:   "fetch the team libraries guard.libs names, or add one to it",
		FlagSet:     a.flagSet("libs"),
		Subcommands: []*ffcli.Command{fetch, add},
		Exec: func(context.Context, []string) error {
			return flag.ErrHelp
		},
	})
}

// libsFile is the guard.libs beside the script args name.
func libsFile(args []string) (string, error) {
	switch len(args) {
	case 0:
		return libs.FileName, nil
	case 1:
		return filepath.Join(filepath.Dir(args[0]), libs.FileName), nil
	}
	return "", fmt.Errorf("want at most one SCRIPT, got %d arguments: %s", len(args), strings.Join(args, " "))
}

// readLibs reads a guard.libs file; a missing file declares nothing.
func readLibs(file string) ([]libs.Spec, []byte, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	specs, err := libs.Parse(file, data)
	return specs, data, err
}

// fail logs err and ends the command with exit 3.
func (a *app) fail(err error) error {
	fmt.Fprintf(a.env.Stderr, "infra-guard: %v\n", err)
	return exitError{result.ExitUnknown}
}

func (a *app) execLibsFetch(ctx context.Context, args []string) error {
	a.releaseOutput()
	file, err := libsFile(args)
	if err != nil {
		return err
	}
	specs, _, err := readLibs(file)
	if err != nil {
		return a.fail(err)
	}
	if specs == nil {
		fmt.Fprintf(a.env.Stdout, "%s: no libraries declared\n", file)
		return nil
	}
	cache := a.libOptions().Cache
	failed := false
	for _, s := range specs {
		if !s.IsURL() {
			if fi, err := os.Stat(s.Dir()); err != nil || !fi.IsDir() {
				fmt.Fprintf(a.env.Stderr, "infra-guard: library %s (%s): %s is not a directory\n", s.Name, s.Where, s.Dir())
				failed = true
				continue
			}
			fmt.Fprintf(a.env.Stdout, "%s\t%s\tdirectory\n", s.Name, s.Dir())
			continue
		}
		was := cache.Cached(s)
		dir, err := cache.Ensure(ctx, s)
		if err != nil {
			fmt.Fprintf(a.env.Stderr, "infra-guard: %v\n", err)
			failed = true
			continue
		}
		state := "fetched"
		if was {
			state = "cached"
		}
		fmt.Fprintf(a.env.Stdout, "%s\t%s\t%s\n", s.Name, dir, state)
	}
	if failed {
		return exitError{result.ExitUnknown}
	}
	return nil
}

func (a *app) execLibsAdd(ctx context.Context, args []string) error {
	a.releaseOutput()
	if len(args) < 2 {
		return fmt.Errorf("want NAME SOURCE [SCRIPT], like: libs add platform https://git.example.com/platform/guard-lib/archive/v1.2.0.tar.gz")
	}
	name, source := args[0], args[1]
	file, err := libsFile(args[2:])
	if err != nil {
		return err
	}
	specs, data, err := readLibs(file)
	if err != nil {
		return a.fail(err)
	}
	for _, s := range specs {
		if s.Name == name {
			return a.fail(fmt.Errorf("%s already declares library %s (%s); edit or remove that line first", s.Where, name, s.Source))
		}
	}
	var line string
	if strings.HasPrefix(source, "https://") {
		sum, err := a.libOptions().Cache.Add(ctx, source)
		if err != nil {
			return a.fail(fmt.Errorf("library %s: %v", name, err))
		}
		line = libs.Spec{Name: name, Source: source, SHA256: sum}.String()
	} else {
		line = libs.Spec{Name: name, Source: source}.String()
	}
	// The line must parse, with the file's own, before it is written.
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	data = append(data, line+"\n"...)
	if _, err := libs.Parse(file, data); err != nil {
		return a.fail(err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return a.fail(err)
	}
	fmt.Fprintf(a.env.Stdout, "%s: %s\n", file, line)
	return nil
}
