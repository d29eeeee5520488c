package builtins

// This file holds the network probes below HTTP: tcp() (can a connection be
// opened), dns() (what a name resolves to) and tls_cert() (the certificate a
// server presents, with its expiry even when it does not verify). Each
// works only inside a check, under the check's deadline and its own
// timeout=, and reports a network failure in its result, not as an error.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"
)

// MaxTCPResponse caps what tcp() reads while it waits for expect, and
// keeps in .response.
const MaxTCPResponse = 64 << 10

// tcp(addr, send=None, expect=None, expect_re=None, tls=False,
// server_name=None, ca_file=None, insecure=False, timeout="5s") opens a
// TCP connection to host:port (with TLS, verified unless insecure), sends
// send, reads until expect or expect_re matches what came back, and
// closes it.
func tcpCheck(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := ctxOf(thread)
	var (
		addr     string
		send     starlark.Value = starlark.None // a string or a secret
		expect   optString
		expectRe optString
		useTLS   bool
		sni      optString // None or "": the host of addr
		caFile   optString // None or "": the system roots
		insecure bool
		timeout  = Duration(5 * time.Second)
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "addr", &addr, "send?", &send, "expect?", &expect, "expect_re?", &expectRe,
		"tls?", &useTLS, "server_name?", &sni, "ca_file?", &caFile, "insecure?", &insecure, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if err := checkAddr(addr); err != nil {
		return nil, fmt.Errorf("%s: addr: %v", b.Name(), err)
	}
	var payload string
	if send != starlark.None {
		text, _, ok := Reveal(send)
		if !ok {
			return nil, fmt.Errorf("%s: send: got %s, want a string or a secret", b.Name(), send.Type())
		}
		payload = text
	}
	var match func([]byte) bool
	want := "" // what the error says was expected
	switch {
	case expect.set && expectRe.set:
		return nil, fmt.Errorf("%s: give expect (a substring) or expect_re (a regular expression), not both", b.Name())
	case expect.set:
		if expect.s == "" {
			return nil, fmt.Errorf("%s: expect is empty; leave it out to only connect", b.Name())
		}
		sub := []byte(expect.s)
		match = func(got []byte) bool { return bytes.Contains(got, sub) }
		want = strconv.Quote(expect.s)
	case expectRe.set:
		re, err := regexp.Compile(expectRe.s)
		if err != nil {
			return nil, fmt.Errorf("%s: expect_re %q: %v", b.Name(), expectRe.s, err)
		}
		match = re.Match
		want = "a match for " + strconv.Quote(expectRe.s)
	}
	if !useTLS && (sni.set || caFile.set || insecure) {
		return nil, fmt.Errorf("%s: server_name, ca_file and insecure apply only with tls=True", b.Name())
	}
	var roots *x509.CertPool // nil: the system's
	if caFile.s != "" {
		var err error
		if roots, err = loadCAFile(caFile.s); err != nil {
			return nil, fmt.Errorf("%s: ca_file: %v", b.Name(), err)
		}
	}
	serverName := sni.s
	if serverName == "" {
		serverName, _, _ = net.SplitHostPort(addr)
	}

	fields := starlark.StringDict{
		"ok":       starlark.False,
		"response": starlark.String(""),
		"tls":      starlark.None,
		"error":    starlark.String(""),
	}
	ctx, cancel := withTimeout(ctx, time.Duration(timeout))
	defer cancel()
	start := time.Now()
	done := func() (starlark.Value, error) {
		fields["duration_ms"] = millis(time.Since(start))
		return newStruct(b.Name(), fields), nil
	}
	conn, err := depsOf(thread).Dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		fields["error"] = starlark.String(dialErrorText(ctx, err))
		return done()
	}
	defer conn.Close()
	// The deadline holds for the handshake, the write and every read.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()

	if useTLS {
		tconn, info, err := tcpTLS(ctx, conn, serverName, roots, insecure, nowOf(thread))
		if info != nil {
			fields["tls"] = info
		}
		if err != nil {
			fields["error"] = starlark.String(err.Error())
			return done()
		}
		conn = tconn
	}
	if payload != "" {
		if _, err := io.WriteString(conn, payload); err != nil {
			fields["error"] = starlark.String("sending: " + ioErrorText(ctx, err))
			return done()
		}
	}
	if match == nil {
		fields["ok"] = starlark.True
		return done()
	}
	got, matched, err := readUntil(conn, match)
	fields["response"] = starlark.String(got)
	if matched {
		fields["ok"] = starlark.True
		return done()
	}
	received := "nothing"
	if len(got) > 0 {
		received = strconv.Quote(string(got[:min(len(got), 200)]))
		if len(got) > 200 {
			received += "…"
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		fields["error"] = starlark.String(fmt.Sprintf("the server closed the connection before sending %s; received %s", want, received))
	case errors.Is(err, errResponseFull):
		fields["error"] = starlark.String(fmt.Sprintf("no %s in the first %d KiB received; received %s", want, MaxTCPResponse>>10, received))
	default:
		fields["error"] = starlark.String(fmt.Sprintf("%s not received: %s; received %s", want, ioErrorText(ctx, err), received))
	}
	return done()
}

// errResponseFull ends a read that filled MaxTCPResponse without a match.
var errResponseFull = errors.New("response limit reached")

// readUntil reads from conn until match accepts what arrived, the
// connection ends, or MaxTCPResponse bytes came without a match.
func readUntil(conn net.Conn, match func([]byte) bool) (got []byte, matched bool, err error) {
	buf := make([]byte, 0, 4096)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), MaxTCPResponse-len(buf)))
		}
		n, err := conn.Read(buf[len(buf):min(cap(buf), MaxTCPResponse)])
		buf = buf[:len(buf)+n]
		if match(buf) {
			return buf, true, nil
		}
		if err != nil {
			return buf, false, err
		}
		if len(buf) >= MaxTCPResponse {
			return buf, false, errResponseFull
		}
	}
}

// ioErrorText describes a failed read or write, naming the deadline that
// ended it.
func ioErrorText(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return contextText(ctx)
	}
	return netErrorText(err)
}

// tcpTLS runs a TLS handshake on conn and returns the connection and
// the server certificate's facts (as tls_cert() reports them). Unless
// insecure, a certificate that does not verify is an error, returned
// with its facts, and nothing is sent to that server.
func tcpTLS(ctx context.Context, conn net.Conn, serverName string, roots *x509.CertPool, insecure bool, now time.Time) (net.Conn, starlark.Value, error) {
	conf := &tls.Config{InsecureSkipVerify: true} // verified below, after reading the dates
	if net.ParseIP(serverName) == nil {
		conf.ServerName = serverName
	}
	tconn := tls.Client(conn, conf)
	if err := tconn.HandshakeContext(ctx); err != nil {
		return nil, nil, fmt.Errorf("%s", ioErrorText(ctx, err))
	}
	certs := tconn.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, nil, fmt.Errorf("the server presented no certificate")
	}
	leaf := certs[0]
	info := certFields(leaf, now)
	info["sans"] = certSANs(leaf)
	opts := x509.VerifyOptions{DNSName: serverName, Roots: roots, Intermediates: x509.NewCertPool(), CurrentTime: now}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, verr := leaf.Verify(opts)
	info["verified"] = starlark.Bool(verr == nil)
	v := newStruct("tls", info)
	if verr != nil && !insecure {
		return nil, v, fmt.Errorf("TLS: %s", certErrorText(verr, now))
	}
	return tconn, v, nil
}

// dialErrorText describes a failed dial, naming the builtin's own timeout
// or the check's deadline when one of them ended it.
func dialErrorText(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return contextText(ctx)
	}
	return netErrorText(err)
}

// dnsTypes are the record types dns() looks up.
var dnsTypes = []string{"A", "AAAA", "CNAME", "MX", "TXT", "SRV"}

// dns(name, type="A", server=None, timeout="5s") looks name up with the
// system resolver, or by asking server (host or host:port, port 53 by
// default) directly.
func dnsCheck(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := ctxOf(thread)
	var (
		name    string
		typ     = "A"
		server  optString // None: the system resolver
		timeout = Duration(5 * time.Second)
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "type?", &typ, "server?", &server, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, fmt.Errorf("%s: name is empty", b.Name())
	}
	typ = strings.ToUpper(typ)
	if !slices.Contains(dnsTypes, typ) {
		return nil, fmt.Errorf("%s: type: unsupported record type %q (%s)", b.Name(), typ, strings.Join(dnsTypes, ", "))
	}
	deps := depsOf(thread)
	resolver := deps.Resolver
	addr := "" // the server asked, when the script names one
	if server.set {
		var err error
		addr, err = dnsServerAddr(server.s)
		if err != nil {
			return nil, fmt.Errorf("%s: server: %v", b.Name(), err)
		}
		// Go's own resolver, asking server over the Deps' dialer.
		resolver = &net.Resolver{
			PreferGo: true,
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return deps.Dialer.DialContext(ctx, network, addr)
			},
		}
	}
	ctx, cancel := withTimeout(ctx, time.Duration(timeout))
	defer cancel()
	start := time.Now()
	records, err := lookup(ctx, resolver, typ, name)
	took := time.Since(start)
	msg := ""
	switch {
	case err != nil:
		msg = dnsErrorText(ctx, err, typ, name, addr)
		records = nil
	case len(records) == 0:
		msg = fmt.Sprintf("no %s record for %s", typ, name)
	}
	vals := make([]starlark.Value, len(records))
	for i, r := range records {
		vals[i] = starlark.String(r)
	}
	return newStruct(b.Name(), starlark.StringDict{
		"ok":          starlark.Bool(msg == ""),
		"records":     starlark.NewList(vals),
		"duration_ms": millis(took),
		"error":       starlark.String(msg),
	}), nil
}

// dnsServerAddr adds port 53 to a server given without one.
func dnsServerAddr(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("is empty")
	}
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s, checkAddr(s)
	}
	if ip := net.ParseIP(s); ip != nil { // a bare IPv6 address has colons
		return net.JoinHostPort(s, "53"), nil
	}
	if strings.Contains(s, ":") {
		return "", fmt.Errorf("%q is not host or host:port", s)
	}
	return net.JoinHostPort(s, "53"), nil
}

// lookup returns the records of one type as text: addresses for A and
// AAAA, the canonical name for CNAME, "PREF HOST" for MX, each record's
// text for TXT and "PRIORITY WEIGHT PORT TARGET" for SRV.
func lookup(ctx context.Context, r Resolver, typ, name string) ([]string, error) {
	var out []string
	switch typ {
	case "A", "AAAA":
		network := "ip4"
		if typ == "AAAA" {
			network = "ip6"
		}
		ips, err := r.LookupNetIP(ctx, network, name)
		if err != nil {
			return nil, err
		}
		for _, ip := range ips {
			out = append(out, ip.Unmap().String())
		}
	case "CNAME":
		cname, err := r.LookupCNAME(ctx, name)
		if err != nil {
			return nil, err
		}
		out = append(out, cname)
	case "MX":
		mxs, err := r.LookupMX(ctx, name)
		if err != nil {
			return nil, err
		}
		for _, mx := range mxs {
			out = append(out, strconv.Itoa(int(mx.Pref))+" "+mx.Host)
		}
	case "TXT":
		txts, err := r.LookupTXT(ctx, name)
		if err != nil {
			return nil, err
		}
		out = append(out, txts...)
	case "SRV":
		_, srvs, err := r.LookupSRV(ctx, "", "", name)
		if err != nil {
			return nil, err
		}
		for _, s := range srvs {
			out = append(out, fmt.Sprintf("%d %d %d %s", s.Priority, s.Weight, s.Port, s.Target))
		}
	}
	return out, nil
}

// dnsErrorText words a failed lookup. server is the server the script
// named, if any: Go's resolver reports the one in /etc/resolv.conf, whose
// address it passes to the Dial that goes to server instead.
func dnsErrorText(ctx context.Context, err error, typ, name, server string) string {
	if ctx.Err() != nil {
		return contextText(ctx)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		switch {
		case dnsErr.IsNotFound:
			return fmt.Sprintf("no %s record for %s (no such host, or no record of that type)", typ, name)
		case dnsErr.IsTimeout:
			if server != "" {
				return fmt.Sprintf("the DNS lookup of %s timed out (server %s)", name, server)
			}
			return fmt.Sprintf("the DNS lookup of %s timed out", name)
		}
		msg := dnsErr.Err
		if server == "" {
			server = dnsErr.Server
		}
		if server != "" {
			msg += " (server " + server + ")"
		}
		return fmt.Sprintf("DNS lookup of %s failed: %s", name, msg)
	}
	return netErrorText(err)
}

// tls_cert(addr, server_name=None, timeout="5s", ca_file=None) connects to
// addr, completes a TLS handshake without trusting the certificate, and
// then verifies it separately, so that an expired or untrusted
// certificate still reports its dates.
func tlsCert(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := ctxOf(thread)
	var (
		addr    string
		sni     optString // None or "": the host of addr
		timeout = Duration(5 * time.Second)
		caFile  optString // None or "": the system roots
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "addr", &addr, "server_name?", &sni, "timeout?", &timeout, "ca_file?", &caFile); err != nil {
		return nil, err
	}
	if err := checkAddr(addr); err != nil {
		return nil, fmt.Errorf("%s: addr: %v", b.Name(), err)
	}
	roots := depsOf(thread).Roots // nil: the system's
	if caFile.s != "" {
		var err error
		if roots, err = loadCAFile(resolvePath(thread, caFile.s)); err != nil {
			return nil, fmt.Errorf("%s: ca_file: %v", b.Name(), err)
		}
	}
	serverName := sni.s
	if serverName == "" {
		serverName, _, _ = net.SplitHostPort(addr)
	}

	fields := starlark.StringDict{
		"ok":        starlark.False,
		"verified":  starlark.False,
		"days_left": starlark.None,
		"not_after": starlark.None,
		"issuer":    starlark.None,
		"subject":   starlark.None,
		"sans":      starlark.NewList(nil),
		"error":     starlark.String(""),
	}
	ctx, cancel := withTimeout(ctx, time.Duration(timeout))
	defer cancel()
	certs, err := handshake(ctx, depsOf(thread).Dialer, addr, serverName)
	if err != nil {
		fields["error"] = starlark.String(dialErrorText(ctx, err))
		return newStruct(b.Name(), fields), nil
	}
	now := nowOf(thread)
	leaf := certs[0]
	for k, v := range certFields(leaf, now) {
		fields[k] = v
	}
	fields["sans"] = certSANs(leaf)
	opts := x509.VerifyOptions{DNSName: serverName, Roots: roots, Intermediates: x509.NewCertPool(), CurrentTime: now}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(opts); err != nil {
		fields["error"] = starlark.String(certErrorText(err, now))
	} else {
		fields["ok"], fields["verified"] = starlark.True, starlark.True
	}
	return newStruct(b.Name(), fields), nil
}

// handshake returns the certificates addr presents for serverName,
// without verifying them.
func handshake(ctx context.Context, dialer Dialer, addr, serverName string) ([]*x509.Certificate, error) {
	dialCtx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	raw, err := dialer.DialContext(dialCtx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	conf := &tls.Config{InsecureSkipVerify: true} // verified by the caller, after reading the dates
	if net.ParseIP(serverName) == nil {
		conf.ServerName = serverName
	}
	conn := tls.Client(raw, conf)
	defer conn.Close()
	hsCtx, cancel := context.WithTimeout(ctx, tlsHandshakeTimeout)
	defer cancel()
	if err := conn.HandshakeContext(hsCtx); err != nil {
		if hsCtx.Err() != nil && ctx.Err() == nil {
			return nil, &plainError{"TLS handshake timed out after " + fmtSeconds(tlsHandshakeTimeout)}
		}
		return nil, err
	}
	certs := conn.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, &plainError{"the server presented no certificate"}
	}
	return certs, nil
}
