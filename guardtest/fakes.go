package guardtest

// This file holds t.fake: the functions a test declares its fake world
// with. Every field has a plausible default (docs/testing.md lists them),
// so a test names only what it is about; the builtins then read these
// values through Deps and run their real argument checks and judgements.

import (
	"fmt"
	"io/fs"
	"net/http"
	"os/user"
	"sort"
	"strconv"
	"time"

	"go.starlark.net/lib/json"
	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/builtins"
)

// Defaults of the fakes.
const (
	defaultDiskTotal   = 100 << 30 // 100 GiB
	defaultInodesTotal = 6_553_600
	defaultMemTotal    = 16 << 30 // 16 GiB
	firstFakePID       = 4000
)

// fakeModule is t.fake.
func (w *world) fakeModule() starlark.StringDict {
	fns := map[string]func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error){
		"disk":     w.fakeDisk,
		"disks":    w.fakeDisks,
		"memory":   w.fakeMemory,
		"loadavg":  w.fakeLoadavg,
		"host":     w.fakeHost,
		"process":  w.fakeProcess,
		"file":     w.fakeFile,
		"http":     w.fakeHTTP,
		"tcp":      w.fakeTCP,
		"dns":      w.fakeDNS,
		"plugin":   w.fakePlugin,
		"tls_cert": w.fakeTLSCert,
		"env":      w.fakeEnv,
		"secret":   w.fakeEnv,
		"now":      w.fakeNow,
	}
	d := make(starlark.StringDict, len(fns))
	for name, fn := range fns {
		d[name] = starlark.NewBuiltin("t.fake."+name, fn)
	}
	return d
}

// number is an int or float argument.
type number struct {
	v   float64
	set bool
}

func (n *number) Unpack(v starlark.Value) error {
	f, ok := starlark.AsFloat(v)
	if !ok {
		return fmt.Errorf("got %s, want a number", v.Type())
	}
	*n = number{f, true}
	return nil
}

func (n number) or(def float64) float64 {
	if n.set {
		return n.v
	}
	return def
}

// duration is a duration string or a time.duration; 0 allowed.
type duration struct{ d time.Duration }

func (d *duration) Unpack(v starlark.Value) error {
	var td starlarktime.Duration
	if err := td.Unpack(v); err != nil {
		return fmt.Errorf("want a duration like \"1h\" or \"500ms\", got %s", v)
	}
	if td < 0 {
		return fmt.Errorf("must not be negative, got %s", time.Duration(td))
	}
	d.d = time.Duration(td)
	return nil
}

// share fills in a used/free/percent triple from whichever was given.
func share(total, used, free, pct number) (t, u, f uint64, p float64) {
	tot := total.v
	var usedB float64
	switch {
	case used.set:
		usedB = used.v
	case free.set:
		usedB = tot - free.v
	default:
		usedB = tot * pct.or(50) / 100
	}
	usedB = min(max(usedB, 0), tot)
	p = pct.v
	if !pct.set {
		p = 0
		if tot > 0 {
			p = usedB / tot * 100
		}
	}
	return uint64(tot), uint64(usedB), uint64(tot - usedB), p
}

func diskUsage(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, path *string) (builtins.DiskUsage, error) {
	var (
		fstype                                 = "ext4"
		total, used, free, pct                 number
		inodesTotal, inodesUsed, inodesPercent number
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", path, "used_percent?", &pct, "total?", &total, "used?", &used, "free?", &free,
		"fstype?", &fstype, "inodes_total?", &inodesTotal, "inodes_used?", &inodesUsed, "inodes_percent?", &inodesPercent); err != nil {
		return builtins.DiskUsage{}, err
	}
	total.v = total.or(defaultDiskTotal)
	var u builtins.DiskUsage
	u.Fstype = fstype
	u.Total, u.Used, u.Free, u.UsedPercent = share(total, used, free, pct)
	inodesTotal.v = inodesTotal.or(defaultInodesTotal)
	if !inodesPercent.set && !inodesUsed.set {
		inodesPercent = number{10, true}
	}
	u.InodesTotal, u.InodesUsed, _, u.InodesPercent = share(inodesTotal, inodesUsed, number{}, inodesPercent)
	return u, nil
}

// t.fake.disk(path, used_percent=50, total=100 GiB, used=…, free=…,
// fstype="ext4", inodes_total=6553600, inodes_used=…, inodes_percent=10)
func (w *world) fakeDisk(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	u, err := diskUsage(b, args, kwargs, &path)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.disks[path] = u
	w.mu.Unlock()
	return starlark.None, nil
}

// t.fake.disks([{"path": "/", "used_percent": 50, …}, …]): the mount
// table, each entry as t.fake.disk takes it.
func (w *world) fakeDisks(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var list *starlark.List
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "disks", &list); err != nil {
		return nil, err
	}
	mounts := []builtins.Mount{}
	usages := map[string]builtins.DiskUsage{}
	for i := range list.Len() {
		d, ok := list.Index(i).(*starlark.Dict)
		if !ok {
			return nil, fmt.Errorf("%s: disks[%d] is %s; want a dict such as {\"path\": \"/\", \"used_percent\": 50}", b.Name(), i, list.Index(i).Type())
		}
		kw := d.Items()
		var path string
		u, err := diskUsage(b, nil, kw, &path)
		if err != nil {
			return nil, fmt.Errorf("disks[%d]: %w", i, err)
		}
		usages[path] = u
		mounts = append(mounts, builtins.Mount{Dev: fmt.Sprintf("8:%d", i+1), Root: "/", Point: path, Fstype: u.Fstype})
	}
	w.mu.Lock()
	w.mounts = mounts
	for p, u := range usages {
		w.disks[p] = u
	}
	w.mu.Unlock()
	return starlark.None, nil
}

// t.fake.memory(used_percent=50, total=16 GiB, used=…, available=…,
// swap_total=0, swap_used=…, swap_percent=0)
func (w *world) fakeMemory(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var total, used, avail, pct, swapTotal, swapUsed, swapPct number
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "used_percent?", &pct, "total?", &total, "used?", &used, "available?", &avail,
		"swap_total?", &swapTotal, "swap_used?", &swapUsed, "swap_percent?", &swapPct); err != nil {
		return nil, err
	}
	total.v = total.or(defaultMemTotal)
	var m builtins.MemoryInfo
	m.Total, m.Used, m.Available, m.UsedPercent = share(total, used, avail, pct)
	swapTotal.v = swapTotal.or(0)
	if !swapUsed.set && !swapPct.set {
		swapPct = number{0, true}
	}
	m.SwapTotal, m.SwapUsed, _, m.SwapPercent = share(swapTotal, swapUsed, number{}, swapPct)
	w.mu.Lock()
	w.memory = &m
	w.mu.Unlock()
	return starlark.None, nil
}

// t.fake.loadavg(load1=0.5, load5=0.5, load15=0.5, cores=4)
func (w *world) fakeLoadavg(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var load1, load5, load15 number
	cores := 4
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "load1?", &load1, "load5?", &load5, "load15?", &load15, "cores?", &cores); err != nil {
		return nil, err
	}
	if cores < 1 {
		return nil, fmt.Errorf("%s: cores must be at least 1, got %d", b.Name(), cores)
	}
	l := builtins.LoadInfo{Load1: load1.or(0.5), Load5: load5.or(0.5), Load15: load15.or(0.5), Cores: cores}
	w.mu.Lock()
	w.load = &l
	w.mu.Unlock()
	return starlark.None, nil
}

// t.fake.host(hostname="test-host", os="linux", platform="ubuntu",
// platform_version="24.04", kernel="6.8.0", uptime_seconds=86400)
func (w *world) fakeHost(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	h := builtins.HostInfo{Hostname: "test-host", OS: "linux", Platform: "ubuntu", PlatformVersion: "24.04", Kernel: "6.8.0"}
	var uptime number
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "hostname?", &h.Hostname, "os?", &h.OS, "platform?", &h.Platform,
		"platform_version?", &h.PlatformVersion, "kernel?", &h.Kernel, "uptime_seconds?", &uptime); err != nil {
		return nil, err
	}
	h.UptimeSeconds = uptime.or(86400)
	h.BootTime = w.Now().Unix() - int64(h.UptimeSeconds)
	w.mu.Lock()
	w.host = &h
	w.mu.Unlock()
	return starlark.None, nil
}

// t.fake.process(name=None, pattern=None, user=None, procs=None, count=1)
// adds processes to the fake process table, which process() then filters
// as it filters /proc. Without procs, count processes named name, whose
// command line is pattern as literal text (else name), run by user
// (default "root"); procs gives each one as a dict of pid, name, cmdline,
// user, rss (bytes) and start_time. count=0 declares the table with none
// of them running.
func (w *world) fakeProcess(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		name, pattern, owner string
		procs                *starlark.List
		count                = -1
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name?", &name, "pattern?", &pattern, "user?", &owner, "procs?", &procs, "count?", &count); err != nil {
		return nil, err
	}
	if owner == "" {
		owner = "root"
	}
	base := fakeProc{name: name, cmdline: name, rss: 64 << 20}
	if base.name == "" {
		base.name = "proc"
	}
	if pattern != "" {
		base.cmdline = pattern
	} else if base.cmdline == "" {
		base.cmdline = base.name
	}
	var add []fakeProc
	switch {
	case procs != nil:
		for i := range procs.Len() {
			d, ok := procs.Index(i).(*starlark.Dict)
			if !ok {
				return nil, fmt.Errorf("%s: procs[%d] is %s; want a dict such as {\"pid\": 42, \"cmdline\": \"nginx -g daemon off;\"}", b.Name(), i, procs.Index(i).Type())
			}
			p, u := base, owner
			var pid, rss int
			var start number
			kw := d.Items()
			if err := starlark.UnpackArgs(b.Name(), nil, kw, "pid?", &pid, "name?", &p.name, "cmdline?", &p.cmdline, "user?", &u, "rss?", &rss, "start_time?", &start); err != nil {
				return nil, fmt.Errorf("procs[%d]: %w", i, err)
			}
			p.pid = pid
			if rss > 0 {
				p.rss = uint64(rss)
			}
			p.startTime = start.or(float64(w.Now().Add(-time.Hour).Unix()))
			uid, err := uidOf(u)
			if err != nil {
				return nil, fmt.Errorf("%s: procs[%d]: %v", b.Name(), i, err)
			}
			p.uid = uid
			add = append(add, p)
		}
	default:
		if count < 0 {
			count = 1
		}
		uid, err := uidOf(owner)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		for range count {
			p := base
			p.uid = uid
			p.startTime = float64(w.Now().Add(-time.Hour).Unix())
			add = append(add, p)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.procsSet = true
	used := map[int]bool{}
	for _, p := range w.procs {
		used[p.pid] = true
	}
	next := firstFakePID + len(w.procs)
	for _, p := range add {
		if p.pid == 0 {
			for used[next] {
				next++
			}
			p.pid = next
		}
		if used[p.pid] {
			return nil, fmt.Errorf("%s: pid %d is already in the fake process table", b.Name(), p.pid)
		}
		used[p.pid] = true
		w.procs = append(w.procs, p)
	}
	sort.Slice(w.procs, func(i, j int) bool { return w.procs[i].pid < w.procs[j].pid })
	return starlark.None, nil
}

// uidOf maps a user to the uid the fake process table records.
// process() names users as the machine does, so a name must exist here
// too; "root" always does.
func uidOf(name string) (uint32, error) {
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(n), nil
	}
	if name == "root" {
		return 0, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, fmt.Errorf("user %q does not exist on this machine, and process() names users as the machine does; use \"root\" or a numeric uid", name)
	}
	n, _ := strconv.ParseUint(u.Uid, 10, 32)
	return uint32(n), nil
}

// t.fake.file(path, exists=True, age="1h", size=1024, mode="0644",
// is_dir=False)
func (w *world) fakeFile(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		path  string
		f     = fakeFile{exists: true, size: 1024}
		age   = duration{time.Hour}
		mode  = "0644"
		size  = 1024
		isDir bool
	)
	var content starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path, "exists?", &f.exists, "age?", &age, "size?", &size, "mode?", &mode, "is_dir?", &isDir, "content?", &content); err != nil {
		return nil, err
	}
	if content != starlark.None {
		s, ok := starlark.AsString(content)
		if !ok {
			return nil, fmt.Errorf("%s: content is %s; want a string", b.Name(), content.Type())
		}
		f.content, f.hasContent = []byte(s), true
		if !hasKwarg(kwargs, "size") {
			size = len(s)
		}
	}
	m, err := strconv.ParseUint(mode, 8, 32)
	if err != nil || m > 0o7777 {
		return nil, fmt.Errorf("%s: mode %q is not an octal permission like \"0644\"", b.Name(), mode)
	}
	f.mode, f.age, f.size, f.isDir = fs.FileMode(m), age.d, int64(size), isDir
	w.mu.Lock()
	w.files[path] = f
	w.mu.Unlock()
	return starlark.None, nil
}

// t.fake.http(url, status=200, body="", json=None, headers={},
// latency="0s", error=None, method="GET"); status may be a list, one per
// attempt, the last repeating.
func (w *world) fakeHTTP(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		url     string
		status  starlark.Value = starlark.MakeInt(200)
		body    string
		js      starlark.Value = starlark.None
		headers *starlark.Dict
		latency duration
		errText string
		method  = "GET"
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "url", &url, "status?", &status, "body?", &body, "json?", &js,
		"headers?", &headers, "latency?", &latency, "error?", &errText, "method?", &method); err != nil {
		return nil, err
	}
	f := &fakeHTTP{headers: http.Header{}, body: body, latency: latency.d, err: errText}
	switch s := status.(type) {
	case starlark.Int:
		n, _ := s.Int64()
		f.statuses = []int{int(n)}
	case *starlark.List:
		for i := range s.Len() {
			n, err := starlark.AsInt32(s.Index(i))
			if err != nil {
				return nil, fmt.Errorf("%s: status[%d]: %v", b.Name(), i, err)
			}
			f.statuses = append(f.statuses, n)
		}
	default:
		return nil, fmt.Errorf("%s: status is %s; want an int or a list of ints, one per attempt", b.Name(), status.Type())
	}
	if len(f.statuses) == 0 {
		return nil, fmt.Errorf("%s: status is an empty list; give one status per attempt", b.Name())
	}
	for _, s := range f.statuses {
		if s < 100 || s > 999 {
			return nil, fmt.Errorf("%s: status %d is not an HTTP status", b.Name(), s)
		}
	}
	if js != starlark.None {
		enc, err := starlark.Call(thread, json.Module.Members["encode"], starlark.Tuple{js}, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: json: %v", b.Name(), err)
		}
		f.body = string(enc.(starlark.String))
		f.headers.Set("Content-Type", "application/json")
	}
	if headers != nil {
		for _, item := range headers.Items() {
			k, ok1 := starlark.AsString(item[0])
			v, ok2 := starlark.AsString(item[1])
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("%s: headers must map strings to strings", b.Name())
			}
			f.headers.Set(k, v)
		}
	}
	w.mu.Lock()
	w.http[method+" "+url] = f
	w.mu.Unlock()
	return starlark.None, nil
}

// t.fake.tcp(addr, error=None, latency="0s", response="")
func (w *world) fakeTCP(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		addr    string
		c       fakeConn
		latency duration
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "addr", &addr, "error?", &c.err, "latency?", &latency, "response?", &c.response); err != nil {
		return nil, err
	}
	c.latency = latency.d
	w.mu.Lock()
	w.tcp[addr] = c
	w.mu.Unlock()
	return starlark.None, nil
}

// t.fake.dns(name, records=[], type="A", error=None)
func (w *world) fakeDNS(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		name, errText string
		records       *starlark.List
		typ           = "A"
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "records?", &records, "type?", &typ, "error?", &errText); err != nil {
		return nil, err
	}
	d := fakeDNS{err: errText}
	if records != nil {
		for i := range records.Len() {
			s, ok := starlark.AsString(records.Index(i))
			if !ok {
				return nil, fmt.Errorf("%s: records[%d] is %s; want a string", b.Name(), i, records.Index(i).Type())
			}
			d.records = append(d.records, s)
		}
	}
	w.mu.Lock()
	w.dns[typ+" "+name] = d
	w.mu.Unlock()
	return starlark.None, nil
}

// t.fake.env(NAME, value) and t.fake.secret(NAME, value): what env() and
// secret() read. The process environment is never seen.
func (w *world) fakeEnv(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, value string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "value", &value); err != nil {
		return nil, err
	}
	if b.Name() == "t.fake.secret" && w.onSecret != nil {
		w.onSecret(name, value)
	}
	w.mu.Lock()
	w.env[name] = value
	w.mu.Unlock()
	return starlark.None, nil
}

// t.fake.now("2026-01-01T00:00:00Z") sets the fake clock.
func (w *world) fakeNow(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "time", &s); err != nil {
		return nil, err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not an RFC 3339 time like \"2026-01-01T00:00:00Z\"", b.Name(), s)
	}
	w.mu.Lock()
	w.now = t
	w.mu.Unlock()
	return starlark.None, nil
}

func hasKwarg(kwargs []starlark.Tuple, name string) bool {
	for _, kv := range kwargs {
		if k, _ := starlark.AsString(kv[0]); k == name {
			return true
		}
	}
	return false
}

// t.fake.plugin(name, exit_code=0, stdout="", stderr="") is what
// plugin(name, …) gets, whatever its arguments.
func (w *world) fakePlugin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		name string
		p    fakePlugin
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "exit_code?", &p.exitCode, "stdout?", &p.stdout, "stderr?", &p.stderr); err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.plugins[name] = p
	w.mu.Unlock()
	return starlark.None, nil
}
