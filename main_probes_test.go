package main

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/infra-guard/infra-guard/cli"
	"github.com/infra-guard/infra-guard/report/schema"
)

// listenLocal listens on 127.0.0.1 for the rest of the test.
func listenLocal(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// serveLines answers each connection with greeting, then each line it
// reads with reply(line), until the client closes it.
func serveLines(ln net.Listener, greeting string, reply func(string) string) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			conn.Write([]byte(greeting))
			r := bufio.NewReader(conn)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				conn.Write([]byte(reply(strings.TrimSpace(line))))
			}
		}()
	}
}

// TestServicesExample runs examples/network/services.star against a
// redis-like line server, an SMTP banner, a real gRPC health server and a
// socket this test listens on, all on 127.0.0.1.
func TestServicesExample(t *testing.T) {
	redis := listenLocal(t)
	go serveLines(redis, "", func(line string) string {
		if line == "PING" {
			return "+PONG\r\n"
		}
		return "-ERR unknown command\r\n"
	})
	smtp := listenLocal(t)
	go serveLines(smtp, "220 mail.test ESMTP\r\n", func(string) string { return "502 no\r\n" })
	grpcLn := listenLocal(t)
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(grpcLn)
	defer srv.Stop()
	pg := listenLocal(t)

	vars := map[string]string{
		"REDIS_ADDR": redis.Addr().String(),
		"SMTP_ADDR":  smtp.Addr().String(),
		"GRPC_ADDR":  grpcLn.Addr().String(),
		"PG_PORT":    strconv.Itoa(pg.Addr().(*net.TCPAddr).Port),
	}
	var stdout, stderr strings.Builder
	code := cli.Main([]string{"run", "--format", "json", "examples/network/services.star"},
		cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return vars[k] }})
	if code != 0 {
		t.Errorf("exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if err := schema.Validate([]byte(stdout.String())); err != nil {
		t.Errorf("report does not match the schema: %v", err)
	}
	for _, want := range []string{"answers PONG", "220 mail.test ESMTP", "the server is SERVING", "port " + vars["PG_PORT"] + ": 127.0.0.1:" + vars["PG_PORT"]} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
}
