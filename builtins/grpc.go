package builtins

// This file holds grpc_health(), which asks a gRPC server's standard
// health service (grpc.health.v1.Health/Check) whether it, or one of its
// services, is SERVING. It uses google.golang.org/grpc's own client, so
// HTTP/2, TLS and the status codes are what every gRPC server expects.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"go.starlark.net/starlark"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/grpclog"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/infra-guard/infra-guard/result"
)

func init() {
	// grpc logs connection errors to stderr on its own; grpc_health()
	// puts them in its result, and only the CLI writes to stderr.
	grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, io.Discard, io.Discard))
}

// grpc_health(addr, service="", tls=False, server_name=None, ca_file=None,
// insecure=False, timeout="5s") calls the health service of the gRPC
// server at addr and returns a result: SERVING is ok, NOT_SERVING fail,
// anything else unknown; a server that cannot be reached is a fail.
func grpcHealth(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := ctxOf(thread)
	var (
		addr       string
		service    string
		useTLS     bool
		sni        optString // None or "": the host of addr
		caFile     optString // None or "": the system roots
		skipVerify bool
		timeout    = Duration(5 * time.Second)
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "addr", &addr, "service?", &service, "tls?", &useTLS,
		"server_name?", &sni, "ca_file?", &caFile, "insecure?", &skipVerify, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if err := checkAddr(addr); err != nil {
		return nil, fmt.Errorf("%s: addr: %v", b.Name(), err)
	}
	if !useTLS && (sni.set || caFile.set || skipVerify) {
		return nil, fmt.Errorf("%s: server_name, ca_file and insecure apply only with tls=True", b.Name())
	}
	creds := insecure.NewCredentials()
	if useTLS {
		conf := &tls.Config{InsecureSkipVerify: skipVerify, MinVersion: tls.VersionTLS12}
		if sni.s != "" {
			conf.ServerName = sni.s
		}
		if caFile.s != "" {
			roots, err := loadCAFile(caFile.s)
			if err != nil {
				return nil, fmt.Errorf("%s: ca_file: %v", b.Name(), err)
			}
			conf.RootCAs = roots
		}
		creds = credentials.NewTLS(conf)
	}

	dialer := depsOf(thread).Dialer
	var (
		mu      sync.Mutex
		dialErr error // the last failed dial, in the words of netErrorText
	)
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(creds),
		grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, "tcp", a)
			if err != nil {
				mu.Lock()
				dialErr = err
				mu.Unlock()
			}
			return c, err
		}),
		grpc.WithDisableServiceConfig(),
		grpc.WithDisableRetry(),
	)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	defer conn.Close()

	ctx, cancel := withTimeout(ctx, time.Duration(timeout))
	defer cancel()
	start := time.Now()
	// Wait for the connection: a server that is down fails now, with its
	// reason, instead of at the deadline.
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service}, grpc.WaitForReady(false))
	took := time.Since(start)
	what := "the server"
	if service != "" {
		what = fmt.Sprintf("service %q", service)
	}
	r := &Result{Metrics: []result.Metric{{Name: "latency_ms", Value: float64(took.Microseconds()) / 1000, Unit: "ms"}}}
	if err != nil {
		mu.Lock()
		derr := dialErr
		mu.Unlock()
		r.Status, r.Message = grpcErrorResult(ctx, err, derr, what, addr)
		r.Metrics = nil // no answer, no latency
		return r, nil
	}
	switch st := resp.GetStatus(); st {
	case healthpb.HealthCheckResponse_SERVING:
		r.Status = result.OK
		r.Message = fmt.Sprintf("%s is SERVING (%s)", what, addr)
	case healthpb.HealthCheckResponse_NOT_SERVING:
		r.Status = result.Fail
		r.Message = fmt.Sprintf("%s is NOT_SERVING (%s)", what, addr)
	default:
		r.Status = result.Unknown
		r.Message = fmt.Sprintf("%s reports %s (%s)", what, st, addr)
	}
	return r, nil
}

// grpcErrorResult judges a failed health check: a server that cannot be
// reached, or does not answer in time, fails; one that answers without
// knowing the service, or without a health service, is unknown.
func grpcErrorResult(ctx context.Context, err, dialErr error, what, addr string) (result.Status, string) {
	if ctx.Err() != nil {
		return result.Fail, fmt.Sprintf("no health answer from %s: %s", addr, contextText(ctx))
	}
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.NotFound:
		return result.Unknown, fmt.Sprintf("%s is unknown to the health service of %s (SERVICE_UNKNOWN)", what, addr)
	case codes.Unimplemented:
		return result.Unknown, fmt.Sprintf("%s has no gRPC health service (grpc.health.v1.Health): %s", addr, st.Message())
	case codes.Unavailable:
		if dialErr != nil {
			return result.Fail, fmt.Sprintf("cannot reach %s: %s", addr, netErrorText(dialErr))
		}
		var verr *tls.CertificateVerificationError
		var uerr x509.UnknownAuthorityError
		if errors.As(err, &verr) || errors.As(err, &uerr) {
			return result.Fail, fmt.Sprintf("cannot reach %s: TLS: %s", addr, certErrorText(err, time.Now()))
		}
		return result.Fail, fmt.Sprintf("cannot reach %s: %s", addr, st.Message())
	}
	return result.Fail, fmt.Sprintf("health check of %s failed: %s: %s", addr, st.Code(), st.Message())
}
