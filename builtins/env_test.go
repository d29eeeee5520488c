package builtins

import (
	"regexp"
	"strings"
	"testing"

	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
)

// evalConfig evaluates expr in a load phase whose environment is vars and
// returns its value, the recorded problems and the raised error.
func evalConfig(t *testing.T, vars map[string]string, expr string) (starlark.Value, []string, error) {
	t.Helper()
	cfg := NewLoadConfig(mapLookup(vars), nil)
	thread := &starlark.Thread{Name: "load"}
	SetConfig(thread, cfg)
	globals, err := starlark.ExecFileOptions(fileOptions, thread, "guard.star", "x = "+expr+"\n", Predeclared())
	var msgs []string
	for _, d := range cfg.Errors() {
		msgs = append(msgs, d.String())
	}
	return globals["x"], msgs, err
}

func mapLookup(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func TestEnvTypes(t *testing.T) {
	tests := []struct {
		expr, value, want string // want is the value's repr
	}{
		{`env("V")`, " spaced ", `" spaced "`},
		{`env("V", type = "int")`, " 8080 ", `8080`},
		{`env("V", type = "int")`, "-3", `-3`},
		{`env("V", type = "float")`, "0.75", `0.75`},
		{`env("V", type = "float")`, "2", `2.0`},
		{`env("V", type = "bool")`, "TRUE", `True`},
		{`env("V", type = "bool")`, "yes", `True`},
		{`env("V", type = "bool")`, "on", `True`},
		{`env("V", type = "bool")`, "1", `True`},
		{`env("V", type = "bool")`, "No", `False`},
		{`env("V", type = "bool")`, "off", `False`},
		{`env("V", type = "bool")`, "0", `False`},
		{`env("V", type = "duration")`, "1m30s", `time.parse_duration("1m30s")`},
		{`env("V", type = "url")`, "https://example.org/health", `"https://example.org/health"`},
		{`env("V", type = "list")`, " a, b ,,c ", `["a", "b", "c"]`},
		{`env("V", type = "list")`, ",", `[]`},
		{`env("V", choices = ["dev", "prod"])`, "prod", `"prod"`},
		{`env("V", type = "int", choices = [1, 2])`, "2", `2`},
		{`env("V", pattern = "[a-z]+-[0-9]")`, "eu-1", `"eu-1"`},
		{`env("V", type = "list", choices = ["a", "b"], pattern = "[ab]")`, "a,b", `["a", "b"]`},
	}
	for _, tt := range tests {
		t.Run(tt.expr+"="+tt.value, func(t *testing.T) {
			v, errs, err := evalConfig(t, map[string]string{"V": tt.value}, tt.expr)
			if err != nil || len(errs) > 0 {
				t.Fatalf("error %v, problems %q", err, errs)
			}
			got := v.String()
			if d, ok := v.(starlarktime.Duration); ok {
				got = `time.parse_duration("` + d.String() + `")`
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestEnvDefaults(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`env("V", default = "x")`, `"x"`},
		{`env("V", default = None)`, `None`},
		{`env("V", default = 3, type = "int")`, `3`},
		{`env("V", default = 3, type = "float")`, `3.0`},
		{`env("V", default = "2s", type = "duration")`, `2s`},
		{`env("V", default = time.second, type = "duration")`, `1s`},
		{`env("V", default = ("a", "b"), type = "list")`, `["a", "b"]`},
		{`env("V", default = [], type = "list")`, `[]`},
		{`env("V", default = False, type = "bool")`, `False`},
	}
	for _, tt := range tests {
		for _, vars := range []map[string]string{nil, {"V": ""}} { // empty counts as unset
			t.Run(tt.expr, func(t *testing.T) {
				v, errs, err := evalConfig(t, vars, strings.Replace(tt.expr, "time.", "__t.", 1))
				if strings.Contains(tt.expr, "time.") {
					cfg := NewLoadConfig(mapLookup(vars), nil)
					thread := &starlark.Thread{}
					SetConfig(thread, cfg)
					p := Predeclared()
					p["time"] = starlarktime.Module
					g, e := starlark.ExecFileOptions(fileOptions, thread, "g.star", "x = "+tt.expr, p)
					v, err = g["x"], e
					for _, d := range cfg.Errors() {
						errs = append(errs, d.String())
					}
				}
				if err != nil || len(errs) > 0 {
					t.Fatalf("error %v, problems %q", err, errs)
				}
				if v.String() != tt.want {
					t.Errorf("got %s, want %s", v, tt.want)
				}
			})
		}
	}
}

// A missing or invalid value is recorded with the call's position and the
// load goes on with the zero value of the type.
func TestEnvProblemsRecorded(t *testing.T) {
	tests := []struct {
		expr, value, problem, zero string
	}{
		{`env("V")`, "", `guard.star:1:8: env: V is not set; want a string (set it, or give env() a default)`, `""`},
		{`env("V", type = "int")`, "", `env: V is not set; want an int`, `0`},
		{`env("V", type = "int")`, "8o80", `env: V="8o80" is not an int; want an int (a whole number such as 8080)`, `0`},
		{`env("V", type = "int")`, "99999999999999999999", `env: V="99999999999999999999" is out of range`, `0`},
		{`env("V", type = "float")`, "NaN", `env: V="NaN" is not a finite number; want a number such as 0.75`, `0.0`},
		{`env("V", type = "bool")`, "maybe", `env: V="maybe" is not a bool; want a bool: true/false, yes/no, on/off or 1/0`, `False`},
		{`env("V", type = "duration")`, "5", `env: V="5" is not a duration; want a duration such as "500ms", "30s" or "5m"`, `0s`},
		{`env("V", type = "duration")`, "-5s", `env: V="-5s" is a negative duration`, `0s`},
		{`env("V", type = "url")`, "example.org/x", `env: V="example.org/x" is not an absolute URL; want an absolute URL`, `""`},
		{`env("V", type = "list", default = ["a"])`, "", ``, `["a"]`},
		{`env("V", choices = ["dev", "prod"])`, "prodd", `env: V="prodd" is not one of ["dev", "prod"]`, `""`},
		{`env("V", pattern = "[a-z]+")`, "ABC", `env: V="ABC" does not match the pattern "[a-z]+"`, `""`},
		{`env("V", type = "list", choices = ["a", "b"])`, "a, c", `env: V="a, c" element "c" is not one of ["a", "b"]`, `[]`},
		{`env("V", type = "url")`, "https://bob:hunter2hunter2@db.example/x?token=abc&y=1#f", `env: V="https://bob:REDACTED@db.example/x?token=REDACTED&y=REDACTED#REDACTED" is not one of`, ``},
		// A token as the user name, and passwords url.Parse cannot read
		// (an unescaped / or %), are redacted too.
		{`env("V", type = "url")`, "https://hunter2hunter2@git.example/r", `env: V="https://REDACTED@git.example/r" is not one of`, ``},
		{`env("V", type = "url")`, "postgres://bob:hunter2/hunter2@db.example/x", `env: V="postgres://bob:REDACTED@db.example/x" is not an absolute URL`, `""`},
		{`env("V", type = "url")`, "postgres://bob:hunter2%hunter2@db.example/x", `env: V="postgres://bob:REDACTED@db.example/x" is not an absolute URL`, `""`},
		{`env("V", type = "list", pattern = "x")`, "https://bob:hunter2/x@a.example, b", `env: V="https://bob:REDACTED@a.example, b" element`, `[]`},
		// url.Parse takes "u:12" for a host and port, and the rest of the
		// password for the path.
		{`env("V", type = "url")`, "https://bob:12/hunter2@db.example/x", `env: V="https://bob:REDACTED@db.example/x" is not one of`, ``},
		// No scheme, or no "//": not absolute URLs, and the password is
		// hidden all the same.
		{`env("V", type = "url")`, "bob:hunter2@db:5432", `env: V="bob:REDACTED@db:5432" is not an absolute URL`, `""`},
		{`env("V", type = "url")`, "//bob:hunter2@db.example/x", `env: V="//bob:REDACTED@db.example/x" is not an absolute URL`, `""`},
		{`env("V", type = "url")`, "//hunter2hunter2@db.example/x", `env: V="//REDACTED@db.example/x" is not an absolute URL`, `""`},
		{`env("V", type = "list", pattern = "x")`, "bob:hunter2@db:5432", `env: V="bob:REDACTED@db:5432" element "bob:REDACTED@db:5432" does not match`, `[]`},
		// Not a URL type, but written like a credential: hidden too.
		{`env("V", pattern = "x")`, "bob:hunter2@db:5432", `env: V="bob:REDACTED@db:5432" does not match`, `""`},
		{`env("V", pattern = "x")`, "ops@example.org", `env: V="ops@example.org" does not match`, `""`},
	}
	for _, tt := range tests {
		t.Run(tt.expr+"="+tt.value, func(t *testing.T) {
			expr := tt.expr
			if strings.Contains(tt.problem, "is not one of") && strings.Contains(expr, "url") {
				expr = `env("V", type = "url", choices = ["https://a.example"])`
			}
			v, errs, err := evalConfig(t, map[string]string{"V": tt.value}, expr)
			if err != nil {
				t.Fatalf("raised %v, want it recorded", err)
			}
			if tt.problem == "" {
				if len(errs) > 0 {
					t.Fatalf("problems %q", errs)
				}
			} else if len(errs) != 1 || !strings.Contains(errs[0], tt.problem) {
				t.Fatalf("problems %q, want one containing %q", errs, tt.problem)
			}
			if tt.zero != "" && v.String() != tt.zero {
				t.Errorf("value %s, want %s", v, tt.zero)
			}
			if strings.Contains(strings.Join(errs, "\n"), "hunter2") {
				t.Errorf("a URL password is in %q", errs)
			}
		})
	}
}

// Mistakes in the script itself (not in the environment) are raised.
func TestEnvScriptErrorsRaised(t *testing.T) {
	tests := []struct{ expr, err string }{
		{`env("API_TOKEN")`, `env: API_TOKEN looks like a secret (its name contains TOKEN); read it with secret("API_TOKEN")`},
		{`env("db_password", default = "x")`, `env: db_password looks like a secret (its name contains PASSWORD)`},
		{`env("MY_SECRET_THING")`, `contains SECRET`},
		{`env("OPENAI_API_KEY")`, `contains API_KEY`},
		{`env("SSH_PRIVATE_KEY")`, `contains PRIVATE_KEY`},
		{`env("GCP_CREDENTIALS")`, `contains CREDENTIAL`},
		{`require_env("A", "GH_TOKEN")`, `require_env: GH_TOKEN looks like a secret`},
		{`env("1X")`, `env: "1X" is not a variable name`},
		{`env("V", type = "number")`, `env: V: unknown type "number"; want string, int, float, bool, duration, url or list`},
		{`env("V", pattern = "(")`, `env: V: pattern "(": error parsing regexp`},
		{`env("V", default = "x", type = "int")`, `env: V: default "x" is not an int`},
		{`env("V", default = "-1s", type = "duration")`, `env: V: default "-1s" is not a duration`},
		{`env("V", default = "c", choices = ["a", "b"])`, `env: V: default "c" is not one of ["a", "b"]`},
		{`env("V", default = "A", pattern = "[a-z]")`, `env: V: default "A" does not match the pattern "[a-z]"`},
		{`env("V", choices = "ab")`, `env: V: choices must be a list, got string`},
		{`env("V", choices = [])`, `env: V: choices is empty`},
		{`env("V", type = "int", choices = ["a"])`, `env: V: choice "a" is not an int`},
		{`require_env(1)`, `require_env: argument 1 is a int, want a variable name`},
		{`secret("A-B")`, `secret: "A-B" is not a variable name`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, _, err := evalConfig(t, nil, tt.expr)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("got %v, want an error containing %q", err, tt.err)
			}
		})
	}
}

// The scenario at the Go level: three missing and one invalid
// variable give four problems from one load.
func TestEnvAllProblemsAtOnce(t *testing.T) {
	cfg := NewLoadConfig(mapLookup(map[string]string{"PORT": "http"}), nil)
	thread := &starlark.Thread{}
	SetConfig(thread, cfg)
	_, err := starlark.ExecFileOptions(fileOptions, thread, "guard.star", `
A = env("API_URL", type = "url")
B = env("REGION")
require_env("CLUSTER")
P = env("PORT", type = "int")
`, Predeclared())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"guard.star:2:8: env: API_URL is not set",
		"guard.star:3:8: env: REGION is not set",
		"guard.star:4:12: require_env: CLUSTER is not set",
		`guard.star:5:8: env: PORT="http" is not an int`,
	}
	errs := cfg.Errors()
	if len(errs) != len(want) {
		t.Fatalf("got %d problems %q, want %d", len(errs), errs, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(errs[i].String(), want[i]) {
			t.Errorf("problem %d = %q, want it to start with %q", i, errs[i].String(), want[i])
		}
	}
}

// In a check, env() reads through the run Config and raises its problems;
// secret() is refused.
func TestEnvInCheck(t *testing.T) {
	thread := &starlark.Thread{}
	SetContext(thread, t.Context())
	SetConfig(thread, NewRunConfig(mapLookup(map[string]string{"PORT": "80", "BAD": "x"})))
	run := func(expr string) (starlark.Value, error) {
		g, err := starlark.ExecFileOptions(fileOptions, thread, "c.star", "x = "+expr, Predeclared())
		return g["x"], err
	}
	if v, err := run(`env("PORT", type = "int")`); err != nil || v.String() != "80" {
		t.Errorf("env in check = %v, %v", v, err)
	}
	if _, err := run(`env("BAD", type = "int")`); err == nil || !strings.Contains(err.Error(), `env: BAD="x" is not an int`) {
		t.Errorf("invalid in check: %v", err)
	}
	if _, err := run(`require_env("PORT", "NOPE", "NADA")`); err == nil || !strings.Contains(err.Error(), "require_env: not set: NOPE, NADA") {
		t.Errorf("require_env in check: %v", err)
	}
	if _, err := run(`secret("TOK")`); err == nil || !strings.Contains(err.Error(), `secret: call secret("TOK") at the top level of the script`) {
		t.Errorf("secret in check: %v", err)
	}
}

func TestSecretValueNeverFormatsItsValue(t *testing.T) {
	s := SecretValue{Name: "T", Value: "hunter2hunter2"}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		if got := fmtSprintf(f, s); strings.Contains(got, "hunter2") || strings.Contains(got, "68756e746572") {
			t.Errorf("%s gives %s", f, got)
		}
	}
	if got := fmtSprintf("%v", []SecretValue{s}); strings.Contains(got, "hunter2") {
		t.Errorf("slice gives %s", got)
	}
}

// TestIsEnvName holds isEnvName to the regular expression it replaced.
func TestIsEnvName(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	names := []string{"", "A", "_", "_9", "9", "A9", "A-B", "A=B", "A B", "é", "Aé", "HOME", "my_var_2"}
	for c := 0; c < 256; c++ {
		names = append(names, string([]byte{byte(c)}), "A"+string([]byte{byte(c)}))
	}
	for _, n := range names {
		if got, want := isEnvName(n), re.MatchString(n); got != want {
			t.Errorf("isEnvName(%q) = %v, want %v", n, got, want)
		}
	}
}
