package result

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// fillStrings sets every string reachable from v (fields, slice elements,
// nested structs) to a distinct value and returns how many it set.
func fillStrings(v reflect.Value, n *int) {
	switch v.Kind() {
	case reflect.String:
		*n++
		v.SetString("text" + strconv.Itoa(*n))
	case reflect.Struct:
		for i := range v.NumField() {
			fillStrings(v.Field(i), n)
		}
	case reflect.Slice:
		for i := range v.Len() {
			fillStrings(v.Index(i), n)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			fillStrings(v.Elem(), n)
		}
	}
}

// strs collects every string reachable from v.
func strs(v reflect.Value, out *[]string) {
	switch v.Kind() {
	case reflect.String:
		*out = append(*out, v.String())
	case reflect.Struct:
		for i := range v.NumField() {
			strs(v.Field(i), out)
		}
	case reflect.Slice:
		for i := range v.Len() {
			strs(v.Index(i), out)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			strs(v.Elem(), out)
		}
	}
}

// TestMapTextReachesEveryString: every string field of a Report, however
// deep, goes through f (a field added later fails here until MapText
// handles it), and the original is left as it was.
func TestMapTextReachesEveryString(t *testing.T) {
	r := &Report{
		Errors: []Diagnostic{{}, {}},
		Checks: []CheckResult{
			{Tags: []string{"", ""}, Metrics: []Metric{{}, {}}},
			{Tags: []string{""}, Metrics: []Metric{{}}},
		},
	}
	n := 0
	fillStrings(reflect.ValueOf(r), &n)
	var before []string
	strs(reflect.ValueOf(r), &before)
	got := r.MapText(strings.ToUpper)
	var after, again []string
	strs(reflect.ValueOf(got), &after)
	strs(reflect.ValueOf(r), &again)
	if len(after) != n {
		t.Fatalf("%d strings after, %d before", len(after), n)
	}
	for i, s := range after {
		if s != strings.ToUpper(before[i]) {
			t.Errorf("string %d is %q, want %q: MapText missed a field", i, s, strings.ToUpper(before[i]))
		}
	}
	if !reflect.DeepEqual(before, again) {
		t.Errorf("MapText changed the original report")
	}
}
