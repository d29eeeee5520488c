// Command infra-guard runs guard scripts: Starlark files of health checks
// whose results become Nagios exit codes, logs and reports.
package main

import (
	"os"

	"golang.org/x/term"

	"github.com/infra-guard/infra-guard/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Env{
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		Getenv:      os.Getenv,
		StdoutIsTTY: term.IsTerminal(int(os.Stdout.Fd())),
		StderrIsTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}))
}
