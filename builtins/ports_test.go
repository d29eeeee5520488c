package builtins

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// callListening calls listening() with deps (nil: the production ones).
func callListening(t *testing.T, deps *Deps, args starlark.Tuple, kwargs ...starlark.Tuple) (*starlarkstruct.Struct, error) {
	t.Helper()
	thread := &starlark.Thread{Name: t.Name()}
	SetContext(thread, t.Context())
	if deps != nil {
		SetDeps(thread, deps)
	}
	v, err := starlark.Call(thread, Predeclared()["listening"], args, kwargs)
	if err != nil {
		return nil, err
	}
	return v.(*starlarkstruct.Struct), nil
}

func TestListeningRealSockets(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("needs /proc/net/tcp")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	uport := udp.LocalAddr().(*net.UDPAddr).Port
	self, _ := os.ReadFile("/proc/self/comm")

	r, err := callListening(t, nil, starlark.Tuple{starlark.MakeInt(port)})
	if err != nil {
		t.Fatal(err)
	}
	want := `listening(addrs = ["127.0.0.1:` + strconv.Itoa(port) + `"], ok = True, pid = ` + strconv.Itoa(os.Getpid()) +
		`, port = ` + strconv.Itoa(port) + `, process = "` + strings.TrimSpace(string(self)) + `", proto = "tcp")`
	if r.String() != want {
		t.Errorf("listening(%d) = %s, want %s", port, r, want)
	}
	kw := func(k, v string) starlark.Tuple { return starlark.Tuple{starlark.String(k), starlark.String(v)} }
	for _, c := range []struct {
		port   int
		kwargs []starlark.Tuple
		ok     bool
	}{
		{port, []starlark.Tuple{kw("addr", "127.0.0.1")}, true},
		{port, []starlark.Tuple{kw("addr", "10.1.2.3")}, false},
		{port, []starlark.Tuple{kw("proto", "udp")}, false},
		{uport, []starlark.Tuple{kw("proto", "udp")}, true},
		{uport, nil, false},
	} {
		r, err := callListening(t, nil, starlark.Tuple{starlark.MakeInt(c.port)}, c.kwargs...)
		if err != nil {
			t.Fatal(err)
		}
		if got := bool(attr[starlark.Bool](t, r, "ok")); got != c.ok {
			t.Errorf("listening(%d, %v).ok = %v, want %v", c.port, c.kwargs, got, c.ok)
		}
	}
	// Closed, nothing listens any more.
	ln.Close()
	r, err = callListening(t, nil, starlark.Tuple{starlark.MakeInt(port)})
	if err != nil {
		t.Fatal(err)
	}
	if r.String() != `listening(addrs = [], ok = False, pid = None, port = `+strconv.Itoa(port)+`, process = None, proto = "tcp")` {
		t.Errorf("after close: %s", r)
	}

	for _, c := range []struct {
		args   starlark.Tuple
		kwargs []starlark.Tuple
		want   string
	}{
		{starlark.Tuple{starlark.MakeInt(0)}, nil, "listening: port 0 is out of range 1-65535"},
		{starlark.Tuple{starlark.MakeInt(80)}, []starlark.Tuple{kw("proto", "sctp")}, `listening: proto "sctp": want "tcp" or "udp"`},
		{starlark.Tuple{starlark.MakeInt(80)}, []starlark.Tuple{kw("addr", "localhost")}, `listening: addr "localhost" is not an IP address`},
		{starlark.Tuple{starlark.String("80")}, nil, `listening: for parameter port: got string, want int`},
	} {
		_, err := callListening(t, nil, c.args, c.kwargs...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("listening(%v, %v) = %v, want %q", c.args, c.kwargs, err, c.want)
		}
	}
}

// fakeProcTree writes a /proc tree with one process, pid 4242 named
// "postgres", that holds socket inode 777, which listens on
// 0.0.0.0:5432 and [::]:5432, and a UDP socket on 127.0.0.1:53 that no
// visible process holds.
func fakeProcTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write := func(name, body string) {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	header := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	write("net/tcp", header+
		"   0: 00000000:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   105        0 777 1 0000000000000000 100 0 0 10 0\n"+
		"   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 778 1 0000000000000000 20 4 30 10 -1\n"+
		"   2: garbage line\n")
	write("net/tcp6", header+
		"   0: 00000000000000000000000000000000:1538 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   105        0 777 1 0000000000000000 100 0 0 10 0\n")
	write("net/udp", header+
		"  12: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 900 2 0000000000000000 0\n")
	write("4242/comm", "postgres\n")
	write("4242/stat", "4242 (postgres) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 500 100000 250 18446744073709551615\n")
	write("4242/cmdline", "postgres\x00-D\x00/var/lib/postgresql\x00")
	write("4242/status", "Name:\tpostgres\nUid:\t105\t105\t105\t105\n")
	write("4243/comm", "postgres\n")
	write("4243/stat", "4243 (postgres) Z 4242 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 600 0 0 18446744073709551615\n")
	write("4243/cmdline", "")
	write("4243/status", "Name:\tpostgres\nUid:\t105\t105\t105\t105\n")
	write("stat", "cpu  1 2 3 4\nbtime 1700000000\n")
	if err := os.MkdirAll(filepath.Join(root, "4242/fd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("socket:[777]", filepath.Join(root, "4242/fd/5")); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestHostProc points the production Deps at a fake /proc tree through
// HOST_PROC, as a DaemonSet mounts the host's /proc.
func TestHostProc(t *testing.T) {
	root := fakeProcTree(t)
	t.Setenv("HOST_PROC", root)
	deps := NewDeps()
	defer deps.Close()

	r, err := callListening(t, deps, starlark.Tuple{starlark.MakeInt(5432)})
	if err != nil {
		t.Fatal(err)
	}
	if want := `listening(addrs = ["0.0.0.0:5432", "[::]:5432"], ok = True, pid = 4242, port = 5432, process = "postgres", proto = "tcp")`; r.String() != want {
		t.Errorf("listening(5432) = %s\nwant %s", r, want)
	}
	// A connected socket is not a listener.
	if r, _ := callListening(t, deps, starlark.Tuple{starlark.MakeInt(8080)}); r == nil || attr[starlark.Bool](t, r, "ok") {
		t.Errorf("listening(8080) = %v, want not ok", r)
	}
	udp := starlark.Tuple{starlark.String("proto"), starlark.String("udp")}
	r, err = callListening(t, deps, starlark.Tuple{starlark.MakeInt(53)}, udp)
	if err != nil {
		t.Fatal(err)
	}
	if want := `listening(addrs = ["127.0.0.1:53"], ok = True, pid = None, port = 53, process = None, proto = "udp")`; r.String() != want {
		t.Errorf("listening(53, udp) = %s\nwant %s", r, want)
	}

	thread := &starlark.Thread{Name: t.Name()}
	SetContext(thread, t.Context())
	SetDeps(thread, deps)
	v, err := starlark.Call(thread, Predeclared()["process"], nil, []starlark.Tuple{{starlark.String("name"), starlark.String("postgres")}})
	if err != nil {
		t.Fatal(err)
	}
	p := v.(*starlarkstruct.Struct)
	if got := found(t, p); len(got) != 1 || got[0] != 4242 {
		t.Errorf("process(name=postgres) pids = %v, want [4242]", got)
	}
	if n, _ := attr[starlark.Int](t, p, "zombies").Int64(); n != 1 {
		t.Errorf("zombies = %d, want 1", n)
	}
	proc := attr[*starlark.List](t, p, "procs").Index(0).(*starlarkstruct.Struct)
	if got := attr[starlark.String](t, proc, "cmdline"); got != "postgres -D /var/lib/postgresql" {
		t.Errorf("cmdline = %q", got)
	}
	if got := attr[starlark.Float](t, proc, "start_time"); got != 1700000005 {
		t.Errorf("start_time = %v, want boot + 500 ticks", got)
	}
}

func TestParseHexAddrPort(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:1F90":                         "127.0.0.1:8080",
		"00000000:0016":                         "0.0.0.0:22",
		"00000000000000000000000001000000:0035": "[::1]:53",
		"0000000000000000FFFF00000100007F:0050": "[::ffff:127.0.0.1]:80",
	} {
		got, ok := parseHexAddrPort(in)
		if !ok || got != netip.MustParseAddrPort(want) {
			t.Errorf("parseHexAddrPort(%q) = %v, %v; want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "0100007F", "0100007F:", "0100007G:0016", "01007F:0016", "0100007F:10000"} {
		if got, ok := parseHexAddrPort(in); ok {
			t.Errorf("parseHexAddrPort(%q) = %v, want a refusal", in, got)
		}
	}
}

// FuzzParseSocketTable: no table makes the parser panic.
func FuzzParseSocketTable(f *testing.F) {
	f.Add("header\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000  0 12345 1\n")
	f.Add("h\n 0: 00000000000000000000000001000000:0035 0:0 07 0 0 0 0 0 1")
	f.Fuzz(func(t *testing.T, s string) {
		for _, st := range []int{tcpListen, udpBound} {
			for _, sock := range parseSocketTable([]byte(s), st) {
				if !sock.addr.IsValid() {
					t.Fatalf("invalid address from %q", s)
				}
			}
		}
	})
}
