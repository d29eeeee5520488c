package builtins

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
	"go.uber.org/goleak"

	"github.com/infra-guard/infra-guard/redact"
)

func TestHTTPBackoff(t *testing.T) {
	top := func(n int64) int64 { return n - 1 } // the largest value rand could give
	zero := func(int64) int64 { return 0 }
	half := func(n int64) int64 { return n / 2 }
	base, cap := 200*time.Millisecond, 5*time.Second
	tests := []struct {
		attempt int
		rnd     func(int64) int64
		want    time.Duration
	}{
		{0, top, 200 * time.Millisecond},
		{1, top, 400 * time.Millisecond},
		{2, top, 800 * time.Millisecond},
		{4, top, 3200 * time.Millisecond},
		{5, top, 5 * time.Second}, // 6.4s capped
		{40, top, 5 * time.Second},
		{62, top, 5 * time.Second},
		{63, top, 5 * time.Second}, // 200ms<<63 would overflow
		{1000, top, 5 * time.Second},
		{0, zero, 0},
		{5, zero, 0},
		{2, half, 400 * time.Millisecond},
		{-1, top, 0},
	}
	for _, tt := range tests {
		if got := Backoff(base, cap, tt.attempt, tt.rnd); got != tt.want {
			t.Errorf("Backoff(%s, %s, %d) = %s, want %s", base, cap, tt.attempt, got, tt.want)
		}
	}
	// rnd is asked for [0, limit], both ends included.
	var asked int64
	Backoff(base, cap, 1, func(n int64) int64 { asked = n; return 0 })
	if want := int64(400*time.Millisecond) + 1; asked != want {
		t.Errorf("Backoff asked rnd for [0, %d), want [0, %d)", asked, want)
	}
	if got := Backoff(0, cap, 1, top); got != 0 {
		t.Errorf("Backoff with base 0 = %s, want 0", got)
	}
}

func TestHTTPParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"0", 0, true},
		{"3", 3 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"3600", time.Hour, true},
		{"99999999999999999999", 1<<63 - 1, true},
		{"Sun, 01 Mar 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Sunday, 01-Mar-26 12:01:00 GMT", time.Minute, true}, // RFC 850
		{"Sun Mar  1 12:00:05 2026", 5 * time.Second, true},   // asctime
		{"Sun, 01 Mar 2026 11:00:00 GMT", 0, true},            // in the past: no wait
		{"", 0, false},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestHTTPOK(t *testing.T) {
	t.Parallel()
	srv := netServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		fmt.Fprint(w, `{"db": "up", "n": [1, 2]}`)
	})
	netExec(t, `
r = http_check(URL + "/health")
assert.eq(type(r), "http_response")
assert.true(r.ok)
assert.true(bool(r))
assert.eq(r.status, 200)
assert.eq(r.error, "")
assert.eq(r.attempts, 1)
assert.eq(r.truncated, False)
assert.eq(r.tls, None)
assert.eq(r.url, URL + "/health")
# None is the documented default of ca_file; timeout takes a time.duration.
assert.true(http_check(URL + "/health", ca_file = None, timeout = time.parse_duration("2s")).ok)
assert.eq(r.body, '{"db": "up", "n": [1, 2]}')
assert.eq(r.json(), {"db": "up", "n": [1, 2]})
assert.eq(r.json()["db"], "up")
assert.eq(type(r.duration_ms), "float")
assert.true(r.duration_ms >= r.first_attempt_ms and r.first_attempt_ms > 0, str(r.duration_ms))
assert.eq(r.headers["content-type"], "application/json")
assert.eq(r.headers.get("CONTENT-TYPE"), "application/json")
assert.eq(r.headers.get("x-missing"), None)
assert.eq(r.headers.get("x-missing", "d"), "d")
assert.eq(r.headers["x-multi"], "a, b")
assert.true("Content-Length" in r.headers.keys())
assert.true("content-length" in r.headers)
assert.true(len(r.headers) >= 3)
assert.eq(type(r.headers), "http_headers")
assert.fails(lambda: r.headers["nope"], "key")
assert.eq(dir(r), ["attempts", "body", "duration_ms", "error", "first_attempt_ms", "headers", "json", "ok", "status", "tls", "truncated", "url"])
assert.true(str(r).startswith("http_response("), str(r))
`, starlark.StringDict{"URL": starlark.String(srv.URL), "time": starlarktime.Module})
}

// The transport's small read buffer (2 KiB, for memory at fan-out) still
// reads header lines longer than itself.
func TestHTTPLongHeader(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 16<<10)
	srv := netServer(t, func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Long", long) })
	r := netMust(t, "http_check", []any{srv.URL})
	if got, _, _ := netAttr(t, r, "headers").(*httpHeaders).Get(starlark.String("x-long")); got != starlark.String(long) || !netBool(t, r, "ok") {
		t.Errorf("got %s with a %d-byte header", r, len(long))
	}
}

func TestHTTPMethodsAndBodies(t *testing.T) {
	t.Parallel()
	type seen struct{ method, body, ctype, auth, host, ua string }
	var (
		mu  sync.Mutex
		got []seen
	)
	srv := netServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u, p, _ := r.BasicAuth()
		mu.Lock()
		got = append(got, seen{r.Method, string(b), r.Header.Get("Content-Type"), u + ":" + p, r.Host, r.Header.Get("User-Agent")})
		mu.Unlock()
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
		}
	})
	netExec(t, `
TOKEN = secret("t0ps3cret")
def check():
    r = http_check(URL, method = "post", json = {"a": [1, True, None]})
    assert.true(r.ok, r.error)
    r = http_check(URL, method = "PUT", body = "raw " + TOKEN, headers = {"Content-Type": "text/plain", "Host": "api.example"})
    assert.true(r.ok, r.error)
    r = http_check(URL, method = "HEAD", basic_auth = ("me", TOKEN))
    assert.eq(r.body, "")
    r = http_check(URL + "/missing")
    assert.eq((r.ok, r.status, r.error), (False, 404, ""))
    r = http_check(URL + "/missing", expect_status = 404)
    assert.true(r.ok)
    r = http_check(URL + "/missing", expect_status = [200, 404])
    assert.true(r.ok)
    r = http_check(URL, expect_status = [204])
    assert.eq((r.ok, r.status), (False, 200))

check()
`, starlark.StringDict{"URL": starlark.String(srv.URL), "secret": starlark.NewBuiltin("secret", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		return NewSecret("TOKEN", string(args[0].(starlark.String))), nil
	})})
	mu.Lock()
	defer mu.Unlock()
	want := []seen{
		{"POST", `{"a":[1,true,null]}`, "application/json", ":", "", "infra-guard"},
		{"PUT", "raw t0ps3cret", "text/plain", ":", "api.example", "infra-guard"},
		{"HEAD", "", "", "me:t0ps3cret", "", "infra-guard"},
	}
	for i, w := range want {
		g := got[i]
		if w.host == "" {
			g.host = ""
		}
		if g != w {
			t.Errorf("request %d: got %+v, want %+v", i, g, w)
		}
	}
}

func TestHTTPJSONErrors(t *testing.T) {
	t.Parallel()
	srv := netServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/empty" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html>oops</html>")
	})
	netExec(t, `
r = http_check(URL)
assert.fails(r.json, "http_check: json\\(\\): the response body \\(status 200, text/html, 17 bytes\\) is not valid JSON")
assert.fails(http_check(URL + "/empty").json, "http_check: json\\(\\): the response body is empty \\(status 204\\)")
assert.fails(http_check(DOWN, retries = 0).json, "http_check: json\\(\\): no body to decode; the request failed: connection refused")
`, starlark.StringDict{"URL": starlark.String(srv.URL), "DOWN": starlark.String("http://" + netRefusedAddr(t))})
}

// httpFlaky answers the statuses in order, then 200; it counts requests.
type httpFlaky struct {
	statuses []int
	header   func(i int) http.Header
	n        atomic.Int32
	keys     sync.Map // request number → Idempotency-Key
}

func (f *httpFlaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(f.n.Add(1)) - 1
	f.keys.Store(i, r.Header.Get("Idempotency-Key"))
	if i < len(f.statuses) {
		if f.header != nil {
			for k, v := range f.header(i) {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(f.statuses[i])
		fmt.Fprintf(w, "attempt %d", i+1)
		return
	}
	fmt.Fprint(w, "ok")
}

func TestHTTPRetriesStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status       int
		wantAttempts int
		wantOK       bool
	}{
		{502, 2, true},
		{503, 2, true},
		{504, 2, true},
		{429, 2, true},
		// 500 then 200 passes in two attempts (issue 4's test list); 501
		// and other statuses are the server's final answer.
		{500, 2, true},
		{501, 1, false},
		{404, 1, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			f := &httpFlaky{statuses: []int{tt.status}}
			srv := netServer(t, f.ServeHTTP)
			r := netMust(t, "http_check", []any{srv.URL})
			if got := netInt(t, r, "attempts"); got != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
			}
			if got := netBool(t, r, "ok"); got != tt.wantOK {
				t.Errorf("ok = %v, want %v (%s)", got, tt.wantOK, r)
			}
			if got := int(f.n.Load()); got != tt.wantAttempts {
				t.Errorf("server saw %d requests, want %d", got, tt.wantAttempts)
			}
			if !tt.wantOK {
				if got := netInt(t, r, "status"); got != tt.status {
					t.Errorf("status = %d, want %d", got, tt.status)
				}
				if got := netStr(t, r, "error"); got != "" {
					t.Errorf("error = %q, want none: the server answered", got)
				}
			}
		})
	}
	t.Run("exhausted", func(t *testing.T) {
		t.Parallel()
		f := &httpFlaky{statuses: []int{503, 503, 503, 503}}
		srv := netServer(t, f.ServeHTTP)
		r := netMust(t, "http_check", []any{srv.URL}, "retries", 2)
		if netInt(t, r, "attempts") != 3 || netInt(t, r, "status") != 503 || netBool(t, r, "ok") {
			t.Errorf("got %s attempts %d, want 3 attempts ending 503", r, netInt(t, r, "attempts"))
		}
		if got := netStr(t, r, "body"); got != "attempt 3" {
			t.Errorf("body = %q, want the last attempt's", got)
		}
	})
	t.Run("retries=0", func(t *testing.T) {
		t.Parallel()
		f := &httpFlaky{statuses: []int{503}}
		srv := netServer(t, f.ServeHTTP)
		r := netMust(t, "http_check", []any{srv.URL}, "retries", 0)
		if netInt(t, r, "attempts") != 1 || netInt(t, r, "status") != 503 {
			t.Errorf("got %s, want one attempt", r)
		}
	})
}

func TestHTTPRetryAfter(t *testing.T) {
	t.Parallel()
	for _, status := range []int{429, 503} {
		for _, form := range []string{"seconds", "date"} {
			t.Run(fmt.Sprint(status, form), func(t *testing.T) {
				t.Parallel()
				f := &httpFlaky{statuses: []int{status}, header: func(int) http.Header {
					v := "1"
					if form == "date" {
						// HTTP dates have whole seconds: this asks for a wait
						// of more than one second and at most two.
						v = time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
					}
					return http.Header{"Retry-After": {v}}
				}}
				srv := netServer(t, f.ServeHTTP)
				start := time.Now()
				r := netMust(t, "http_check", []any{srv.URL})
				took := time.Since(start)
				if !netBool(t, r, "ok") || netInt(t, r, "attempts") != 2 {
					t.Fatalf("got %s after %d attempts, want ok after 2", r, netInt(t, r, "attempts"))
				}
				// The jittered backoff alone is at most 200ms before the
				// first retry, so a wait this long is the server's.
				if took < 900*time.Millisecond || took > 5*time.Second {
					t.Errorf("took %s, want the Retry-After wait of about 1-2s", took)
				}
			})
		}
	}
}

func TestHTTPRetryAfterBeyondDeadline(t *testing.T) {
	t.Parallel()
	f := &httpFlaky{statuses: []int{503}, header: func(int) http.Header { return http.Header{"Retry-After": {"3600"}} }}
	srv := netServer(t, f.ServeHTTP)
	start := time.Now()
	r := netMust(t, "http_check", []any{srv.URL}, "timeout", "3s")
	took := time.Since(start)
	// It gives up at once instead of sleeping until the deadline.
	if took > 1500*time.Millisecond {
		t.Errorf("took %s; want an answer well before the 3s deadline", took)
	}
	msg := netStr(t, r, "error")
	if !strings.HasPrefix(msg, "gave up: server asked to retry after 3600s but only 2.") || !strings.HasSuffix(msg, "s remain") {
		t.Errorf("error = %q", msg)
	}
	if netBool(t, r, "ok") || netInt(t, r, "status") != 503 || netInt(t, r, "attempts") != 1 {
		t.Errorf("got %s, want a failed single attempt with status 503", r)
	}
}

func TestHTTPPostIdempotency(t *testing.T) {
	t.Parallel()
	t.Run("no key: not retried", func(t *testing.T) {
		t.Parallel()
		f := &httpFlaky{statuses: []int{503}}
		srv := netServer(t, f.ServeHTTP)
		r := netMust(t, "http_check", []any{srv.URL}, "method", "POST", "body", "x")
		if netInt(t, r, "attempts") != 1 || f.n.Load() != 1 || netInt(t, r, "status") != 503 {
			t.Errorf("got %s after %d attempts, want 1 attempt ending 503", r, netInt(t, r, "attempts"))
		}
	})
	t.Run("PATCH no key: reset not retried", func(t *testing.T) {
		t.Parallel()
		var n atomic.Int32
		addr := netRawServer(t, func(conn net.Conn, _ int) {
			n.Add(1)
			netReadHead(conn)
			netReset(conn)
		})
		r := netMust(t, "http_check", []any{"http://" + addr}, "method", "PATCH")
		if netInt(t, r, "attempts") != 1 || n.Load() != 1 {
			t.Errorf("got %s after %d attempts, want 1", r, netInt(t, r, "attempts"))
		}
	})
	for _, method := range []string{"POST", "PATCH"} {
		t.Run(method+" with key: retried with the same key", func(t *testing.T) {
			t.Parallel()
			f := &httpFlaky{statuses: []int{503, 502}}
			srv := netServer(t, f.ServeHTTP)
			r := netMust(t, "http_check", []any{srv.URL}, "method", method, "body", "x", "idempotency_key", "order-42")
			if !netBool(t, r, "ok") || netInt(t, r, "attempts") != 3 {
				t.Fatalf("got %s after %d attempts, want ok after 3", r, netInt(t, r, "attempts"))
			}
			for i := range 3 {
				if k, _ := f.keys.Load(i); k != "order-42" {
					t.Errorf("attempt %d sent Idempotency-Key %q, want order-42", i+1, k)
				}
			}
		})
	}
}

func TestHTTPTimeouts(t *testing.T) {
	t.Parallel()
	t.Run("never answers", func(t *testing.T) {
		t.Parallel()
		addr := netRawServer(t, func(conn net.Conn, _ int) {
			io.Copy(io.Discard, conn) // reads until the client gives up
		})
		start := time.Now()
		r := netMust(t, "http_check", []any{"http://" + addr + "/"}, "timeout", "1s")
		took := time.Since(start)
		if got := netStr(t, r, "error"); got != "timed out after 1s" {
			t.Errorf("error = %q, want timed out after 1s", got)
		}
		if took < time.Second || took > 3*time.Second {
			t.Errorf("took %s, want about 1s", took)
		}
	})
	t.Run("body trickles", func(t *testing.T) {
		t.Parallel()
		addr := netRawServer(t, func(conn net.Conn, _ int) {
			netReadHead(conn)
			fmt.Fprint(conn, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
			for range 1000 {
				if _, err := conn.Write([]byte("x")); err != nil {
					return
				}
				time.Sleep(time.Second)
			}
		})
		start := time.Now()
		r := netMust(t, "http_check", []any{"http://" + addr + "/"}, "timeout", "2s")
		took := time.Since(start)
		msg := netStr(t, r, "error")
		if !strings.HasPrefix(msg, "timed out after 2s while reading the body (") {
			t.Errorf("error = %q", msg)
		}
		if netBool(t, r, "ok") || netInt(t, r, "status") != 200 {
			t.Errorf("got %s, want a failure with status 200", r)
		}
		if took < 2*time.Second || took > 4*time.Second {
			t.Errorf("took %s, want about 2s", took)
		}
	})
	t.Run("check deadline", func(t *testing.T) {
		t.Parallel()
		addr := netRawServer(t, func(conn net.Conn, _ int) { io.Copy(io.Discard, conn) })
		ctx, cancel := context.WithTimeoutCause(t.Context(), 500*time.Millisecond, errors.New("timed out after 500ms (the check's)"))
		defer cancel()
		start := time.Now()
		r, err := netCall(t, ctx, "http_check", []any{"http://" + addr + "/"}, "timeout", "30s")
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("took %s; the check's deadline was 500ms", took)
		}
		if got := netStr(t, r, "error"); got != "timed out after 500ms (the check's)" {
			t.Errorf("error = %q, want the check's cause", got)
		}
	})
}

func TestHTTPConnectionFailures(t *testing.T) {
	t.Parallel()
	t.Run("reset then ok", func(t *testing.T) {
		t.Parallel()
		addr := netRawServer(t, func(conn net.Conn, n int) {
			netReadHead(conn)
			if n == 0 {
				netReset(conn)
				return
			}
			fmt.Fprint(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			conn.Close()
		})
		r := netMust(t, "http_check", []any{"http://" + addr + "/"})
		if !netBool(t, r, "ok") || netInt(t, r, "attempts") != 2 {
			t.Errorf("got %s after %d attempts, want ok after 2", r, netInt(t, r, "attempts"))
		}
	})
	t.Run("always reset", func(t *testing.T) {
		t.Parallel()
		addr := netRawServer(t, func(conn net.Conn, _ int) {
			netReadHead(conn)
			netReset(conn)
		})
		r := netMust(t, "http_check", []any{"http://" + addr + "/"})
		if got := netStr(t, r, "error"); !strings.HasPrefix(got, "connection reset by peer") || !strings.HasSuffix(got, "(attempt 3 of 3)") {
			t.Errorf("error = %q", got)
		}
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		addr := netRefusedAddr(t)
		r := netMust(t, "http_check", []any{"http://" + addr + "/health?token=hunter2"})
		want := fmt.Sprintf("connection refused (%s) (attempt 3 of 3)", addr)
		if got := netStr(t, r, "error"); got != want {
			t.Errorf("error = %q, want %q", got, want)
		}
		if netBool(t, r, "ok") || netInt(t, r, "status") != 0 || netInt(t, r, "attempts") != 3 {
			t.Errorf("got %s", r)
		}
	})
	t.Run("unresolvable", func(t *testing.T) {
		t.Parallel()
		r := netMust(t, "http_check", []any{"http://no-such-host.invalid/"})
		if got := netStr(t, r, "error"); got != "cannot resolve host no-such-host.invalid: no such host" {
			t.Errorf("error = %q", got)
		}
		if netInt(t, r, "attempts") != 1 {
			t.Errorf("attempts = %d; an unknown host is not retried", netInt(t, r, "attempts"))
		}
	})
	t.Run("not HTTP", func(t *testing.T) {
		t.Parallel()
		addr := netRawServer(t, func(conn net.Conn, _ int) {
			netReadHead(conn)
			fmt.Fprint(conn, "SSH-2.0-OpenSSH_9.6\r\n")
			conn.Close()
		})
		r := netMust(t, "http_check", []any{"http://" + addr + "/"})
		if got := netStr(t, r, "error"); !strings.Contains(got, "malformed HTTP") || netInt(t, r, "attempts") != 1 {
			t.Errorf("error = %q after %d attempts", got, netInt(t, r, "attempts"))
		}
	})
}

func TestHTTPRedirects(t *testing.T) {
	t.Parallel()
	t.Run("loop", func(t *testing.T) {
		t.Parallel()
		var n atomic.Int32
		srv := netServer(t, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			http.Redirect(w, r, "/loop?token=hunter2", http.StatusFound)
		})
		r := netMust(t, "http_check", []any{srv.URL + "/loop"})
		if got := netStr(t, r, "error"); got != "too many redirects (5)" {
			t.Errorf("error = %q", got)
		}
		if got := n.Load(); got != 6 {
			t.Errorf("server saw %d requests, want 6 (the first and 5 redirects)", got)
		}
		if netInt(t, r, "attempts") != 1 {
			t.Errorf("a redirect loop was retried")
		}
	})
	t.Run("not followed", func(t *testing.T) {
		t.Parallel()
		srv := netServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
		})
		r := netMust(t, "http_check", []any{srv.URL}, "follow_redirects", false)
		if netInt(t, r, "status") != 301 || netBool(t, r, "ok") || netAttr(t, r, "headers").(*httpHeaders).h.Get("Location") != "/elsewhere" {
			t.Errorf("got %s", r)
		}
		r = netMust(t, "http_check", []any{srv.URL}, "follow_redirects", false, "expect_status", 301)
		if !netBool(t, r, "ok") {
			t.Errorf("got %s with expect_status=301", r)
		}
	})
	t.Run("authorization", func(t *testing.T) {
		t.Parallel()
		var mu sync.Mutex
		auth := map[string]string{}
		target := netServer(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			auth[r.URL.Path] = r.Header.Get("Authorization") + "|" + r.Header.Get("X-Other")
			mu.Unlock()
		})
		// The same server under two host names: 127.0.0.1 and localhost.
		other := strings.Replace(target.URL, "127.0.0.1", "localhost", 1)
		origin := netServer(t, func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/cross":
				http.Redirect(w, r, other+"/landed-cross", http.StatusFound)
			case "/same":
				http.Redirect(w, r, target.URL+"/landed-other-port", http.StatusFound)
			}
		})
		hdrs := map[string]any{"Authorization": "Bearer abc", "X-Other": "kept"}
		for _, u := range []string{origin.URL + "/cross", origin.URL + "/same"} {
			if r := netMust(t, "http_check", []any{u}, "headers", hdrs); !netBool(t, r, "ok") {
				t.Fatalf("%s: %s", u, r)
			}
		}
		selfRedirect := netServer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/start" {
				http.Redirect(w, r, "/landed-same", http.StatusFound)
				return
			}
			mu.Lock()
			auth[r.URL.Path] = r.Header.Get("Authorization") + "|" + r.Header.Get("X-Other")
			mu.Unlock()
		})
		netMust(t, "http_check", []any{selfRedirect.URL + "/start"}, "headers", hdrs)
		mu.Lock()
		defer mu.Unlock()
		want := map[string]string{
			"/landed-cross":      "|kept",           // 127.0.0.1 → localhost: dropped
			"/landed-other-port": "|kept",           // another port is another origin: dropped
			"/landed-same":       "Bearer abc|kept", // same host: kept
		}
		for path, w := range want {
			if auth[path] != w {
				t.Errorf("%s saw Authorization|X-Other %q, want %q", path, auth[path], w)
			}
		}
	})
	t.Run("https to http refused", func(t *testing.T) {
		t.Parallel()
		plain := netServer(t, func(w http.ResponseWriter, r *http.Request) {})
		ca := newNetCA(t)
		secure := netTLSServer(t, ca.leaf(t, []string{"127.0.0.1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)),
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, plain.URL+"/down?token=hunter2", http.StatusFound)
			}))
		r := netMust(t, "http_check", []any{secure.URL}, "ca_file", ca.file(t))
		want := "refused redirect from https to http (" + plain.URL + "/down?token=REDACTED)"
		if got := netStr(t, r, "error"); got != want {
			t.Errorf("error = %q, want %q", got, want)
		}
		if netInt(t, r, "attempts") != 1 {
			t.Errorf("a refused redirect was retried")
		}
	})
}

func TestHTTPTLS(t *testing.T) {
	t.Parallel()
	ca := newNetCA(t)
	caFile := ca.file(t)
	now := time.Now()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })

	t.Run("verified with ca_file", func(t *testing.T) {
		t.Parallel()
		srv := netTLSServer(t, ca.leaf(t, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(50*24*time.Hour+time.Hour)), ok)
		r := netMust(t, "http_check", []any{srv.URL}, "ca_file", caFile)
		if !netBool(t, r, "ok") {
			t.Fatalf("got %s", r)
		}
		info := netAttr(t, r, "tls")
		if got := netInt(t, info, "days_left"); got != 50 {
			t.Errorf("tls.days_left = %d, want 50", got)
		}
		if got := netStr(t, info, "issuer"); !strings.Contains(got, "CN=infra-guard test CA") {
			t.Errorf("tls.issuer = %q", got)
		}
		if got := netStr(t, info, "subject"); !strings.Contains(got, "CN=127.0.0.1") {
			t.Errorf("tls.subject = %q", got)
		}
		if _, err := time.Parse(time.RFC3339, netStr(t, info, "not_after")); err != nil {
			t.Errorf("tls.not_after: %v", err)
		}
	})
	tests := []struct {
		name    string
		cert    func() tlsCertPair
		host    string
		wantErr string
	}{
		{"self-signed", func() tlsCertPair {
			return tlsCertPair{(*netCA)(nil).leaf(t, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour)), ""}
		}, "127.0.0.1", "TLS: certificate signed by unknown authority (self-signed: CN=127.0.0.1,O=infra-guard tests)"},
		{"expired", func() tlsCertPair {
			return tlsCertPair{ca.leaf(t, []string{"127.0.0.1"}, now.Add(-72*time.Hour), now.Add(-49*time.Hour)), caFile}
		}, "127.0.0.1", "TLS: certificate expired on "},
		{"wrong host", func() tlsCertPair {
			return tlsCertPair{ca.leaf(t, []string{"other.test"}, now.Add(-time.Hour), now.Add(time.Hour)), caFile}
		}, "localhost", "TLS: certificate is valid for other.test, not localhost"},
		{"unknown CA", func() tlsCertPair {
			return tlsCertPair{newNetCA(t).leaf(t, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour)), caFile}
		}, "127.0.0.1", "TLS: certificate signed by unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pair := tt.cert()
			srv := netTLSServer(t, pair.cert, ok)
			url := strings.Replace(srv.URL, "127.0.0.1", tt.host, 1)
			var kwargs []any
			if pair.caFile != "" {
				kwargs = append(kwargs, "ca_file", pair.caFile)
			}
			r := netMust(t, "http_check", []any{url}, kwargs...)
			if got := netStr(t, r, "error"); !strings.HasPrefix(got, tt.wantErr) {
				t.Errorf("error = %q, want %q…", got, tt.wantErr)
			}
			if netBool(t, r, "ok") || netInt(t, r, "attempts") != 1 {
				t.Errorf("got %s after %d attempts; a failed verification is not retried", r, netInt(t, r, "attempts"))
			}
			// insecure=True skips verification and still reports the certificate.
			r = netMust(t, "http_check", []any{url}, "insecure", true)
			if !netBool(t, r, "ok") || netAttr(t, r, "tls") == starlark.None {
				t.Errorf("insecure: got %s", r)
			}
			if tt.name == "expired" {
				if got := netInt(t, netAttr(t, r, "tls"), "days_left"); got != -2 {
					t.Errorf("expired: tls.days_left = %d, want -2 (expired 49 hours ago: \"2 days ago\")", got)
				}
			}
		})
	}
	t.Run("plain HTTP on a TLS URL", func(t *testing.T) {
		t.Parallel()
		srv := netServer(t, func(w http.ResponseWriter, r *http.Request) {})
		r := netMust(t, "http_check", []any{strings.Replace(srv.URL, "http:", "https:", 1)})
		if got := netStr(t, r, "error"); got != "TLS: the server answered with plain HTTP, not TLS (use http://?)" {
			t.Errorf("error = %q", got)
		}
	})
}

type tlsCertPair struct {
	cert   tls.Certificate
	caFile string
}

func TestHTTPLargeBody(t *testing.T) {
	// Not parallel: it measures the heap.
	chunk := make([]byte, 32<<10)
	srv := netServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(50<<20))
		for range (50 << 20) / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := netMust(t, "http_check", []any{srv.URL})
	runtime.ReadMemStats(&after)
	if !netBool(t, r, "ok") || !netBool(t, r, "truncated") {
		t.Errorf("got %s truncated=%v, want ok and truncated", r, netBool(t, r, "truncated"))
	}
	if n := len(r.(*httpResponse).body); n != httpMaxBody {
		t.Errorf("kept %d bytes of the body, want %d", n, httpMaxBody)
	}
	// Everything allocated during the call, freed or not: reading the
	// whole 50 MiB would be far more.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Errorf("allocated %.1f MiB for a 50 MiB body; want under 8 MiB", float64(grew)/(1<<20))
	}
}

func TestHTTPQueryTokenNeverShown(t *testing.T) {
	t.Parallel()
	const token = "hunter2-s3cret"
	down := "http://" + netRefusedAddr(t)
	hang := "http://" + netRawServer(t, func(conn net.Conn, _ int) { io.Copy(io.Discard, conn) })
	redirect := netServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/again?token="+token, http.StatusFound)
	})
	for _, u := range []string{
		down + "/health?token=" + token,
		down + "/health?a=1&token=" + token + "#frag" + token,
		"http://user:" + token + "@" + down[len("http://"):] + "/",
		hang + "/?token=" + token,
		redirect.URL + "/?token=" + token,
		"http://no-such-host.invalid/?token=" + token,
	} {
		r := netMust(t, "http_check", []any{u}, "timeout", "500ms", "retries", 0)
		for _, s := range []string{netStr(t, r, "error"), netStr(t, r, "url"), r.String()} {
			if strings.Contains(s, token) || strings.Contains(s, "hunter2") {
				t.Errorf("%s: the token shows in %q", redact.URL(u), s)
			}
		}
		if netStr(t, r, "error") == "" {
			t.Errorf("%s: no error", redact.URL(u))
		}
	}
	// Misuse errors redact the URL too.
	for _, u := range []string{"ftp://h/?token=" + token, "h/?token=" + token, "http:///?token=" + token} {
		_, err := netCall(t, t.Context(), "http_check", []any{u})
		if err == nil || strings.Contains(err.Error(), token) {
			t.Errorf("http_check(%q): %v", redact.URL(u), err)
		}
	}
}

func TestHTTPArgumentErrors(t *testing.T) {
	t.Parallel()
	netExec(t, `
U = "http://127.0.0.1:1/"
S = secret("s")
assert.fails(lambda: http_check(), "http_check: missing argument for url")
assert.fails(lambda: http_check(1), "http_check: url must be a string or secret, got int")
assert.fails(lambda: http_check("ftp://example.org/x?token=abc"), 'http_check: url: unsupported scheme "ftp" in "ftp://example.org/x\\?token=REDACTED" \\(only http and https\\)')
assert.fails(lambda: http_check("example.org/health"), 'http_check: url: "example.org/health" has no scheme; write http:// or https://')
assert.fails(lambda: http_check("http://"), 'http_check: url: "http://" has no host')
assert.fails(lambda: http_check("http://a b/"), 'http_check: url: "http://a b/" is not a URL')
assert.fails(lambda: http_check(U, method = "BREW"), 'http_check: method: unsupported method "BREW"')
assert.fails(lambda: http_check(U, headers = [1]), "http_check: for parameter \"headers\": got list, want dict")
assert.fails(lambda: http_check(U, headers = {"X": 1}), 'http_check: headers\\["X"\\] must be a string or secret, got int')
assert.fails(lambda: http_check(U, headers = {"a b": "x"}), 'http_check: headers: "a b" is not a valid header name')
assert.fails(lambda: http_check(U, headers = {"X": "a\nb"}), 'http_check: headers\\["X"\\] contains a line break')
assert.fails(lambda: http_check(U, body = 1), "http_check: body must be a string or secret, got int")
assert.fails(lambda: http_check(U, body = "a", json = {}), "http_check: body and json cannot both be given")
assert.fails(lambda: http_check(U, json = S), "http_check: json cannot hold a secret")
assert.fails(lambda: http_check(U, json = {"s": S}), "http_check: json: ")
assert.fails(lambda: http_check(U, timeout = "soon"), 'http_check: for parameter "?timeout"?: "soon" is not a duration')
assert.fails(lambda: http_check(U, timeout = 5), "http_check: for parameter \"?timeout\"?: want a duration string like \"5s\", got int")
assert.fails(lambda: http_check(U, timeout = "-1s"), "http_check: for parameter \"?timeout\"?: must be positive, got -1s")
assert.fails(lambda: http_check(U, retries = -1), "http_check: retries must be from 0 to 10, got -1")
assert.fails(lambda: http_check(U, retries = "2"), "http_check: for parameter \"retries\": got string, want int")
assert.fails(lambda: http_check(U, follow_redirects = "no"), "http_check: for parameter \"follow_redirects\": got string, want bool")
assert.fails(lambda: http_check(U, expect_status = "200"), "http_check: expect_status: want an int or a list of ints, got string")
assert.fails(lambda: http_check(U, expect_status = 42), "http_check: expect_status: 42 is not an HTTP status")
assert.fails(lambda: http_check(U, expect_status = []), "http_check: expect_status: the list is empty")
assert.fails(lambda: http_check(U, idempotency_key = ""), "http_check: idempotency_key must be non-empty")
assert.fails(lambda: http_check(U, basic_auth = "me"), "http_check: basic_auth must be a \\(user, password\\) pair")
assert.fails(lambda: http_check(U, ca_file = "/nonexistent/ca.pem"), "http_check: ca_file: open /nonexistent/ca.pem: no such file or directory")
assert.fails(lambda: http_check(U, nope = 1), "http_check: unexpected keyword argument \"nope\"")

# A secret formatted with % or .format() would send its placeholder.
HINT = "placeholder of a secret formatted with % or .format\\(\\), so the request would carry the placeholder, not the secret; join secrets with \\+ instead"
assert.fails(lambda: http_check(U, headers = {"Authorization": "Bearer %s" % S}), 'http_check: headers\\["Authorization"\\] contains "<secret:…>", the ' + HINT)
assert.fails(lambda: http_check(U, headers = {"Authorization": "Bearer {}".format(S)}), "contains \"<secret:")
assert.fails(lambda: http_check(U + "?k=%s" % S), "http_check: url contains")
assert.fails(lambda: http_check(U, body = "token=%s" % S), "http_check: body contains")
assert.fails(lambda: http_check(U, json = {"t": str(S)}), "http_check: json contains")
assert.fails(lambda: http_check(U, basic_auth = ("me", "%s" % S)), "http_check: basic_auth contains")
`, starlark.StringDict{"secret": starlark.NewBuiltin("secret", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		return NewSecret(string(args[0].(starlark.String)), "value"), nil
	})})
}

func TestHTTPSharedTransport(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	srv := httpServerCountingConns(t, &conns)
	thread := netThread(t, t.Context())
	for range 5 {
		r, err := starlark.Call(thread, Predeclared()["http_check"], starlark.Tuple{starlark.String(srv)}, nil)
		if err != nil || !netBool(t, r, "ok") {
			t.Fatalf("%v %v", r, err)
		}
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("5 checks in one run opened %d connections, want 1 (reused)", got)
	}
	// A failing check does not close the run's idle connections (as
	// retryablehttp would when it gives up).
	starlark.Call(thread, Predeclared()["http_check"], starlark.Tuple{starlark.String("http://" + netRefusedAddr(t))}, []starlark.Tuple{{starlark.String("retries"), starlark.MakeInt(0)}})
	starlark.Call(thread, Predeclared()["http_check"], starlark.Tuple{starlark.String(srv)}, nil)
	if got := conns.Load(); got != 1 {
		t.Errorf("after a failed check: %d connections, want 1", got)
	}
}

func httpServerCountingConns(t *testing.T, conns *atomic.Int32) string {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// BenchmarkHTTPFanout runs N http_check calls at once against one server
// that answers after 20ms, sharing one run's transport, as a guard with
// many checks of one service does.
func BenchmarkHTTPFanout(b *testing.B) {
	srv := netServer(b, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		fmt.Fprint(w, "ok")
	})
	for _, n := range []int{200, 1000, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			run := NewRun()
			defer run.Close()
			for b.Loop() {
				var wg sync.WaitGroup
				var failed atomic.Int32
				for range n {
					wg.Go(func() {
						thread := &starlark.Thread{}
						SetContext(thread, context.Background())
						SetRun(thread, run)
						r, err := starlark.Call(thread, Predeclared()["http_check"], starlark.Tuple{starlark.String(srv.URL)}, nil)
						if err != nil || !bool(r.Truth()) {
							failed.Add(1)
						}
					})
				}
				wg.Wait()
				if failed.Load() > 0 {
					b.Fatalf("%d of %d checks failed", failed.Load(), n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/check")
		})
	}
}

// TestHTTPNoGoroutineLeak runs checks that succeed, time out and fail,
// closes the run and the Deps, and expects no goroutine left behind: the
// Deps' Close releases the pooled transports' connections. Not
// parallel, so other tests' goroutines do not come and go meanwhile.
func TestHTTPNoGoroutineLeak(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	down := "http://" + netRefusedAddr(t)
	deps := NewDeps()
	run := NewRun()
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			thread := &starlark.Thread{}
			SetContext(thread, t.Context())
			SetRun(thread, run)
			SetDeps(thread, deps)
			url := []string{ok.URL, slow.URL, down}[i%3]
			kwargs := []starlark.Tuple{{starlark.String("timeout"), starlark.String("300ms")}}
			if _, err := starlark.Call(thread, Predeclared()["http_check"], starlark.Tuple{starlark.String(url)}, kwargs); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	run.Close()
	deps.Close()
	// The servers still run: only the Deps' Close can have ended the
	// client connections, and with them the servers' handlers.
	goleak.VerifyNone(t, ignore, goleak.IgnoreAnyFunction("net/http/httptest.(*Server).goServe.func1"))
	ok.Close()
	slow.Close()
}

// A URL built with a secret sends the secret and shows its placeholder.
func TestHTTPSecretURL(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	srv := netServer(t, func(w http.ResponseWriter, r *http.Request) { got <- r.URL.RequestURI() })
	url := starlark.String(srv.URL + "/hook/")
	hook := NewSecret("HOOK", "T0-s3cret")
	full, err := starlark.Binary(syntax.PLUS, url, hook)
	if err != nil {
		t.Fatal(err)
	}
	r := netMust(t, "http_check", []any{full})
	if !netBool(t, r, "ok") {
		t.Fatalf("got %s", r)
	}
	if uri := <-got; uri != "/hook/T0-s3cret" {
		t.Errorf("server saw %q, want the secret's value", uri)
	}
	if shown := netStr(t, r, "url"); shown != srv.URL+"/hook/<secret:HOOK>" {
		t.Errorf("r.url = %q, want the placeholder", shown)
	}
}

func TestHTTPRetryIsLoggedRedacted(t *testing.T) {
	t.Parallel()
	f := &httpFlaky{statuses: []int{503}}
	srv := netServer(t, f.ServeHTTP)
	var logs strings.Builder
	thread := netThread(t, t.Context())
	SetLogger(thread, slog.New(slog.NewTextHandler(&logs, nil)))
	r, err := starlark.Call(thread, Predeclared()["http_check"], starlark.Tuple{starlark.String(srv.URL + "/health?token=t0k-9f8e7d6c")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := netInt(t, r, "attempts"); got != 2 {
		t.Fatalf("attempts = %d, want 2", got)
	}
	out := logs.String()
	for _, want := range []string{`msg="http_check: retrying" check=` + t.Name() + " ", "after=\"status 503\"", "attempt=2", "token=REDACTED"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "t0k-9f8e7d6c") {
		t.Errorf("log shows the query token:\n%s", out)
	}
}

// A Retry-After too large for a time.Duration (it saturates) must give up
// at once like any other wait past the deadline, not overflow into a retry
// that sleeps until the timeout.
func TestHTTPRetryAfterHuge(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"99999999999", "Fri, 31 Dec 9999 23:59:59 GMT"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			f := &httpFlaky{statuses: []int{503}, header: func(int) http.Header { return http.Header{"Retry-After": {v}} }}
			srv := netServer(t, f.ServeHTTP)
			start := time.Now()
			r := netMust(t, "http_check", []any{srv.URL}, "timeout", "3s")
			if took := time.Since(start); took > 1500*time.Millisecond {
				t.Errorf("took %s; want an answer well before the 3s deadline", took)
			}
			if msg := netStr(t, r, "error"); !strings.HasPrefix(msg, "gave up: server asked to retry after ") {
				t.Errorf("error = %q, want it to say it gave up", msg)
			}
			if n := netInt(t, r, "attempts"); n != 1 {
				t.Errorf("attempts = %d, want 1", n)
			}
		})
	}
}

// A redirect target that echoes a secret back in its path is quoted in the
// refused-redirect error in Go's URL path escaping ('/' kept, '^' and ' '
// and non-ASCII percent-encoded): the scrubber must know that form. The
// secret here is what the server echoes; the test is that no form of it
// survives the scrubber the CLI puts in front of every output.
func TestHTTPRedirectTargetScrubbed(t *testing.T) {
	t.Parallel()
	const secret = "Tk^ y/é-9f;a,b"
	s := redact.New()
	s.Add("ECHOED", secret)
	plain := netServer(t, func(w http.ResponseWriter, r *http.Request) {})
	ca := newNetCA(t)
	downgrade := netTLSServer(t, ca.leaf(t, []string{"127.0.0.1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", plain.URL+"/echo/"+secret)
			w.WriteHeader(http.StatusFound)
		}))
	otherScheme := netServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "ftp://files.example/echo/"+secret)
		w.WriteHeader(http.StatusFound)
	})
	for _, r := range []starlark.Value{
		netMust(t, "http_check", []any{downgrade.URL}, "ca_file", ca.file(t)),
		netMust(t, "http_check", []any{otherScheme.URL}),
	} {
		msg := netStr(t, r, "error")
		if !strings.Contains(msg, "refused redirect") {
			t.Fatalf("error = %q, want a refused redirect", msg)
		}
		out := s.String(msg)
		if !strings.Contains(out, redact.Marker("ECHOED")) {
			t.Errorf("scrubbed error %q has no marker (raw %q)", out, msg)
		}
		if plainText, err := url.PathUnescape(out); err != nil || strings.Contains(plainText, "y/é") || strings.Contains(plainText, "Tk^") {
			t.Errorf("the secret survives the scrubber in %q (raw %q)", out, msg)
		}
	}
}

// A redirect to another host gets neither a header that holds a secret
// nor the body (Authorization was already dropped); one to the same host
// gets both. The two hosts are two listeners, on 127.0.0.1 and 127.0.0.2.
func TestHTTPCrossHostRedirectDropsSecretsAndBody(t *testing.T) {
	t.Parallel()
	type seen struct{ key, plain, idem, ctype, body string }
	var mu sync.Mutex
	got := map[string]seen{}
	record := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[r.Host+r.URL.Path] = seen{r.Header.Get("X-Api-Key"), r.Header.Get("X-Plain"), r.Header.Get("Idempotency-Key"), r.Header.Get("Content-Type"), string(body)}
		mu.Unlock()
	}
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	other := httptest.NewUnstartedServer(http.HandlerFunc(record))
	other.Listener.Close()
	other.Listener = ln
	other.Config.ErrorLog = netQuietLog()
	other.Start()
	t.Cleanup(other.Close)
	origin := netServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cross":
			http.Redirect(w, r, other.URL+"/landed-cross", http.StatusTemporaryRedirect)
		case "/same":
			http.Redirect(w, r, "/landed-same", http.StatusTemporaryRedirect)
		default:
			record(w, r)
		}
	})
	hdrs := map[string]any{
		"X-Api-Key":    NewSecret("API_KEY", "k3y-s3cret"),
		"X-Plain":      "kept",
		"Content-Type": "text/plain",
	}
	for _, path := range []string{"/cross", "/same"} {
		r := netMust(t, "http_check", []any{origin.URL + path}, "method", "POST", "headers", hdrs,
			"body", NewSecret("BODY", "b0dy-s3cret"), "idempotency_key", NewSecret("IDEM", "1dem-s3cret"))
		if !netBool(t, r, "ok") {
			t.Fatalf("%s: %s", path, r)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	otherHost := strings.TrimPrefix(other.URL, "http://")
	originHost := strings.TrimPrefix(origin.URL, "http://")
	want := map[string]seen{
		otherHost + "/landed-cross": {plain: "kept"},
		originHost + "/landed-same": {key: "k3y-s3cret", plain: "kept", idem: "1dem-s3cret", ctype: "text/plain", body: "b0dy-s3cret"},
	}
	for where, w := range want {
		if got[where] != w {
			t.Errorf("%s saw %+v, want %+v", where, got[where], w)
		}
	}
}

// A Location header that does not parse is described, not quoted: it is
// the server's text, and the bad escape url.Parse would quote ("%zz") is
// a piece of whatever the server reflected, too short for the scrubber.
func TestHTTPBadLocationNotQuoted(t *testing.T) {
	t.Parallel()
	srv := netServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/echo/s3cr%zzet-value")
		w.WriteHeader(http.StatusFound)
	})
	r := netMust(t, "http_check", []any{srv.URL})
	if got, want := netStr(t, r, "error"), "refused redirect: the Location header is not a valid URL"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

// A secret used as a host name label reaches the DNS error as net/http
// dialled it: lower-cased and, being non-ASCII, in punycode. The scrubber
// knows that form.
func TestHTTPPunycodeHostScrubbed(t *testing.T) {
	t.Parallel()
	const label = "Tënant-Ab9x"
	s := redact.New()
	s.Add("TENANT", label)
	host := NewSecret("TENANT", label)
	u, err := starlark.Binary(syntax.PLUS, starlark.String("http://"), host)
	if err == nil {
		u, err = starlark.Binary(syntax.PLUS, u, starlark.String(".invalid/"))
	}
	if err != nil {
		t.Fatal(err)
	}
	r := netMust(t, "http_check", []any{u}, "timeout", "2s", "retries", 0)
	msg := netStr(t, r, "error")
	if !strings.Contains(msg, "xn--") {
		t.Skipf("no punycode in %q: the resolver failed otherwise", msg)
	}
	if out := s.String(msg); strings.Contains(out, "xn--") || !strings.Contains(out, redact.Marker("TENANT")) {
		t.Errorf("scrubbed %q to %q", msg, out)
	}
}

// A ca_file that is a FIFO is refused at once: opening it would block
// until a writer came, past the check's timeout. (Issue 10, item 18.)
func TestCAFileFIFORefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "ca.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	for name, target := range map[string]string{"http_check": "https://127.0.0.1:1/", "tls_cert": "127.0.0.1:1"} {
		done := make(chan error, 1)
		go func() {
			_, err := netCall(t, context.Background(), name, []any{target}, "ca_file", fifo, "timeout", "200ms")
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "ca_file: "+fifo+" is a FIFO; a CA bundle must be a regular file") {
				t.Errorf("%s: err = %v", name, err)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("%s with a FIFO ca_file did not return within 3s", name)
		}
	}
}

// A proxy password with a space is a clear error naming the variable,
// not "cannot resolve host http", and the password is not quoted.
// (Issue 10, item 18.)
func TestHTTPProxyWithSpaceInPassword(t *testing.T) {
	srv := netServer(t, func(w http.ResponseWriter, r *http.Request) {})
	t.Setenv("HTTP_PROXY", "http://user:pa ss-fake-pw@127.0.0.1:3128")
	t.Setenv("NO_PROXY", "")
	r := netMust(t, "http_check", []any{srv.URL}, "retries", 0, "timeout", "2s")
	got := netStr(t, r, "error")
	if !strings.Contains(got, "the proxy in $HTTP_PROXY is not a valid URL (net/url: invalid userinfo)") || strings.Contains(got, "fake-pw") {
		t.Errorf("error = %q", got)
	}
}

// http_check runs on a goroutine of its own; a panic there (here the
// fake clock's, while waiting to retry) must reach the check's goroutine,
// where the runtime recovers it, not end the process.
func TestHTTPPanicReachesCaller(t *testing.T) {
	t.Parallel()
	f := &httpFlaky{statuses: []int{503}}
	srv := netServer(t, f.ServeHTTP)
	thread := netThread(t, t.Context())
	deps := NewDeps()
	t.Cleanup(deps.Close)
	deps.Sleep = func(time.Duration) { panic("fake clock broke") }
	SetDeps(thread, deps)
	defer func() {
		if p := recover(); p != "fake clock broke" {
			t.Errorf("recovered %v, want the fake clock's panic", p)
		}
	}()
	_, _ = starlark.Call(thread, Predeclared()["http_check"], starlark.Tuple{starlark.String(srv.URL)}, nil)
	t.Error("http_check returned; want its panic")
}

func TestReadAtMost(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("x", 3000)
	for _, tt := range []struct {
		name        string
		body        string
		limit, size int64
		want        int
	}{
		{"empty, announced", "", 100, 0, 0},
		{"small, announced", "ok", 100, 2, 2},
		{"small, unannounced", "ok", 100, -1, 2},
		{"larger than 512, unannounced", body, 10000, -1, 3000},
		{"larger than 512, announced", body, 10000, 3000, 3000},
		{"beyond the limit, announced", body, 1000, 3000, 1000},
		{"beyond the limit, unannounced", body, 1000, -1, 1000},
		{"at the limit", body, 3000, 3000, 3000},
	} {
		b, err := readAtMost(strings.NewReader(tt.body), tt.limit, tt.size)
		if err != nil || string(b) != tt.body[:tt.want] {
			t.Errorf("%s: got %d bytes, %v; want %d bytes", tt.name, len(b), err, tt.want)
		}
	}
	// A body shorter than announced is read as far as it goes; the
	// transport reports the short read as an error.
	if b, err := readAtMost(io.LimitReader(strings.NewReader(body), 10), 100, 50); err != nil || len(b) != 10 {
		t.Errorf("short body: got %d bytes, %v", len(b), err)
	}
	errReader := iotest.ErrReader(errors.New("reset"))
	if _, err := readAtMost(errReader, 100, -1); err == nil || err.Error() != "reset" {
		t.Errorf("failing reader: got %v, want its error", err)
	}
}

// A body of announced length is read with one allocation of its size, not
// io.ReadAll's 512 bytes and up.
func TestReadAtMostAllocations(t *testing.T) {
	r := strings.NewReader("ok")
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset("ok")
		if b, _ := readAtMost(r, 100, 2); cap(b) != 3 {
			t.Fatalf("capacity %d, want 3", cap(b))
		}
	})
	if allocs > 1 {
		t.Errorf("%v allocations, want 1", allocs)
	}
}
