// This file holds what the command line does to keep secrets out of its
// output (DESIGN §4): one scrubber per invocation, in front of stdout and
// stderr and inside the log handler, fed with every secret the script reads
// as soon as it is read, and applied to a report's text before a reporter
// encodes it.
package cli

import (
	"log/slog"

	"github.com/infra-guard/infra-guard/redact"
	"github.com/infra-guard/infra-guard/result"
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

// scrubReport replaces every registered secret in the report's text, in
// place, before a reporter encodes it: an encoder may escape a value into
// a form the byte scrubber behind it would still catch, but scrubbing the
// text first leaves it nothing to escape. Slices shared with the guard's
// checks are copied, not changed.
func scrubReport(s *redact.Scrubber, r *result.Report) {
	if len(s.Names()) == 0 {
		return
	}
	r.Script = s.String(r.Script)
	r.Incomplete = s.String(r.Incomplete)
	r.Errors = scrubAll(s, r.Errors)
	for i := range r.Checks {
		c := &r.Checks[i]
		c.Name = s.String(c.Name)
		c.Message = s.String(c.Message)
		c.Backtrace = s.String(c.Backtrace)
		c.File = s.String(c.File)
		c.Tags = scrubAll(s, c.Tags)
		if len(c.Metrics) > 0 {
			ms := append(c.Metrics[:0:0], c.Metrics...)
			for j := range ms {
				ms[j].Name = s.String(ms[j].Name)
				ms[j].Unit = s.String(ms[j].Unit)
				ms[j].Warn = s.String(ms[j].Warn)
				ms[j].Crit = s.String(ms[j].Crit)
			}
			c.Metrics = ms
		}
	}
}

func scrubAll(s *redact.Scrubber, in []string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = s.String(v)
	}
	return out
}
