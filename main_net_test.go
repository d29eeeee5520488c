package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/infra-guard/infra-guard/cli"
	"github.com/infra-guard/infra-guard/report/schema"
)

func init() {
	scriptCmds["fault-server"] = cmdFaultServer
}

// fault-server VAR MODE [ARG]
//
// starts a server on 127.0.0.1 for the rest of the scenario and sets $VAR
// to its base URL (http://127.0.0.1:PORT) and $VAR_ADDR to its host:port,
// for the guard to read with env(). Modes:
//
//	ok           answers every request 200 "ok"
//	status CODE  answers every request with CODE
//	json BODY    answers every request 200 with BODY as application/json
//	hang         accepts connections and never answers
//	reset        reads each request, then resets the connection
//	refused      nothing listens there
//	up-after DUR refuses connections for DUR (a service still starting), then answers 200 "ok"
func cmdFaultServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! fault-server")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: fault-server VAR MODE [ARG]")
	}
	name, mode, rest := args[0], args[1], args[2:]
	arg := func() string {
		if len(rest) != 1 {
			ts.Fatalf("fault-server: mode %s takes one argument", mode)
		}
		return rest[0]
	}
	var addr string
	switch mode {
	case "ok", "status", "json":
		code, body, ctype := http.StatusOK, "ok", "text/plain"
		switch mode {
		case "status":
			var err error
			code, err = strconv.Atoi(arg())
			ts.Check(err)
			body = http.StatusText(code)
		case "json":
			body, ctype = arg(), "application/json"
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(code)
			io.WriteString(w, body)
		}))
		ts.Defer(srv.Close)
		addr = srv.Listener.Addr().String()
	case "hang", "reset":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		var (
			mu    sync.Mutex
			conns []net.Conn
		)
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, conn)
				mu.Unlock()
				go func() {
					buf := make([]byte, 4096)
					conn.Read(buf) // the request, or its start
					if mode == "reset" {
						// SetLinger(0): Close sends a TCP RST, not a FIN: the
						// client sees "connection reset by peer".
						conn.(*net.TCPConn).SetLinger(0)
						conn.Close()
						return
					}
					io.Copy(io.Discard, conn)
				}()
			}
		}()
		ts.Defer(func() {
			ln.Close()
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				c.Close()
			}
		})
		addr = ln.Addr().String()
	case "refused":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		addr = ln.Addr().String()
		ln.Close()
	case "up-after":
		delay, err := time.ParseDuration(arg())
		ts.Check(err)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		addr = ln.Addr().String()
		ln.Close()
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok")
		})}
		timer := time.AfterFunc(delay, func() {
			if ln, err := net.Listen("tcp", addr); err == nil {
				go srv.Serve(ln)
			}
		})
		ts.Defer(func() {
			timer.Stop()
			srv.Close()
		})
	default:
		ts.Fatalf("fault-server: unknown mode %q", mode)
	}
	ts.Setenv(name, "http://"+addr)
	ts.Setenv(name+"_ADDR", addr)
}

// exampleURL is the address examples/network/api.star checks; the test
// replaces it with a server of its own.
const exampleURL = "http://127.0.0.1:8080"

// TestNetworkExample runs examples/network/api.star against a local
// server that plays the API it checks. It lives outside examples/*.star,
// which TestExamples runs with no network.
func TestNetworkExample(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"status": "ok", "db": "up", "version": "1.4.2"})
		case "/":
			http.Redirect(w, r, "/health", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	src, err := os.ReadFile("examples/network/api.star")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), exampleURL) {
		t.Fatalf("examples/network/api.star does not mention %s, which the test replaces", exampleURL)
	}
	script := filepath.Join(t.TempDir(), "api.star")
	local := strings.ReplaceAll(string(src), exampleURL, srv.URL)
	local = strings.ReplaceAll(local, strings.TrimPrefix(exampleURL, "http://"), srv.Listener.Addr().String())
	if err := os.WriteFile(script, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	code := cli.Main([]string{"run", "--format", "json", script}, cli.Env{Stdout: &stdout, Stderr: &stderr})
	if code != 0 {
		t.Errorf("exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if err := schema.Validate([]byte(stdout.String())); err != nil {
		t.Errorf("report does not match the schema: %v", err)
	}
}
