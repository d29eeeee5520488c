package main

// This file holds the secret leak suite (docs/design.md): a fake secret made by
// the test, used every way a guard script can use it, under every report
// format and both log formats at debug level, and the assertion that
// neither the raw value nor any encoded form of it appears in anything
// infra-guard wrote. It also adds the testscript commands the env_, secret_
// and leak_ scenarios use.

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/infra-guard/infra-guard/cli"
	"github.com/infra-guard/infra-guard/report"
)

func init() {
	scriptCmds["fake-secret"] = cmdFakeSecret
	scriptCmds["secret-echo-server"] = cmdSecretEchoServer
	scriptCmds["no-leak"] = cmdNoLeak
	scriptCmds["secret-redirect-server"] = cmdSecretRedirectServer
}

// fakeSecret returns a fresh random secret of 30 characters with the
// characters that JSON, XML, HTML and URLs escape in the middle.
func fakeSecret() string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	pick := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alnum))))
			b[i] = alnum[k.Int64()]
		}
		return string(b)
	}
	return pick(10) + `"<&/+=` + pick(10) + `'>%` + pick(4)
}

// fake-secret NAME [FILE]
//
// sets $NAME to a fresh random secret; with FILE, also writes it there
// followed by a newline, as Kubernetes secret files often are.
func cmdFakeSecret(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: fake-secret NAME [FILE]")
	}
	v := fakeSecret()
	ts.Setenv(args[0], v)
	if len(args) == 2 {
		ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(v+"\n"), 0o600))
	}
}

// echoHandler answers every request with what it received: the
// Authorization header, the body and the query, raw and as JSON.
var echoHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	auth := r.Header.Get("Authorization")
	j, _ := json.Marshal(map[string]string{"auth": auth, "body": string(body), "query": r.URL.RawQuery})
	fmt.Fprintf(w, "auth=%s\nbody=%s\nquery=%s\njson=%s\n", auth, body, r.URL.RawQuery, j)
})

// secret-echo-server VAR
//
// starts a server on 127.0.0.1 for the rest of the scenario that echoes
// each request's Authorization header, body and query back, and sets $VAR
// to its base URL.
func cmdSecretEchoServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: secret-echo-server VAR")
	}
	srv := httptest.NewServer(echoHandler)
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL)
}

// secret-redirect-server VAR
//
// starts a server on 127.0.0.1 for the rest of the scenario that answers
// each request with a redirect to ftp://files.example/echo/ followed by
// the request's bearer token, as a server that reflects what it was sent
// into a Location header would, and sets $VAR to its base URL.
func cmdSecretRedirectServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: secret-redirect-server VAR")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "ftp://files.example/echo/"+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		w.WriteHeader(http.StatusFound)
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL)
}

// no-leak NAME FILE...
//
// fails if any FILE (stdout and stderr name the last command's output)
// holds the value of $NAME or any encoded form of it.
func cmdNoLeak(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: no-leak NAME FILE...")
	}
	secret := ts.Getenv(args[0])
	if len(secret) < 16 {
		ts.Fatalf("no-leak: $%s is %d bytes; make it with fake-secret", args[0], len(secret))
	}
	for _, f := range args[1:] {
		if leak := findLeak(ts.ReadFile(f), secret); leak != "" {
			ts.Fatalf("%s leaks the secret: %s", f, leak)
		}
	}
}

// leakForms returns the forms of secret that must never be written, by
// name. They are computed here with the standard library alone, apart
// from the scrubber's own list.
func leakForms(secret string) map[string]string {
	jsonOf := func(s string, escapeHTML bool) string {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(escapeHTML)
		enc.Encode(s)
		out := strings.TrimSpace(b.String())
		return out[1 : len(out)-1]
	}
	xmlOf := func(s string) string {
		var b bytes.Buffer
		xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	forms := map[string]string{
		"raw":             secret,
		"json":            jsonOf(secret, true),
		"json (no html)":  jsonOf(secret, false),
		"%q":              strings.Trim(fmt.Sprintf("%q", secret), `"`),
		"xml":             xmlOf(secret),
		"html":            html.EscapeString(secret),
		"json then xml":   xmlOf(jsonOf(secret, true)),
		"url query":       url.QueryEscape(secret),
		"url path":        url.PathEscape(secret),
		"url path in URL": (&url.URL{Path: secret}).EscapedPath(),
		"github command":  strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(secret),
		"hex":             hex.EncodeToString([]byte(secret)),
		"HEX":             strings.ToUpper(hex.EncodeToString([]byte(secret))),
	}
	// Base64, for the secret at each offset modulo 3 in a larger text: the
	// characters that do not change when the bytes around it do.
	for shift := range 3 {
		for name, enc := range map[string]*base64.Encoding{"base64": base64.RawStdEncoding, "base64url": base64.RawURLEncoding} {
			a := enc.EncodeToString([]byte(strings.Repeat("\x00", shift) + secret + "\x00\x00"))
			b := enc.EncodeToString([]byte(strings.Repeat("\xff", shift) + secret + "\xff\xff"))
			start, end := 0, len(a)
			for start < end && a[start] != b[start] {
				start++
			}
			for end > start && a[end-1] != b[end-1] {
				end--
			}
			forms[fmt.Sprintf("%s at offset %d", name, shift)] = a[start:end]
		}
	}
	return forms
}

// findLeak describes the first form of secret found in text, or "".
func findLeak(text, secret string) string {
	for name, f := range leakForms(secret) {
		if i := strings.Index(text, f); i >= 0 {
			lo, hi := max(0, i-40), min(len(text), i+len(f)+40)
			return fmt.Sprintf("%s form %q at byte %d: …%q…", name, f, i, text[lo:hi])
		}
	}
	return ""
}

// leakGuard uses the secret every way a script can. LEAK_ECHO is a plain
// variable that happens to hold the secret's value: through it the value
// reaches messages, errors, names and metrics as plain text, and only the
// scrubber stands in the way.
const leakGuard = `
TOKEN = secret("LEAK_TOKEN")
SAME = env("LEAK_ECHO")
ECHO = env("ECHO_URL", type = "url")
print("load: token", TOKEN, "same", SAME)

def printing():
    print(TOKEN)
    print("x" + TOKEN + "y")
    print("%s %r {}".format(TOKEN) % (TOKEN, TOKEN))
    print(SAME, json.encode([SAME]))
    return True

def fail_with_secret():
    return fail("token " + TOKEN)  # fail() takes a string: an error, UNKNOWN

def warn_formatted():
    return warn("token %s" % TOKEN)

def fail_with_value():
    return fail("same " + SAME)

def fail_with_json():
    return fail(json.encode({"same": SAME, "list": [SAME]}))

def raise_with_value():
    return {"k": 1}[SAME]

def raise_adding():
    return TOKEN + 1

def metric_named():
    return ok("metric", metrics = {SAME: 1})

def http_header_and_body():
    r = http_check(ECHO + "/echo", method = "POST", headers = {"Authorization": "Bearer " + TOKEN}, body = TOKEN)
    return fail("echo: " + r.body)

def http_basic_auth():
    r = http_check(ECHO + "/echo", basic_auth = ("bob", TOKEN))
    return fail("echo: " + r.body)

def http_query_echo():
    r = http_check(ECHO + "/echo?token=" + TOKEN + "&same=" + SAME)
    return fail("echo: %s (%s)" % (r.body, r.url))

def http_query_unreachable():
    r = http_check("http://127.0.0.1:1/x?token=" + TOKEN, timeout = "2s", retries = 0)
    return fail("unreachable: %s %s" % (r.error, r.url))

check("printing", printing)
check("fail-with-secret", fail_with_secret)
check("warn-formatted", warn_formatted)
check("fail-with-value", fail_with_value)
check("fail-with-json", fail_with_json)
check("raise-with-value", raise_with_value)
check("raise-adding", raise_adding)
check("metric-named", metric_named)
check("http-header-and-body", http_header_and_body)
check("http-basic-auth", http_basic_auth)
check("http-query-echo", http_query_echo)
check("http-query-unreachable", http_query_unreachable)
check("named " + SAME, lambda: True, tags = [SAME])
`

// TestLeakSuite runs leakGuard under every report format and both log
// formats at debug level, with the secret from the environment and from a
// file, and looks for the secret in stdout, stderr and the files the
// github format appends to.
func TestLeakSuite(t *testing.T) {
	srv := httptest.NewServer(echoHandler)
	defer srv.Close()
	dir := t.TempDir()
	guard := filepath.Join(dir, "guard.star")
	if err := os.WriteFile(guard, []byte(leakGuard), 0o644); err != nil {
		t.Fatal(err)
	}
	secret := fakeSecret()
	secretFile := filepath.Join(dir, "token")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range report.Names() {
		for _, logFormat := range []string{"text", "json"} {
			for _, source := range []string{"env", "file"} {
				t.Run(format+"/"+logFormat+"/"+source, func(t *testing.T) {
					files := filepath.Join(t.TempDir(), "gh")
					vars := map[string]string{
						"LEAK_ECHO":           secret,
						"ECHO_URL":            srv.URL,
						"GITHUB_STEP_SUMMARY": files + "-summary",
						"GITHUB_OUTPUT":       files + "-output",
					}
					if source == "env" {
						vars["LEAK_TOKEN"] = secret
					} else {
						vars["LEAK_TOKEN_FILE"] = secretFile
					}
					var stdout, stderr bytes.Buffer
					code := cli.Main([]string{"run", "--format", format, "--log-level", "debug", "--log-format", logFormat, guard},
						cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return vars[k] }})
					if code != 2 {
						t.Errorf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
					}
					outputs := map[string]string{"stdout": stdout.String(), "stderr": stderr.String()}
					for _, f := range []string{"-summary", "-output"} {
						if b, err := os.ReadFile(files + f); err == nil {
							outputs["$GITHUB"+f] = string(b)
						}
					}
					for name, text := range outputs {
						if leak := findLeak(text, secret); leak != "" {
							t.Errorf("%s leaks the secret: %s\n%s", name, leak, text)
						}
					}
					if !strings.Contains(stdout.String()+stderr.String(), "[REDACTED:LEAK_TOKEN]") {
						t.Errorf("no [REDACTED:LEAK_TOKEN] anywhere; did the checks run?\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
					}
				})
			}
		}
	}
}

// TestLeakLoadError: a value that is not valid for its variable is quoted
// in the load error; when it is a secret's value, the report and the log
// show the marker instead, in every format (prometheus only counts load
// errors) and from vet and list.
func TestLeakLoadError(t *testing.T) {
	dir := t.TempDir()
	guard := filepath.Join(dir, "guard.star")
	os.WriteFile(guard, []byte("T = secret(\"LEAK_TOKEN\")\nP = env(\"LEAK_PORT\", type = \"int\")\ncheck(\"c\", lambda: True)\n"), 0o644)
	secret := fakeSecret()
	vars := map[string]string{"LEAK_TOKEN": secret, "LEAK_PORT": secret}
	for _, format := range report.Names() {
		for _, cmd := range [][]string{{"run", "--format", format}, {"vet"}, {"list"}} {
			var stdout, stderr bytes.Buffer
			code := cli.Main(append(cmd, "--log-level", "debug", guard), cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return vars[k] }})
			if code != 3 {
				t.Errorf("%v: exit %d, want 3", cmd, code)
			}
			out := stdout.String() + stderr.String()
			if leak := findLeak(out, secret); leak != "" {
				t.Errorf("%v leaks the secret: %s\n%s", cmd, leak, out)
			}
			if strings.Contains(out, "LEAK_PORT") && !strings.Contains(out, `LEAK_PORT=\"[REDACTED:LEAK_TOKEN]\"`) && !strings.Contains(out, `LEAK_PORT="[REDACTED:LEAK_TOKEN]"`) &&
				!strings.Contains(out, "LEAK_PORT=&#34;[REDACTED:LEAK_TOKEN]&#34;") && !strings.Contains(out, "LEAK_PORT=&quot;[REDACTED:LEAK_TOKEN]&quot;") {
				t.Errorf("%v: the load error does not name LEAK_PORT with the marker:\n%s", cmd, out)
			}
		}
	}
}
