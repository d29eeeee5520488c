package builtins

import (
	"crypto/tls"
	"net"
	"strings"
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
