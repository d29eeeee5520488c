package result

import (
	"math"
	"strings"
	"testing"
)

var inf = math.Inf(1)

func TestParseRange(t *testing.T) {
	tests := []struct {
		in     string
		want   Range
		str    string    // String() of the parsed range
		alert  []float64 // values that must alert
		silent []float64 // values that must not
	}{
		{"10", Range{0, 10, false}, "10", []float64{-0.001, -5, 10.001, 11}, []float64{0, 5, 10}},
		{"0", Range{0, 0, false}, "0", []float64{-1, 1}, []float64{0}},
		{"10:", Range{10, inf, false}, "10:", []float64{9.999, -20}, []float64{10, 11, 1e300}},
		{"~:10", Range{-inf, 10, false}, "~:10", []float64{10.001, 1e300}, []float64{10, 0, -1e300}},
		{"10:20", Range{10, 20, false}, "10:20", []float64{9.99, 20.01, -1}, []float64{10, 15, 20}},
		{"@10:20", Range{10, 20, true}, "@10:20", []float64{10, 15, 20}, []float64{9.99, 20.01}},
		{"@10", Range{0, 10, true}, "@10", []float64{0, 10}, []float64{-1, 11}},
		{"@~:10", Range{-inf, 10, true}, "@~:10", []float64{10, -1e300}, []float64{10.5}},
		{"@10:", Range{10, inf, true}, "@10:", []float64{10, 1e300}, []float64{9}},
		{"~:", Range{-inf, inf, false}, "~:", nil, []float64{-1e300, 0, 1e300}},
		{"@~:", Range{-inf, inf, true}, "@~:", []float64{-1e300, 0, 1e300}, nil},
		{"-10:-5", Range{-10, -5, false}, "-10:-5", []float64{-11, -4}, []float64{-10, -7, -5}},
		{"5:5", Range{5, 5, false}, "5:5", []float64{4.9, 5.1}, []float64{5}},
		{"0:10", Range{0, 10, false}, "10", []float64{11}, []float64{0}}, // shortest form
		{"0.5:1.5", Range{0.5, 1.5, false}, "0.5:1.5", []float64{0.4}, []float64{0.5, 1.5}},
		{"1e3", Range{0, 1000, false}, "1000", []float64{1001}, []float64{1000}},
		{"+7", Range{0, 7, false}, "7", []float64{8}, []float64{7}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseRange(tt.in)
			if err != nil {
				t.Fatalf("ParseRange(%q): %v", tt.in, err)
			}
			if r != tt.want {
				t.Errorf("ParseRange(%q) = %+v, want %+v", tt.in, r, tt.want)
			}
			if got := r.String(); got != tt.str {
				t.Errorf("ParseRange(%q).String() = %q, want %q", tt.in, got, tt.str)
			}
			for _, v := range tt.alert {
				if !r.Alert(v) {
					t.Errorf("%q.Alert(%v) = false, want true", tt.in, v)
				}
			}
			for _, v := range tt.silent {
				if r.Alert(v) {
					t.Errorf("%q.Alert(%v) = true, want false", tt.in, v)
				}
			}
		})
	}
}

func TestParseRangeErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `invalid range "": it is empty; use N (alert outside 0..N)`},
		{"@", `invalid range "@": it is empty`},
		{"abc", `invalid range "abc": "abc" is not a number; use N`},
		{"~", `invalid range "~": "~" is not a number`},
		{"10:abc", `invalid range "10:abc": "abc" is not a number`},
		{"1:2:3", `invalid range "1:2:3": "2:3" is not a number`},
		{" 10", `invalid range " 10": " 10" is not a number`},
		{"20:10", `invalid range "20:10": start 20 is greater than end 10`},
		{"@5:-5", `invalid range "@5:-5": start 5 is greater than end -5`},
		{"-5", `invalid range "-5": a single number N means 0..N, so it cannot be negative; use ~:-5 for alert above or -5: for alert below`},
		{":10", `invalid range ":10": the start is missing; write 0:10 or ~:10`},
		{"inf", `invalid range "inf": write infinity as ~`},
		{"~:Inf", `invalid range "~:Inf": write infinity as ~`},
		{"1e999", `invalid range "1e999": 1e999 is too large`},
		{"NaN", `invalid range "NaN": NaN is not a number`},
		{"~10", `invalid range "~10": "~10" is not a number`},
		{"10~:", `invalid range "10~:": "10~" is not a number`},
	}
	for _, tt := range tests {
		_, err := ParseRange(tt.in)
		if err == nil {
			t.Errorf("ParseRange(%q) succeeded, want error %q", tt.in, tt.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseRange(%q) error:\n got %s\nwant %s…", tt.in, err, tt.want)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{
		"10", "10:", "~:10", "10:20", "@10:20", "@~:", "~:", "-0", "0:-0", "-0:5",
		"1e-7:1e21", "0x1p-2", "@-3.5:", "", "@", ":", "abc", "20:10", "inf", "1:2:3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			return
		}
		if math.IsNaN(r.Start) || math.IsNaN(r.End) || r.Start > r.End {
			t.Fatalf("ParseRange(%q) = %+v, an impossible range", s, r)
		}
		again, err := ParseRange(r.String())
		if err != nil {
			t.Fatalf("ParseRange(%q).String() = %q, which does not parse: %v", s, r.String(), err)
		}
		if again != r {
			t.Fatalf("ParseRange(%q) = %+v, but its String() %q parses to %+v", s, r, r.String(), again)
		}
	})
}
