package builtins

// This file holds Deps, what the probes read the world through: the host
// (file systems, memory, load, host facts, processes, file metadata), the
// network (dialer, resolver, HTTP transports) and the clock. The runtime
// puts one Deps on every check's thread; production code uses NewDeps, and
// a test replaces the parts it fakes. Each interface is small and says
// what the builtin needs, not how the machine provides it.

import (
	"context"
	"crypto/x509"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"time"

	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
)

// Deps is what the probes read the world through. Every field must be set
// and safe for concurrent use: the checks of a run share one Deps. Start
// from NewDeps and replace what a test fakes; do not change a Deps while a
// run uses it.
//
// A Deps also owns resources that outlive a run: the pooled HTTP
// connections. Keep one Deps for as long as the same guard runs again
// (every --wait round, every serve interval), so those connections are
// reused, and Close it when done. Per-run state, such as the process table
// that every process() call of a run shares, lives in the Run instead.
type Deps struct {
	Disks    Disks        // disk(), disks()
	Memory   MemoryReader // memory()
	Load     LoadReader   // loadavg()
	Host     HostReader   // host()
	Procs    ProcFS       // process(), listening()'s process names
	Sockets  SocketTables // listening()
	Files    FileStater   // file()
	Contents FileOpener   // file().read(), file().sha256()
	Dialer   Dialer       // tcp(), tls_cert(), dns(server=)
	Resolver Resolver     // dns() with the system resolver
	HTTP     Transports   // http_check()
	Plugins  PluginRunner // plugin()
	// Now is the wall clock (file ages, certificate days left), installed
	// as the time module's clock too, so time.now() in the script agrees;
	// nil means the real clock. Elapsed times always use the real clock.
	Now func() time.Time
	// Sleep, when not nil, is called instead of waiting between the
	// attempts of http_check, with how long the wait would have been: a
	// fake clock (infra-guard test) advances Now by that much, so a
	// retry sequence takes no real time. nil means really waiting.
	Sleep func(time.Duration)
	// Roots, when not nil, are the CAs tls_cert() trusts when the script
	// gives no ca_file, instead of the system's (a test's fake CA).
	Roots *x509.CertPool

	closers []func()
}

// Disks reads file system usage and the mount table.
type Disks interface {
	// Statfs is statfs(path); its Fstype comes from the file system's
	// magic number, which disk() and disks() replace with the mount
	// table's name when they can.
	Statfs(ctx context.Context, path string) (DiskUsage, error)
	// Mounts is the mount table, in the order of /proc/self/mountinfo.
	Mounts(ctx context.Context) ([]Mount, error)
}

// DiskUsage is the usage of one file system, in bytes and percent.
type DiskUsage struct {
	Fstype                  string
	Total, Free, Used       uint64
	UsedPercent             float64
	InodesTotal, InodesUsed uint64
	InodesPercent           float64
}

// Mount is one entry of the mount table.
type Mount struct {
	Dev    string // major:minor of the file system
	Root   string // the directory of the file system mounted: "/" unless a bind mount or subvolume
	Point  string // where it is mounted, unescaped
	Fstype string // with its subtype: "fuse.sshfs"
}

// MemoryReader reads physical memory and swap.
type MemoryReader interface {
	Memory(ctx context.Context) (MemoryInfo, error)
}

// MemoryInfo is memory() in bytes and percent.
type MemoryInfo struct {
	Total, Available, Used uint64
	UsedPercent            float64
	SwapTotal, SwapUsed    uint64
	SwapPercent            float64
}

// LoadReader reads the load averages.
type LoadReader interface {
	LoadAvg(ctx context.Context) (LoadInfo, error)
}

// LoadInfo is loadavg(): the averages and the CPUs they compare to.
type LoadInfo struct {
	Load1, Load5, Load15 float64
	Cores                int
}

// HostReader reads what the machine is.
type HostReader interface {
	HostInfo(ctx context.Context) (HostInfo, error)
}

// HostInfo is host().
type HostInfo struct {
	Hostname, OS, Platform, PlatformVersion, Kernel string
	UptimeSeconds                                   float64
	BootTime                                        int64 // Unix seconds
}

// ProcFS is the process table, as /proc shows it. process() builds each
// run's snapshot from it, reading only the files a call needs.
type ProcFS interface {
	// PIDs lists the processes (thread group leaders), in any order.
	PIDs() ([]int, error)
	// ReadFile appends the contents of a process's file ("comm", "stat",
	// "cmdline" or "status", as proc(5) writes them) to buf and returns
	// the result. An error means the process is gone.
	ReadFile(pid int, name string, buf []byte) ([]byte, error)
	// BootTime is when the machine booted, in Unix seconds: process start
	// times count from it.
	BootTime() (int64, error)
}

// FileStater reads file metadata, following symbolic links (os.Stat).
type FileStater interface {
	Stat(path string) (fs.FileInfo, error)
}

// FileOpener opens files for reading, following symbolic links. The
// file's Stat says what it is: file().read() reads only regular files.
type FileOpener interface {
	Open(path string) (fs.File, error)
}

// Dialer opens network connections; *net.Dialer is one.
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Resolver looks names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	LookupCNAME(ctx context.Context, host string) (string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// Transports gives http_check its round trippers.
type Transports interface {
	// Transport returns the round tripper for one TLS setting: insecure
	// skips verification; caFile, when not "", is a PEM bundle trusted
	// instead of the system roots. Calls with the same setting should
	// share one, so connections are reused. An error is about caFile.
	Transport(insecure bool, caFile string) (http.RoundTripper, error)
}

// NewDeps returns the production Deps: gopsutil, /proc and the system
// calls for the host, the net package for the network, the real clock,
// and a pool of HTTP transports that lives until Close.
func NewDeps() *Deps {
	pool := newHTTPPool()
	return &Deps{
		Disks:    hostDisks{root: os.Getenv("HOST_ROOT"), proc: hostProc()},
		Memory:   osHost{},
		Load:     osHost{},
		Host:     osHost{},
		Procs:    procfs{root: hostProc()},
		Sockets:  procSockets{root: hostProc()},
		Files:    osHost{},
		Contents: osHost{},
		Dialer:   &net.Dialer{},
		Resolver: net.DefaultResolver,
		HTTP:     pool,
		Plugins:  ExecPlugins{Dirs: DefaultPluginDirs},
		closers:  []func(){pool.close},
	}
}

// hostProc is where the host's /proc is: $HOST_PROC when set, as
// gopsutil (memory(), loadavg(), host()) reads it, so that in a container
// with the host's /proc mounted (a DaemonSet) process() and listening()
// see the host's processes and sockets.
func hostProc() string {
	if p := os.Getenv("HOST_PROC"); p != "" {
		return p
	}
	return "/proc"
}

// Close releases what NewDeps created (the HTTP transports' idle
// connections), even when a test replaced the field that held it. A Deps
// still works after Close; it opens new connections.
func (d *Deps) Close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

// DefaultDeps returns the process's shared production Deps, which threads
// without a Deps of their own use. It is never closed.
func DefaultDeps() *Deps { return defaultDeps() }

var defaultDeps = sync.OnceValue(NewDeps)

// SetDeps puts d on a check's thread (nil: DefaultDeps), and its clock, if
// it has one, as the time module's. Call it before anything else sets the
// thread's clock.
func SetDeps(thread *starlark.Thread, d *Deps) {
	mutableLocals(thread).Deps = d
	if d != nil && d.Now != nil {
		now := d.Now
		starlarktime.SetNow(thread, func() (time.Time, error) { return now(), nil })
	}
}

// depsOf returns the thread's Deps, or DefaultDeps.
func depsOf(thread *starlark.Thread) *Deps {
	if l := localsOf(thread); l != nil && l.Deps != nil {
		return l.Deps
	}
	return DefaultDeps()
}
