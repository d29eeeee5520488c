package builtins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarktest"
)

// depsExec runs src as a check of run would run, on a thread with deps,
// with the builtins, assert and time predeclared.
func depsExec(t *testing.T, deps *Deps, run *Run, src string) {
	t.Helper()
	assertModule, err := starlarktest.LoadAssertModule()
	if err != nil {
		t.Fatal(err)
	}
	predeclared := Predeclared()
	predeclared["assert"] = assertModule["assert"]
	predeclared["time"] = starlarktime.Module
	thread := &starlark.Thread{Name: t.Name()}
	starlarktest.SetReporter(thread, t)
	SetContext(thread, t.Context())
	if run != nil {
		SetRun(thread, run)
	}
	SetDeps(thread, deps)
	if _, err := starlark.ExecFileOptions(fileOptions, thread, t.Name()+".star", src, predeclared); err != nil {
		if evalErr, ok := err.(*starlark.EvalError); ok {
			t.Fatal(evalErr.Backtrace())
		}
		t.Fatal(err)
	}
}

// testDeps is a production Deps, closed when the test ends, for a test to
// replace parts of.
func testDeps(t *testing.T) *Deps {
	d := NewDeps()
	t.Cleanup(d.Close)
	return d
}

type fakeDisks struct {
	usage  map[string]DiskUsage
	mounts []Mount
}

func (f fakeDisks) Statfs(_ context.Context, path string) (DiskUsage, error) {
	u, ok := f.usage[path]
	if !ok {
		return DiskUsage{}, syscall.ENOENT
	}
	u.Fstype = "statfs-magic" // disk() and disks() take the type from the mount table
	return u, nil
}

func (f fakeDisks) Mounts(context.Context) ([]Mount, error) { return f.mounts, nil }

func TestDepsDisks(t *testing.T) {
	d := testDeps(t)
	d.Disks = fakeDisks{
		usage: map[string]DiskUsage{
			"/":    {Fstype: "ext4", Total: 100 << 30, Used: 91 << 30, Free: 9 << 30, UsedPercent: 91, InodesPercent: 3},
			"/srv": {Fstype: "xfs", Total: 1 << 40, UsedPercent: 10},
			"/run": {Fstype: "tmpfs"}, // no blocks: left out
		},
		mounts: []Mount{
			{Dev: "8:1", Root: "/", Point: "/", Fstype: "ext4"},
			{Dev: "0:21", Root: "/", Point: "/proc", Fstype: "proc"},
			{Dev: "8:2", Root: "/", Point: "/srv", Fstype: "xfs"},
			{Dev: "0:40", Root: "/", Point: "/run", Fstype: "tmpfs"},
		},
	}
	depsExec(t, d, nil, `
r = threshold(disk("/").used_percent, warn = 80, crit = 90, name = "root disk", unit = "%")
assert.eq(r.status, "fail")
assert.eq(r.message, "root disk 91% (warn > 80, crit > 90)")
assert.eq((disk().fstype, disk().total, disk().inodes_percent), ("ext4", 100 << 30, 3.0))
assert.fails(lambda: disk("/nope"), "disk: /nope: no such file or directory")
assert.eq([(x.path, x.fstype) for x in disks()], [("/", "ext4"), ("/srv", "xfs")])
assert.eq([x.path for x in disks(exclude = "/srv")], ["/"])
`)
}

type fakeSystem struct{}

func (fakeSystem) Memory(context.Context) (MemoryInfo, error) {
	return MemoryInfo{Total: 16 << 30, Available: 4 << 30, Used: 12 << 30, UsedPercent: 75}, nil
}

func (fakeSystem) LoadAvg(context.Context) (LoadInfo, error) {
	return LoadInfo{Load1: 8, Load5: 6, Load15: 4, Cores: 4}, nil
}

func (fakeSystem) HostInfo(context.Context) (HostInfo, error) {
	return HostInfo{Hostname: "web-1", OS: "linux", Platform: "debian", PlatformVersion: "12", Kernel: "6.1.0", UptimeSeconds: 120, BootTime: 1_700_000_000}, nil
}

func TestDepsMemoryLoadHost(t *testing.T) {
	d := testDeps(t)
	d.Memory, d.Load, d.Host = fakeSystem{}, fakeSystem{}, fakeSystem{}
	depsExec(t, d, nil, `
m = memory()
assert.eq((m.used_percent, m.swap_total, m.swap_percent), (75.0, 0, 0.0))
assert.eq(threshold(m.used_percent, warn = 70).status, "warn")
assert.eq(loadavg().load5 / loadavg().cores, 1.5)
h = host()
assert.eq((h.hostname, h.platform, h.platform_version, h.kernel, h.boot_time), ("web-1", "debian", "12", "6.1.0", 1700000000))
`)
}

// mapFiles is a FileStater over an fstest.MapFS, whose names have no
// leading slash.
type mapFiles fstest.MapFS

func (m mapFiles) Stat(path string) (fs.FileInfo, error) {
	return fs.Stat(fstest.MapFS(m), strings.TrimPrefix(path, "/"))
}

// The Deps' clock is the time module's too: file().age_seconds and
// time.now() agree on a fixed time.
func TestDepsFilesAndClock(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	d := testDeps(t)
	d.Now = func() time.Time { return now }
	d.Files = mapFiles{"var/backups/db.dump": {Data: []byte("dump"), Mode: 0o640, ModTime: now.Add(-26 * time.Hour)}}
	depsExec(t, d, nil, `
f = file("/var/backups/db.dump")
assert.eq((f.exists, f.size, f.mode, f.age_seconds), (True, 4, "0640", 26 * 3600.0))
assert.eq(time.now(), time.time(year = 2026, month = 3, day = 1, hour = 12))
assert.eq(file("/var/backups/other").exists, False)
`)
}

// fakeProcs is a ProcFS of made-up processes, counting the scans.
type fakeProcs struct {
	procs map[int]fakeProc
	scans *atomic.Int32
}

type fakeProc struct {
	comm, cmdline string
	uid           int
}

func (f fakeProcs) PIDs() ([]int, error) {
	f.scans.Add(1)
	var pids []int
	for pid := range f.procs {
		pids = append(pids, pid)
	}
	return pids, nil
}

func (f fakeProcs) ReadFile(pid int, name string, buf []byte) ([]byte, error) {
	p, ok := f.procs[pid]
	if !ok {
		return buf, syscall.ENOENT
	}
	switch name {
	case "comm":
		return append(buf, p.comm+"\n"...), nil
	case "stat": // start 100 ticks after boot, rss 256 pages
		return fmt.Appendf(buf, "%d (%s) S 1 %d %d 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 256 0", pid, p.comm, pid, pid), nil
	case "cmdline":
		return append(buf, strings.ReplaceAll(p.cmdline, " ", "\x00")+"\x00"...), nil
	case "status":
		return fmt.Appendf(buf, "Name:\t%s\nUid:\t%d\t%d\t%d\t%d\n", p.comm, p.uid, p.uid, p.uid, p.uid), nil
	}
	return buf, syscall.ENOENT
}

func (fakeProcs) BootTime() (int64, error) { return 1_700_000_000, nil }

// process() reads the fake table, once per run: a new run scans again.
func TestDepsProcesses(t *testing.T) {
	d := testDeps(t)
	scans := new(atomic.Int32)
	d.Procs = fakeProcs{scans: scans, procs: map[int]fakeProc{
		10: {"nginx", "nginx: master process /usr/sbin/nginx", 0},
		11: {"nginx", "nginx: worker process", 0},
		20: {"postgres", "/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql", 0},
	}}
	run := NewRun()
	depsExec(t, d, run, `
p = process(name = "nginx")
assert.eq((p.count, p.pids), (2, [10, 11]))
assert.eq(p.procs[0].cmdline, "nginx: master process /usr/sbin/nginx")
assert.eq((p.procs[0].user, p.procs[0].start_time), ("root", 1700000001.0))
assert.eq(process(pattern = "-D /var/lib/postgresql$").pids, [20])
assert.eq(process(name = "redis").count, 0)
`)
	run.Close()
	if n := scans.Load(); n != 1 {
		t.Errorf("one run scanned the table %d times, want 1", n)
	}
	run = NewRun()
	defer run.Close()
	depsExec(t, d, run, `assert.eq(process(name = "postgres").count, 1)`)
	if n := scans.Load(); n != 2 {
		t.Errorf("two runs scanned the table %d times, want 2 (one snapshot per run)", n)
	}
}

// fakeTransports answers every request itself and counts the calls.
type fakeTransports struct{ requests *atomic.Int32 }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (f fakeTransports) Transport(insecure bool, caFile string) (http.RoundTripper, error) {
	if caFile != "" {
		return nil, errors.New("no CA files here")
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n := f.requests.Add(1)
		status := http.StatusOK
		if n == 1 {
			status = http.StatusServiceUnavailable // retried
		}
		return &http.Response{
			StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:  http.Header{"Content-Type": {"application/json"}},
			Body:    io.NopCloser(strings.NewReader(`{"db": "up", "host": "` + r.URL.Host + `"}`)),
			Request: r,
		}, nil
	}), nil
}

func TestDepsHTTP(t *testing.T) {
	d := testDeps(t)
	requests := new(atomic.Int32)
	d.HTTP = fakeTransports{requests}
	depsExec(t, d, nil, `
r = http_check("https://api.internal/health", ca_file = None)
assert.eq((r.ok, r.status, r.attempts), (True, 200, 2))
assert.eq(r.json(), {"db": "up", "host": "api.internal"})
assert.fails(lambda: http_check("https://api.internal/", ca_file = "ca.pem"), "http_check: ca_file: no CA files here")
`)
	if n := requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// fakeDialer connects to "up" hosts through a pipe and refuses the rest.
type fakeDialer struct{ dialed *atomic.Int32 }

func (f fakeDialer) DialContext(_ context.Context, network, addr string) (net.Conn, error) {
	f.dialed.Add(1)
	if strings.HasPrefix(addr, "up:") {
		client, server := net.Pipe()
		server.Close()
		return client, nil
	}
	return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
}

type fakeResolver struct{}

func (fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	if host == "db.internal" && network == "ip4" {
		return []netip.Addr{netip.MustParseAddr("10.0.0.7")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}
func (fakeResolver) LookupCNAME(context.Context, string) (string, error) { return "db.example.", nil }
func (fakeResolver) LookupMX(context.Context, string) ([]*net.MX, error) {
	return []*net.MX{{Host: "mx.example.", Pref: 10}}, nil
}
func (fakeResolver) LookupTXT(context.Context, string) ([]string, error) {
	return []string{"v=spf1"}, nil
}
func (fakeResolver) LookupSRV(context.Context, string, string, string) (string, []*net.SRV, error) {
	return "", nil, nil
}

func TestDepsDialerAndResolver(t *testing.T) {
	d := testDeps(t)
	dialed := new(atomic.Int32)
	d.Dialer, d.Resolver = fakeDialer{dialed}, fakeResolver{}
	depsExec(t, d, nil, `
assert.eq(tcp("up:5432").ok, True)
c = tcp("down:5432")
assert.eq((c.ok, c.error), (False, "connection refused"))
assert.eq(dns("db.internal").records, ["10.0.0.7"])
assert.eq(dns("db.internal", type = "MX").records, ["10 mx.example."])
n = dns("nope.internal")
assert.eq((n.ok, n.error), (False, "no A record for nope.internal (no such host, or no record of that type)"))
t = tls_cert("down:443")
assert.eq((t.ok, t.error), (False, "connection refused"))
`)
	if n := dialed.Load(); n != 3 {
		t.Errorf("dialed %d times, want 3 (tcp twice, tls_cert once)", n)
	}
}

// Runs that share a Deps share its HTTP connections; Close ends them.
func TestDepsHTTPConnectionsOutliveTheRun(t *testing.T) {
	var conns atomic.Int32
	srv := httpServerCountingConns(t, &conns)
	d := NewDeps()
	for range 3 {
		run := NewRun()
		depsExec(t, d, run, fmt.Sprintf("assert.true(http_check(%q).ok)", srv))
		run.Close()
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("3 runs sharing a Deps opened %d connections, want 1", n)
	}
	d.Close()
	depsExec(t, d, nil, fmt.Sprintf("assert.true(http_check(%q).ok)", srv))
	if n := conns.Load(); n != 2 {
		t.Errorf("after Close: %d connections, want 2 (the idle one was closed)", n)
	}
	d.Close()
}

// TestHostDisks is the DaemonSet case: with the host's / mounted at a root
// and its /proc elsewhere, disk("/") is statfs of the host's root, typed
// from the host's mount table (PID 1's), and disks() lists the host's
// mounts, each statted under the root.
func TestHostDisks(t *testing.T) {
	root, proc := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "srv"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(proc, "1"), 0o755); err != nil {
		t.Fatal(err)
	}
	mountinfo := "22 1 8:1 / / rw,relatime shared:1 - hostrootfs /dev/sda1 rw\n" +
		"23 22 0:21 / /proc rw - proc proc rw\n" +
		"24 22 8:2 / /srv rw,relatime shared:2 - hostsrvfs /dev/sda2 rw\n"
	if err := os.WriteFile(filepath.Join(proc, "1", "mountinfo"), []byte(mountinfo), 0o644); err != nil {
		t.Fatal(err)
	}
	d := testDeps(t)
	d.Disks = hostDisks{root: root, proc: proc}
	depsExec(t, d, NewRun(), `
assert.eq(disk("/").fstype, "hostrootfs")
assert.eq(disk("/srv").fstype, "hostsrvfs")
assert.true(disk("/").total > 0)
assert.eq([(x.path, x.fstype) for x in disks()], [("/", "hostrootfs"), ("/srv", "hostsrvfs")])
`)
}

// countingProbes counts statfs and memory reads.
type countingProbes struct {
	fakeDisks
	statfs, memory atomic.Int32
}

func (c *countingProbes) Statfs(ctx context.Context, path string) (DiskUsage, error) {
	c.statfs.Add(1)
	return c.fakeDisks.Statfs(ctx, path)
}

func (c *countingProbes) Memory(ctx context.Context) (MemoryInfo, error) {
	c.memory.Add(1)
	return fakeSystem{}.Memory(ctx)
}

// TestProbesOncePerRun: the checks of a run share one statfs per path
// (and its error) and one read of the memory figures; the next run reads
// again.
func TestProbesOncePerRun(t *testing.T) {
	c := &countingProbes{fakeDisks: fakeDisks{usage: map[string]DiskUsage{"/": {Total: 100, UsedPercent: 10}, "/srv": {Total: 200}}}}
	d := testDeps(t)
	d.Disks, d.Memory = c, c
	src := `
for _ in range(5):
    assert.eq(disk("/").total, 100)
    assert.eq(disk("/srv").total, 200)
    assert.fails(lambda: disk("/nope"), "disk: /nope: no such file or directory")
    assert.eq(memory().used_percent, 75.0)
`
	for run := 1; run <= 2; run++ {
		r := NewRun()
		depsExec(t, d, r, src)
		r.Close()
		if s, m := c.statfs.Load(), c.memory.Load(); s != int32(3*run) || m != int32(run) {
			t.Errorf("after run %d: %d statfs and %d memory reads, want %d and %d", run, s, m, 3*run, run)
		}
	}
}
