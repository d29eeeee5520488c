package result

// This file holds the one walk over the text of a report: every string a
// format may write, so that what must be done to all of it (scrubbing
// secrets, defusing workflow commands) is done to all of it, and a field
// added later is not forgotten by one of them.

// MapText returns a copy of r with f applied to every text in it: the
// script, the reason a run was cut short, the host name, each diagnostic's file and
// message, and each check's name, message, backtrace, file, tags and
// metric names, units and ranges. r is not changed, nor are the slices it
// may share with the guard's checks.
func (r *Report) MapText(f func(string) string) *Report {
	c := *r
	c.Script = f(r.Script)
	c.Incomplete = f(r.Incomplete)
	c.Host = f(r.Host)
	if r.Errors != nil {
		c.Errors = make([]Diagnostic, len(r.Errors))
		for i, d := range r.Errors {
			d.File, d.Msg = f(d.File), f(d.Msg)
			c.Errors[i] = d
		}
	}
	if r.Checks != nil {
		c.Checks = make([]CheckResult, len(r.Checks))
		for i, ch := range r.Checks {
			ch.Name = f(ch.Name)
			ch.Message = f(ch.Message)
			ch.Backtrace = f(ch.Backtrace)
			ch.File = f(ch.File)
			if ch.Tags != nil {
				tags := make([]string, len(ch.Tags))
				for j, t := range ch.Tags {
					tags[j] = f(t)
				}
				ch.Tags = tags
			}
			if ch.Metrics != nil {
				ms := make([]Metric, len(ch.Metrics))
				for j, m := range ch.Metrics {
					m.Name, m.Unit, m.Warn, m.Crit = f(m.Name), f(m.Unit), f(m.Warn), f(m.Crit)
					ms[j] = m
				}
				ch.Metrics = ms
			}
			c.Checks[i] = ch
		}
	}
	return &c
}
