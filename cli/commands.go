package cli

// This file holds the commands run and list (vet is in vet.go, test in
// test.go).

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/infra-guard/infra-guard/buildinfo"
	"github.com/infra-guard/infra-guard/report"
	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

// prepare does what every command does first: build the logger from the
// flags and pick the script.
func (a *app) prepare(args []string) (*slog.Logger, runtime.Script, error) {
	logger, err := a.logger()
	if err != nil {
		return nil, runtime.Script{}, err
	}
	s, err := script(args)
	if s.BuiltIn {
		// Loud on purpose: in cron, the wrong working directory would
		// otherwise pass quietly as "all ok".
		logger.Warn("no script given and no ./guard.star here: running the built-in default guard, @std//default.star (root disk, inodes, memory, load); name a SCRIPT, or run where guard.star is")
	}
	return logger, s, err
}

func (a *app) execRun(ctx context.Context, args []string) error {
	logger, s, err := a.prepare(args)
	if err != nil {
		return err
	}
	opts := runtime.Options{
		Load:   a.loadOptions(logger),
		Run:    a.runOptions(),
		Select: a.selection,
		WarnOK: a.warnOK,
		Loaded: a.releaseOutput,
	}
	if a.wait > 0 {
		opts.Wait = runtime.Wait{For: a.wait, Interval: a.interval, OnRound: a.waitStatus(logger)}
	}
	rep, err := runtime.Execute(ctx, s, opts)
	a.clearStatus()
	if err != nil {
		return selectionError{err}
	}
	// Scrub the report's text before a reporter encodes it: an encoder may
	// escape a value into a form the byte scrubber behind it would still
	// catch, but scrubbing the text first leaves it nothing to escape.
	rep = rep.MapText(a.scrub.String)
	// The report files first: one that cannot be written makes the run
	// UNKNOWN, and stdout, written last, must say so too.
	a.writeReports(logger, rep)
	repOpts := a.reportOptions()
	repOpts.Color, repOpts.Quiet = a.color(), a.quiet
	if a.format == "github" && a.env.Getenv("GITHUB_ACTIONS") == "true" {
		// Every secret read, even by a script that then failed to load.
		repOpts.Masks, repOpts.MaskWriter = a.secretValues, a.rawStdout
	}
	err = a.report(a.format, repOpts, a.env.Stdout, rep)
	if err == nil && a.flushStdout != nil {
		err = a.flushStdout()
	}
	if err != nil {
		logger.Error("cannot write the report", "format", a.format, "error", err)
		return exitError{result.ExitUnknown}
	}
	return exitError{rep.ExitCode}
}

// writeReports writes every --report file. When one fails the run is
// UNKNOWN (rep.ExitCode becomes 3), and the files already written with the
// earlier code are written again, so every report states the real outcome.
// The github format goes last: what it appends to the step summary cannot
// be taken back.
func (a *app) writeReports(logger *slog.Logger, rep *result.Report) {
	files := slices.Clone(a.reports)
	slices.SortStableFunc(files, func(x, y reportFile) int {
		return cmp.Compare(boolInt(x.format == "github"), boolInt(y.format == "github"))
	})
	written := map[reportFile]result.ExitCode{}
	for _, rf := range files {
		if err := a.writeReport(rf, rep); err != nil {
			logger.Error("cannot write the report file", "format", rf.format, "path", rf.path, "error", err)
			rep.ExitCode = result.ExitUnknown
			continue
		}
		written[rf] = rep.ExitCode
	}
	for _, rf := range files {
		if code, ok := written[rf]; ok && code != rep.ExitCode {
			if err := a.writeReport(rf, rep); err != nil {
				logger.Error("cannot write the report file", "format", rf.format, "path", rf.path, "error", err)
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// reportFile is one --report FORMAT=PATH.
type reportFile struct{ format, path string }

func (a *app) addReport(v string) error {
	format, path, ok := strings.Cut(v, "=")
	switch {
	case !ok || path == "":
		return fmt.Errorf("want FORMAT=PATH, like junit=guard.xml")
	case report.Formats[format] == nil:
		return fmt.Errorf("unknown format %q (known: %s)", format, strings.Join(report.Names(), ", "))
	}
	a.reports = append(a.reports, reportFile{format, path})
	return nil
}

// reportOptions are what every reporter of this run shares. A WARN fails
// in junit and tap exactly when it fails the exit code.
func (a *app) reportOptions() report.Options {
	bi := buildinfo.Get()
	return report.Options{
		Version: bi.Version, Commit: bi.Commit, GoVersion: bi.GoVersion,
		Getenv: a.env.Getenv, WarnAsFailure: !a.warnOK,
	}
}

// writeReport writes one --report file atomically, through the scrubber:
// the file is either the whole scrubbed report or left as it was.
func (a *app) writeReport(rf reportFile, rep *result.Report) error {
	return report.WriteFileAtomic(rf.path, func(w io.Writer) error {
		sw := a.scrub.Writer(w)
		err := a.report(rf.format, a.reportOptions(), sw, rep)
		if cerr := sw.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// report writes rep in format to w. The github format also gets the step
// summary and output files, opened here behind the scrubber.
func (a *app) report(format string, opts report.Options, w io.Writer, rep *result.Report) error {
	if format == "github" {
		files, closeFiles, err := a.githubFiles()
		defer func() { _ = closeFiles() }()
		if err != nil {
			return err
		}
		opts.GitHub = files
		if err := a.reportTo(format, opts, w, rep); err != nil {
			return err
		}
		return closeFiles()
	}
	return a.reportTo(format, opts, w, rep)
}

func (a *app) reportTo(format string, opts report.Options, w io.Writer, rep *result.Report) error {
	r, err := report.New(format, opts)
	if err != nil {
		return err
	}
	return r.Report(w, rep)
}

// loadTimeoutFlag is --timeout for the commands that execute a script's
// top level but none of its checks (vet, list): a builtin can hold the
// load phase there as in run, whose default they share.
func (a *app) loadTimeoutFlag(fs *flag.FlagSet) {
	a.timeout = 5 * time.Minute
	fs.Var(&flagValue[time.Duration]{dst: &a.timeout, parse: durationAtLeast(0)}, "timeout", "deadline for loading the script; 0 for none")
}

// loadDeadline bounds ctx by --timeout for command name.
func (a *app) loadDeadline(ctx context.Context, name string) (context.Context, context.CancelFunc) {
	if a.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, a.timeout, fmt.Errorf("%s deadline reached (--timeout %s)", name, a.timeout))
}

func (a *app) execList(ctx context.Context, args []string) error {
	ctx, cancel := a.loadDeadline(ctx, "list")
	defer cancel()
	logger, s, err := a.prepare(args)
	if err != nil {
		return err
	}
	opts := a.loadOptions(logger)
	opts.Placeholders = true // list works without the configuration
	g, err := runtime.Load(ctx, s.Path, s.Src, opts)
	a.releaseOutput()
	var loadErr *runtime.LoadError
	if errors.As(err, &loadErr) {
		return a.diagnostics(loadErr.Diagnostics)
	} else if err != nil {
		return err
	}
	for _, n := range g.Notes {
		logger.Info("note: "+n.Msg, "script", n.File, "line", n.Line)
	}
	tw := tabwriter.NewWriter(a.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTIMEOUT\tTAGS\tAFTER\tLOCATION")
	for _, c := range g.Checks {
		timeout := fmt.Sprintf("%s (default)", a.checkTimeout)
		if c.Timeout > 0 {
			timeout = c.Timeout.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s:%d\n", c.Name, timeout, orDash(c.Tags), orDash(c.After), c.File, c.Line)
	}
	return tw.Flush()
}

// diagnostics prints what stopped a script from loading, one a line, for
// vet and list, and ends the command with exit 3.
func (a *app) diagnostics(ds []result.Diagnostic) error {
	for _, d := range ds {
		fmt.Fprintln(a.env.Stdout, d.String())
	}
	return exitError{result.ExitUnknown}
}

func orDash(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

// color reports whether the text report may use ANSI colour: only on a
// terminal, and never when NO_COLOR is set (https://no-color.org).
func (a *app) color() bool {
	switch a.colorMode {
	case "always":
		return true
	case "never":
		return false
	}
	return a.env.StdoutIsTTY && a.env.Getenv("NO_COLOR") == ""
}

// waitStatus reports a --wait round that left checks failing: a live line
// on a terminal, a log record otherwise (CI logs keep every round).
func (a *app) waitStatus(logger *slog.Logger) func(int, []string, time.Duration) {
	return func(round int, failing []string, left time.Duration) {
		names := strings.Join(failing, ", ")
		if len(names) > 60 {
			names = names[:57] + "..."
		}
		if a.env.StderrIsTTY && a.status != nil {
			a.status.show(fmt.Sprintf("waiting: %d failing (%s), round %d, %s left", len(failing), names, round, left.Round(100*time.Millisecond)))
			return
		}
		logger.Info("checks still failing; retrying", "round", round, "failing", strings.Join(failing, ","), "left", left.Round(100*time.Millisecond).String(), "interval", a.interval.String())
	}
}

func (a *app) clearStatus() {
	if a.status != nil {
		a.status.clear()
	}
}
