package builtins

// This file holds the network probes below HTTP: tcp() (can a connection be
// opened), dns() (what a name resolves to) and tls_cert() (the certificate a
// server presents, with its expiry even when it does not verify). Each
// works only inside a check, under the check's deadline and its own
// timeout=, and reports a network failure in its result, not as an error.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"
)

// tcp(addr, timeout="5s") opens a TCP connection to host:port and closes it.
func tcpCheck(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := ctxOf(thread)
	var (
		addr    string
		timeout = Duration(5 * time.Second)
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "addr", &addr, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if err := checkAddr(addr); err != nil {
		return nil, fmt.Errorf("%s: addr: %v", b.Name(), err)
	}
	dialer := depsOf(thread).Dialer
	ctx, cancel := withTimeout(ctx, time.Duration(timeout))
	defer cancel()
	start := time.Now()
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	took := time.Since(start)
	msg := ""
	if err == nil {
		conn.Close()
	} else {
		msg = dialErrorText(ctx, err)
	}
	return newStruct(b.Name(), starlark.StringDict{
		"ok":          starlark.Bool(err == nil),
		"duration_ms": millis(took),
		"error":       starlark.String(msg),
	}), nil
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
	if server.set {
		addr, err := dnsServerAddr(server.s)
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
		msg = dnsErrorText(ctx, err, typ, name)
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

func dnsErrorText(ctx context.Context, err error, typ, name string) string {
	if ctx.Err() != nil {
		return contextText(ctx)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		switch {
		case dnsErr.IsNotFound:
			return fmt.Sprintf("no %s record for %s (no such host, or no record of that type)", typ, name)
		case dnsErr.IsTimeout:
			return fmt.Sprintf("the DNS lookup of %s timed out", name)
		}
		msg := dnsErr.Err
		if dnsErr.Server != "" {
			msg += " (server " + dnsErr.Server + ")"
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
	var roots *x509.CertPool // nil: the system's
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
