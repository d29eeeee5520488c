package builtins

import (
	"testing"

	"github.com/infra-guard/infra-guard/result"
	"go.starlark.net/starlark"
)

// TestThreshold covers threshold() from Go, where the Result and its
// metric can be inspected whole; testdata/threshold.star covers it from Starlark.
func TestThreshold(t *testing.T) {
	tests := []struct {
		name   string
		args   starlark.Tuple
		kwargs map[string]starlark.Value
		want   Result
	}{
		{
			name:   "warn",
			args:   starlark.Tuple{starlark.Float(85.2)},
			kwargs: map[string]starlark.Value{"warn": starlark.MakeInt(80), "crit": starlark.MakeInt(90), "name": starlark.String("root disk"), "unit": starlark.String("%")},
			want: Result{Status: result.Warn, Message: "root disk 85.2% (warn > 80, crit > 90)",
				Metrics: []result.Metric{{Name: "root disk", Value: 85.2, Unit: "%", Warn: "80", Crit: "90"}}},
		},
		{
			name:   "crit before warn",
			args:   starlark.Tuple{starlark.MakeInt(95)},
			kwargs: map[string]starlark.Value{"warn": starlark.MakeInt(80), "crit": starlark.MakeInt(90)},
			want: Result{Status: result.Fail, Message: "value 95 (warn > 80, crit > 90)",
				Metrics: []result.Metric{{Name: "value", Value: 95, Warn: "80", Crit: "90"}}},
		},
		{
			name:   "ok shows the value",
			args:   starlark.Tuple{starlark.Float(12.3456)},
			kwargs: map[string]starlark.Value{"crit": starlark.String("10:20"), "name": starlark.String("latency"), "unit": starlark.String("ms")},
			want: Result{Status: result.OK, Message: "latency 12.35 ms (crit outside 10..20)",
				Metrics: []result.Metric{{Name: "latency", Value: 12.3456, Unit: "ms", Crit: "10:20"}}},
		},
		{
			name:   "no limits",
			args:   starlark.Tuple{starlark.MakeInt(3)},
			want:   Result{Status: result.OK, Message: "value 3", Metrics: []result.Metric{{Name: "value", Value: 3}}},
			kwargs: nil,
		},
		{
			name:   "range strings are normalised for perfdata",
			args:   starlark.Tuple{starlark.MakeInt(5)},
			kwargs: map[string]starlark.Value{"warn": starlark.String("0:10"), "crit": starlark.String("@4:6")},
			want: Result{Status: result.Fail, Message: "value 5 (warn outside 0..10, crit inside 4..6)",
				Metrics: []result.Metric{{Name: "value", Value: 5, Warn: "10", Crit: "@4:6"}}},
		},
		{
			name:   "rounding never contradicts the status",
			args:   starlark.Tuple{starlark.Float(80.00001)},
			kwargs: map[string]starlark.Value{"warn": starlark.MakeInt(80)},
			want: Result{Status: result.Warn, Message: "value 80.00001 (warn > 80)",
				Metrics: []result.Metric{{Name: "value", Value: 80.00001, Warn: "80"}}},
		},
		{
			name:   "large values round to integers",
			args:   starlark.Tuple{starlark.Float(123456.78)},
			kwargs: map[string]starlark.Value{"warn": starlark.Float(1e6)},
			want: Result{Status: result.OK, Message: "value 123457 (warn > 1000000)",
				Metrics: []result.Metric{{Name: "value", Value: 123456.78, Warn: "1000000"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var kwargs []starlark.Tuple
			for _, k := range []string{"warn", "crit", "name", "unit"} { // fixed order
				if v, ok := tt.kwargs[k]; ok {
					kwargs = append(kwargs, starlark.Tuple{starlark.String(k), v})
				}
			}
			v, err := starlark.Call(new(starlark.Thread), starlark.NewBuiltin("threshold", threshold), tt.args, kwargs)
			if err != nil {
				t.Fatal(err)
			}
			got := v.(*Result)
			if got.Status != tt.want.Status || got.Message != tt.want.Message {
				t.Errorf("got %s %q, want %s %q", got.Status, got.Message, tt.want.Status, tt.want.Message)
			}
			if len(got.Metrics) != 1 || got.Metrics[0] != tt.want.Metrics[0] {
				t.Errorf("metrics = %+v, want %+v", got.Metrics, tt.want.Metrics)
			}
		})
	}
}
