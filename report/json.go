package report

// This file holds the json format: the report as one versioned JSON document
// (schema_version 1), described by schema/report-v1.schema.json. The Go
// types below fix the key order; every array and object is always present,
// never null, so consumers can index without checks.

import (
	"encoding/json"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/infra-guard/infra-guard/result"
)

// SchemaVersion is the schema_version the json format writes. It changes
// only when a field is removed or changes meaning; adding a field does not.
const SchemaVersion = 1

type jsonReport struct {
	SchemaVersion    int         `json:"schema_version"`
	Tool             string      `json:"tool"`
	Version          string      `json:"version"`
	Script           string      `json:"script"`
	Host             string      `json:"host,omitempty"`
	Started          string      `json:"started"`
	DurationMS       float64     `json:"duration_ms"`
	Rounds           int         `json:"rounds"`
	ExitCode         int         `json:"exit_code"`
	Incomplete       bool        `json:"incomplete"`
	IncompleteReason string      `json:"incomplete_reason,omitempty"`
	Errors           []string    `json:"errors"`
	Totals           totals      `json:"totals"`
	Checks           []jsonCheck `json:"checks"`
}

type jsonCheck struct {
	Name       string             `json:"name"`
	Status     string             `json:"status"`
	Message    string             `json:"message"`
	DurationMS float64            `json:"duration_ms"`
	Metrics    map[string]float64 `json:"metrics"` // encoding/json sorts the keys
	Perfdata   []jsonPerfdata     `json:"perfdata,omitempty"`
	Tags       []string           `json:"tags"`
	Location   string             `json:"location"`
	Backtrace  string             `json:"backtrace,omitempty"`
}

// jsonPerfdata is one metric in full, as Nagios perfdata carries it.
type jsonPerfdata struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
	Warn  string  `json:"warn,omitempty"`
	Crit  string  `json:"crit,omitempty"`
}

type jsonReporter struct{ version string }

var _ Reporter = (*jsonReporter)(nil)

func newJSON(opts Options) Reporter { return &jsonReporter{version: opts.Version} }

// Report writes r as one JSON document, indented two spaces, with a
// trailing newline, in a single Write.
func (j *jsonReporter) Report(w io.Writer, r *result.Report) error {
	r = withoutCommands(r) // the report may be read by a GitHub runner
	doc := jsonReport{
		SchemaVersion:    SchemaVersion,
		Tool:             "infra-guard",
		Version:          j.version,
		Script:           r.Script,
		Host:             r.Host,
		Started:          r.Started.UTC().Format(time.RFC3339Nano),
		DurationMS:       millis(r.Duration),
		Rounds:           rounds(r),
		ExitCode:         int(r.ExitCode),
		Incomplete:       r.Incomplete != "",
		IncompleteReason: r.Incomplete,
		Errors:           errorStrings(r),
		Totals:           count(r),
		Checks:           make([]jsonCheck, 0, len(r.Checks)),
	}
	for _, c := range r.Checks {
		jc := jsonCheck{
			Name:       c.Name,
			Status:     c.Status.Valid().String(),
			Message:    c.Message,
			DurationMS: millis(c.Duration),
			Metrics:    make(map[string]float64, len(c.Metrics)),
			Tags:       nonNil(c.Tags),
			Location:   location(c.File, c.Line),
			Backtrace:  c.Backtrace,
		}
		for _, m := range c.Metrics {
			// JSON has no NaN or infinities; such a metric is left out
			// rather than failing the whole report.
			if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
				continue
			}
			jc.Metrics[m.Name] = m.Value
			jc.Perfdata = append(jc.Perfdata, jsonPerfdata{
				Name: m.Name, Value: m.Value, Unit: m.Unit, Warn: m.Warn, Crit: m.Crit,
			})
		}
		doc.Checks = append(doc.Checks, jc)
	}

	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keep "<secret:NAME>" and URLs readable
	return enc.Encode(doc)
}

// millis is d in milliseconds with microsecond precision.
func millis(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)/time.Microsecond) / 1e3
}

// location is "file:line", "file" without a line, "" without a file.
func location(file string, line int) string {
	if file == "" {
		return ""
	}
	if line <= 0 {
		return file
	}
	return file + ":" + strconv.Itoa(line)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
