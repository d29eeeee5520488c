package builtins

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// Every run-phase builtin refuses to run while the script loads, with the
// one message, before it looks at its arguments; every load-phase builtin
// runs there. The table is the list: a new builtin is covered by being in
// it.
func TestPhases(t *testing.T) {
	for _, d := range Table() {
		t.Run(d.Name, func(t *testing.T) {
			refusal := d.Name + "() can only be called inside a check function (the load phase has no side effects); wrap it in a def and register that with check()"
			for _, args := range []starlark.Tuple{nil, {starlark.MakeInt(1), starlark.MakeInt(2), starlark.MakeInt(3)}} {
				load := &starlark.Thread{Name: "load"}
				_, err := starlark.Call(load, Predeclared()[d.Name], args, nil)
				switch d.Phase {
				case RunPhase:
					if err == nil || err.Error() != refusal {
						t.Errorf("%s%v while loading: error = %v, want %q", d.Name, args, err, refusal)
					}
				case LoadPhase:
					if err != nil && strings.Contains(err.Error(), "can only be called inside a check") {
						t.Errorf("%s%v while loading: %v", d.Name, args, err)
					}
				}
				// In a check, no builtin refuses: bad arguments are
				// reported as such.
				check := &starlark.Thread{Name: "check"}
				SetContext(check, t.Context())
				if _, err := starlark.Call(check, Predeclared()[d.Name], args, nil); err != nil && strings.Contains(err.Error(), "can only be called inside a check") {
					t.Errorf("%s%v in a check: %v", d.Name, args, err)
				}
			}
		})
	}
}

// A load-phase builtin called with good arguments works while loading.
func TestLoadPhaseBuiltinsWork(t *testing.T) {
	thread := &starlark.Thread{Name: "load"}
	cfg := NewLoadConfig(func(name string) (string, bool) { return "value", !strings.HasSuffix(name, "_FILE") }, nil)
	SetConfig(thread, cfg)
	v, err := starlark.ExecFileOptions(fileOptions, thread, "load.star", `
r = worst(threshold(85, warn = 80, name = "disk"), ok("a"), skip(), warn("w"), fail("f"))
e = env("STAGE")
require_env("STAGE")
s = secret("API_TOKEN")
`, Predeclared())
	if err != nil {
		t.Fatal(err)
	}
	if errs := cfg.Errors(); len(errs) > 0 {
		t.Errorf("problems recorded: %v", errs)
	}
	if got := v["r"].(*Result).Status.String(); got != "fail" {
		t.Errorf("worst(…) = %s, want fail", got)
	}
}

func TestTableIsPredeclared(t *testing.T) {
	var names []string
	for _, d := range Table() {
		names = append(names, d.Name)
		if !strings.HasPrefix(d.Doc, d.Name+"(") || !strings.Contains(d.Doc, ")\n\n") {
			t.Errorf("%s: Doc must start with the signature, then a blank line and a paragraph: %q", d.Name, d.Doc)
		}
		if d.Fn == nil {
			t.Errorf("%s: no Fn", d.Name)
		}
	}
	if got := slices.Sorted(maps.Keys(Predeclared())); !slices.Equal(got, slices.Sorted(slices.Values(names))) {
		t.Errorf("Predeclared() = %v, want the table's names %v", got, names)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(names)))) != len(names) {
		t.Errorf("names repeat in the table: %v", names)
	}
	// Each call is a new dict: the runtime adds check() and the modules.
	Predeclared()["check"] = starlark.None
	if _, ok := Predeclared()["check"]; ok {
		t.Error("Predeclared() returned a shared dict")
	}
}
