package builtins

// This file holds http_check(): one HTTP request, retried with
// go-retryablehttp under the rules in docs/design.md, whose network failures are
// values (r.ok False, r.error saying why), never exceptions. The transports
// are the Deps' (shared by the checks of a run, and by the runs that share
// the Deps); each call has its own retry state.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"go.starlark.net/lib/json"
	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/redact"
)

const (
	httpMaxBody      = 1 << 20 // bytes of a response body kept; the rest is not read
	httpMaxRedirects = 5
	httpMaxRetries   = 10
	backoffBase      = 200 * time.Millisecond // Backoff's base and cap for http_check
	backoffCap       = 5 * time.Second
	// retryMinTime is the least time a retry must have left after its
	// wait to be worth starting.
	retryMinTime = 50 * time.Millisecond
)

// httpMethods are the methods http_check sends; the true ones are
// idempotent and retried. POST and PATCH are retried only with an
// idempotency_key.
var httpMethods = map[string]bool{
	"GET": true, "HEAD": true, "OPTIONS": true, "PUT": true, "DELETE": true,
	"POST": false, "PATCH": false,
}

// httpRequest is what an http_check call asks for, checked and ready to send.
type httpRequest struct {
	method     string
	url        *url.URL
	display    string // the URL as shown: redacted, secrets as <secret:NAME>
	header     http.Header
	secretHdrs []string // names of the headers whose value holds a secret
	host       string   // a Host header, which Go takes from Request.Host
	body       []byte   // nil for none
	timeout    time.Duration
	retries    int
	follow     bool
	insecure   bool
	caFile     string
	expect     []int // nil: any 2xx
	idempotent bool  // may be retried
	basicUser  string
	basicPass  string
	hasBasic   bool
	// sleep, when not nil, stands in for the wait between attempts
	// (Deps.Sleep: a fake clock advances instead of time passing).
	sleep func(time.Duration)
}

// http_check(url, method="GET", headers={}, body=None, json=None,
// timeout="10s", retries=2, follow_redirects=True, insecure=False,
// ca_file=None, idempotency_key=None, expect_status=None, basic_auth=None)
//
// The call runs on a goroutine of its own while the check's goroutine
// waits for it. The check's goroutine is about 4.5 KB deep in the runtime
// and the Starlark interpreter when it calls a builtin; go-retryablehttp
// and net/http block 3.3 KB further down, and parsing the arguments goes
// 3 KB down for a moment, so on the check's goroutine every waiting check
// had a 16 KiB stack. Go also starts new goroutines at the average stack
// depth it saw at the last collection, so net/http's two goroutines per
// connection started at 8 KiB instead of 4 KiB. Apart, the check waits in
// 8 KiB and the call in 8 KiB: 24 KiB per waiting check with the
// connection's goroutines instead of 32 (bench/http/README.md).
func httpCheck(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	call := &httpCheckCall{thread: thread, b: b, args: args, kwargs: kwargs, done: make(chan struct{})}
	go call.run()
	<-call.done
	if call.panicked != nil {
		panic(call.panicked) // on the check's goroutine, where the runtime recovers it
	}
	return call.v, call.err
}

// httpCheckCall carries one http_check call to the goroutine that runs it
// and its outcome back.
type httpCheckCall struct {
	thread *starlark.Thread
	b      *starlark.Builtin
	args   starlark.Tuple
	kwargs []starlark.Tuple
	done   chan struct{}

	v        starlark.Value
	err      error
	panicked any
}

func (c *httpCheckCall) run() {
	defer func() {
		c.panicked = recover()
		close(c.done)
	}()
	c.v, c.err = runHTTPCheck(c.thread, c.b, c.args, c.kwargs)
}

func runHTTPCheck(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := ctxOf(thread)
	req, err := parseHTTPArgs(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	rt, err := httpTransport(thread, req.insecure, req.caFile)
	if err != nil {
		return nil, fmt.Errorf("%s: ca_file: %w", b.Name(), err)
	}
	req.sleep = depsOf(thread).Sleep
	return req.do(ctx, rt, loggerOf(thread), thread.Name, func() time.Time { return nowOf(thread) },
		func(detail string) { noteProgress(thread, detail) }), nil
}

func parseHTTPArgs(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (*httpRequest, error) {
	var (
		rawURL          starlark.Value
		method          = "GET"
		headers         *starlark.Dict
		body            starlark.Value = starlark.None
		jsonBody        starlark.Value = starlark.None
		timeout                        = Duration(10 * time.Second)
		retries                        = 2
		followRedirects                = true
		insecure                       = false
		caFile          optString      // None or "": the system roots
		idempotencyKey  starlark.Value = starlark.None
		expectStatus    starlark.Value = starlark.None
		basicAuth       starlark.Value = starlark.None
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"url", &rawURL, "method?", &method, "headers?", &headers, "body?", &body, "json?", &jsonBody,
		"timeout?", &timeout, "retries?", &retries, "follow_redirects?", &followRedirects,
		"insecure?", &insecure, "ca_file?", &caFile, "idempotency_key?", &idempotencyKey,
		"expect_status?", &expectStatus, "basic_auth?", &basicAuth); err != nil {
		return nil, err
	}
	name := b.Name()
	r := &httpRequest{timeout: time.Duration(timeout), retries: retries, follow: followRedirects, insecure: insecure, caFile: resolvePath(thread, caFile.s), header: http.Header{}}

	// url
	text, secret, ok := Reveal(rawURL)
	if !ok {
		return nil, fmt.Errorf("%s: url must be a string or secret, got %s", name, rawURL.Type())
	}
	shown := text
	if secret {
		shown = rawURL.String() // <secret:NAME> in place of each secret part
	}
	r.display = redact.URL(shown)
	if err := refuseSecretPlaceholder(name, "url", text); err != nil {
		return nil, err
	}
	u, err := url.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%s: url: %q is not a URL", name, r.display)
	}
	switch u.Scheme {
	case "http", "https":
	case "":
		return nil, fmt.Errorf("%s: url: %q has no scheme; write http:// or https://", name, r.display)
	default:
		return nil, fmt.Errorf("%s: url: unsupported scheme %q in %q (only http and https)", name, u.Scheme, r.display)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%s: url: %q has no host", name, r.display)
	}
	r.url = u

	// method
	r.method = strings.ToUpper(method)
	idempotent, known := httpMethods[r.method]
	if !known {
		return nil, fmt.Errorf("%s: method: unsupported method %q (GET, HEAD, OPTIONS, PUT, DELETE, POST or PATCH)", name, method)
	}

	// headers
	if headers != nil {
		for _, kv := range headers.Items() {
			k, ok := starlark.AsString(kv[0])
			if !ok {
				return nil, fmt.Errorf("%s: headers: keys must be strings, got %s", name, kv[0].Type())
			}
			if !validHeaderName(k) {
				return nil, fmt.Errorf("%s: headers: %q is not a valid header name", name, k)
			}
			v, secret, ok := Reveal(kv[1])
			if !ok {
				return nil, fmt.Errorf("%s: headers[%q] must be a string or secret, got %s", name, k, kv[1].Type())
			}
			if secret {
				r.secretHdrs = append(r.secretHdrs, k)
			}
			if strings.ContainsAny(v, "\r\n\x00") {
				return nil, fmt.Errorf("%s: headers[%q] contains a line break or NUL", name, k)
			}
			if err := refuseSecretPlaceholder(name, fmt.Sprintf("headers[%q]", k), v); err != nil {
				return nil, err
			}
			if http.CanonicalHeaderKey(k) == "Host" {
				r.host = v
				continue
			}
			r.header.Add(k, v)
		}
	}

	// body, json
	if body != starlark.None && jsonBody != starlark.None {
		return nil, fmt.Errorf("%s: body and json cannot both be given", name)
	}
	if body != starlark.None {
		text, _, ok := Reveal(body)
		if !ok {
			return nil, fmt.Errorf("%s: body must be a string or secret, got %s", name, body.Type())
		}
		if err := refuseSecretPlaceholder(name, "body", text); err != nil {
			return nil, err
		}
		r.body = []byte(text)
	}
	if jsonBody != starlark.None {
		if _, ok := jsonBody.(*Secret); ok {
			return nil, fmt.Errorf("%s: json cannot hold a secret; send it with body= and a Content-Type header", name)
		}
		encoded, err := starlark.Call(thread, json.Module.Members["encode"], starlark.Tuple{jsonBody}, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: json: %v", name, err)
		}
		text := string(encoded.(starlark.String))
		if err := refuseSecretPlaceholder(name, "json", text); err != nil {
			return nil, err
		}
		r.body = []byte(text)
		if r.header.Get("Content-Type") == "" {
			r.header.Set("Content-Type", "application/json")
		}
	}

	// retries
	if retries < 0 || retries > httpMaxRetries {
		return nil, fmt.Errorf("%s: retries must be from 0 to %d, got %d", name, httpMaxRetries, retries)
	}

	// idempotency_key
	if idempotencyKey != starlark.None {
		key, secret, ok := Reveal(idempotencyKey)
		if !ok {
			return nil, fmt.Errorf("%s: idempotency_key must be a string or secret, got %s", name, idempotencyKey.Type())
		}
		if key == "" || strings.ContainsAny(key, "\r\n\x00") {
			return nil, fmt.Errorf("%s: idempotency_key must be non-empty text on one line", name)
		}
		if err := refuseSecretPlaceholder(name, "idempotency_key", key); err != nil {
			return nil, err
		}
		r.header.Set("Idempotency-Key", key)
		if secret {
			r.secretHdrs = append(r.secretHdrs, "Idempotency-Key")
		}
		idempotent = true
	}
	r.idempotent = idempotent

	// expect_status
	if r.expect, err = parseExpectStatus(expectStatus); err != nil {
		return nil, fmt.Errorf("%s: expect_status: %v", name, err)
	}

	// basic_auth
	if basicAuth != starlark.None {
		var pair starlark.Indexable
		switch v := basicAuth.(type) {
		case starlark.Tuple:
			pair = v
		case *starlark.List:
			pair = v
		}
		if pair == nil || pair.Len() != 2 {
			return nil, fmt.Errorf("%s: basic_auth must be a (user, password) pair, got %s", name, basicAuth.Type())
		}
		user, ok := starlark.AsString(pair.Index(0))
		if !ok {
			return nil, fmt.Errorf("%s: basic_auth: user must be a string, got %s", name, pair.Index(0).Type())
		}
		pass, _, ok := Reveal(pair.Index(1))
		if !ok {
			return nil, fmt.Errorf("%s: basic_auth: password must be a string or secret, got %s", name, pair.Index(1).Type())
		}
		if err := refuseSecretPlaceholder(name, "basic_auth", user+pass); err != nil {
			return nil, err
		}
		r.basicUser, r.basicPass, r.hasBasic = user, pass, true
	}
	if r.header.Get("User-Agent") == "" {
		r.header.Set("User-Agent", "infra-guard")
	}
	return r, nil
}

func parseExpectStatus(v starlark.Value) ([]int, error) {
	var vals []starlark.Value
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.Int:
		vals = []starlark.Value{v}
	case starlark.Indexable:
		for i := range v.Len() {
			vals = append(vals, v.Index(i))
		}
		if len(vals) == 0 {
			return nil, fmt.Errorf("the list is empty")
		}
	default:
		return nil, fmt.Errorf("want an int or a list of ints, got %s", v.Type())
	}
	codes := make([]int, 0, len(vals))
	for _, x := range vals {
		var code int
		if err := starlark.AsInt(x, &code); err != nil {
			return nil, fmt.Errorf("want an int or a list of ints, got %s", x.Type())
		}
		if code < 100 || code > 599 {
			return nil, fmt.Errorf("%d is not an HTTP status (100-599)", code)
		}
		codes = append(codes, code)
	}
	return codes, nil
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Backoff returns how long to wait before retry number attempt (0 before
// the first retry): "full jitter", a uniformly random duration from 0 to
// min(cap, base·2^attempt), both ends included. rnd(n) must return a number
// in [0, n); tests pass a fixed one.
func Backoff(base, cap time.Duration, attempt int, rnd func(n int64) int64) time.Duration {
	if base <= 0 || cap <= 0 || attempt < 0 {
		return 0
	}
	limit := cap
	if attempt < 63 && base <= cap>>uint(attempt) {
		limit = base << uint(attempt)
	}
	return time.Duration(rnd(int64(limit) + 1))
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an
// HTTP-date. A date in the past means no wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return time.Duration(1<<63 - 1), true
			}
			return 0, false
		}
		if n > uint64((1<<63-1)/time.Second) {
			return time.Duration(1<<63 - 1), true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// retryable reports whether an attempt that ended with resp or err should
// be tried again: connect errors, resets, timeouts and 500, 429, 502, 503, 504.
// Not: other statuses (501 included), failed certificate verification,
// refused redirects, unknown hosts, or a context that has ended.
func retryable(resp *http.Response, err error) bool {
	if err == nil {
		switch resp.StatusCode {
		// 500 too: a health endpoint answering 500 is most often an app
		// restarting or a dependency blinking, and the issue's own test
		// asks that "500 then 200" pass. 501 (never implemented) is final.
		case http.StatusInternalServerError, http.StatusTooManyRequests, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var (
		plain  *plainError
		dnsErr *net.DNSError
		recErr tls.RecordHeaderError
		opErr  *net.OpError
		netErr net.Error
	)
	switch {
	case errors.As(err, &plain), isCertError(err), errors.As(err, &recErr),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case errors.As(err, &dnsErr):
		return !dnsErr.IsNotFound
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return true
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &netErr) && netErr.Timeout():
		return true
	}
	return false
}

// httpCall is the state of one http_check call across its attempts.
type httpCall struct {
	req      *httpRequest
	progress func(string) // told "attempt 2 of 3" for a timeout message
	deadline time.Time
	rnd      func(int64) int64
	log      *slog.Logger
	check    string // the check's name, for the log

	attempt      int // 1 for the first
	attemptStart time.Time
	firstAttempt time.Duration
	nextWait     time.Duration
	gaveUp       string // why a retry was not made although one was asked for

	bodyRead  bool
	body      []byte
	truncated bool
}

// do sends the request with retries and returns the response value; it
// never fails: what went wrong is in the value's error. check names the
// check in the log; clock is the script's wall clock, for a certificate's
// days_left; progress hears which attempt is under way.
func (r *httpRequest) do(ctx context.Context, rt http.RoundTripper, log *slog.Logger, check string, clock func() time.Time, progress func(string)) *httpResponse {
	start := time.Now()
	ctx, cancel := withTimeout(ctx, r.timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	c := &httpCall{req: r, progress: progress, deadline: deadline, rnd: rand.Int64N, log: log, check: check}
	out := &httpResponse{url: r.display, headers: &httpHeaders{}, tls: starlark.None}

	client := &retryablehttp.Client{
		HTTPClient: &http.Client{Transport: keepIdle{rt}, CheckRedirect: c.checkRedirect},
		Logger:     nil, // we log, redacted; its logger prints URLs
		RetryMax:   r.retries,
		CheckRetry: c.checkRetry,
		Backoff: func(_, _ time.Duration, _ int, _ *http.Response) time.Duration {
			if r.sleep != nil {
				r.sleep(c.nextWait)
				return 0
			}
			return c.nextWait
		},
		ErrorHandler:   func(resp *http.Response, err error, _ int) (*http.Response, error) { return resp, err },
		RequestLogHook: c.onAttempt,
	}
	var body any
	if r.body != nil {
		body = r.body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, r.url.String(), body)
	if err != nil { // the URL parsed once already; this is not expected
		out.err = redact.URLsIn(err.Error())
		return out
	}
	// The call's own header map, not a copy: nothing else holds it, the
	// client clones it for each redirect, and SetBasicAuth only adds to it.
	req.Header = r.header
	if r.host != "" {
		req.Host = r.host
	}
	if r.hasBasic {
		req.SetBasicAuth(r.basicUser, r.basicPass)
	}
	req.SetResponseHandler(c.readBody)

	resp, err := client.Do(req)
	if resp != nil {
		defer resp.Body.Close()
		if !c.bodyRead && err == nil {
			if berr := c.readBody(resp); berr != nil {
				err = berr
			}
		}
		out.status = resp.StatusCode
		out.headers = &httpHeaders{h: resp.Header}
		if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
			out.tls = newStruct("tls", certFields(resp.TLS.PeerCertificates[0], clock()))
		}
	}
	out.body, out.truncated = c.body, c.truncated
	out.attempts = c.attempt
	out.duration = time.Since(start)
	out.firstAttempt = c.firstAttempt
	switch {
	case err != nil:
		out.err = c.describe(ctx, err)
	case c.gaveUp != "":
		out.err = c.gaveUp
	}
	out.ok = out.err == "" && statusOK(out.status, r.expect)
	return out
}

// keepIdle hides the shared transport's CloseIdleConnections from
// retryablehttp, which calls it whenever one request gives up; the
// connections of the run's other checks stay open.
type keepIdle struct{ rt http.RoundTripper }

func (k keepIdle) RoundTrip(req *http.Request) (*http.Response, error) { return k.rt.RoundTrip(req) }

func statusOK(status int, expect []int) bool {
	if expect == nil {
		return status >= 200 && status <= 299
	}
	for _, s := range expect {
		if s == status {
			return true
		}
	}
	return false
}

// onAttempt runs before each attempt (retryablehttp's RequestLogHook).
func (c *httpCall) onAttempt(_ retryablehttp.Logger, _ *http.Request, i int) {
	c.attempt = i + 1
	c.attemptStart = time.Now()
	if c.attempt > 1 {
		c.progress(fmt.Sprintf("attempt %d of %d", c.attempt, c.req.retries+1))
	}
	c.bodyRead, c.body, c.truncated = false, nil, false
}

// readBody keeps up to httpMaxBody bytes of the body and stops reading
// there, so memory stays flat whatever the server sends; closing the body
// early costs the connection, not the process.
func (c *httpCall) readBody(resp *http.Response) error {
	b, err := readAtMost(resp.Body, httpMaxBody+1, resp.ContentLength)
	c.bodyRead = true
	if len(b) > httpMaxBody {
		b, c.truncated = b[:httpMaxBody], true
	}
	c.body = b
	if err != nil {
		return &bodyError{err: err, n: len(b)}
	}
	return nil
}

// readAtMost reads r to its end or to limit bytes, whichever comes first,
// into a slice the size the body announced (size, when below limit), else
// one that grows from 512 bytes as io.ReadAll's does: most health
// endpoints answer a few bytes, for which ReadAll would allocate 512.
func readAtMost(r io.Reader, limit, size int64) ([]byte, error) {
	capacity := 512
	if size >= 0 && size < limit {
		capacity = int(size) + 1 // room to see the end without growing
	}
	b := make([]byte, 0, capacity)
	lr := io.LimitedReader{R: r, N: limit}
	for {
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// bodyError is a failure while reading the response body.
type bodyError struct {
	err error
	n   int
}

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// checkRetry decides whether to try again (retryablehttp's CheckRetry)
// and, when it does, how long to wait first. A wait that would pass the
// deadline is not made: a Retry-After the remaining time cannot honour
// ends the call with a message saying so.
func (c *httpCall) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if c.attempt == 1 {
		c.firstAttempt = time.Since(c.attemptStart)
	}
	if ctx.Err() != nil || c.attempt > c.req.retries || !c.req.idempotent || !retryable(resp, err) {
		return false, nil
	}
	wait := Backoff(backoffBase, backoffCap, c.attempt-1, c.rnd)
	asked := false
	if err == nil {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			wait, asked = d, true
		}
	}
	remaining := time.Until(c.deadline)
	// Not wait+retryMinTime: a huge Retry-After saturates wait, and the sum
	// would overflow into a retry that sleeps until the deadline.
	if wait >= remaining-retryMinTime {
		if asked {
			c.gaveUp = fmt.Sprintf("gave up: server asked to retry after %s but only %s remain", fmtSeconds(wait), fmtSeconds(remaining))
		}
		return false, nil
	}
	c.nextWait = wait
	why := "a connection error"
	if err == nil {
		why = fmt.Sprintf("status %d", resp.StatusCode)
	}
	// The URL is the redacted one; headers and bodies are never logged.
	c.log.Info("http_check: retrying", "check", c.check, "url", c.req.display, "after", why, "attempt", c.attempt+1, "wait", wait.Round(time.Millisecond).String())
	return true, nil
}

// checkRedirect follows at most httpMaxRedirects redirects, refuses
// https→http and schemes other than http and https, and drops credentials
// once the chain has left the first host (http.Client's CheckRedirect):
// the Authorization, Proxy-Authorization and Cookie headers, every header
// the script gave a secret as its value (an X-Api-Key, a secret
// idempotency key), and the body, which a 307 or 308 would send again
// (with its Content-Type). http.Client builds each hop's request from the
// first one, so this is done again on every hop after the chain left.
func (c *httpCall) checkRedirect(req *http.Request, via []*http.Request) error {
	if !c.req.follow {
		return http.ErrUseLastResponse
	}
	if len(via) > httpMaxRedirects {
		return &plainError{fmt.Sprintf("too many redirects (%d)", httpMaxRedirects)}
	}
	to := redact.URL(req.URL.String())
	switch req.URL.Scheme {
	case "http", "https":
	default:
		return &plainError{fmt.Sprintf("refused redirect to %s: only http and https are followed", to)}
	}
	for _, v := range via {
		if v.URL.Scheme == "https" && req.URL.Scheme == "http" {
			return &plainError{fmt.Sprintf("refused redirect from https to http (%s)", to)}
		}
	}
	first := via[0].URL.Host
	for _, v := range append(via[1:], req) {
		if !strings.EqualFold(v.URL.Host, first) {
			req.Header.Del("Authorization")
			req.Header.Del("Proxy-Authorization")
			req.Header.Del("Cookie")
			for _, h := range c.req.secretHdrs {
				req.Header.Del(h)
			}
			if req.Body != nil {
				req.Body.Close()
				req.Body, req.GetBody, req.ContentLength = nil, nil, 0
				req.Header.Del("Content-Type")
			}
			break
		}
	}
	return nil
}

// describe turns the error that ended the call into r.error.
func (c *httpCall) describe(ctx context.Context, err error) string {
	var msg string
	var be *bodyError
	switch {
	case ctx.Err() != nil:
		msg = contextText(ctx)
		if errors.As(err, &be) {
			msg += fmt.Sprintf(" while reading the body (%d bytes read)", be.n)
		}
	case errors.As(err, &be):
		msg = fmt.Sprintf("reading the body (%d bytes read): %s", be.n, netErrorText(be.err))
	default:
		msg = netErrorText(err)
	}
	if c.gaveUp != "" {
		msg = c.gaveUp + "; " + msg
	}
	if c.attempt > 1 {
		msg += fmt.Sprintf(" (attempt %d of %d)", c.attempt, c.req.retries+1)
	}
	return scrubURL(msg, c.req.url)
}

// scrubURL removes from msg any query value, password or fragment of u
// that some error text may have carried, as a last line of defence after
// netErrorText's own redaction.
func scrubURL(msg string, u *url.URL) string {
	var parts []string
	if p, ok := u.User.Password(); ok {
		parts = append(parts, p)
	}
	for _, vs := range u.Query() {
		parts = append(parts, vs...)
	}
	parts = append(parts, u.Fragment)
	for _, p := range parts {
		if len(p) >= 3 {
			msg = strings.ReplaceAll(msg, p, redact.Redacted)
			if esc := url.QueryEscape(p); esc != p {
				msg = strings.ReplaceAll(msg, esc, redact.Redacted)
			}
		}
	}
	return msg
}

// httpTransport returns the round tripper for these TLS settings from the
// thread's Deps, asked once per run and setting: a bad ca_file is read once
// per run, like a good one, and the next run reads it again.
func httpTransport(thread *starlark.Thread, insecure bool, caFile string) (http.RoundTripper, error) {
	transports := depsOf(thread).HTTP
	run := RunOf(thread)
	if run == nil {
		return transports.Transport(insecure, caFile)
	}
	key := "http"
	if insecure {
		key += " insecure"
	}
	if caFile != "" {
		key += " ca_file=" + caFile
	}
	st := run.Shared(key, func() (any, func()) {
		rt, err := transports.Transport(insecure, caFile)
		return &sharedTransport{rt, err}, nil
	}).(*sharedTransport)
	return st.rt, st.err
}

type sharedTransport struct {
	rt  http.RoundTripper
	err error
}

// httpPool is the production Transports: one tuned transport per TLS
// setting, created on first use and kept, with its idle connections, until
// the Deps is closed, so the runs of one process reuse their connections.
// A setting whose CA file cannot be read is not kept: a later run reads it
// again.
type httpPool struct {
	mu sync.Mutex
	m  map[httpPoolKey]*pooledTransport
}

type httpPoolKey struct {
	insecure bool
	caFile   string
}

// pooledTransport is created once, outside the pool's lock, so a slow
// creation (a CA file on a hung mount) holds up only the calls that need it.
type pooledTransport struct {
	once sync.Once
	t    *http.Transport // written under the pool's lock, for close
	err  error
}

func newHTTPPool() *httpPool { return &httpPool{m: map[httpPoolKey]*pooledTransport{}} }

func (p *httpPool) Transport(insecure bool, caFile string) (http.RoundTripper, error) {
	k := httpPoolKey{insecure, caFile}
	p.mu.Lock()
	pt, ok := p.m[k]
	if !ok {
		pt = &pooledTransport{}
		p.m[k] = pt
	}
	p.mu.Unlock()
	pt.once.Do(func() {
		conf, err := httpTLSConfig(insecure, caFile)
		p.mu.Lock()
		defer p.mu.Unlock()
		if err != nil {
			pt.err = err
			delete(p.m, k)
			return
		}
		pt.t = newHTTPTransport(conf)
	})
	if pt.err != nil {
		return nil, pt.err
	}
	return pt.t, nil
}

// close closes the idle connections of every transport. Call it when no
// request is in flight: a connection still in use goes back to its
// transport afterwards and stays until the idle timeout.
func (p *httpPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pt := range p.m {
		if pt.t != nil {
			pt.t.CloseIdleConnections()
		}
	}
}

// newHTTPTransport is the tuned transport: phase timeouts in docs/design.md,
// enough idle connections per host for a run that checks one host a
// thousand times at once, HTTP/2 where the server offers it.
func newHTTPTransport(conf *tls.Config) *http.Transport {
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 proxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       conf,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
		WriteBufferSize:       512,
		ReadBufferSize:        1 << 10,
	}
}

// proxyFromEnvironment is http.ProxyFromEnvironment, but a proxy variable
// that Go would misread is an error saying so. Go parses a value that is
// not a valid URL again with "http://" in front, so a password with a
// space in http://user:pa ss@proxy:3128 made the proxy a host named
// "http" ("cannot resolve host http"), and other values had the password
// quoted in the error. The message names the variable, never its value.
func proxyFromEnvironment(req *http.Request) (*url.URL, error) {
	names := []string{"HTTP_PROXY", "http_proxy"}
	if req.URL.Scheme == "https" {
		names = []string{"HTTPS_PROXY", "https_proxy"}
	}
	for _, name := range names {
		if v := os.Getenv(name); v != "" {
			if err := checkProxyURL(v); err != nil {
				return nil, &plainError{fmt.Sprintf("the proxy in $%s is not a valid URL (%v); percent-encode special characters in its user name and password: %%20 for a space, %%40 for @, %%2F for /", name, err)}
			}
			break // the one Go uses
		}
	}
	return http.ProxyFromEnvironment(req)
}

// checkProxyURL reports what is wrong with a proxy variable's value, in
// words that do not quote it.
func checkProxyURL(v string) error {
	u, err := url.Parse(v)
	if err == nil {
		switch u.Scheme {
		case "http", "https", "socks5", "socks5h":
			return nil
		}
	}
	if strings.Contains(v, "://") {
		if err == nil {
			return fmt.Errorf("unsupported scheme %q", u.Scheme)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return err
	}
	if _, err := url.Parse("http://" + v); err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return err
	}
	return nil
}

// httpTLSConfig is the TLS configuration for insecure= and ca_file=. A
// ca_file replaces the system roots, as curl's --cacert does.
func httpTLSConfig(insecure bool, caFile string) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if caFile != "" {
		pool, err := loadCAFile(caFile)
		if err != nil {
			return nil, err
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// loadCAFile reads a PEM bundle of trusted certificates. It must be a
// regular file: a FIFO would block open, and then the read, past the
// check's timeout (the transport is made before the request starts).
func loadCAFile(path string) (*x509.CertPool, error) {
	// O_NONBLOCK: opening a FIFO for reading returns at once, and the
	// check below refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s; a CA bundle must be a regular file", path, fileKind(fi.Mode()))
	}
	pem, err := io.ReadAll(io.LimitReader(f, 16<<20))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// fileKind names what a file that is not a regular file is.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}
