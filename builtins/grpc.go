package builtins

// This file holds grpc_health(), which asks a gRPC server's standard
// health service (grpc.health.v1.Health/Check) whether it, or one of its
// services, is SERVING.
//
// The call is made with net/http, not google.golang.org/grpc: one unary
// call is one HTTP/2 POST (gRPC's PROTOCOL-HTTP2.md), and net/http speaks
// HTTP/2 over TLS and in plaintext (h2c), so the gRPC client, its
// resolvers, balancers, channelz and x/net/trace stay out of the binary —
// 39 packages whose init cost every start of infra-guard about 0.8 ms, and
// 1.9 MB of binary (bench/README.md, "Start-up"). The two messages are
// written and read with protowire, field by field.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/infra-guard/infra-guard/result"
)

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
	dialer := depsOf(thread).Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, a)
		},
		Protocols: new(http.Protocols),
		// An answer is a few bytes; this bounds a server that is not one.
		MaxResponseHeaderBytes: 64 << 10,
	}
	scheme := "http"
	if useTLS {
		scheme = "https"
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
		tr.TLSClientConfig = conf
		tr.Protocols.SetHTTP2(true)
	} else {
		tr.Protocols.SetUnencryptedHTTP2(true) // prior knowledge, as gRPC does
	}
	// The connection is this call's alone: closing the idle connections
	// once the answer has been read closes it.
	defer tr.CloseIdleConnections()

	ctx, cancel := withTimeout(ctx, time.Duration(timeout))
	defer cancel()
	start := time.Now()
	st, err := grpcHealthCheck(ctx, tr, scheme, addr, service)
	took := time.Since(start)
	what := "the server"
	if service != "" {
		what = fmt.Sprintf("service %q", service)
	}
	r := &Result{Metrics: []result.Metric{{Name: "latency_ms", Value: float64(took.Microseconds()) / 1000, Unit: "ms"}}}
	if err != nil {
		r.Status, r.Message = grpcErrorResult(ctx, err, what, addr)
		r.Metrics = nil // no answer, no latency
		return r, nil
	}
	switch st {
	case servingStatusServing:
		r.Status = result.OK
		r.Message = fmt.Sprintf("%s is SERVING (%s)", what, addr)
	case servingStatusNotServing:
		r.Status = result.Fail
		r.Message = fmt.Sprintf("%s is NOT_SERVING (%s)", what, addr)
	default:
		r.Status = result.Unknown
		r.Message = fmt.Sprintf("%s reports %s (%s)", what, servingStatusName(st), addr)
	}
	return r, nil
}

// grpcErrorResult judges a failed health check: a server that cannot be
// reached, or does not answer in time, fails; one that answers without
// knowing the service, or without a health service, is unknown.
func grpcErrorResult(ctx context.Context, err error, what, addr string) (result.Status, string) {
	if ctx.Err() != nil {
		return result.Fail, fmt.Sprintf("no health answer from %s: %s", addr, contextText(ctx))
	}
	var st *grpcStatus
	if !errors.As(err, &st) {
		// No answer at all: the connection, TLS or HTTP/2 failed.
		return result.Fail, fmt.Sprintf("cannot reach %s: %s", addr, netErrorText(err))
	}
	switch st.code {
	case grpcNotFound:
		return result.Unknown, fmt.Sprintf("%s is unknown to the health service of %s (SERVICE_UNKNOWN)", what, addr)
	case grpcUnimplemented:
		return result.Unknown, fmt.Sprintf("%s has no gRPC health service (grpc.health.v1.Health): %s", addr, st.msg)
	case grpcUnavailable:
		return result.Fail, fmt.Sprintf("cannot reach %s: %s", addr, st.msg)
	}
	return result.Fail, fmt.Sprintf("health check of %s failed: %s: %s", addr, grpcCodeName(st.code), st.msg)
}

// The health service's serving statuses (grpc/health/v1/health.proto).
const (
	servingStatusUnknown        = 0
	servingStatusServing        = 1
	servingStatusNotServing     = 2
	servingStatusServiceUnknown = 3 // Watch only
)

// servingStatusName is a status as the proto names it; a value the proto
// does not know is its number, as protobuf prints it.
func servingStatusName(st uint64) string {
	switch st {
	case servingStatusUnknown:
		return "UNKNOWN"
	case servingStatusServing:
		return "SERVING"
	case servingStatusNotServing:
		return "NOT_SERVING"
	case servingStatusServiceUnknown:
		return "SERVICE_UNKNOWN"
	}
	return strconv.FormatUint(st, 10)
}

// The gRPC status codes grpc_health() tells apart or produces itself.
const (
	grpcUnknown           = 2
	grpcNotFound          = 5
	grpcPermissionDenied  = 7
	grpcResourceExhausted = 8
	grpcUnimplemented     = 12
	grpcInternal          = 13
	grpcUnavailable       = 14
	grpcUnauthenticated   = 16
)

// grpcCodeNames are the status codes as grpc-go's codes.Code writes them,
// which is how messages named them before grpc-go left the binary.
var grpcCodeNames = [...]string{"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded",
	"NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
	"Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"}

func grpcCodeName(c uint32) string {
	if int(c) < len(grpcCodeNames) {
		return grpcCodeNames[c]
	}
	return "Code(" + strconv.FormatUint(uint64(c), 10) + ")"
}

// grpcStatus is a call that ended with a gRPC status other than OK: one
// the server sent, or one that its answer amounts to (a 404, a message
// that does not parse).
type grpcStatus struct {
	code uint32
	msg  string
}

func (e *grpcStatus) Error() string { return grpcCodeName(e.code) + ": " + e.msg }

// grpcMaxMessage is the largest answer read: gRPC's default limit for a
// received message.
const grpcMaxMessage = 4 << 20

// grpcHealthCheck makes the call Health/Check(HealthCheckRequest{service})
// and returns HealthCheckResponse.status. An error is a *grpcStatus when
// the server answered, and the transport's error when it did not.
func grpcHealthCheck(ctx context.Context, rt http.RoundTripper, scheme, addr, service string) (uint64, error) {
	var msg []byte
	if service != "" { // proto3 leaves an empty string out
		msg = protowire.AppendTag(msg, 1, protowire.BytesType)
		msg = protowire.AppendString(msg, service)
	}
	// A length-prefixed message: a compressed flag, then the length.
	frame := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(msg)))
	frame = append(frame, msg...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, scheme+"://"+addr+"/grpc.health.v1.Health/Check", bytes.NewReader(frame))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	req.Header.Set("User-Agent", "infra-guard")
	if d, ok := ctx.Deadline(); ok {
		req.Header.Set("Grpc-Timeout", grpcTimeout(time.Until(d)))
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if !isGRPCContentType(resp.Header.Get("Content-Type")) || resp.StatusCode != http.StatusOK {
		if st, ok := statusIn(resp.Header); ok { // a trailers-only answer, from a proxy, say
			return 0, st
		}
		return 0, httpStatusError(resp)
	}
	payload, frameErr := readGRPCMessage(resp.Body)
	var fe *grpcStatus
	if frameErr != nil && !errors.As(frameErr, &fe) {
		return 0, frameErr // the stream broke: a reset, the deadline
	}
	// The status comes in the trailers, or in the headers of an answer
	// that is trailers only; a status other than OK wins over the body.
	st, ok := statusIn(resp.Trailer)
	if !ok {
		st, ok = statusIn(resp.Header)
	}
	switch {
	case ok && st != nil:
		return 0, st
	case frameErr != nil:
		return 0, frameErr
	case !ok:
		return 0, &grpcStatus{grpcInternal, "the server ended the call without a grpc-status"}
	}
	return parseHealthResponse(payload)
}

// statusIn reads grpc-status and grpc-message from h: ok is whether
// grpc-status is there, and st is nil when it is OK (0).
func statusIn(h http.Header) (st *grpcStatus, ok bool) {
	v := h.Get("Grpc-Status")
	if v == "" {
		return nil, false
	}
	code, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return &grpcStatus{grpcUnknown, fmt.Sprintf("malformed grpc-status %q", v)}, true
	}
	if code == 0 {
		return nil, true
	}
	return &grpcStatus{uint32(code), percentDecode(h.Get("Grpc-Message"))}, true
}

// percentDecode decodes grpc-message, which is percent-encoded; a %
// that does not start a valid escape stays as it is, as in grpc-go.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// httpStatusError is the status an answer that is not gRPC's amounts to,
// mapped from its HTTP status as gRPC clients map it
// (grpc/doc/http-grpc-status-mapping.md): a 404 is UNIMPLEMENTED, for one.
func httpStatusError(resp *http.Response) error {
	code := uint32(grpcUnknown)
	switch resp.StatusCode {
	case http.StatusBadRequest:
		code = grpcInternal
	case http.StatusUnauthorized:
		code = grpcUnauthenticated
	case http.StatusForbidden:
		code = grpcPermissionDenied
	case http.StatusNotFound:
		code = grpcUnimplemented
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		code = grpcUnavailable
	}
	msg := fmt.Sprintf("unexpected HTTP status code received from server: %d (%s)", resp.StatusCode, http.StatusText(resp.StatusCode))
	if ct := resp.Header.Get("Content-Type"); !isGRPCContentType(ct) {
		msg += fmt.Sprintf("; unexpected content-type %q", ct)
	}
	return &grpcStatus{code, msg}
}

// isGRPCContentType reports whether ct is application/grpc, with or
// without a subtype (application/grpc+proto) or parameters.
func isGRPCContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/grpc" || strings.HasPrefix(mt, "application/grpc+"))
}

// readGRPCMessage reads the one length-prefixed message of a unary
// answer and makes sure nothing follows it. A body that is not one
// uncompressed message of at most grpcMaxMessage bytes is a *grpcStatus;
// any other error is the stream's.
func readGRPCMessage(body io.Reader) ([]byte, error) {
	var hdr [5]byte
	switch n, err := io.ReadFull(body, hdr[:]); {
	case err == io.EOF:
		return nil, &grpcStatus{grpcInternal, "no response message"}
	case err == io.ErrUnexpectedEOF:
		return nil, &grpcStatus{grpcInternal, fmt.Sprintf("truncated response: a message header of %d of 5 bytes", n)}
	case err != nil:
		return nil, err
	}
	switch hdr[0] {
	case 0:
	case 1:
		// We send no grpc-accept-encoding, so the server may not compress.
		return nil, &grpcStatus{grpcInternal, "the response message is compressed, which was not asked for"}
	default:
		return nil, &grpcStatus{grpcInternal, fmt.Sprintf("invalid compressed flag %d in the response", hdr[0])}
	}
	size := binary.BigEndian.Uint32(hdr[1:])
	if size > grpcMaxMessage {
		return nil, &grpcStatus{grpcResourceExhausted, fmt.Sprintf("response message larger than max (%d vs. %d)", size, grpcMaxMessage)}
	}
	// ReadAll grows as bytes arrive, so a length that lies costs nothing.
	payload, err := io.ReadAll(io.LimitReader(body, int64(size)))
	if err != nil {
		return nil, err
	}
	if len(payload) < int(size) {
		return nil, &grpcStatus{grpcInternal, fmt.Sprintf("truncated response: a message of %d of %d bytes", len(payload), size)}
	}
	extra, err := io.ReadAll(io.LimitReader(body, 1))
	if err != nil {
		return nil, err
	}
	if len(extra) > 0 {
		return nil, &grpcStatus{grpcInternal, "more than one response message for a unary call"}
	}
	return payload, nil
}

// parseHealthResponse decodes HealthCheckResponse{ServingStatus status = 1}
// and returns its status, skipping fields it does not know.
func parseHealthResponse(b []byte) (uint64, error) {
	var st uint64
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, badHealthResponse(protowire.ParseError(n))
		}
		b = b[n:]
		if num == 1 && typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, badHealthResponse(protowire.ParseError(n))
			}
			st, b = v, b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return 0, badHealthResponse(protowire.ParseError(n))
		}
		b = b[n:]
	}
	return st, nil
}

func badHealthResponse(err error) error {
	return &grpcStatus{grpcInternal, "cannot parse the HealthCheckResponse: " + err.Error()}
}

// grpcTimeout writes d as a grpc-timeout header value, rounded up to the
// millisecond (at most 8 digits, so seconds beyond about 27 hours).
func grpcTimeout(d time.Duration) string {
	ms := (max(d, 0) + time.Millisecond - 1) / time.Millisecond
	if ms <= 99_999_999 {
		return strconv.FormatInt(int64(ms), 10) + "m"
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10) + "S"
}
