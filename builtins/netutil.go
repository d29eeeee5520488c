package builtins

// This file holds what the network builtins (http_check, tcp, dns,
// tls_cert) share: duration arguments, the words a failed
// connection is described with, and the fields of a certificate.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/redact"
)

// fmtSeconds writes a duration the way the error messages use it: "250ms"
// under a second, else seconds with at most one decimal, rounded down
// ("2.9s", "3600s"), so a remaining time is never overstated.
func fmtSeconds(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	s := math.Floor(d.Seconds()*10) / 10
	return strconv.FormatFloat(s, 'f', -1, 64) + "s"
}

// millis is a duration as float milliseconds, to the microsecond.
func millis(d time.Duration) starlark.Float {
	return starlark.Float(float64(d.Microseconds()) / 1000)
}

// deadlineError is the cause of a builtin's own timeout= expiring, so the
// message can say which deadline it was.
type deadlineError struct{ d time.Duration }

func (e *deadlineError) Error() string { return "timed out after " + fmtSeconds(e.d) }

// withTimeout bounds ctx by a builtin's timeout= argument.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, d, &deadlineError{d})
}

// contextText says why ctx ended: "timed out after 5s" for a builtin's own
// timeout, else the check's reason (its deadline, or the run being
// cancelled).
func contextText(ctx context.Context) string {
	cause := context.Cause(ctx)
	if cause == nil {
		return ""
	}
	return cause.Error()
}

// The phase timeouts of the network builtins (docs/design.md), each inside the
// builtin's own timeout.
const (
	dialTimeout           = 5 * time.Second
	tlsHandshakeTimeout   = 5 * time.Second
	responseHeaderTimeout = 10 * time.Second
)

// netErrorText describes a failed connection, DNS lookup, TLS handshake or
// HTTP exchange in words an on-call engineer understands: "connection
// refused (127.0.0.1:9)", "TLS: certificate signed by unknown authority",
// "cannot resolve host db.internal: no such host". It never includes a URL
// with its query: *url.Error is unwrapped, and what remains is redacted.
func netErrorText(err error) string {
	if err == nil {
		return ""
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var (
		plain    *plainError
		dnsErr   *net.DNSError
		verifErr *tls.CertificateVerificationError
		recErr   tls.RecordHeaderError
		opErr    *net.OpError
	)
	switch {
	case errors.As(err, &plain):
		return plain.msg
	case errors.As(err, &dnsErr):
		switch {
		case dnsErr.IsNotFound:
			return fmt.Sprintf("cannot resolve host %s: no such host", dnsErr.Name)
		case dnsErr.IsTimeout:
			return fmt.Sprintf("cannot resolve host %s: the DNS lookup timed out", dnsErr.Name)
		}
		return fmt.Sprintf("cannot resolve host %s: %s", dnsErr.Name, dnsErr.Err)
	case errors.As(err, &verifErr):
		return "TLS: " + certErrorText(verifErr.Err, time.Now())
	case isCertError(err):
		return "TLS: " + certErrorText(err, time.Now())
	case errors.As(err, &recErr):
		return "TLS: the server did not answer with TLS (plain HTTP on this port?)"
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "TLS: the server answered with plain HTTP, not TLS (use http://?)"
	case strings.HasPrefix(err.Error(), "failed to parse Location header"):
		// http.Client quotes the header, and url.Parse the bad escape in
		// it: text the server wrote, which may reflect a secret, and of
		// which a three-byte "%zz" is too short for the scrubber.
		return "refused redirect: the Location header is not a valid URL"
	case err.Error() == "net/http: TLS handshake timeout":
		return "TLS handshake timed out after " + fmtSeconds(tlsHandshakeTimeout)
	case strings.Contains(err.Error(), "timeout awaiting response headers"):
		return "no response headers within " + fmtSeconds(responseHeaderTimeout)
	}
	addr := ""
	if errors.As(err, &opErr) && opErr.Addr != nil {
		addr = " (" + opErr.Addr.String() + ")"
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused" + addr
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer" + addr
	case errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return "connection closed by peer while sending the request" + addr
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable" + addr
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable" + addr
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection without a complete response" + addr
	case opErr != nil && opErr.Op == "dial" && opErr.Timeout():
		return "connect timed out after " + fmtSeconds(dialTimeout) + addr
	}
	msg := strings.TrimPrefix(err.Error(), "net/http: ")
	return redact.URLsIn(msg)
}

// plainError is an error whose message is already in the words
// netErrorText would use, such as a refused redirect.
type plainError struct{ msg string }

func (e *plainError) Error() string { return e.msg }

// isCertError reports whether err is a failed certificate verification,
// which is never retried.
func isCertError(err error) bool {
	var (
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
		ve *tls.CertificateVerificationError
	)
	return errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &ve)
}

// certErrorText describes why a certificate did not verify.
func certErrorText(err error, now time.Time) string {
	var (
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &ua):
		if ua.Cert != nil && ua.Cert.Issuer.String() == ua.Cert.Subject.String() {
			return "certificate signed by unknown authority (self-signed: " + ua.Cert.Subject.String() + ")"
		}
		return "certificate signed by unknown authority"
	case errors.As(err, &he):
		return strings.TrimPrefix(he.Error(), "x509: ")
	case errors.As(err, &ci) && ci.Reason == x509.Expired && ci.Cert != nil:
		c := ci.Cert
		switch {
		case now.After(c.NotAfter):
			return fmt.Sprintf("certificate expired on %s (%s ago)", c.NotAfter.UTC().Format(time.RFC3339), ago(now.Sub(c.NotAfter)))
		case now.Before(c.NotBefore):
			return fmt.Sprintf("certificate is not valid before %s", c.NotBefore.UTC().Format(time.RFC3339))
		}
	}
	return strings.TrimPrefix(err.Error(), "x509: ")
}

// ago writes an age in the largest whole unit: "3 days", "5 hours", "40s".
func ago(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmtSeconds(d)
}

// daysLeft is the whole days until notAfter, rounded down; once it has
// passed, minus the whole days since (as "expired … (N days ago)" says
// them), and never 0, so a negative value always means expired.
func daysLeft(notAfter, now time.Time) int64 {
	d := notAfter.Sub(now)
	if d >= 0 {
		return int64(d.Hours() / 24)
	}
	return min(-int64(-d.Hours()/24), -1)
}

// certFields are the attributes of a certificate that http_check's tls and
// tls_cert share; see daysLeft.
func certFields(c *x509.Certificate, now time.Time) starlark.StringDict {
	return starlark.StringDict{
		"days_left": starlark.MakeInt64(daysLeft(c.NotAfter, now)),
		"not_after": starlark.String(c.NotAfter.UTC().Format(time.RFC3339)),
		"issuer":    starlark.String(c.Issuer.String()),
		"subject":   starlark.String(c.Subject.String()),
	}
}

// certSANs lists a certificate's subject alternative names: DNS names, IP
// addresses, e-mail addresses and URIs, in that order.
func certSANs(c *x509.Certificate) *starlark.List {
	var sans []starlark.Value
	for _, n := range c.DNSNames {
		sans = append(sans, starlark.String(n))
	}
	for _, ip := range c.IPAddresses {
		sans = append(sans, starlark.String(ip.String()))
	}
	for _, e := range c.EmailAddresses {
		sans = append(sans, starlark.String(e))
	}
	for _, u := range c.URIs {
		sans = append(sans, starlark.String(u.String()))
	}
	return starlark.NewList(sans)
}

// checkAddr validates a host:port argument.
func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (%s)", addr, strings.TrimPrefix(err.Error(), "address "+addr+": "))
	}
	if host == "" {
		return fmt.Errorf("%q has no host", addr)
	}
	if port == "" {
		return fmt.Errorf("%q has no port", addr)
	}
	if n, err := strconv.Atoi(port); err == nil && (n < 1 || n > 65535) {
		return fmt.Errorf("%q: port %d is out of range 1-65535", addr, n)
	}
	return nil
}

// refuseSecretPlaceholder refuses text that holds "<secret:", which is what
// a secret formatted with % or .format() turns into: the request would
// carry the placeholder instead of the value.
func refuseSecretPlaceholder(fn, what, text string) error {
	if strings.Contains(text, "<secret:") {
		return fmt.Errorf("%s: %s contains \"<secret:…>\", the placeholder of a secret formatted with %% or .format(), so the request would carry the placeholder, not the secret; join secrets with + instead (\"Bearer \" + TOKEN)", fn, what)
	}
	return nil
}
