package builtins

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/infra-guard/infra-guard/result"
)

// grpcServer starts a gRPC server on 127.0.0.1 with creds (nil:
// plaintext) and, unless withHealth is false, the standard health
// service, in which "api" is SERVING, "db" NOT_SERVING and "cache"
// UNKNOWN. It stops when the test ends.
func grpcServer(t *testing.T, creds credentials.TransportCredentials, withHealth bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts []grpc.ServerOption
	if creds != nil {
		opts = append(opts, grpc.Creds(creds))
	}
	srv := grpc.NewServer(opts...)
	if withHealth {
		h := health.NewServer()
		h.SetServingStatus("api", healthpb.HealthCheckResponse_SERVING)
		h.SetServingStatus("db", healthpb.HealthCheckResponse_NOT_SERVING)
		h.SetServingStatus("cache", healthpb.HealthCheckResponse_UNKNOWN)
		healthpb.RegisterHealthServer(srv, h)
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	return ln.Addr().String()
}

func TestGRPCHealth(t *testing.T) {
	// Registered first, so it runs last, once the servers have stopped:
	// grpc_health() leaves no goroutine of its client behind.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	ca := newNetCA(t)
	now := time.Now()
	cert := ca.leaf(t, []string{"127.0.0.1", "grpc.test"}, now.Add(-time.Hour), now.Add(24*time.Hour))
	plain := grpcServer(t, nil, true)
	secure := grpcServer(t, credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}}), true)
	bare := grpcServer(t, nil, false)
	netExec(t, `
r = grpc_health(PLAIN)
assert.eq((r.status, r.message), ("ok", "the server is SERVING (" + PLAIN + ")"))
assert.eq(list(r.metrics.keys()), ["latency_ms"])
assert.true(r.metrics["latency_ms"] >= 0)

assert.eq(grpc_health(PLAIN, service = "api").status, "ok")
d = grpc_health(PLAIN, service = "db")
assert.eq((d.status, d.message), ("fail", 'service "db" is NOT_SERVING (' + PLAIN + ")"))
c = grpc_health(PLAIN, service = "cache")
assert.eq((c.status, c.message), ("unknown", 'service "cache" reports UNKNOWN (' + PLAIN + ")"))
u = grpc_health(PLAIN, service = "nope")
assert.eq((u.status, u.message), ("unknown", 'service "nope" is unknown to the health service of ' + PLAIN + " (SERVICE_UNKNOWN)"))

b = grpc_health(BARE)
assert.eq(b.status, "unknown")
assert.true(b.message.startswith(BARE + " has no gRPC health service"), b.message)

down = grpc_health(DOWN)
assert.eq((down.status, down.message, down.metrics), ("fail", "cannot reach " + DOWN + ": connection refused (" + DOWN + ")", {}))

s = grpc_health(SECURE, tls = True, ca_file = CA)
assert.eq((s.status, s.message), ("ok", "the server is SERVING (" + SECURE + ")"))
assert.eq(grpc_health(SECURE, tls = True, ca_file = CA, server_name = "grpc.test", service = "api").status, "ok")
assert.eq(grpc_health(SECURE, tls = True, insecure = True).status, "ok")
v = grpc_health(SECURE, tls = True)
assert.eq(v.status, "fail")
assert.true("certificate signed by unknown authority" in v.message, v.message)
p = grpc_health(PLAIN, tls = True, ca_file = CA, timeout = "1s")
assert.eq(p.status, "fail")

assert.fails(lambda: grpc_health("localhost"), "grpc_health: addr: ")
assert.fails(lambda: grpc_health(PLAIN, insecure = True), "grpc_health: server_name, ca_file and insecure apply only with tls=True")
assert.fails(lambda: grpc_health(PLAIN, tls = True, ca_file = "/nonexistent.pem"), "grpc_health: ca_file: open /nonexistent.pem: no such file or directory")
`, starlark.StringDict{
		"PLAIN": starlark.String(plain), "SECURE": starlark.String(secure), "BARE": starlark.String(bare),
		"DOWN": starlark.String(netRefusedAddr(t)), "CA": starlark.String(ca.file(t)),
	})
	// A server that accepts and never answers fails at the timeout.
	hang := netRawServer(t, func(conn net.Conn, _ int) { conn.Read(make([]byte, 1<<16)); conn.Read(make([]byte, 1)) })
	r, err := netCall(t, t.Context(), "grpc_health", []any{hang}, "timeout", "300ms")
	if err != nil {
		t.Fatal(err)
	}
	if res := r.(*Result); res.Status != result.Fail || !strings.HasSuffix(res.Message, "timed out after 300ms") {
		t.Errorf("hanging server = %v %q", res.Status, res.Message)
	}
}

// h2cServer serves handler over plaintext HTTP/2 (h2c, prior knowledge)
// on 127.0.0.1, standing in for gRPC servers that misbehave. It stops
// when the test ends.
func h2cServer(t *testing.T, handler http.HandlerFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler, Protocols: new(http.Protocols)}
	srv.Protocols.SetUnencryptedHTTP2(true)
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln.Addr().String()
}

// grpcAnswer writes a gRPC answer: the body as given (frames and all),
// then grpc-status (none when status is "") as a trailer.
func grpcAnswer(w http.ResponseWriter, body []byte, status, message string) {
	w.Header().Set("Content-Type", "application/grpc")
	w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	if status != "" {
		w.Header().Set("Grpc-Status", status)
		w.Header().Set("Grpc-Message", message)
	}
}

// grpcFrame is a length-prefixed message with the given compressed flag
// and declared length.
func grpcFrame(flag byte, length uint32, payload []byte) []byte {
	return append(binary.BigEndian.AppendUint32([]byte{flag}, length), payload...)
}

func TestGRPCHealthAnswers(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	serving := []byte{0x08, 0x01} // HealthCheckResponse{status: SERVING}
	// The request the server saw last: its headers, and its message.
	var (
		mu      sync.Mutex
		lastReq *http.Request
		lastMsg []byte
	)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	handlers := map[string]http.HandlerFunc{
		"ok": func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			lastReq, lastMsg = r, body
			mu.Unlock()
			grpcAnswer(w, grpcFrame(0, 2, serving), "0", "")
		},
		// Unknown fields are skipped; the last status wins, as in protobuf.
		"extra-fields": func(w http.ResponseWriter, r *http.Request) {
			msg := []byte{0x08, 0x02, 0x12, 0x03, 'a', 'b', 'c', 0x18, 0x07, 0x08, 0x01}
			grpcAnswer(w, grpcFrame(0, uint32(len(msg)), msg), "0", "")
		},
		"empty-message": func(w http.ResponseWriter, r *http.Request) {
			grpcAnswer(w, grpcFrame(0, 0, nil), "0", "")
		},
		"truncated-message": func(w http.ResponseWriter, r *http.Request) {
			grpcAnswer(w, grpcFrame(0, 10, serving), "0", "")
		},
		"truncated-header": func(w http.ResponseWriter, r *http.Request) {
			grpcAnswer(w, []byte{0, 0, 0}, "0", "")
		},
		"no-message": func(w http.ResponseWriter, r *http.Request) {
			grpcAnswer(w, nil, "0", "")
		},
		"two-messages": func(w http.ResponseWriter, r *http.Request) {
			grpcAnswer(w, append(grpcFrame(0, 2, serving), grpcFrame(0, 2, serving)...), "0", "")
		},
		"compressed": func(w http.ResponseWriter, r *http.Request) {
			grpcAnswer(w, grpcFrame(1, 2, serving), "0", "")
		},
		"bad-flag": func(w http.ResponseWriter, r *http.Request) {
			grpcAnswer(w, grpcFrame(7, 2, serving), "0", "")
		},
		"oversize": func(w http.ResponseWriter, r *http.Request) {
			grpcAnswer(w, grpcFrame(0, 1<<30, serving), "0", "")
		},
		"garbage": func(w http.ResponseWriter, r *http.Request) {
			grpcAnswer(w, grpcFrame(0, 2, []byte{0x08, 0xff}), "0", "")
		},
		"no-status": func(w http.ResponseWriter, r *http.Request) {
			grpcAnswer(w, grpcFrame(0, 2, serving), "", "")
		},
		"bad-status": func(w http.ResponseWriter, r *http.Request) {
			grpcAnswer(w, grpcFrame(0, 2, serving), "ok", "")
		},
		// A status other than OK wins over the message that came first.
		"status-after-message": func(w http.ResponseWriter, r *http.Request) {
			grpcAnswer(w, grpcFrame(0, 2, serving), "7", "no%20entry %zz")
		},
		"trailers-only": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/grpc")
			w.Header().Set("Grpc-Status", "16")
			w.Header().Set("Grpc-Message", "token expired")
			w.WriteHeader(http.StatusOK)
		},
		"unavailable": func(w http.ResponseWriter, r *http.Request) {
			grpcAnswer(w, nil, "14", "draining")
		},
		"not-found-http": func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		},
		"bad-gateway": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
		},
		"teapot": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/grpc")
			w.WriteHeader(http.StatusTeapot)
		},
		"plain-200": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte("{}"))
		},
		"hang-after-headers": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/grpc")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-release:
			}
		},
	}
	for _, c := range []struct {
		name, service string
		status        result.Status
		msg           string // the message, after "ADDR" is replaced
	}{
		{"ok", "api", result.OK, `service "api" is SERVING (ADDR)`},
		{"extra-fields", "", result.OK, "the server is SERVING (ADDR)"},
		{"empty-message", "", result.Unknown, "the server reports UNKNOWN (ADDR)"},
		{"truncated-message", "", result.Fail, "health check of ADDR failed: Internal: truncated response: a message of 2 of 10 bytes"},
		{"truncated-header", "", result.Fail, "health check of ADDR failed: Internal: truncated response: a message header of 3 of 5 bytes"},
		{"no-message", "", result.Fail, "health check of ADDR failed: Internal: no response message"},
		{"two-messages", "", result.Fail, "health check of ADDR failed: Internal: more than one response message for a unary call"},
		{"compressed", "", result.Fail, "health check of ADDR failed: Internal: the response message is compressed, which was not asked for"},
		{"bad-flag", "", result.Fail, "health check of ADDR failed: Internal: invalid compressed flag 7 in the response"},
		{"oversize", "", result.Fail, "health check of ADDR failed: ResourceExhausted: response message larger than max (1073741824 vs. 4194304)"},
		{"garbage", "", result.Fail, "health check of ADDR failed: Internal: cannot parse the HealthCheckResponse: unexpected EOF"},
		{"no-status", "", result.Fail, "health check of ADDR failed: Internal: the server ended the call without a grpc-status"},
		{"bad-status", "", result.Fail, `health check of ADDR failed: Unknown: malformed grpc-status "ok"`},
		{"status-after-message", "", result.Fail, "health check of ADDR failed: PermissionDenied: no entry %zz"},
		{"trailers-only", "", result.Fail, "health check of ADDR failed: Unauthenticated: token expired"},
		{"unavailable", "", result.Fail, "cannot reach ADDR: draining"},
		{"not-found-http", "", result.Unknown, "ADDR has no gRPC health service (grpc.health.v1.Health): unexpected HTTP status code received from server: 404 (Not Found); unexpected content-type \"text/plain; charset=utf-8\""},
		{"bad-gateway", "", result.Fail, "cannot reach ADDR: unexpected HTTP status code received from server: 502 (Bad Gateway); unexpected content-type \"text/html\""},
		{"teapot", "", result.Fail, "health check of ADDR failed: Unknown: unexpected HTTP status code received from server: 418 (I'm a teapot)"},
		{"plain-200", "", result.Fail, "health check of ADDR failed: Unknown: unexpected HTTP status code received from server: 200 (OK); unexpected content-type \"application/json\""},
		{"hang-after-headers", "", result.Fail, "no health answer from ADDR: timed out after 300ms"},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := h2cServer(t, handlers[c.name])
			v, err := netCall(t, t.Context(), "grpc_health", []any{addr}, "service", c.service, "timeout", "300ms")
			if err != nil {
				t.Fatal(err)
			}
			r := v.(*Result)
			if want := strings.ReplaceAll(c.msg, "ADDR", addr); r.Status != c.status || r.Message != want {
				t.Errorf("got %v %q\nwant %v %q", r.Status, r.Message, c.status, want)
			}
			// Only a HealthCheckResponse has a latency.
			if answered := r.Status == result.OK || strings.Contains(c.msg, " reports "); answered != (len(r.Metrics) == 1) {
				t.Errorf("metrics = %v", r.Metrics)
			}
		})
	}

	// What the server was asked: a POST of one uncompressed message
	// naming the service, with gRPC's headers.
	mu.Lock()
	defer mu.Unlock()
	if lastReq == nil {
		t.Fatal("the ok server saw no request")
	}
	if lastReq.Method != http.MethodPost || lastReq.URL.Path != "/grpc.health.v1.Health/Check" || lastReq.ProtoMajor != 2 {
		t.Errorf("request = %s %s %s", lastReq.Method, lastReq.URL.Path, lastReq.Proto)
	}
	for h, want := range map[string]string{"Content-Type": "application/grpc", "Te": "trailers"} {
		if got := lastReq.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if d, err := time.ParseDuration(strings.TrimSuffix(lastReq.Header.Get("Grpc-Timeout"), "m") + "ms"); err != nil || d <= 0 || d > 300*time.Millisecond {
		t.Errorf("Grpc-Timeout = %q", lastReq.Header.Get("Grpc-Timeout"))
	}
	if want := grpcFrame(0, 5, []byte{0x0a, 0x03, 'a', 'p', 'i'}); !bytes.Equal(lastMsg, want) {
		t.Errorf("request body = %x, want %x", lastMsg, want)
	}
}

func TestGRPCTimeout(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:                     "0m",
		0:                                "0m",
		time.Nanosecond:                  "1m",
		300 * time.Millisecond:           "300m",
		5*time.Second + time.Microsecond: "5001m",
		99_999_999 * time.Millisecond:    "99999999m",
		100_000_000 * time.Millisecond:   "100000S",
		100_000_000*time.Millisecond + 1: "100001S",
	} {
		if got := grpcTimeout(d); got != want {
			t.Errorf("grpcTimeout(%v) = %q, want %q", d, got, want)
		}
	}
}
