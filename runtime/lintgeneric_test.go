package runtime

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.starlark.net/syntax"
)

// genericText runs the generic checks on src as vet does (parsed with
// comments, resolved with the guard builtins) and gives each finding as
// "LINE:COL CATEGORY" (or the whole message with full).
func genericText(t *testing.T, src string, full bool) []string {
	t.Helper()
	var out []string
	for _, fd := range genericLint(resolvedFile(t, src, syntax.RetainComments)) {
		if full {
			out = append(out, fd.String())
			continue
		}
		open := strings.LastIndex(fd.Msg, "(")
		cat, _, _ := strings.Cut(fd.Msg[open+1:], ";")
		out = append(out, fmt.Sprintf("%d:%d %s", fd.Line, fd.Col, cat))
	}
	return out
}

func TestGenericLint(t *testing.T) {
	for _, tt := range []struct {
		name string
		src  string
		want []string
	}{
		{"clean script", `
"""Docstring of the file."""

LIMIT = 90
_PRIVATE = 1

def root(path, _unused, *args, **kwargs):
    """Docstring of the function."""
    d = disk(path)
    total = 0
    for a in args:
        total += a
    print(kwargs, total, _PRIVATE)
    return d.used_percent < LIMIT

[check("disk " + p, lambda p = p: root(p, 0)) for p in ["/", "/var"]]
`, nil},

		{"no effect", `
def f(v):
    "first is the docstring"
    "not a docstring"
    v + 1
    v.attr
    (v)
    [x for x in v]
    {x: 1 for x in v}
    g()
    (g())
    return v

def g():
    pass

1 + 2
if True:
    [x for x in []]
`, []string{"4:5 no-effect", "5:5 no-effect", "6:5 no-effect", "7:5 no-effect", "8:5 no-effect", "9:5 no-effect", "17:1 no-effect", "19:5 no-effect"}},

		{"dropped result", `
def f():
    if disk("/").used_percent > 90:
        fail("full")
    warn("x")
    return ok()

fail("top")
`, []string{"4:9 no-effect", "5:5 no-effect", "8:1 no-effect"}},

		{"a result builtin shadowed is an ordinary call", `
def fail(msg):
    print(msg)

def f():
    fail("x")
    return True
`, nil},

		{"unreachable", `
def f(v):
    return 1
    v()
    v()

def g(v):
    for x in v:
        if x:
            break
            v()
        continue
        v()
    if v:
        return 1
    elif v:
        return 2
    else:
        return 3
    v()

def h(v):
    if v:
        return 1
    for x in v:
        return x
    while v:
        return 2
    fail("made, not raised")
    return 0

for y in []:
    continue
    print(y)
`, []string{"4:5 unreachable", "11:13 unreachable", "13:9 unreachable", "20:5 unreachable", "29:5 no-effect", "34:5 unreachable"}},

		{"unused", `
def f(a, b, _c, d = 1, *args, **kwargs):
    e, _f = 1, 2
    g = 1
    g = 2
    h = 1
    h += 1
    for i, j in []:
        print(j)
    def k():
        pass
    def _l():
        pass
    m = 1
    def n():
        return m
    o = []
    o.append(1)
    p = {}
    p["x"] = 1
    [q for q in []]
    r = lambda s: 1
    return a + r(d)

def _private():
    pass

_X = 1
_Y = _X
_Z, W = 1, 2
for _i in []:
    pass
`, []string{
			"2:10 unused-variable", "2:25 unused-variable", "2:33 unused-variable", // b, args, kwargs
			"3:5 unused-variable", "4:5 unused-variable", "6:5 unused-variable", // e, g, h
			"8:9 unused-variable", "10:5 unused-variable", "15:5 unused-variable", // i, k, n
			"21:5 no-effect",
			"25:1 unused-variable", "29:1 unused-variable", // _private, _Y
		}},

		{"while loops are read", `
def spin():
    n = 0
    while True:
        n += 1
        if spin:
            break
            print()
        1
    return ok()

while False:
    break
    x = 1
`, []string{"3:5 unused-variable", "8:13 unreachable", "9:9 no-effect", "14:5 unreachable"}},

		{"disable comments", `
def f(
        a,  # buildifier: disable=unused-variable
        # buildifier: disable=unused-variable
        b,
        c):
    x = 1  # buildifier: disable=no-effect,unused-variable
    y = 2  # buildozer: disable=unused-variable
    z = 3  # @unused
    # buildifier: disable=unused-variable
    w = [
        1,
    ]
    u = [
        1,
    ]  # buildifier: disable=unused-variable
    # buildifier: disable=unused-variable

    s = 1
    t = 1  # buildifier: disable=no-effect
    1  # buildifier: disable=no-effect
    return 1
    # a comment
    # buildifier: disable=unreachable
    print()

# buildifier: disable=unused-variable
def g(p, q):
    return 1

def h(p):  # buildifier: disable=unused-variable
    1  # buildifier: disable=unused-variable
`, []string{"6:9 unused-variable", "19:5 unused-variable", "20:5 unused-variable", "32:5 no-effect"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := genericText(t, tt.src, false)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// The messages keep buildifier's wording, which scripts and editors may
// match, and say how to silence each finding.
func TestGenericLintMessages(t *testing.T) {
	got := genericText(t, `
def f(v):
    x = 1
    def g():
        pass
    return 1
    "text"
    [y for y in v]
    fail("no")
`, true)
	want := []string{
		`guard.star:3:5: warning: Variable "x" is unused. Please remove it. (unused-variable; silence with # buildifier: disable=unused-variable)`,
		`guard.star:4:5: warning: Function "g" is unused. Please remove it. (unused-variable; silence with # buildifier: disable=unused-variable)`,
		`guard.star:7:5: warning: Expression result is not used. Docstrings should be the first statements of a file or a function (they may follow comment lines). (no-effect; silence with # buildifier: disable=no-effect)`,
		`guard.star:7:5: warning: The statement is unreachable. (unreachable; silence with # buildifier: disable=unreachable)`,
		`guard.star:8:5: warning: Expression result is not used. Use a for-loop instead of a list comprehension. (no-effect; silence with # buildifier: disable=no-effect)`,
		`guard.star:9:5: warning: Expression result is not used. fail() makes a check result and stops nothing: return it. (no-effect; silence with # buildifier: disable=no-effect)`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
