package cli

// This file holds `infra-guard test`: it runs the *_test.star files of
// guard scripts (package guardtest) and reports each test as a check, in
// any report format.

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/infra-guard/infra-guard/guardtest"
	"github.com/infra-guard/infra-guard/report"
	"github.com/infra-guard/infra-guard/result"
)

func (a *app) testCommand() *ffcli.Command {
	var (
		runPattern string
		format     = "text"
	)
	fs := a.flagSet("test", a.logFlags)
	fs.StringVar(&runPattern, "run", "", "run only the tests whose name matches this regular expression")
	fs.Var(&flagValue[string]{dst: &format, parse: oneOf(report.Names()...)}, "format", "report format on stdout: "+strings.Join(report.Names(), ", "))
	return a.command(&ffcli.Command{
		Name:       "test",
		ShortUsage: "infra-guard test [flags] [PATH...]",
		ShortHelp:  "run the test_*(t) functions of *_test.star files (default: every one under .) against fakes",
		LongHelp: "Each test_*(t) function runs in a fresh world of fakes (docs/testing.md).\n" +
			"Exits 0 when every test passed, 1 when one failed, 3 when a file did not load.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			return a.execTest(ctx, args, runPattern, format)
		},
	})
}

func (a *app) execTest(ctx context.Context, args []string, runPattern, format string) error {
	logger, err := a.logger()
	if err != nil {
		return err
	}
	opts := guardtest.Options{Logger: logger, OnSecret: a.registerSecret(logger)}
	if runPattern != "" {
		if opts.Run, err = regexp.Compile(runPattern); err != nil {
			return fmt.Errorf("invalid value %q for flag -run: %v", runPattern, err)
		}
	}
	files, err := guardtest.Find(args)
	if err != nil {
		a.releaseOutput()
		fmt.Fprintf(a.env.Stderr, "infra-guard test: %v\n", err)
		return exitError{guardtest.ExitNoLoad}
	}
	rep := guardtest.Run(ctx, files, opts)
	a.releaseOutput()
	rep = rep.MapText(a.scrub.String)
	repOpts := a.reportOptions()
	repOpts.Color = a.color()
	if err := a.report(format, repOpts, a.env.Stdout, rep); err != nil {
		logger.Error("cannot write the report", "format", format, "error", err)
		return exitError{result.ExitUnknown}
	}
	if a.flushStdout != nil {
		if err := a.flushStdout(); err != nil {
			return exitError{result.ExitUnknown}
		}
	}
	return exitError{rep.ExitCode}
}
