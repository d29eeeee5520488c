package report

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/infra-guard/infra-guard/report/schema"
	"github.com/infra-guard/infra-guard/result"
)

func TestJSONValidates(t *testing.T) {
	for name, r := range fixtures() {
		out := render(t, "json", Options{Version: "v1.2.3"}, r)
		if err := schema.Validate(out); err != nil {
			t.Errorf("%s: %v\n%s", name, err, out)
		}
		if !bytes.HasSuffix(out, []byte("}\n")) {
			t.Errorf("%s: no trailing newline", name)
		}
	}
}

// TestJSONShape decodes the output and checks the values, beyond the schema.
func TestJSONShape(t *testing.T) {
	r := fixtures()["statuses"]
	var doc map[string]any
	if err := json.Unmarshal(render(t, "json", Options{Version: "dev"}, r), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["started"] != "2026-03-14T09:26:53.589793Z" {
		t.Errorf("started = %v, want UTC RFC 3339", doc["started"])
	}
	if doc["duration_ms"] != 1341.0 || doc["exit_code"] != 2.0 || doc["version"] != "dev" {
		t.Errorf("duration_ms, exit_code, version = %v, %v, %v", doc["duration_ms"], doc["exit_code"], doc["version"])
	}
	checks := doc["checks"].([]any)
	var statuses []string
	for _, c := range checks {
		statuses = append(statuses, c.(map[string]any)["status"].(string))
	}
	if want := []string{"ok", "warn", "fail", "unknown", "skip", "warn"}; !slices.Equal(statuses, want) {
		t.Errorf("statuses = %q, want %q (report order)", statuses, want)
	}
	api := checks[1].(map[string]any)
	if got := api["metrics"].(map[string]any); got["latency_ms"] != 1234.0 || got["attempts"] != 2.0 {
		t.Errorf("api metrics = %v", got)
	}
	if api["duration_ms"] != 1234.567 || api["location"] != "guard.star:15" {
		t.Errorf("api duration_ms, location = %v, %v", api["duration_ms"], api["location"])
	}
	if _, ok := checks[0].(map[string]any)["backtrace"]; ok {
		t.Error("backtrace present on a check without one")
	}
	if bt := checks[3].(map[string]any)["backtrace"]; !strings.Contains(bt.(string), "lib/web.star:9:12: in broken") {
		t.Errorf("backtrace = %q", bt)
	}
}

// TestJSONEmptyCollections: arrays and objects are [] and {}, never null.
func TestJSONEmptyCollections(t *testing.T) {
	r := &result.Report{Checks: []result.CheckResult{{Name: "x"}}}
	out := string(render(t, "json", Options{}, r))
	for _, want := range []string{`"errors": []`, `"metrics": {}`, `"tags": []`, `"checks": [`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	for _, absent := range []string{"null", "perfdata", "backtrace", "incomplete_reason"} {
		if strings.Contains(out, absent) {
			t.Errorf("output contains %s:\n%s", absent, out)
		}
	}
	if err := schema.Validate([]byte(out)); err != nil {
		t.Error(err)
	}
	zero := string(render(t, "json", Options{}, &result.Report{ExitCode: 3}))
	if !strings.Contains(zero, `"checks": []`) {
		t.Errorf("zero checks:\n%s", zero)
	}
}

// TestJSONNonFinite: NaN and infinities cannot be JSON numbers; such metrics
// are left out and the report is still written and valid.
func TestJSONNonFinite(t *testing.T) {
	r := &result.Report{Checks: []result.CheckResult{{Name: "x", Metrics: []result.Metric{
		{Name: "nan", Value: math.NaN()}, {Name: "inf", Value: math.Inf(-1)}, {Name: "fine", Value: 1.5},
	}}}}
	out := render(t, "json", Options{}, r)
	if err := schema.Validate(out); err != nil {
		t.Fatal(err)
	}
	var doc struct{ Checks []jsonCheck }
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Checks[0].Metrics; !reflect.DeepEqual(got, map[string]float64{"fine": 1.5}) || len(doc.Checks[0].Perfdata) != 1 {
		t.Errorf("metrics = %v, perfdata = %v", got, doc.Checks[0].Perfdata)
	}
}

// TestJSONNoHTMLEscape: "<secret:NAME>" stays readable (and matchable by the
// scrubber's plain form) rather than becoming \u003c…\u003e.
func TestJSONNoHTMLEscape(t *testing.T) {
	r := &result.Report{Checks: []result.CheckResult{{Name: "x", Message: "sent <secret:TOKEN> & more"}}}
	if out := render(t, "json", Options{}, r); !bytes.Contains(out, []byte(`"sent <secret:TOKEN> & more"`)) {
		t.Errorf("%s", out)
	}
}

func TestValidateJSONRejects(t *testing.T) {
	valid := render(t, "json", Options{Version: "v1"}, fixtures()["incomplete"])
	if err := schema.Validate(valid); err != nil {
		t.Fatalf("base document invalid: %v", err)
	}
	for _, tc := range []struct {
		name   string
		edit   func(doc map[string]any)
		errHas string // a fragment of the validation error
	}{
		{"missing field", func(d map[string]any) { delete(d, "exit_code") }, "exit_code"},
		{"missing check field", func(d map[string]any) { check(d, 0, func(c map[string]any) { delete(c, "metrics") }) }, "metrics"},
		{"bad status", func(d map[string]any) { check(d, 1, func(c map[string]any) { c["status"] = "critical" }) }, "/checks/1/status"},
		{"upper-case status", func(d map[string]any) { check(d, 0, func(c map[string]any) { c["status"] = "OK" }) }, "/checks/0/status"},
		{"extra field", func(d map[string]any) { d["colour"] = true }, "colour"},
		{"extra check field", func(d map[string]any) { check(d, 0, func(c map[string]any) { c["severity"] = 1 }) }, "severity"},
		{"wrong schema_version", func(d map[string]any) { d["schema_version"] = 2 }, "schema_version"},
		{"wrong tool", func(d map[string]any) { d["tool"] = "other" }, "tool"},
		{"exit code out of range", func(d map[string]any) { d["exit_code"] = 4 }, "exit_code"},
		{"null errors", func(d map[string]any) { d["errors"] = nil }, "errors"},
		{"null tags", func(d map[string]any) { check(d, 0, func(c map[string]any) { c["tags"] = nil }) }, "tags"},
		{"metric not a number", func(d map[string]any) {
			check(d, 0, func(c map[string]any) { c["metrics"] = map[string]any{"x": "12"} })
		}, "metrics"},
		{"negative count", func(d map[string]any) { d["totals"].(map[string]any)["fail"] = -1 }, "fail"},
		{"started not a date-time", func(d map[string]any) { d["started"] = "yesterday" }, "started"},
		{"incomplete without reason", func(d map[string]any) { delete(d, "incomplete_reason") }, "incomplete_reason"},
		{"reason without incomplete", func(d map[string]any) { d["incomplete"] = false }, "not"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(valid, &doc); err != nil {
				t.Fatal(err)
			}
			tc.edit(doc)
			data, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			err = schema.Validate(data)
			if err == nil {
				t.Fatalf("invalid document accepted:\n%s", data)
			}
			if !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("error does not mention %q:\n%v", tc.errHas, err)
			}
		})
	}
	for _, bad := range []string{"", "{", `{"schema_version": 1} {}`, "[]"} {
		if err := schema.Validate([]byte(bad)); err == nil {
			t.Errorf("schema.Validate(%q) = nil", bad)
		}
	}
}

func check(doc map[string]any, i int, edit func(map[string]any)) {
	edit(doc["checks"].([]any)[i].(map[string]any))
}

// TestSchemaMatchesTypes keeps the schema and the Go types in step: every
// property the schema names is a JSON field of the matching type and the
// reverse, and the required lists are the fields without omitempty.
func TestSchemaMatchesTypes(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(schema.JSONSchema, &doc); err != nil {
		t.Fatal(err)
	}
	defs := doc["$defs"].(map[string]any)
	for _, tc := range []struct {
		where  string
		schema map[string]any
		typ    reflect.Type
	}{
		{"top level", doc, reflect.TypeFor[jsonReport]()},
		{"totals", doc["properties"].(map[string]any)["totals"].(map[string]any), reflect.TypeFor[totals]()},
		{"check", defs["check"].(map[string]any), reflect.TypeFor[jsonCheck]()},
		{"perfdata", defs["perfdata"].(map[string]any), reflect.TypeFor[jsonPerfdata]()},
	} {
		var fields, required []string
		for f := range tc.typ.Fields() {
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			fields = append(fields, name)
			if opts != "omitempty" {
				required = append(required, name)
			}
		}
		var props []string
		for p := range tc.schema["properties"].(map[string]any) {
			props = append(props, p)
		}
		var req []string
		for _, p := range tc.schema["required"].([]any) {
			req = append(req, p.(string))
		}
		slices.Sort(fields)
		slices.Sort(props)
		slices.Sort(required)
		slices.Sort(req)
		if !slices.Equal(fields, props) {
			t.Errorf("%s: Go fields %q, schema properties %q", tc.where, fields, props)
		}
		if !slices.Equal(required, req) {
			t.Errorf("%s: Go required %q, schema required %q", tc.where, required, req)
		}
		if tc.schema["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties is not false", tc.where)
		}
	}
}
