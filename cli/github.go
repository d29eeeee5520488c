package cli

// This file opens the files a GitHub Actions step appends to, so that the
// github format writes them through the scrubber like every other output.

import (
	"errors"
	"io"
	"os"

	"github.com/infra-guard/infra-guard/report"
)

// githubFiles opens $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT for appending,
// each behind the scrubber, for the first github reporter of the run: a
// second one (--format github with --report github=PATH) would append the
// same summary twice. The returned close flushes and closes both.
func (a *app) githubFiles() (*report.GitHubFiles, func() error, error) {
	if a.githubTaken {
		return nil, func() error { return nil }, nil
	}
	a.githubTaken = true
	files := &report.GitHubFiles{}
	var closers []io.Closer
	closeAll := func() error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i].Close())
		}
		closers = nil // a second call closes nothing twice
		return errors.Join(errs...)
	}
	open := func(name string) (io.Writer, int64, error) {
		path := a.env.Getenv(name)
		if path == "" {
			return nil, 0, nil
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, 0, errors.New("github: $" + name + ": " + err.Error())
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, errors.New("github: $" + name + ": " + err.Error())
		}
		w := a.scrub.Writer(f)
		closers = append(closers, f, w) // the scrubber flushes first
		return w, fi.Size(), nil
	}
	var size int64
	var err error
	if files.Summary, size, err = open("GITHUB_STEP_SUMMARY"); err != nil {
		return nil, closeAll, err
	}
	files.SummaryRoom = report.GitHubSummaryLimit - int(size)
	if files.Output, _, err = open("GITHUB_OUTPUT"); err != nil {
		return nil, closeAll, err
	}
	return files, closeAll, nil
}
