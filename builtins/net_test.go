package builtins

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
)

func TestTCP(t *testing.T) {
	t.Parallel()
	open := netRawServer(t, func(conn net.Conn, _ int) { conn.Close() })
	down := netRefusedAddr(t)
	netExec(t, `
r = tcp(OPEN)
assert.eq(dir(r), ["duration_ms", "error", "ok", "response", "tls"])
assert.eq((r.ok, r.error), (True, ""))
assert.eq(type(r.duration_ms), "float")
assert.true(r.duration_ms >= 0)

d = tcp(DOWN, timeout = "2s")
assert.eq(d.ok, False)
assert.eq(d.error, "connection refused (" + DOWN + ")")

u = tcp("no-such-host.invalid:80")
assert.eq((u.ok, u.error), (False, "cannot resolve host no-such-host.invalid: no such host"))

assert.fails(lambda: tcp("localhost"), 'tcp: addr: "localhost" is not host:port \\(missing port in address\\)')
assert.fails(lambda: tcp(":80"), 'tcp: addr: ":80" has no host')
assert.fails(lambda: tcp("h:"), 'tcp: addr: "h:" has no port')
assert.fails(lambda: tcp("h:70000"), 'tcp: addr: "h:70000": port 70000 is out of range 1-65535')
assert.fails(lambda: tcp(80), 'tcp: for parameter \"?addr\"?: got int, want string')
assert.fails(lambda: tcp(OPEN, timeout = "0s"), "tcp: for parameter \"?timeout\"?: must be positive, got 0s")
`, starlark.StringDict{"OPEN": starlark.String(open), "DOWN": starlark.String(down)})
}

func TestTCPDeadline(t *testing.T) {
	t.Parallel()
	// A full accept queue leaves a SYN unanswered on Linux, but that is
	// not portable; an already-ended context shows the same path.
	ctx, cancel := contextEnded(t)
	defer cancel()
	r, err := netCall(t, ctx, "tcp", []any{netRefusedAddr(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got := netStr(t, r, "error"); got != "the check's deadline" {
		t.Errorf("error = %q, want the check's cause", got)
	}
}

// contextEnded is a check's context that has already ended.
func contextEnded(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(errors.New("the check's deadline"))
	return ctx, func() {}
}

func TestDNSSystemResolver(t *testing.T) {
	t.Parallel()
	netExec(t, `
r = dns("localhost")
assert.eq(dir(r), ["duration_ms", "error", "ok", "records"])
assert.true(r.ok, r.error)
assert.true("127.0.0.1" in r.records, str(r.records))
assert.eq(r.error, "")

n = dns("no-such-host.invalid")
assert.eq((n.ok, n.records), (False, []))
assert.eq(n.error, "no A record for no-such-host.invalid (no such host, or no record of that type)")

assert.fails(lambda: dns(""), "dns: name is empty")
assert.fails(lambda: dns("x", type = "PTR"), 'dns: type: unsupported record type "PTR" \\(A, AAAA, CNAME, MX, TXT, SRV\\)')
assert.fails(lambda: dns("x", server = 53), "dns: for parameter \"?server\"?: got int, want string or None")
assert.fails(lambda: dns("x", server = "a:b:c:"), "dns: server: ")
assert.fails(lambda: dns("x", timeout = "x"), 'dns: for parameter "?timeout"?: "x" is not a duration')
`, nil)
}

// dnsRecord is one answer of the test DNS server.
type dnsRecord struct {
	typ  uint16
	data []byte
}

const (
	dnsA     = 1
	dnsCNAME = 5
	dnsMX    = 15
	dnsTXT   = 16
	dnsAAAA  = 28
	dnsSRV   = 33
)

// dnsName encodes a domain name in DNS wire format.
func dnsName(name string) []byte {
	var b []byte
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		b = append(b, byte(len(label)))
		b = append(b, label...)
	}
	return append(b, 0)
}

func u16(n int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(n)) }

func concat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// dnsServer is a small authoritative DNS server on UDP 127.0.0.1 for the
// zone in records (names lower-case, with the final dot). Unknown names
// get NXDOMAIN; a known name without records of the asked type gets an
// empty answer, except that a CNAME is returned for any type, as real
// servers do.
func dnsServer(t *testing.T, records map[string][]dnsRecord) string {
	return dnsResponder(t, func(q []byte) []byte { return dnsAnswer(q, records) })
}

// dnsResponder serves DNS over UDP on 127.0.0.1, answering each query
// with what answer makes of it (nothing when nil), until the test ends.
func dnsResponder(t *testing.T, answer func(q []byte) []byte) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := answer(buf[:n]); resp != nil {
				pc.WriteTo(resp, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func dnsAnswer(q []byte, records map[string][]dnsRecord) []byte {
	if len(q) < 12 {
		return nil
	}
	// The question: labels up to a zero byte, then type and class.
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, strings.ToLower(string(q[i+1:i+1+l])))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	question := q[12 : i+5]
	name := strings.Join(labels, ".") + "."

	recs, known := records[name]
	var answers [][]byte
	for _, r := range recs {
		if r.typ == qtype || r.typ == dnsCNAME {
			answers = append(answers, concat(
				[]byte{0xc0, 12}, // the name in the question
				u16(int(r.typ)), u16(1), []byte{0, 0, 0, 60},
				u16(len(r.data)), r.data))
		}
	}
	flags := 0x8180 // a response, recursion desired and available
	if !known {
		flags |= 3 // NXDOMAIN
	}
	return concat(q[0:2], u16(flags), u16(1), u16(len(answers)), u16(0), u16(0), question, concat(answers...))
}

func TestDNSServer(t *testing.T) {
	t.Parallel()
	txt := func(s ...string) []byte {
		var b []byte
		for _, x := range s {
			b = append(b, byte(len(x)))
			b = append(b, x...)
		}
		return b
	}
	addr := dnsServer(t, map[string][]dnsRecord{
		"svc.test.": {
			{dnsA, []byte{10, 0, 0, 1}},
			{dnsA, []byte{10, 0, 0, 2}},
			{dnsAAAA, net.ParseIP("2001:db8::1").To16()},
			{dnsMX, concat(u16(10), dnsName("mx1.svc.test."))},
			{dnsTXT, txt("v=spf1 -all")},
		},
		"www.svc.test.":   {{dnsCNAME, dnsName("svc.test.")}},
		"_sip.svc.test.":  {{dnsSRV, concat(u16(10), u16(5), u16(5060), dnsName("sip.svc.test."))}},
		"empty.svc.test.": {},
	})
	netExec(t, `
def records(name, type):
    r = dns(name, type = type, server = SERVER)
    assert.true(r.ok, r.error)
    assert.eq(r.error, "")
    return sorted(r.records)

assert.eq(records("svc.test.", "A"), ["10.0.0.1", "10.0.0.2"])
assert.eq(records("svc.test.", "a"), ["10.0.0.1", "10.0.0.2"])
assert.eq(records("svc.test.", "AAAA"), ["2001:db8::1"])
assert.eq(records("svc.test.", "MX"), ["10 mx1.svc.test."])
assert.eq(records("svc.test.", "TXT"), ["v=spf1 -all"])
assert.eq(records("www.svc.test.", "CNAME"), ["svc.test."])
assert.eq(records("_sip.svc.test.", "SRV"), ["10 5 5060 sip.svc.test."])

nx = dns("nope.svc.test.", server = SERVER)
assert.eq((nx.ok, nx.records), (False, []))
assert.eq(nx.error, "no A record for nope.svc.test. (no such host, or no record of that type)")
none = dns("empty.svc.test.", type = "MX", server = SERVER)
assert.eq(none.ok, False)
assert.true(none.error.startswith("no MX record for empty.svc.test."), none.error)
`, starlark.StringDict{"SERVER": starlark.String(addr)})
}

func TestDNSServerDown(t *testing.T) {
	t.Parallel()
	// A UDP port nobody reads: the query goes unanswered (or is refused
	// by ICMP), and the lookup fails within its timeout.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	silent := pc.LocalAddr().String()
	t.Cleanup(func() { pc.Close() })
	start := time.Now()
	r := netMust(t, "dns", []any{"svc.test."}, "server", silent, "timeout", "1s")
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %s with timeout 1s", took)
	}
	if netBool(t, r, "ok") || netStr(t, r, "error") == "" {
		t.Errorf("got %s", r)
	}
	if got := netStr(t, r, "error"); got != "timed out after 1s" && !strings.Contains(got, "timed out") {
		t.Errorf("error = %q, want a timeout", got)
	}
}

func TestDNSServerAddr(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"1.1.1.1", "1.1.1.1:53", ""},
		{"1.1.1.1:5353", "1.1.1.1:5353", ""},
		{"dns.internal", "dns.internal:53", ""},
		{"2001:db8::53", "[2001:db8::53]:53", ""},
		{"[2001:db8::53]:5353", "[2001:db8::53]:5353", ""},
		{"", "", "is empty"},
		{"a:b:c:", "", ""},
	}
	for _, tt := range tests {
		got, err := dnsServerAddr(tt.in)
		if tt.want != "" && (got != tt.want || err != nil) {
			t.Errorf("dnsServerAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if tt.want == "" && err == nil {
			t.Errorf("dnsServerAddr(%q) = %q, want an error", tt.in, got)
		}
	}
}

func TestTLSCert(t *testing.T) {
	t.Parallel()
	ca := newNetCA(t)
	caFile := ca.file(t)
	now := time.Now()
	serve := func(cert func() tlsCertPair) string {
		return strings.TrimPrefix(netTLSServer(t, cert().cert, http.NotFoundHandler()).URL, "https://")
	}
	good := serve(func() tlsCertPair {
		return tlsCertPair{ca.leaf(t, []string{"127.0.0.1", "svc.test"}, now.Add(-time.Hour), now.Add(30*24*time.Hour+time.Hour)), ""}
	})
	expired := serve(func() tlsCertPair {
		return tlsCertPair{ca.leaf(t, []string{"127.0.0.1"}, now.Add(-30*24*time.Hour), now.Add(-5*24*time.Hour-time.Hour)), ""}
	})
	selfSigned := serve(func() tlsCertPair {
		return tlsCertPair{(*netCA)(nil).leaf(t, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(10*24*time.Hour+time.Hour)), ""}
	})
	plain := strings.TrimPrefix(netServer(t, func(http.ResponseWriter, *http.Request) {}).URL, "http://")
	netExec(t, `
c = tls_cert(GOOD, ca_file = CA)
assert.eq(dir(c), ["days_left", "error", "issuer", "not_after", "ok", "sans", "subject", "verified"])
assert.eq((c.ok, c.verified, c.error), (True, True, ""))
assert.eq(c.days_left, 30)
assert.eq(c.sans, ["svc.test", "127.0.0.1"])
assert.eq(c.issuer, "CN=infra-guard test CA,O=infra-guard tests")
assert.eq(c.subject, "CN=127.0.0.1,O=infra-guard tests")
assert.true(c.not_after.endswith("Z"), c.not_after)

# The name to verify (and send as SNI) can differ from the address.
n = tls_cert(GOOD, server_name = "svc.test", ca_file = CA)
assert.true(n.verified, n.error)
# None is the documented default of server_name and ca_file.
assert.eq(tls_cert(GOOD, server_name = None, ca_file = CA).verified, True)
assert.eq(tls_cert(SELF_SIGNED, ca_file = None).error, tls_cert(SELF_SIGNED).error)
w = tls_cert(GOOD, server_name = "other.test", ca_file = CA)
assert.eq((w.ok, w.verified), (False, False))
assert.eq(w.error, "certificate is valid for svc.test, not other.test")
assert.eq(w.days_left, 30)

# An expired certificate still says when it expired.
e = tls_cert(EXPIRED, ca_file = CA)
assert.eq((e.ok, e.verified), (False, False))
assert.eq(e.days_left, -5) # as many days as the message says
assert.true(e.error.startswith("certificate expired on "), e.error)
assert.true(e.error.endswith(" (5 days ago)"), e.error)

# Without ca_file the system roots do not know the test CA.
s = tls_cert(SELF_SIGNED)
assert.eq((s.ok, s.verified, s.days_left), (False, False, 10))
assert.eq(s.error, "certificate signed by unknown authority (self-signed: CN=127.0.0.1,O=infra-guard tests)")

p = tls_cert(PLAIN)
assert.eq((p.ok, p.verified, p.days_left, p.not_after, p.sans), (False, False, None, None, []))
assert.true(p.error != "", p.error)

d = tls_cert(DOWN)
assert.eq(d.error, "connection refused (" + DOWN + ")")

assert.fails(lambda: tls_cert("localhost"), "tls_cert: addr: ")
assert.fails(lambda: tls_cert(GOOD, ca_file = "/nonexistent.pem"), "tls_cert: ca_file: open /nonexistent.pem: no such file or directory")
assert.fails(lambda: tls_cert(GOOD, timeout = "1"), 'tls_cert: for parameter "?timeout"?: "1" is not a duration')
`, starlark.StringDict{
		"GOOD": starlark.String(good), "EXPIRED": starlark.String(expired), "SELF_SIGNED": starlark.String(selfSigned),
		"PLAIN": starlark.String(plain), "DOWN": starlark.String(netRefusedAddr(t)), "CA": starlark.String(caFile),
	})
}

func TestTLSCertHandshakeHangs(t *testing.T) {
	t.Parallel()
	addr := netRawServer(t, func(conn net.Conn, _ int) {
		buf := make([]byte, 1024)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	})
	start := time.Now()
	r := netMust(t, "tls_cert", []any{addr}, "timeout", "1s")
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %s with timeout 1s", took)
	}
	if got := netStr(t, r, "error"); got != "timed out after 1s" {
		t.Errorf("error = %q", got)
	}
}

func TestDaysLeft(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		after time.Duration
		want  int64
	}{
		{30*24*time.Hour + time.Hour, 30},
		{36 * time.Hour, 1},
		{time.Hour, 0},
		{-time.Hour, -1},
		{-36 * time.Hour, -1},
		{-(1053*24 + 5) * time.Hour, -1053}, // "expired … (1053 days ago)"
	} {
		if got := daysLeft(now.Add(tt.after), now); got != tt.want {
			t.Errorf("daysLeft(now%+v) = %d, want %d", tt.after, got, tt.want)
		}
	}
}

// A failed lookup names the server the script asked, not the one in
// /etc/resolv.conf that Go's resolver thinks it asked. (Issue 10, item 14.)
func TestDNSServerFailureNamesThatServer(t *testing.T) {
	t.Parallel()
	server := dnsResponder(t, func(q []byte) []byte {
		if len(q) < 12 {
			return nil
		}
		// SERVFAIL, echoing the question.
		return concat(q[0:2], u16(0x8182), q[4:6], u16(0), u16(0), u16(0), q[12:])
	})
	r := netMust(t, "dns", []any{"svc.test."}, "server", server, "timeout", "2s")
	if got := netStr(t, r, "error"); !strings.HasSuffix(got, "(server "+server+")") {
		t.Errorf("error = %q, want it to name server %s", got, server)
	}
}
