package guardtest

// This file holds the fake world a test runs in: a builtins.Deps whose
// every part answers from what the test declared with t.fake.*, and whose
// clock is fixed. Nothing here touches the machine or the network: a probe
// with no matching fake gets an error that says which fake to add, and the
// world remembers it against the check that asked, so t.run() reports that
// check UNKNOWN with the same words.

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/runtime"
)

// DefaultNow is the fake clock's time until a test calls t.fake.now().
var DefaultNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// world is one test's fakes. Probes may run concurrently (the checks of a
// t.run()), so everything is behind mu.
type world struct {
	mu       sync.Mutex
	now      time.Time
	disks    map[string]builtins.DiskUsage // by path as given to disk()
	mounts   []builtins.Mount              // t.fake.disks, in order
	memory   *builtins.MemoryInfo
	load     *builtins.LoadInfo
	host     *builtins.HostInfo
	procs    []fakeProc
	procsSet bool
	files    map[string]fakeFile
	http     map[string]*fakeHTTP // by "METHOD url"
	tcp      map[string]fakeConn
	dns      map[string]fakeDNS // by "TYPE name"
	tls      map[string]fakeTLS // by addr
	plugins  map[string]fakePlugin
	ca       *fakeCA // the CA roots trusts, made on first use
	roots    *x509.CertPool
	env      map[string]string
	// onSecret gets every value given to t.fake.secret, for the output
	// scrubber, as soon as it is given.
	onSecret func(name, value string)
	// misses are the probes that found no fake, by check name ("" outside
	// a check), in order, each said once.
	misses map[string][]string
}

func newWorld(onSecret func(name, value string)) *world {
	return &world{
		onSecret: onSecret,
		now:      DefaultNow,
		disks:    map[string]builtins.DiskUsage{},
		files:    map[string]fakeFile{},
		http:     map[string]*fakeHTTP{},
		tcp:      map[string]fakeConn{},
		dns:      map[string]fakeDNS{},
		tls:      map[string]fakeTLS{},
		plugins:  map[string]fakePlugin{},
		roots:    x509.NewCertPool(), // the CA is added when a fake needs it
		env:      map[string]string{},
		misses:   map[string][]string{},
	}
}

// deps is the Deps the world's checks read through.
func (w *world) deps() *builtins.Deps {
	return &builtins.Deps{
		Disks:    w,
		Memory:   w,
		Load:     w,
		Host:     w,
		Procs:    w,
		Files:    w,
		Contents: w,
		Sockets:  w,
		Plugins:  w,
		Dialer:   w,
		Resolver: w,
		HTTP:     w,
		Now:      w.Now,
		Sleep:    w.advance,
		Roots:    w.roots,
	}
}

// Now is the fake clock.
func (w *world) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

// advance moves the fake clock on instead of sleeping (http_check's
// waits between attempts).
func (w *world) advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

// lookupEnv is what env() and secret() see: only the fakes, never the
// process environment, so a test means the same on every machine.
func (w *world) lookupEnv(name string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, ok := w.env[name]
	return v, ok
}

// noFake records a probe with no fake and returns its error.
func (w *world) noFake(ctx context.Context, probe, hint string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return errors.New(w.noFakeMsgLocked(ctx, probe, hint))
}

// noFakeMsgLocked is noFake with w.mu held, returning the message.
func (w *world) noFakeMsgLocked(ctx context.Context, probe, hint string) string {
	msg := fmt.Sprintf("no fake for %s; add %s", probe, hint)
	name := ""
	if ctx != nil {
		name = runtime.CheckName(ctx)
	}
	if !slices.Contains(w.misses[name], msg) {
		w.misses[name] = append(w.misses[name], msg)
	}
	return msg
}

// Disks.

func (w *world) Statfs(ctx context.Context, path string) (builtins.DiskUsage, error) {
	w.mu.Lock()
	u, ok := w.disks[path]
	w.mu.Unlock()
	if !ok {
		return u, w.noFake(ctx, fmt.Sprintf("disk(%q)", path), fmt.Sprintf("t.fake.disk(%q, used_percent=…)", path))
	}
	return u, nil
}

// Mounts is t.fake.disks's table or, without one, a mount per
// t.fake.disk path (disk() looks its path's type up here).
func (w *world) Mounts(ctx context.Context) ([]builtins.Mount, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mounts != nil {
		return slices.Clone(w.mounts), nil
	}
	if len(w.disks) == 0 {
		return nil, errors.New(w.noFakeMsgLocked(ctx, "disks()", `t.fake.disks([{"path": "/", "used_percent": 50}, …])`))
	}
	var ms []builtins.Mount
	for _, p := range slices.Sorted(maps.Keys(w.disks)) {
		ms = append(ms, builtins.Mount{Dev: fmt.Sprintf("8:%d", len(ms)+1), Root: "/", Point: p, Fstype: w.disks[p].Fstype})
	}
	return ms, nil
}

// Memory, load and host.

func (w *world) Memory(ctx context.Context) (builtins.MemoryInfo, error) {
	w.mu.Lock()
	m := w.memory
	w.mu.Unlock()
	if m == nil {
		return builtins.MemoryInfo{}, w.noFake(ctx, "memory()", "t.fake.memory(used_percent=…)")
	}
	return *m, nil
}

func (w *world) LoadAvg(ctx context.Context) (builtins.LoadInfo, error) {
	w.mu.Lock()
	l := w.load
	w.mu.Unlock()
	if l == nil {
		return builtins.LoadInfo{}, w.noFake(ctx, "loadavg()", "t.fake.loadavg(load5=…, cores=…)")
	}
	return *l, nil
}

func (w *world) HostInfo(ctx context.Context) (builtins.HostInfo, error) {
	w.mu.Lock()
	h := w.host
	w.mu.Unlock()
	if h == nil {
		return builtins.HostInfo{}, w.noFake(ctx, "host()", "t.fake.host(hostname=…)")
	}
	return *h, nil
}

// Processes: the fake table is written out as /proc would show it, so
// process() parses and filters it with its real code.

type fakeProc struct {
	pid       int
	name      string
	cmdline   string
	uid       uint32
	rss       uint64 // bytes
	startTime float64
}

// bootTime is when the fake machine booted: a day before the clock.
func (w *world) bootTime() int64 { return w.Now().Add(-24 * time.Hour).Unix() }

func (w *world) PIDs() ([]int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.procsSet {
		return nil, errors.New(w.noFakeMsg("process()", `t.fake.process(name="…") (count=0 for none running)`))
	}
	pids := make([]int, len(w.procs))
	for i, p := range w.procs {
		pids[i] = p.pid
	}
	return pids, nil
}

// noFakeMsg is the message of noFake for the probes that have no context (the
// process table, file metadata): the builtin raises the error, so the
// check is UNKNOWN with it, without the world's help.
func (w *world) noFakeMsg(probe, hint string) string {
	return fmt.Sprintf("no fake for %s; add %s", probe, hint)
}

func (w *world) ReadFile(pid int, name string, buf []byte) ([]byte, error) {
	w.mu.Lock()
	i := slices.IndexFunc(w.procs, func(p fakeProc) bool { return p.pid == pid })
	var p fakeProc
	if i >= 0 {
		p = w.procs[i]
	}
	w.mu.Unlock()
	if i < 0 {
		return buf, fs.ErrNotExist
	}
	switch name {
	case "comm":
		return append(append(buf, truncate(p.name, 15)...), '\n'), nil
	case "stat":
		ticks := uint64(max(0, (p.startTime-float64(w.bootTime()))*100))
		pages := p.rss / uint64(os.Getpagesize())
		// Fields 3 to 24 of proc(5): state, 18 others, starttime, vsize, rss.
		rest := "S" + strings.Repeat(" 0", 18) + fmt.Sprintf(" %d 0 %d 0 0", ticks, pages)
		return fmt.Appendf(buf, "%d (%s) %s\n", p.pid, truncate(p.name, 15), rest), nil
	case "cmdline":
		return append(buf, strings.ReplaceAll(p.cmdline, " ", "\x00")+"\x00"...), nil
	case "status":
		return fmt.Appendf(buf, "Name:\t%s\nUid:\t%d\t%d\t%d\t%d\n", truncate(p.name, 15), p.uid, p.uid, p.uid, p.uid), nil
	}
	return buf, fs.ErrNotExist
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (w *world) BootTime() (int64, error) { return w.bootTime(), nil }

// Files.

type fakeFile struct {
	content    []byte
	hasContent bool
	exists     bool
	isDir      bool
	size       int64
	mode       fs.FileMode
	age        time.Duration
}

// file is the fake for path: file() resolves a relative path from the
// script's directory, so a fake given as "data/x" matches ".../data/x".
func (w *world) file(path string) (fakeFile, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if f, ok := w.files[path]; ok {
		return f, true
	}
	for k, f := range w.files {
		if !strings.HasPrefix(k, "/") && strings.HasSuffix(path, "/"+strings.TrimPrefix(k, "./")) {
			return f, true
		}
	}
	return fakeFile{}, false
}

func (w *world) Stat(path string) (fs.FileInfo, error) {
	f, ok := w.file(path)
	now := w.Now()
	switch {
	case !ok:
		return nil, errors.New(w.noFakeMsg(fmt.Sprintf("file(%q)", path), fmt.Sprintf("t.fake.file(%q, age=…) (exists=False for a missing file)", path)))
	case !f.exists:
		return nil, &fs.PathError{Op: "stat", Path: path, Err: fs.ErrNotExist}
	}
	return fileInfo{name: path, f: f, mtime: now.Add(-f.age)}, nil
}

type fileInfo struct {
	name  string
	f     fakeFile
	mtime time.Time
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.f.size }
func (i fileInfo) ModTime() time.Time { return i.mtime }
func (i fileInfo) IsDir() bool        { return i.f.isDir }
func (i fileInfo) Sys() any           { return nil }
func (i fileInfo) Mode() fs.FileMode {
	if i.f.isDir {
		return i.f.mode | fs.ModeDir
	}
	return i.f.mode
}

// Network: TCP connections are in-memory pipes.

type fakeConn struct {
	response string // what the server says once connected
	err      string
	latency  time.Duration
}

func (w *world) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	w.mu.Lock()
	c, ok := w.tcp[addr]
	f, isTLS := w.tls[addr]
	w.mu.Unlock()
	// A t.fake.tcp error wins: the port is closed whatever certificate
	// would be behind it.
	if isTLS && network == "tcp" && (!ok || c.err == "") {
		return w.dialTLS(ctx, f)
	}
	switch {
	case network != "tcp":
		return nil, w.noFake(ctx, fmt.Sprintf("dns(server=%q)", addr), "nothing: dns(server=) cannot be faked; test with the system resolver and t.fake.dns")
	case !ok:
		return nil, w.noFake(ctx, fmt.Sprintf("tcp(%q)", addr), fmt.Sprintf("t.fake.tcp(%q)", addr))
	}
	if err := wait(ctx, c.latency); err != nil {
		return nil, err
	}
	if c.err != "" {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New(c.err)}
	}
	client, server := net.Pipe()
	if c.response == "" {
		server.Close()
		return client, nil
	}
	// The server says its piece and takes whatever the client sends
	// (a pipe has no buffer, so both go on at once).
	go io.Copy(io.Discard, server)
	go func() {
		// Then hang up, as a server that said no would: a client waiting
		// for more reads EOF instead of waiting for its deadline.
		server.Write([]byte(c.response))
		server.Close()
	}()
	return client, nil
}

// wait is a fake's latency: real time, since a timeout must really
// pass for the builtin to report it; keep latencies short in tests.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// DNS.

type fakeDNS struct {
	records []string
	err     string
}

func (w *world) lookup(ctx context.Context, typ, name string) ([]string, error) {
	w.mu.Lock()
	d, ok := w.dns[typ+" "+name]
	w.mu.Unlock()
	if !ok {
		hint := fmt.Sprintf("t.fake.dns(%q, records=[…])", name)
		if typ != "A" {
			hint = fmt.Sprintf("t.fake.dns(%q, type=%q, records=[…])", name, typ)
		}
		return nil, w.noFake(ctx, fmt.Sprintf("dns(%q, type=%q)", name, typ), hint)
	}
	if d.err != "" {
		return nil, &net.DNSError{Err: d.err, Name: name, IsNotFound: d.err == "no such host"}
	}
	return d.records, nil
}

func (w *world) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	typ := "A"
	if network == "ip6" {
		typ = "AAAA"
	}
	recs, err := w.lookup(ctx, typ, host)
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, r := range recs {
		a, err := netip.ParseAddr(r)
		if err != nil {
			return nil, fmt.Errorf("fake dns(%q): record %q is not an IP address", host, r)
		}
		out = append(out, a)
	}
	return out, nil
}

func (w *world) LookupCNAME(ctx context.Context, host string) (string, error) {
	recs, err := w.lookup(ctx, "CNAME", host)
	if err != nil || len(recs) == 0 {
		return "", err
	}
	return recs[0], nil
}

func (w *world) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	recs, err := w.lookup(ctx, "MX", name)
	var out []*net.MX
	for _, r := range recs {
		pref, host, _ := strings.Cut(r, " ")
		n, _ := strconv.Atoi(pref)
		out = append(out, &net.MX{Host: host, Pref: uint16(n)})
	}
	return out, err
}

func (w *world) LookupTXT(ctx context.Context, name string) ([]string, error) {
	return w.lookup(ctx, "TXT", name)
}

func (w *world) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	recs, err := w.lookup(ctx, "SRV", name)
	var out []*net.SRV
	for _, r := range recs {
		var s net.SRV
		fmt.Sscanf(r, "%d %d %d %s", &s.Priority, &s.Weight, &s.Port, &s.Target)
		out = append(out, &s)
	}
	return name, out, err
}

// HTTP: one round tripper answers every request from the fakes.

type fakeHTTP struct {
	statuses []int // one per attempt; the last repeats
	body     string
	headers  http.Header
	latency  time.Duration
	err      string
	attempts int
}

func (w *world) Transport(insecure bool, caFile string) (http.RoundTripper, error) {
	return roundTripper{w}, nil
}

type roundTripper struct{ w *world }

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	w := rt.w
	url := req.URL.String()
	w.mu.Lock()
	f, ok := w.http[req.Method+" "+url]
	if !ok {
		f, ok = w.http[req.Method+" "+strings.TrimSuffix(url, "/")]
	}
	var status int
	if ok {
		status = f.statuses[min(f.attempts, len(f.statuses)-1)]
		f.attempts++
	}
	w.mu.Unlock()
	if !ok {
		hint := fmt.Sprintf("t.fake.http(%q, status=200)", url)
		if req.Method != "GET" {
			hint = fmt.Sprintf("t.fake.http(%q, method=%q, status=200)", url, req.Method)
		}
		return nil, w.noFake(req.Context(), fmt.Sprintf("http_check(%q, method=%q)", url, req.Method), hint)
	}
	if err := wait(req.Context(), f.latency); err != nil {
		return nil, err
	}
	if f.err != "" {
		return nil, errors.New(f.err)
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        f.headers.Clone(),
		Body:          io.NopCloser(strings.NewReader(f.body)),
		ContentLength: int64(len(f.body)),
		Request:       req,
	}, nil
}

// Open is what file().read() and .sha256() read: the content= of a file
// fake.
func (w *world) Open(path string) (fs.File, error) {
	f, ok := w.file(path)
	switch {
	case !ok || (f.exists && !f.hasContent):
		return nil, errors.New(w.noFakeMsg(fmt.Sprintf("file(%q).read()", path), fmt.Sprintf("t.fake.file(%q, content=\"…\")", path)))
	case !f.exists:
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	return &memFile{Reader: bytes.NewReader(f.content), info: fileInfo{name: path, f: f, mtime: w.Now().Add(-f.age)}}, nil
}

type memFile struct {
	*bytes.Reader
	info fileInfo
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m.info, nil }
func (m *memFile) Close() error               { return nil }

// Sockets: listening() has no fake yet, and never reads the machine's.

func (w *world) Table(name string) ([]byte, error) {
	return nil, errors.New("no fake for listening(): infra-guard test cannot fake the socket tables yet")
}

func (w *world) Owners(inodes []uint64) (map[uint64]int, error) { return map[uint64]int{}, nil }

// Plugins.

type fakePlugin struct {
	exitCode       int
	stdout, stderr string
}

func (w *world) RunPlugin(ctx context.Context, name string, args, env []string) (builtins.PluginRun, error) {
	w.mu.Lock()
	p, ok := w.plugins[name]
	w.mu.Unlock()
	if !ok {
		return builtins.PluginRun{}, w.noFake(ctx, fmt.Sprintf("plugin(%q)", name), fmt.Sprintf("t.fake.plugin(%q, exit_code=0, stdout=\"OK\")", name))
	}
	return builtins.PluginRun{Path: "/fake/plugins/" + name, ExitCode: p.exitCode, Stdout: []byte(p.stdout), Stderr: []byte(p.stderr)}, nil
}
