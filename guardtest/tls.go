package guardtest

// This file holds the TLS fakes: each world has its own CA, which its
// Deps trust instead of the system's, and t.fake.tls_cert serves a
// certificate it signs (or, with verified=False, one nobody trusts) over
// an in-memory connection, so tls_cert() does its real handshake and
// verification against the fake clock.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"time"

	"go.starlark.net/starlark"
)

type fakeTLS struct {
	cert tls.Certificate
	err  string
}

type fakeCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(name string, now time.Time) (*fakeCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-10 * 365 * 24 * time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return &fakeCA{cert, key}, err
}

// trustedCA is the world's trusted CA, made on first use.
func (w *world) trustedCA() (*fakeCA, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ca == nil {
		ca, err := newCA("infra-guard test CA", w.now)
		if err != nil {
			return nil, err
		}
		w.ca = ca
		w.roots.AddCert(ca.cert)
	}
	return w.ca, nil
}

// t.fake.tls_cert(addr, days_left=90, verified=True, error=None,
// subject=None, sans=None, issuer="infra-guard test CA")
func (w *world) fakeTLSCert(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		addr, errText, subject string
		daysLeft               = 90
		verified               = true
		sans                   *starlark.List
		issuer                 = "infra-guard test CA"
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "addr", &addr, "days_left?", &daysLeft, "verified?", &verified,
		"error?", &errText, "subject?", &subject, "sans?", &sans, "issuer?", &issuer); err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%s: addr %q is not host:port", b.Name(), addr)
	}
	if subject == "" {
		subject = host
	}
	names := []string{host}
	if sans != nil {
		names = nil
		for i := range sans.Len() {
			s, ok := starlark.AsString(sans.Index(i))
			if !ok {
				return nil, fmt.Errorf("%s: sans[%d] is %s; want a string", b.Name(), i, sans.Index(i).Type())
			}
			names = append(names, s)
		}
	}
	ca, err := w.trustedCA()
	if err != nil {
		return nil, err
	}
	if !verified || issuer != "infra-guard test CA" {
		// A CA the world does not trust.
		if ca, err = newCA(issuer, w.Now()); err != nil {
			return nil, err
		}
		if verified {
			w.mu.Lock()
			w.roots.AddCert(ca.cert)
			w.mu.Unlock()
		}
	}
	now := w.Now()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: subject},
		NotBefore:    now.Add(-30 * 24 * time.Hour),
		// An hour past the whole days, so days_left reads as given.
		NotAfter:    now.Add(time.Duration(daysLeft)*24*time.Hour + time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.tls[addr] = fakeTLS{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, err: errText}
	w.mu.Unlock()
	return starlark.None, nil
}

// dialTLS serves a fake certificate on one end of a pipe and returns the
// other.
func (w *world) dialTLS(ctx context.Context, f fakeTLS) (net.Conn, error) {
	if f.err != "" {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("%s", f.err)}
	}
	client, server := net.Pipe()
	now := w.Now
	go func() {
		conn := tls.Server(server, &tls.Config{Certificates: []tls.Certificate{f.cert}, Time: now})
		if conn.HandshakeContext(ctx) == nil {
			// Read the client's close_notify: a pipe has no buffer, and
			// its Close would wait 5 s to write it.
			io.Copy(io.Discard, conn)
		}
		server.Close()
	}()
	return client, nil
}
