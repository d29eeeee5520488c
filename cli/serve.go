package cli

// This file holds the serve command: the guard run continuously behind
// health endpoints and /metrics (package serve does the work).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/infra-guard/infra-guard/buildinfo"
	"github.com/infra-guard/infra-guard/runtime"
	"github.com/infra-guard/infra-guard/serve"
)

// serveFlags are the flags of serve: the run flags that make sense for a
// daemon (no --format, --report, --wait or --timeout) and its own.
type serveFlags struct {
	listen   string
	interval time.Duration
	history  int
	failOn   string
	watch    bool
}

func (a *app) serveCommand() *ffcli.Command {
	var f serveFlags
	fs := a.flagSet("serve", a.logFlags, a.libFlags, func(fs *flag.FlagSet) {
		a.checkTimeout, a.maxHeap = runtime.DefaultCheckTimeout, runtime.DefaultMaxHeap
		f.listen, f.interval, f.history, f.failOn, f.watch = serve.DefaultListen, serve.DefaultInterval, serve.DefaultHistory, "fail", true
		fs.StringVar(&f.listen, "listen", f.listen, "address to serve on; 0.0.0.0:9417 (or :9417) to be reachable from other hosts, as Prometheus and the kubelet need")
		fs.Var(&flagValue[time.Duration]{dst: &f.interval, parse: durationAtLeast(runtime.MinInterval)}, "interval", "how often to run each check without its own check(interval=)")
		fs.Var(positive(&f.history, strconv.Atoi), "history", "results kept per check, for /api/v1/checks/NAME and the status page")
		fs.Var(&flagValue[string]{dst: &f.failOn, parse: oneOf("fail", "warn")}, "fail-on", "least severe status that makes /healthz answer 503: fail, or warn")
		fs.Var(&boolFlag{&f.watch}, "watch", "reload when the script or a .star file beside it changes")
		fs.Var(&flagValue[uint64]{dst: &a.maxHeap, parse: parseSize, format: formatSize}, "max-heap", "cancel the load phase, or the checks running, when the heap grows past this, e.g. 512MiB or 2GiB")
		fs.Var(&flagValue[time.Duration]{dst: &a.checkTimeout, parse: durationAtLeast(time.Millisecond)}, "check-timeout", "deadline for each check without its own timeout=")
		fs.Var(concurrencyFlag(&a.concurrency), "concurrency", concurrencyUsage)
		fs.Func("only", "run only these checks (comma-separated, repeatable), and what they run after", appendList(&a.selection.Only))
		fs.Func("skip", "do not run these checks (comma-separated, repeatable)", appendList(&a.selection.Skip))
		fs.Func("tag", "run only checks with one of these tags (comma-separated, repeatable)", appendList(&a.selection.Tags))
	})
	return a.command(&ffcli.Command{
		Name:       "serve",
		ShortUsage: "infra-guard serve [flags] [SCRIPT]",
		ShortHelp:  "run the checks of SCRIPT on their intervals behind /healthz, /readyz, /livez, /metrics and a status page",
		FlagSet:    fs,
		Exec:       func(ctx context.Context, args []string) error { return a.execServe(ctx, args, f) },
	})
}

func (a *app) execServe(ctx context.Context, args []string, f serveFlags) error {
	logger, s, err := a.prepare(args)
	if err != nil {
		return err
	}
	// serve writes nothing on stdout; the log goes out as it comes.
	a.releaseOutput()
	run := a.runOptions()
	run.Timeout = 0
	run.QuietErrors = false
	srv, err := serve.New(serve.Config{
		Listen: f.listen, Script: s, Load: a.loadOptions(logger), Run: run, Select: a.selection,
		Interval: f.interval, History: f.history, FailOnWarn: f.failOn == "warn", Watch: f.watch,
		Version: buildinfo.Get().Version, Logger: logger, Scrub: a.scrub.String,
	})
	if err != nil {
		logger.Error("cannot serve", "error", err)
		return exitError{3}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				logger.Info("SIGHUP: reloading the script")
				_ = srv.Reload(ctx)
			case <-ctx.Done():
				return
			}
		}
	}()
	if err := srv.Run(ctx); err != nil {
		if sel := new(serve.SelectionError); errors.As(err, &sel) {
			return selectionError{sel.Err}
		}
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
