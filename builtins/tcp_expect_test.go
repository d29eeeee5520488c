package builtins

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
)

// redisLike answers PING with +PONG and anything else with an error, one
// command a line, as redis does.
func redisLike(conn net.Conn, _ int) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch strings.TrimSpace(line) {
		case "PING":
			conn.Write([]byte("+PONG\r\n"))
		case "version":
			conn.Write([]byte("VERSION 1.6.21\r\n"))
		default:
			conn.Write([]byte("-ERR unknown command\r\n"))
		}
	}
}

// banner greets with text, then keeps the connection open until the
// client closes it.
func banner(text string) func(net.Conn, int) {
	return func(conn net.Conn, _ int) {
		defer conn.Close()
		conn.Write([]byte(text))
		conn.Read(make([]byte, 1))
	}
}

func TestTCPSendExpect(t *testing.T) {
	t.Parallel()
	redis := netRawServer(t, redisLike)
	smtp := netRawServer(t, banner("220 mail.test ESMTP ready\r\n"))
	silent := netRawServer(t, banner(""))
	closer := netRawServer(t, func(conn net.Conn, _ int) { conn.Write([]byte("bye\r\n")); conn.Close() })
	flood := netRawServer(t, func(conn net.Conn, _ int) {
		defer conn.Close()
		chunk := []byte(strings.Repeat("x", 8192))
		for range 20 {
			if _, err := conn.Write(chunk); err != nil {
				return
			}
		}
		conn.Read(make([]byte, 1))
	})
	netExec(t, `
r = tcp(REDIS, send = "PING\r\n", expect = "+PONG")
assert.eq((r.ok, r.error, r.response, r.tls), (True, "", "+PONG\r\n", None))

m = tcp(REDIS, send = "version\r\n", expect_re = "^VERSION 1\\.6\\.")
assert.eq((m.ok, m.error), (True, ""))

s = tcp(SMTP, expect = "220 ")
assert.eq((s.ok, s.response), (True, "220 mail.test ESMTP ready\r\n"))

# expect never matching fails at the deadline, with what came back.
w = tcp(REDIS, send = "PONG\r\n", expect = "+PONG", timeout = "300ms")
assert.eq(w.ok, False)
assert.eq(w.error, '"+PONG" not received: timed out after 300ms; received "-ERR unknown command\\r\\n"')
assert.eq(w.response, "-ERR unknown command\r\n")

n = tcp(SILENT, expect_re = "^220", timeout = "200ms")
assert.eq(n.error, 'a match for "^220" not received: timed out after 200ms; received nothing')

c = tcp(CLOSER, expect = "hello")
assert.eq(c.error, 'the server closed the connection before sending "hello"; received "bye\\r\\n"')

f = tcp(FLOOD, expect = "never")
assert.eq(len(f.response), 65536)
assert.true(f.error.startswith('no "never" in the first 64 KiB received; received "xxxx'), f.error)
assert.true(f.error.endswith('x"…'), f.error)

assert.fails(lambda: tcp(REDIS, expect = "a", expect_re = "b"), "tcp: give expect \\(a substring\\) or expect_re \\(a regular expression\\), not both")
assert.fails(lambda: tcp(REDIS, expect = ""), "tcp: expect is empty")
assert.fails(lambda: tcp(REDIS, expect_re = "("), "tcp: expect_re \"\\(\": error parsing regexp")
assert.fails(lambda: tcp(REDIS, send = 1), "tcp: send: got int, want a string or a secret")
assert.fails(lambda: tcp(REDIS, insecure = True), "tcp: server_name, ca_file and insecure apply only with tls=True")
`, starlark.StringDict{
		"REDIS": starlark.String(redis), "SMTP": starlark.String(smtp), "SILENT": starlark.String(silent),
		"CLOSER": starlark.String(closer), "FLOOD": starlark.String(flood),
	})
}

func TestTCPSecretSend(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	addr := netRawServer(t, func(conn net.Conn, _ int) {
		defer conn.Close()
		line, _ := bufio.NewReader(conn).ReadString('\n')
		got <- line
		conn.Write([]byte("+OK\r\n"))
	})
	netExec(t, `
r = tcp(ADDR, send = "AUTH " + PASSWORD + "\r\n", expect = "+OK")
assert.eq((r.ok, r.error), (True, ""))
`, starlark.StringDict{"ADDR": starlark.String(addr), "PASSWORD": NewSecret("REDIS_PASSWORD", "hunter2")})
	if line := <-got; line != "AUTH hunter2\r\n" {
		t.Errorf("server received %q", line)
	}
}

func TestTCPTLSBanner(t *testing.T) {
	t.Parallel()
	ca := newNetCA(t)
	now := time.Now()
	tlsBanner := func(cert tls.Certificate) string {
		return netRawServer(t, func(conn net.Conn, _ int) {
			tconn := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{cert}})
			defer tconn.Close()
			if tconn.Handshake() != nil {
				return
			}
			tconn.Write([]byte("* OK IMAP4rev1 ready\r\n"))
			tconn.Read(make([]byte, 1))
		})
	}
	good := tlsBanner(ca.leaf(t, []string{"127.0.0.1", "imap.test"}, now.Add(-time.Hour), now.Add(20*24*time.Hour+time.Hour)))
	selfSigned := tlsBanner((*netCA)(nil).leaf(t, []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(10*24*time.Hour+time.Hour)))
	plain := netRawServer(t, banner("220 plain\r\n"))
	netExec(t, `
r = tcp(GOOD, tls = True, ca_file = CA, expect = "* OK")
assert.eq((r.ok, r.error), (True, ""))
assert.eq((r.tls.verified, r.tls.days_left), (True, 20))
assert.eq(r.tls.sans, ["imap.test", "127.0.0.1"])
assert.eq(tcp(GOOD, tls = True, ca_file = CA, server_name = "imap.test", expect = "* OK").ok, True)

# A certificate that does not verify ends the check before anything is sent, with its facts.
u = tcp(SELF_SIGNED, tls = True, send = "a LOGIN x y\r\n", expect = "* OK")
assert.eq((u.ok, u.response, u.tls.verified, u.tls.days_left), (False, "", False, 10))
assert.eq(u.error, "TLS: certificate signed by unknown authority (self-signed: CN=127.0.0.1,O=infra-guard tests)")
i = tcp(SELF_SIGNED, tls = True, insecure = True, expect = "* OK")
assert.eq((i.ok, i.tls.verified), (True, False))

p = tcp(PLAIN, tls = True, timeout = "1s")
assert.eq(p.ok, False)
assert.true(p.error != "", p.error)
`, starlark.StringDict{
		"GOOD": starlark.String(good), "SELF_SIGNED": starlark.String(selfSigned), "PLAIN": starlark.String(plain),
		"CA": starlark.String(ca.file(t)),
	})
}
