package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/infra-guard/infra-guard/cli"
	"github.com/infra-guard/infra-guard/report/schema"
)

func init() {
	scriptCmds["targz"] = cmdTargz
	scriptCmds["evil-targz"] = cmdEvilTargz
	scriptCmds["lib-server"] = cmdLibServer
	scriptCmds["stop-server"] = cmdStopServer
	scriptCmds["sha256"] = cmdSHA256
	scriptCmds["write"] = cmdWrite
}

// targz OUT DIR [PREFIX]
//
// writes the files below DIR into the .tar.gz OUT, under PREFIX/ when
// given (as a code host's tag archive puts them under one directory).
func cmdTargz(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: targz OUT DIR [PREFIX]")
	}
	prefix := ""
	if len(args) == 3 {
		prefix = args[2] + "/"
	}
	var entries []tarEntry
	root := ts.MkAbs(args[1])
	ts.Check(filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		e := tarEntry{name: prefix + filepath.ToSlash(rel), typ: tar.TypeReg}
		if d.IsDir() {
			e.name += "/"
			e.typ = tar.TypeDir
		} else {
			e.data, err = os.ReadFile(p)
		}
		entries = append(entries, e)
		return err
	}))
	writeTarGz(ts, ts.MkAbs(args[0]), entries)
}

// evil-targz OUT KIND
//
// writes a .tar.gz that a library archive must not be: KIND is dotdot (an
// entry ../escape.star), symlink (a link to /etc/passwd) or absolute (an
// entry /tmp/abs.star); each also holds a harmless lib/ok.star.
func cmdEvilTargz(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: evil-targz OUT dotdot|symlink|absolute")
	}
	entries := []tarEntry{{name: "lib/ok.star", typ: tar.TypeReg, data: []byte("x = 1\n")}}
	switch args[1] {
	case "dotdot":
		entries = append(entries, tarEntry{name: "lib/../../escape.star", typ: tar.TypeReg, data: []byte("x = 1\n")})
	case "symlink":
		entries = append(entries, tarEntry{name: "lib/passwd.star", typ: tar.TypeSymlink, link: "/etc/passwd"})
	case "absolute":
		entries = append(entries, tarEntry{name: "/tmp/abs.star", typ: tar.TypeReg, data: []byte("x = 1\n")})
	default:
		ts.Fatalf("evil-targz: unknown kind %q", args[1])
	}
	writeTarGz(ts, ts.MkAbs(args[0]), entries)
}

type tarEntry struct {
	name, link string
	typ        byte
	data       []byte
}

func writeTarGz(ts *testscript.TestScript, out string, entries []tarEntry) {
	ts.Check(os.MkdirAll(filepath.Dir(out), 0o755))
	f, err := os.Create(out)
	ts.Check(err)
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, Size: int64(len(e.data))}
		if e.typ == tar.TypeDir {
			h.Mode = 0o755
		}
		ts.Check(tw.WriteHeader(h))
		_, err := tw.Write(e.data)
		ts.Check(err)
	}
	ts.Check(tw.Close())
	ts.Check(zw.Close())
	ts.Check(f.Close())
}

var servers sync.Map // *testscript.TestScript + name -> *httptest.Server

type serverKey struct {
	ts   *testscript.TestScript
	name string
}

// lib-server VAR DIR
//
// serves the files of DIR over HTTPS on 127.0.0.1 and sets $VAR to its
// base URL. The server's self-signed certificate goes to $WORK/VAR-ca.pem,
// which SSL_CERT_FILE names from then on, so infra-guard trusts it the
// way it would trust a company CA.
func cmdLibServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: lib-server VAR DIR")
	}
	srv := httptest.NewTLSServer(http.FileServer(http.Dir(ts.MkAbs(args[1]))))
	ts.Defer(srv.Close)
	servers.Store(serverKey{ts, args[0]}, srv)
	ca := ts.MkAbs(args[0] + "-ca.pem")
	ts.Check(os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644))
	ts.Setenv("SSL_CERT_FILE", ca)
	ts.Setenv(args[0], srv.URL)
}

// stop-server VAR stops the server lib-server VAR started: later requests
// to it are refused.
func cmdStopServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: stop-server VAR")
	}
	srv, ok := servers.LoadAndDelete(serverKey{ts, args[0]})
	if !ok {
		ts.Fatalf("stop-server: no server %s", args[0])
	}
	srv.(*httptest.Server).Close()
}

// sha256 FILE VAR sets $VAR to the hex sha256 of FILE.
func cmdSHA256(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sha256 FILE VAR")
	}
	sum := sha256.Sum256([]byte(ts.ReadFile(args[0])))
	ts.Setenv(args[1], hex.EncodeToString(sum[:]))
}

// write FILE WORDS... writes the words, joined by spaces, as one line to
// FILE (after $VAR expansion, which txtar files lack).
func cmdWrite(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: write FILE WORDS...")
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(strings.Join(args[1:], " ")+"\n"), 0o644))
}

// TestSharingExample runs examples/sharing/guard.star, which loads
// @std//checks.star and a team library that its guard.libs names.
func TestSharingExample(t *testing.T) {
	var stdout, stderr strings.Builder
	code := cli.Main([]string{"run", "--warn-ok", "--format", "json", "examples/sharing/guard.star"}, cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
	if code != 0 {
		t.Errorf("exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if err := schema.Validate([]byte(stdout.String())); err != nil {
		t.Errorf("report does not match the schema: %v", err)
	}
}
