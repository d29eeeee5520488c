package runtime

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func lookupIn(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// Every env()/secret() problem is listed, in order, before the script error
// that one of the zero values then caused.
func TestLoadListsEveryConfigProblem(t *testing.T) {
	var seen []string
	opts := LoadOptions{
		Env:      lookupIn(map[string]string{"PORT": "eighty", "TOKEN": "s3cret-value-1"}),
		OnSecret: func(name, value string) { seen = append(seen, name) },
	}
	_, err := Load(context.Background(), writeScript(t, map[string]string{"guard.star": `
URL = env("API_URL", type = "url")
PORT = env("PORT", type = "int")
TOKEN = secret("TOKEN")
KEY = secret("SIGNING")
require_env("REGION", "ZONE")
SITES = env("SITES", type = "list")
check("first", lambda: True)
first = SITES[0]
`}), nil, opts)
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Load: %v, want a LoadError", err)
	}
	want := []string{
		"guard.star:2:10: env: API_URL is not set",
		`guard.star:3:11: env: PORT="eighty" is not an int`,
		"guard.star:5:13: secret: SIGNING is not set",
		"guard.star:6:12: require_env: REGION is not set",
		"guard.star:6:12: require_env: ZONE is not set",
		"guard.star:7:12: env: SITES is not set",
		"guard.star:9:14: index 0 out of range",
	}
	if len(le.Diagnostics) != len(want) {
		t.Fatalf("got %d errors:\n%s\nwant %d", len(le.Diagnostics), le.Error(), len(want))
	}
	for i, w := range want {
		if !strings.Contains(le.Diagnostics[i].String(), "/"+w) {
			t.Errorf("error %d = %q, want it to contain %q", i, le.Diagnostics[i].String(), w)
		}
	}
	if len(seen) != 1 || seen[0] != "TOKEN" {
		t.Errorf("OnSecret saw %q, want [TOKEN] even though the load failed", seen)
	}
}

// Vet reports the same problems.
func TestVetListsConfigProblems(t *testing.T) {
	_, errs := Vet(context.Background(), writeScript(t, map[string]string{"guard.star": `
A = env("A_URL", type = "url")
B = secret("B")
check("x", lambda: True)
`}), nil, LoadOptions{Env: lookupIn(nil)})
	if len(errs) != 2 || !strings.Contains(errs[0].String(), "env: A_URL is not set") || !strings.Contains(errs[1].String(), "secret: B is not set") {
		t.Errorf("Vet = %q", errs)
	}
}

// A loaded guard exposes its secrets, and checks read variables through
// the same lookup.
func TestGuardSecretsAndCheckEnv(t *testing.T) {
	g := load(t, LoadOptions{Env: lookupIn(map[string]string{"T": "value-of-t", "LIMIT": "5"})}, map[string]string{"guard.star": `
T = secret("T")
def c():
    n = env("LIMIT", type = "int")
    return ok("limit %d, token %s" % (n, T))
check("c", c)
`})
	if s := g.Secrets(); len(s) != 1 || s[0].Name != "T" || s[0].Value != "value-of-t" {
		t.Errorf("Secrets() = %v", s)
	}
	rep := g.Run(context.Background(), RunOptions{})
	if m := rep.Checks[0].Message; m != "limit 5, token <secret:T>" {
		t.Errorf("message %q", m)
	}
}
