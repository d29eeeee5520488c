package builtins

import (
	"slices"
	"strings"
	"testing"
	"time"

	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
)

func TestDurationUnpack(t *testing.T) {
	for _, tt := range []struct {
		in   starlark.Value
		want time.Duration
		err  string
	}{
		{starlark.String("5s"), 5 * time.Second, ""},
		{starlark.String("1m30s"), 90 * time.Second, ""},
		{starlarktime.Duration(250 * time.Millisecond), 250 * time.Millisecond, ""},
		{starlark.String("soon"), 0, `"soon" is not a duration; write it like "500ms", "5s" or "1m"`},
		{starlark.String("5"), 0, `"5" is not a duration`},
		{starlark.MakeInt(5), 0, `want a duration string like "5s", got int`},
		{starlark.None, 0, `want a duration string like "5s", got NoneType`},
		{starlark.String("0s"), 0, "must be positive, got 0s"},
		{starlarktime.Duration(-time.Second), 0, "must be positive, got -1s"},
	} {
		d := Duration(time.Hour) // a failed Unpack leaves the default
		err := d.Unpack(tt.in)
		switch {
		case tt.err == "" && (err != nil || time.Duration(d) != tt.want):
			t.Errorf("Unpack(%s) = %v, %v; want %v", tt.in, time.Duration(d), err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || d != Duration(time.Hour)):
			t.Errorf("Unpack(%s) = %v, %v; want error %q", tt.in, time.Duration(d), err, tt.err)
		}
	}
}

func TestOptStringUnpack(t *testing.T) {
	for _, tt := range []struct {
		in   starlark.Value
		want optString
		err  string
	}{
		{starlark.None, optString{}, ""},
		{starlark.String(""), optString{"", true}, ""},
		{starlark.String("ca.pem"), optString{"ca.pem", true}, ""},
		{starlark.MakeInt(1), optString{}, "got int, want string or None"},
	} {
		var o optString
		err := o.Unpack(tt.in)
		if o != tt.want || (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
			t.Errorf("Unpack(%s) = %+v, %v; want %+v, %q", tt.in, o, err, tt.want, tt.err)
		}
	}
}

func TestStringListUnpack(t *testing.T) {
	for _, tt := range []struct {
		in   starlark.Value
		want []string
		err  string
	}{
		{starlark.String("net"), []string{"net"}, ""},
		{starlark.NewList([]starlark.Value{starlark.String("a"), starlark.String("b")}), []string{"a", "b"}, ""},
		{starlark.Tuple{starlark.String("a")}, []string{"a"}, ""},
		{starlark.NewList(nil), nil, ""},
		{starlark.None, nil, ""},
		{starlark.MakeInt(1), nil, "got int, want a string or a list of strings"},
		{starlark.NewList([]starlark.Value{starlark.String("a"), starlark.MakeInt(2)}), nil, "element 1 is int, want string"},
	} {
		var l StringList
		err := l.Unpack(tt.in)
		if !slices.Equal(l, tt.want) || (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
			t.Errorf("Unpack(%s) = %q, %v; want %q, %q", tt.in, l, err, tt.want, tt.err)
		}
	}
}
