package builtins

// This file holds what the network tests share: calling a builtin as a
// check would, raw TCP fault servers, and certificates made on the fly (no
// key is committed to the repository).

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarktest"
)

// checkThread is a thread in the run phase, with ctx and a Run that is
// closed when the test ends, as the runtime sets one up.
func netThread(t testing.TB, ctx context.Context) *starlark.Thread {
	thread := &starlark.Thread{Name: t.Name()}
	SetContext(thread, ctx)
	run := NewRun()
	SetRun(thread, run)
	t.Cleanup(run.Close)
	return thread
}

// call calls the builtin name with args and keyword arguments given as
// name, value pairs (Go strings, ints and bools are converted).
func netCall(t testing.TB, ctx context.Context, name string, args []any, kwargs ...any) (starlark.Value, error) {
	t.Helper()
	b := Predeclared()[name]
	if b == nil {
		t.Fatalf("no builtin %s", name)
	}
	var pos starlark.Tuple
	for _, a := range args {
		pos = append(pos, netValue(t, a))
	}
	var kws []starlark.Tuple
	for i := 0; i < len(kwargs); i += 2 {
		kws = append(kws, starlark.Tuple{starlark.String(kwargs[i].(string)), netValue(t, kwargs[i+1])})
	}
	return starlark.Call(netThread(t, ctx), b, pos, kws)
}

// mustCall is call for calls that must not raise.
func netMust(t testing.TB, name string, args []any, kwargs ...any) starlark.Value {
	t.Helper()
	v, err := netCall(t, t.Context(), name, args, kwargs...)
	if err != nil {
		t.Fatalf("%s raised: %v", name, err)
	}
	return v
}

func netValue(t testing.TB, a any) starlark.Value {
	switch a := a.(type) {
	case starlark.Value:
		return a
	case string:
		return starlark.String(a)
	case int:
		return starlark.MakeInt(a)
	case bool:
		return starlark.Bool(a)
	case []int:
		l := starlark.NewList(nil)
		for _, x := range a {
			l.Append(starlark.MakeInt(x))
		}
		return l
	case map[string]any:
		d := starlark.NewDict(len(a))
		for k, v := range a {
			d.SetKey(starlark.String(k), netValue(t, v))
		}
		return d
	}
	t.Fatalf("toValue: unsupported %T", a)
	return nil
}

func netAttr(t testing.TB, v starlark.Value, name string) starlark.Value {
	t.Helper()
	x, err := v.(starlark.HasAttrs).Attr(name)
	if err != nil || x == nil {
		t.Fatalf("%s has no attribute %s (%v)", v.Type(), name, err)
	}
	return x
}

func netStr(t testing.TB, v starlark.Value, name string) string {
	t.Helper()
	s, ok := starlark.AsString(netAttr(t, v, name))
	if !ok {
		t.Fatalf(".%s is %s, not a string", name, netAttr(t, v, name).Type())
	}
	return s
}

func netInt(t testing.TB, v starlark.Value, name string) int {
	t.Helper()
	var n int
	if err := starlark.AsInt(netAttr(t, v, name), &n); err != nil {
		t.Fatalf(".%s: %v", name, err)
	}
	return n
}

func netBool(t testing.TB, v starlark.Value, name string) bool {
	t.Helper()
	b, ok := netAttr(t, v, name).(starlark.Bool)
	if !ok {
		t.Fatalf(".%s is %s, not a bool", name, netAttr(t, v, name).Type())
	}
	return bool(b)
}

// execCheck runs src as a check's code would run, with the builtins,
// starlarktest's assert module and vars predeclared.
func netExec(t *testing.T, src string, vars starlark.StringDict) {
	t.Helper()
	assertModule, err := starlarktest.LoadAssertModule()
	if err != nil {
		t.Fatal(err)
	}
	predeclared := Predeclared()
	predeclared["assert"] = assertModule["assert"]
	for k, v := range vars {
		predeclared[k] = v
	}
	thread := netThread(t, t.Context())
	starlarktest.SetReporter(thread, t)
	if _, err := starlark.ExecFileOptions(fileOptions, thread, t.Name()+".star", src, predeclared); err != nil {
		if evalErr, ok := err.(*starlark.EvalError); ok {
			t.Fatal(evalErr.Backtrace())
		}
		t.Fatal(err)
	}
}

// rawServer accepts TCP connections on 127.0.0.1 and hands each, with its
// number from 0, to handle in its own goroutine. Connections still open
// when the test ends are closed, which unblocks handlers that wait.
func netRawServer(t testing.TB, handle func(conn net.Conn, n int)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				handle(conn, n)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// readRequestHead reads up to the end of an HTTP request's headers.
func netReadHead(conn net.Conn) error {
	buf := make([]byte, 0, 1024)
	one := make([]byte, 1)
	for {
		if _, err := conn.Read(one); err != nil {
			return err
		}
		buf = append(buf, one[0])
		if n := len(buf); n >= 4 && string(buf[n-4:]) == "\r\n\r\n" {
			return nil
		}
	}
}

// reset closes conn with an RST rather than a FIN.
func netReset(conn net.Conn) {
	conn.(*net.TCPConn).SetLinger(0)
	conn.Close()
}

// refusedAddr is a 127.0.0.1 address nothing listens on.
func netRefusedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// netCA is a certificate authority made for one test.
type netCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func netKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

var netSerial atomic.Int64 // certificate serial numbers, unique per test binary

func netCertTemplate(cn string, notBefore, notAfter time.Time) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano() + netSerial.Add(1)),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"infra-guard tests"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
	}
}

func newNetCA(t testing.TB) *netCA {
	t.Helper()
	key := netKey(t)
	tmpl := netCertTemplate("infra-guard test CA", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &netCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// file writes the CA's certificate to a PEM file for ca_file=.
func (ca *netCA) file(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// leaf issues a server certificate for hosts (names or IPs), valid from
// notBefore to notAfter. With a nil CA it is self-signed.
func (ca *netCA) leaf(t testing.TB, hosts []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key := netKey(t)
	tmpl := netCertTemplate(hosts[0], notBefore, notAfter)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// tlsServer serves h over TLS with cert on 127.0.0.1.
func netTLSServer(t testing.TB, cert tls.Certificate, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = netQuietLog()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// quietLog discards a test server's log, such as the TLS handshake errors
// that tests of bad certificates provoke on purpose.
func netQuietLog() *log.Logger { return log.New(io.Discard, "", 0) }

// server is an httptest server on 127.0.0.1 that the test closes.
func netServer(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = netQuietLog()
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}
