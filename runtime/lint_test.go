package runtime

import (
	"strings"
	"testing"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// resolvedFile parses src as guard.star and resolves it with the guard
// builtins, as vet does before its checks.
func resolvedFile(t *testing.T, src string, mode syntax.Mode) *syntax.File {
	t.Helper()
	f, err := dialect.Parse("guard.star", src, mode)
	if err != nil {
		t.Fatal(err)
	}
	pre := predeclared(nil)
	if err := resolve.File(f, pre.Has, starlark.Universe.Has); err != nil {
		t.Fatal(err)
	}
	return f
}

func lintText(t *testing.T, src string) []string {
	t.Helper()
	var out []string
	for _, fd := range lint(resolvedFile(t, src, 0)) {
		out = append(out, fd.String())
	}
	return out
}

func TestLintReturnsNone(t *testing.T) {
	for _, tt := range []struct {
		body string
		want string // "" for no finding
	}{
		{"    return True", ""},
		{"    if x():\n        return ok()\n    else:\n        return fail()", ""},
		{"    if x():\n        return ok()\n    elif y():\n        return warn()", "returns None on line 5"},
		{"    while True:\n        return ok()", ""},
		{"    while True:\n        if x():\n            break\n    return ok()", ""},
		{"    while True:\n        if x():\n            break", "returns None on line 4"},
		{"    for a in []:\n        return ok()", "returns None on line 3"},
		{"    def inner():\n        return\n    return inner()", ""},
		{"    x()", "returns None on line 2"},
	} {
		got := strings.Join(lintText(t, "def f():\n"+tt.body+"\ndef x(): return 1\ndef y(): return 1\ncheck(\"f\", f)\n"), "\n")
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("body\n%s\ngot %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestLintLoopVariable(t *testing.T) {
	got := lintText(t, `
def port(a):
    return True
def reads_global():
    return port(a)
for a in ["x", "y"]:
    check("l " + a, lambda: port(a))
    check("d " + a, reads_global)
    check("args " + a, port, args = [a])
    check("param " + a, lambda a = a: port(a))
    if a:
        check("nested " + a, lambda: port(a))
    def inner():
        return port(a)
    check("inner " + a, inner)
`)
	want := []string{"guard.star:7:5:", "guard.star:8:5:", "guard.star:12:9:", "guard.star:15:5:"}
	if len(got) != len(want) {
		t.Fatalf("got %d findings, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) || !strings.Contains(got[i], "loop variable a") {
			t.Errorf("finding %d = %q, want one at %s about a", i, got[i], w)
		}
	}
}

func TestLintThreshold(t *testing.T) {
	for src, want := range map[string]bool{
		`threshold(1, warn = 90, crit = 80)`:      true,
		`threshold(1, 90, 80)`:                    true,
		`threshold(1, crit = 80, warn = 90)`:      true,
		`threshold(1, warn = -1, crit = -2)`:      true,
		`threshold(1, warn = 80, crit = 90)`:      false,
		`threshold(1, warn = "10:", crit = "5:")`: false,
		`threshold(1, warn = 90)`:                 false,
	} {
		got := lintText(t, "X = "+src+"\n")
		if (len(got) > 0) != want {
			t.Errorf("%s: got %q, want a finding: %v", src, got, want)
		}
	}
}

func TestNearest(t *testing.T) {
	names := []string{"threshold", "process", "disk", "disks", "tcp", "LIMITS"}
	for name, want := range map[string]string{"threshhold": "threshold", "proces": "process", "dsk": "disk", "tpc": "", "xyz": "", "LIMTS": "LIMITS"} {
		if got := nearest(name, names, 1+len(name)/5); got != want {
			t.Errorf("nearest(%q) = %q, want %q", name, got, want)
		}
	}
}

// FuzzLint feeds vet's strict checks and the formatter any script that
// parses: they must not panic.
func FuzzLint(f *testing.F) {
	for _, seed := range []string{
		"def f():\n    return 1\ncheck(\"f\", f)\n",
		"for a in []:\n    check(a, lambda: a)\n",
		"X = threshold(1, warn = -1, crit = -2)\n",
		"def f():\n    while True:\n        if x:\n            break\n",
		"check(*[1], **{})\n",
	} {
		f.Add(seed)
	}
	pre := predeclared(nil)
	f.Fuzz(func(t *testing.T, src string) {
		file, err := dialect.Parse("guard.star", src, syntax.RetainComments)
		if err != nil {
			pythonHint(err.Error(), lineOf([]byte(src), 1))
			return
		}
		resolve.File(file, pre.Has, starlark.Universe.Has)
		lint(file)
		genericLint(file)
		Format("guard.star", []byte(src))
	})
}

func TestAttrSuggestion(t *testing.T) {
	disk := resultFields["disk"]
	for name, want := range map[string]string{
		"used_pct":      "used_percent",
		"usedpercent":   "used_percent",
		"inode_percent": "inodes_percent",
		"totl":          "total",
		"fs_type":       "fstype",
		"banana":        "",
	} {
		if got := attrSuggestion(name, disk); got != want {
			t.Errorf("attrSuggestion(%q) = %q, want %q", name, got, want)
		}
	}
	got := betterAttrHint(`"disk" struct has no .used_pct attribute (did you mean .used?)`)
	if want := `"disk" struct has no .used_pct attribute (did you mean .used_percent?)`; got != want {
		t.Errorf("betterAttrHint = %q, want %q", got, want)
	}
	other := `"point" struct has no .z attribute (did you mean .x?)`
	if got := betterAttrHint(other); got != other {
		t.Errorf("betterAttrHint changed a struct it does not know: %q", got)
	}
}
