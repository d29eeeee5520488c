package starlib_test

// This file holds the runner of @std's own Starlark tests: every
// top-level test_*() function of starlib/*_test.star runs as a check of a
// guard, with an assert module, and passes unless it raises an error or
// returns a failing result. (infra-guard test is the tool for users' test
// files; this runner stays small and internal.)

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

func TestStarFiles(t *testing.T) {
	files, err := filepath.Glob("*_test.star")
	if err != nil || len(files) == 0 {
		t.Fatalf("no *_test.star files: %v", err)
	}
	env := testEnv(t)
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			tests := testFuncs(t, file, src)
			if len(tests) == 0 {
				t.Fatalf("%s has no test_* functions", file)
			}
			// Each test is registered as a check at the end of the file,
			// so positions in the file stay as written.
			var b strings.Builder
			b.Write(src)
			for _, name := range tests {
				fmt.Fprintf(&b, "\ncheck(%q, %s)", name, name)
			}
			g, err := runtime.Load(context.Background(), file, []byte(b.String()), runtime.LoadOptions{
				Extra: starlark.StringDict{"assert": assertModule},
				Env:   func(name string) (string, bool) { v, ok := env[name]; return v, ok },
			})
			if err != nil {
				t.Fatal(err)
			}
			rep := g.Run(context.Background(), runtime.RunOptions{})
			for _, c := range rep.Checks {
				if c.Status != result.OK {
					t.Errorf("%s: %s %s\n%s", c.Name, c.Status, c.Message, c.Backtrace)
				}
			}
		})
	}
}

// testFuncs lists the top-level def test_* of a file.
func testFuncs(t *testing.T, name string, src []byte) []string {
	f, err := (&syntax.FileOptions{Set: true, While: true, TopLevelControl: true, Recursion: true}).Parse(name, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, stmt := range f.Stmts {
		if d, ok := stmt.(*syntax.DefStmt); ok && strings.HasPrefix(d.Name.Name, "test_") {
			names = append(names, d.Name.Name)
		}
	}
	return names
}

// testEnv starts what the tests of checks.star reach, and names it in
// variables they read with env(): TEST_URL (JSON {"status": "up", ...}),
// TEST_ADDR (its host:port), TEST_TLS_ADDR and TEST_CA (a TLS server and
// its certificate), TEST_FILE (a file just written), TEST_SECRET.
func testEnv(t *testing.T) map[string]string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status": "up", "checks": {"db": {"state": "ok", "lag": 2}}, "items": [{"name": "a"}]}`)
	}))
	t.Cleanup(srv.Close)
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsSrv.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "backup.tar")
	if err := os.WriteFile(file, []byte("backup"), 0o644); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"TEST_URL":      srv.URL,
		"TEST_ADDR":     srv.Listener.Addr().String(),
		"TEST_TLS_ADDR": tlsSrv.Listener.Addr().String(),
		"TEST_CA":       ca,
		"TEST_FILE":     file,
		"TEST_SECRET":   "s3cr3t-value",
	}
}

// assertModule is the tests' assert: eq, ne, true, contains and fails.
var assertModule = &starlarkstruct.Module{Name: "assert", Members: starlark.StringDict{
	"eq": starlark.NewBuiltin("assert.eq", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var got, want starlark.Value
		msg := ""
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "got", &got, "want", &want, "msg?", &msg); err != nil {
			return nil, err
		}
		if eq, err := starlark.Equal(got, want); err != nil || !eq {
			return nil, fmt.Errorf("%sgot %s, want %s", prefix(msg), got, want)
		}
		return starlark.None, nil
	}),
	"ne": starlark.NewBuiltin("assert.ne", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var got, unwanted starlark.Value
		msg := ""
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "got", &got, "unwanted", &unwanted, "msg?", &msg); err != nil {
			return nil, err
		}
		if eq, err := starlark.Equal(got, unwanted); err != nil || eq {
			return nil, fmt.Errorf("%sgot %s, want anything else", prefix(msg), got)
		}
		return starlark.None, nil
	}),
	"true": starlark.NewBuiltin("assert.true", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var v starlark.Value
		msg := ""
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "v", &v, "msg?", &msg); err != nil {
			return nil, err
		}
		if !v.Truth() {
			return nil, fmt.Errorf("%s%s is not true", prefix(msg), v)
		}
		return starlark.None, nil
	}),
	"contains": starlark.NewBuiltin("assert.contains", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var s, sub string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s, "sub", &sub); err != nil {
			return nil, err
		}
		if !strings.Contains(s, sub) {
			return nil, fmt.Errorf("%q does not contain %q", s, sub)
		}
		return starlark.None, nil
	}),
	// fails(fn, pattern) calls fn() and wants an error matching pattern.
	"fails": starlark.NewBuiltin("assert.fails", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var fn starlark.Callable
		var pattern string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "fn", &fn, "pattern", &pattern); err != nil {
			return nil, err
		}
		v, err := starlark.Call(thread, fn, nil, nil)
		if err == nil {
			return nil, fmt.Errorf("%s returned %s, want an error matching %q", fn.Name(), v, pattern)
		}
		msg := err.Error()
		if e, ok := err.(*starlark.EvalError); ok {
			msg = e.Msg
		}
		if !regexp.MustCompile(pattern).MatchString(msg) {
			return nil, fmt.Errorf("%s failed with %q, want an error matching %q", fn.Name(), msg, pattern)
		}
		return starlark.None, nil
	}),
}}

func prefix(msg string) string {
	if msg == "" {
		return ""
	}
	return msg + ": "
}
