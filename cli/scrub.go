package cli

// This file holds what the command line does to keep secrets out of its
// output (docs/design.md): one scrubber per invocation, in front of stdout and
// stderr and inside the log handler, fed with every secret the script reads
// as soon as it is read, and applied to a report's text before a reporter
// encodes it.

import (
	"log/slog"
)

// registerSecret is runtime.Options.OnSecret: it runs during the load
// phase, before secret() returns, so nothing written afterwards can hold
// the raw value.
func (a *app) registerSecret(logger *slog.Logger) func(name, value string) {
	return func(name, value string) {
		a.secretValues = append(a.secretValues, value)
		if !a.scrub.Add(name, value) {
			logger.Warn("secret is too short to be scrubbed from output; only its taint protects it (a value of "+
				"fewer than 6 characters would match ordinary text)", "secret", name)
		}
	}
}
