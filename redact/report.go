package redact

// This file scrubs a run's report before a reporter encodes it.

import (
	"slices"

	"github.com/infra-guard/infra-guard/result"
)

// Report replaces every registered secret in the report's text, in
// place, before a reporter encodes it: an encoder may escape a value into
// a form the byte scrubber behind it would still catch, but scrubbing the
// text first leaves it nothing to escape. Slices shared with the guard's
// checks are copied, not changed.
func Report(s *Scrubber, r *result.Report) {
	if len(s.Names()) == 0 {
		return
	}
	r.Script = s.String(r.Script)
	r.Incomplete = s.String(r.Incomplete)
	if len(r.Errors) > 0 {
		ds := slices.Clone(r.Errors)
		for i := range ds {
			ds[i].File = s.String(ds[i].File)
			ds[i].Msg = s.String(ds[i].Msg)
		}
		r.Errors = ds
	}
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

func scrubAll(s *Scrubber, in []string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = s.String(v)
	}
	return out
}
