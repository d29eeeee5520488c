package cli

// This file holds `infra-guard fmt`: it formats .star files the way
// buildifier formats Starlark (runtime.Format), in place, or with --check
// lists the files that are not formatted.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/infra-guard/infra-guard/report"
	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

func (a *app) fmtCommand() *ffcli.Command {
	var check bool
	fs := a.flagSet("fmt", a.logFlags)
	fs.Var(&boolFlag{&check}, "check", "change nothing: list the files that are not formatted and exit 1 if there are any")
	return a.command(&ffcli.Command{
		Name:       "fmt",
		ShortUsage: "infra-guard fmt [--check] [PATH...]",
		ShortHelp:  "format .star files (default: every one under .) in place, as buildifier formats Starlark",
		LongHelp: "Rewrites each file that is not formatted and names it. With --check, changes\n" +
			"nothing, names them and exits 1. A file that does not parse exits 3.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			return a.execFmt(args, check)
		},
	})
}

func (a *app) execFmt(args []string, check bool) error {
	logger, err := a.logger()
	if err != nil {
		return err
	}
	a.releaseOutput()
	files, err := starFiles(args)
	if err != nil {
		fmt.Fprintf(a.env.Stderr, "infra-guard fmt: %v\n", err)
		return exitError{result.ExitUnknown}
	}
	code := result.ExitOK
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(a.env.Stderr, "%s: %v\n", path, err)
			code = result.ExitUnknown
			continue
		}
		out, err := runtime.Format(path, src)
		var unformattable *runtime.UnformattableError
		switch {
		case errors.As(err, &unformattable):
			logger.Warn(err.Error())
			continue
		case err != nil:
			fmt.Fprintf(a.env.Stderr, "%v\n", err)
			code = result.ExitUnknown
			continue
		}
		if string(out) == string(src) {
			continue
		}
		fmt.Fprintln(a.env.Stdout, path)
		if check {
			code = max(code, result.ExitWarn)
			continue
		}
		// Write where a symbolic link points, keeping the file's mode:
		// WriteFileAtomic replaces a link with a file.
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			target = path
		}
		mode := fs.FileMode(0o644)
		if fi, err := os.Stat(target); err == nil {
			mode = fi.Mode().Perm()
		}
		err = report.WriteFileAtomic(target, func(w io.Writer) error { _, err := w.Write(out); return err })
		if err == nil {
			err = os.Chmod(target, mode)
		}
		if err != nil {
			logger.Error("cannot write the formatted file", "path", path, "error", err)
			code = result.ExitUnknown
		}
	}
	if code == result.ExitOK {
		return nil
	}
	return exitError{code}
}

// starFiles expands paths into .star files: a file is taken as it is, a
// directory is searched (hidden directories skipped). None means ".".
func starFiles(paths []string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir() && path != p && strings.HasPrefix(d.Name(), "."):
				return filepath.SkipDir
			case !d.IsDir() && strings.HasSuffix(d.Name(), ".star"):
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}
