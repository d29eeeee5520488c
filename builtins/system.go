package builtins

// This file holds the system probes: disk(), disks(), memory(), loadavg()
// and host(). Each reads the machine through the thread's Deps (in
// production osHost: gopsutil, or /proc and the system calls directly where
// that is simpler or faster) only inside a check (never while the script is
// being loaded), under the check's deadline, and returns a struct named
// after the builtin.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	psdisk "github.com/shirou/gopsutil/v4/disk" // disk is our builtin
	pshost "github.com/shirou/gopsutil/v4/host"
	psload "github.com/shirou/gopsutil/v4/load"
	psmem "github.com/shirou/gopsutil/v4/mem"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// disk(path="/") reports the usage of the file system that holds path.
func disk(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := ctxOf(thread)
	var (
		path = "/"
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path?", &path); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, fmt.Errorf("%s: path is empty", b.Name())
	}
	disks := depsOf(thread).Disks
	// Once per path per run: twelve checks of one file system cost one
	// statfs, and a hung NFS mount holds one goroutine, not one per call.
	return sharedSample(thread, ctx, b, path, "infra-guard.disk:"+path, func() (starlark.StringDict, error) {
		ctx := context.WithoutCancel(ctx) // serves the run, not only the first caller
		u, err := disks.Statfs(ctx, path)
		if err != nil {
			return nil, err // a bare errno: sample() adds the path
		}
		root := ""
		if h, ok := disks.(hostDisks); ok {
			root = h.root
		}
		if fstype := mountFstype(mountsOf(thread, ctx, disks), root, path); fstype != "" {
			u.Fstype = fstype
		}
		// The path as the script wrote it: gopsutil's UsageStat.Path is
		// the path after strconv.Unquote, which mangles backslashes.
		return diskFields(path, u), nil
	})
}

// diskFields are the attributes of a disk() result for the file system
// mounted at, or holding, path.
func diskFields(path string, u DiskUsage) starlark.StringDict {
	return starlark.StringDict{
		"path":           starlark.String(path),
		"fstype":         starlark.String(u.Fstype),
		"total":          starlark.MakeUint64(u.Total),
		"free":           starlark.MakeUint64(u.Free),
		"used":           starlark.MakeUint64(u.Used),
		"used_percent":   starlark.Float(u.UsedPercent),
		"inodes_total":   starlark.MakeUint64(u.InodesTotal),
		"inodes_used":    starlark.MakeUint64(u.InodesUsed),
		"inodes_percent": starlark.Float(u.InodesPercent),
	}
}

// osHost is the production host of Deps: gopsutil, and /proc and the
// system calls directly where that is simpler or faster.
type osHost struct{}

// hostDisks is the production Disks. In a container that mounts the
// host's / at root ($HOST_ROOT) and its /proc at proc ($HOST_PROC), as a
// DaemonSet does, disk("/") is the host's root file system and disks() the
// host's mounts; otherwise root is "" and proc "/proc".
type hostDisks struct{ root, proc string }

// Statfs is statfs(path) through gopsutil, which names the type from the
// file system's magic number; path is the host's, under root.
func (h hostDisks) Statfs(ctx context.Context, path string) (DiskUsage, error) {
	u, err := psdisk.UsageWithContext(ctx, filepath.Join(h.root, path))
	if err != nil {
		return DiskUsage{}, err
	}
	return diskUsageOf(u), nil
}

func diskUsageOf(u *psdisk.UsageStat) DiskUsage {
	return DiskUsage{
		Fstype: u.Fstype, Total: u.Total, Free: u.Free, Used: u.Used, UsedPercent: u.UsedPercent,
		InodesTotal: u.InodesTotal, InodesUsed: u.InodesUsed, InodesPercent: u.InodesUsedPercent,
	}
}

// Mounts reads this process's mount table — not PID 1's, which belongs to
// another mount namespace in a container that shares the host's PIDs —
// unless the host's /proc is mounted elsewhere: then the host's, PID 1's.
func (h hostDisks) Mounts(context.Context) ([]Mount, error) {
	if h.proc != "" && h.proc != "/proc" {
		return readMountinfo(filepath.Join(h.proc, "1", "mountinfo"))
	}
	return readMountinfo("/proc/self/mountinfo")
}

// mountsKey is the Run's key for the mount table of the run.
const mountsKey = "infra-guard.mounts"

// mountsOf is the mount table, read once per run and shared by its
// checks like the process table; nil when it cannot be read.
func mountsOf(thread *starlark.Thread, ctx context.Context, d Disks) []Mount {
	read := func() []Mount {
		ms, _ := withContext(ctx, func() ([]Mount, error) { return d.Mounts(ctx) })
		return ms
	}
	if run := RunOf(thread); run != nil {
		return run.Shared(mountsKey, func() (any, func()) { return read(), nil }).([]Mount)
	}
	return read()
}

// mountFstype returns the type of the mount that holds path, or "" when
// there is none. statfs's magic number cannot tell ext4 from ext2/ext3
// (gopsutil says "ext2/ext3") and does not know overlay, the root file
// system of most containers; the mount table says what mount(8) and df -T
// say. The mount is the one with the longest mount point that contains
// the path once symlinks are resolved; among mounts stacked on one mount
// point the last, which hides the others, wins.
//
// Under a host root, path is the host's: its symlinks are resolved inside
// root (an absolute link target still resolves from this container's /).
func mountFstype(mounts []Mount, root, path string) string {
	if len(mounts) == 0 {
		return ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	if resolved, err := filepath.EvalSymlinks(filepath.Join(root, abs)); err == nil {
		if rel, err := filepath.Rel(filepath.Join(root, "/"), resolved); err == nil && !strings.HasPrefix(rel, "..") {
			abs = filepath.Join("/", rel)
		}
	}
	var best Mount
	for _, m := range mounts {
		p := m.Point
		contains := p == "/" || abs == p || strings.HasPrefix(abs, p+"/")
		if contains && len(p) >= len(best.Point) {
			best = m
		}
	}
	return best.Fstype
}

// memory() reports physical memory and swap.
func memory(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := ctxOf(thread)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	mem := depsOf(thread).Memory
	// Once per run, like the process table: every check of a run sees the
	// same figures.
	return sharedSample(thread, ctx, b, "", "infra-guard.memory", func() (starlark.StringDict, error) {
		m, err := mem.Memory(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		return starlark.StringDict{
			"total":        starlark.MakeUint64(m.Total),
			"available":    starlark.MakeUint64(m.Available),
			"used":         starlark.MakeUint64(m.Used),
			"used_percent": starlark.Float(m.UsedPercent),
			"swap_total":   starlark.MakeUint64(m.SwapTotal),
			"swap_used":    starlark.MakeUint64(m.SwapUsed),
			"swap_percent": starlark.Float(m.SwapPercent),
		}, nil
	})
}

// Memory reads memory and swap through gopsutil.
func (osHost) Memory(ctx context.Context) (MemoryInfo, error) {
	// One read of /proc/meminfo, which has the swap figures too:
	// gopsutil's SwapMemory would add a sysinfo call and a parse of
	// /proc/vmstat for counters memory() does not report, half the cost.
	vm, err := psmem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return MemoryInfo{}, err
	}
	m := MemoryInfo{
		Total: vm.Total, Available: vm.Available, Used: vm.Used, UsedPercent: vm.UsedPercent,
		SwapTotal: vm.SwapTotal,
	}
	if vm.SwapTotal > 0 && vm.SwapFree <= vm.SwapTotal {
		m.SwapUsed = vm.SwapTotal - vm.SwapFree
		m.SwapPercent = float64(m.SwapUsed) / float64(vm.SwapTotal) * 100
	}
	return m, nil
}

// loadavg() reports the load averages and the number of CPUs they compare to.
func loadavg(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := ctxOf(thread)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	load := depsOf(thread).Load
	return sample(ctx, b, "", func() (starlark.StringDict, error) {
		l, err := load.LoadAvg(ctx)
		if err != nil {
			return nil, err
		}
		return starlark.StringDict{
			"load1":  starlark.Float(l.Load1),
			"load5":  starlark.Float(l.Load5),
			"load15": starlark.Float(l.Load15),
			"cores":  starlark.MakeInt(l.Cores),
		}, nil
	})
}

// LoadAvg reads the load averages through gopsutil.
func (osHost) LoadAvg(ctx context.Context) (LoadInfo, error) {
	avg, err := psload.AvgWithContext(ctx)
	if err != nil {
		return LoadInfo{}, err
	}
	return LoadInfo{
		Load1: avg.Load1, Load5: avg.Load5, Load15: avg.Load15,
		// The CPUs this process may run on: NumCPU honours the affinity
		// mask (taskset, cpusets), unlike gopsutil's cpu.Counts, which
		// counts the whole machine.
		Cores: runtime.NumCPU(),
	}, nil
}

// sample runs read under the check's deadline and returns its fields as a
// struct named after the builtin, so str(disk()) reads disk(path = "/", …).
// Errors read "disk: /data: no such file or directory" when subject is
// set, "memory: …" when it is not.
func sample(ctx context.Context, b *starlark.Builtin, subject string, read func() (starlark.StringDict, error)) (starlark.Value, error) {
	prefix := b.Name()
	if subject != "" {
		prefix += ": " + subject
	}
	// withContext would race an already-ended context against a fast
	// read; a check that is over must not start new work.
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", prefix, context.Cause(ctx))
	}
	fields, err := withContext(ctx, read)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prefix, err)
	}
	return starlarkstruct.FromStringDict(starlark.String(b.Name()), fields), nil
}

// sharedSample is sample for what a run reads once and its checks share:
// the first call of the run under key reads, on a goroutine of its own
// that the other calls wait for too (each until its own check's
// deadline); later calls get the same frozen value, or the same error, at
// once. read must not be cancelled with the caller's context
// (context.WithoutCancel): it serves the whole run. Without a Run (a
// direct call in a test) it reads every time.
func sharedSample(thread *starlark.Thread, ctx context.Context, b *starlark.Builtin, subject, key string, read func() (starlark.StringDict, error)) (starlark.Value, error) {
	run := RunOf(thread)
	if run == nil {
		return sample(ctx, b, subject, read)
	}
	prefix := b.Name()
	if subject != "" {
		prefix += ": " + subject
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", prefix, context.Cause(ctx))
	}
	once := run.Shared(key, func() (any, func()) { return new(lazy[starlark.Value]), nil }).(*lazy[starlark.Value])
	v, err := once.get(ctx, func() (starlark.Value, error) {
		fields, err := read()
		if err != nil {
			return nil, err
		}
		v := starlarkstruct.FromStringDict(starlark.String(b.Name()), fields)
		v.Freeze() // shared by the threads of the run's checks
		return v, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prefix, err)
	}
	return v, nil
}

// disks(fstype=None, exclude=[]) reports every real mount as disk() would:
// a list of disk results, sorted by mount point. See realMounts for what
// counts as real.
func disks(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := ctxOf(thread)
	var (
		fstype  StringList // None: every type
		exclude StringList
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "fstype??", &fstype, "exclude??", &exclude); err != nil {
		return nil, err
	}
	for _, pattern := range exclude {
		if _, err := path.Match(pattern, ""); err != nil {
			return nil, fmt.Errorf("%s: exclude: bad pattern %q", b.Name(), pattern)
		}
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), context.Cause(ctx))
	}
	d := depsOf(thread).Disks
	all, err := withContext(ctx, func() ([]Mount, error) { return d.Mounts(ctx) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	mounts := realMounts(all, fstype, exclude)
	usages, err := statMounts(ctx, d, mounts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	list := make([]starlark.Value, 0, len(mounts))
	for i, m := range mounts {
		u := usages[i]
		if u.Total == 0 {
			continue // gone, not ours to read, or no blocks at all
		}
		u.Fstype = m.Fstype
		list = append(list, starlarkstruct.FromStringDict(starlark.String("disk"), diskFields(m.Point, u)))
	}
	return starlark.NewList(list), nil
}

// readMountinfo parses a mountinfo file (proc(5)):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
func readMountinfo(file string) ([]Mount, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var mounts []Mount
	for line := range strings.Lines(string(data)) {
		before, after, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(before), strings.Fields(after)
		if !ok || len(f) < 5 || len(g) < 1 {
			continue
		}
		mounts = append(mounts, Mount{Dev: f[2], Root: unescapeMount(f[3]), Point: unescapeMount(f[4]), Fstype: unescapeMount(g[0])})
	}
	return mounts, nil
}

// unescapeMount undoes the kernel's octal escapes in mountinfo fields:
// \040 for a space, \011 tab, \012 newline, \134 backslash.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }

// pseudoFstypes are file system types disks() leaves out: kernel
// interfaces with no storage of their own, and read-only images (snap
// packages, live CDs) that are always full.
var pseudoFstypes = map[string]bool{
	"autofs": true, "binfmt_misc": true, "bpf": true, "cgroup": true, "cgroup2": true,
	"configfs": true, "debugfs": true, "devpts": true, "devtmpfs": true, "efivarfs": true,
	"fusectl": true, "fuse.lxcfs": true, "hugetlbfs": true, "mqueue": true, "nsfs": true,
	"proc": true, "pstore": true, "ramfs": true, "rpc_pipefs": true, "securityfs": true,
	"selinuxfs": true, "sysfs": true, "tracefs": true,
	"squashfs": true, "erofs": true, "iso9660": true,
}

// kernelDirs are trees of kernel interfaces and device nodes: mounts at or
// below them are left out. containerDirs belong to container runtimes:
// mounts strictly below them (overlay layers, per-container shm and
// volumes) are left out, a disk mounted at one of them is kept.
var (
	kernelDirs    = []string{"/proc", "/sys", "/dev", "/run/credentials"}
	containerDirs = []string{"/var/lib/docker", "/var/lib/containers", "/var/lib/containerd", "/run/containerd", "/run/docker", "/var/lib/kubelet", "/run/netns"}
)

// realMounts picks from a mount table the mounts disks() reports, sorted
// by mount point. A mount is left out when
//
//   - another mount on the same mount point was mounted later (it hides
//     this one);
//   - its type is in pseudoFstypes;
//   - its mount point is at or below one of kernelDirs, or strictly below
//     one of containerDirs;
//   - fstype is not empty and does not name its type;
//   - a pattern in exclude matches its mount point or a directory above it
//     (other than /);
//   - after all that, the same device is mounted elsewhere too (bind
//     mounts, btrfs subvolumes): each device is listed once, at the mount
//     of the file system's own root when there is one (not a bind mount of
//     a directory or file in it), else at the shortest mount point.
//
// disks() also leaves out mounts that report no blocks (statfs total 0).
func realMounts(all []Mount, fstype, exclude []string) []Mount {
	top := make(map[string]int, len(all))
	for i, m := range all {
		top[m.Point] = i
	}
	var out []Mount
	byDev := map[string]int{}
	for i, m := range all {
		switch {
		case top[m.Point] != i, pseudoFstypes[m.Fstype],
			under(m.Point, kernelDirs, true), under(m.Point, containerDirs, false),
			len(fstype) > 0 && !slices.Contains(fstype, m.Fstype),
			excluded(m.Point, exclude):
			continue
		}
		if j, ok := byDev[m.Dev]; ok {
			if better(m, out[j]) {
				out[j] = m
			}
			continue
		}
		byDev[m.Dev] = len(out)
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Mount) int { return strings.Compare(a.Point, b.Point) })
	return out
}

// better reports whether a should stand for its device rather than b.
func better(a, b Mount) bool {
	if (a.Root == "/") != (b.Root == "/") {
		return a.Root == "/"
	}
	return len(a.Point) < len(b.Point)
}

// under reports whether p is below one of dirs, or is one of them when
// orAt is set.
func under(p string, dirs []string, orAt bool) bool {
	for _, d := range dirs {
		if strings.HasPrefix(p, d+"/") || orAt && p == d {
			return true
		}
	}
	return false
}

// excluded reports whether a pattern matches p or a directory above it,
// other than /: "/var/lib/docker" excludes everything mounted below it.
func excluded(p string, patterns []string) bool {
	if len(patterns) == 0 {
		return false
	}
	for {
		for _, pattern := range patterns {
			if ok, _ := path.Match(pattern, p); ok {
				return true
			}
		}
		parent := path.Dir(p)
		if parent == p || parent == "/" || parent == "." {
			return false
		}
		p = parent
	}
}

// statMounts runs statfs on every mount at once and waits for all of them
// or the end of ctx. A mount that is gone by now or that this process may
// not look at has a zero entry. A mount that does not answer in time (a
// dead NFS server) is named in the error, and its call is left to finish
// in the background.
func statMounts(ctx context.Context, d Disks, mounts []Mount) ([]DiskUsage, error) {
	type result struct {
		i   int
		u   DiskUsage
		err error
	}
	results := make(chan result, len(mounts)) // never blocks a late sender
	for i, m := range mounts {
		go func() {
			defer func() {
				if p := recover(); p != nil {
					results <- result{i: i, err: fmt.Errorf("internal error (recovered panic): %v", p)}
				}
			}()
			u, err := d.Statfs(ctx, m.Point)
			results <- result{i, u, err}
		}()
	}
	usages := make([]DiskUsage, len(mounts))
	answered := make([]bool, len(mounts))
	for range mounts {
		select {
		case r := <-results:
			answered[r.i] = true
			switch {
			case r.err == nil:
				usages[r.i] = r.u
			case errors.Is(r.err, fs.ErrNotExist), errors.Is(r.err, fs.ErrPermission):
				// Unmounted since the table was read, or below a
				// directory this user may not enter.
			default:
				return nil, fmt.Errorf("%s: %w", mounts[r.i].Point, r.err)
			}
		case <-ctx.Done():
			var stuck []string
			for i, ok := range answered {
				if !ok {
					stuck = append(stuck, mounts[i].Point)
				}
			}
			if len(stuck) > 3 {
				stuck = append(stuck[:3], fmt.Sprintf("and %d more", len(stuck)-3))
			}
			return nil, fmt.Errorf("%s: %w", strings.Join(stuck, ", "), context.Cause(ctx))
		}
	}
	return usages, nil
}

// host() describes the machine: its name, operating system and kernel, and
// when it booted.
func host(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := ctxOf(thread)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	hosts := depsOf(thread).Host
	return sample(ctx, b, "", func() (starlark.StringDict, error) {
		h, err := hosts.HostInfo(ctx)
		if err != nil {
			return nil, err
		}
		return starlark.StringDict{
			"hostname":         starlark.String(h.Hostname),
			"os":               starlark.String(h.OS),
			"platform":         starlark.String(h.Platform),
			"platform_version": starlark.String(h.PlatformVersion),
			"kernel":           starlark.String(h.Kernel),
			"uptime_seconds":   starlark.Float(h.UptimeSeconds),
			"boot_time":        starlark.MakeInt64(h.BootTime),
		}, nil
	})
}

// HostInfo reads the host name, the kernel release through gopsutil, and
// the rest from /proc and os-release(5).
func (osHost) HostInfo(ctx context.Context) (HostInfo, error) {
	hostname, err := os.Hostname()
	if err != nil {
		return HostInfo{}, err
	}
	kernel, err := pshost.KernelVersionWithContext(ctx)
	if err != nil {
		return HostInfo{}, err
	}
	boot, err := bootTime()
	if err != nil {
		return HostInfo{}, err
	}
	uptime, err := uptimeSeconds()
	if err != nil {
		return HostInfo{}, err
	}
	platform, version := osRelease()
	return HostInfo{
		Hostname: hostname, OS: runtime.GOOS, Platform: platform, PlatformVersion: version,
		Kernel: kernel, UptimeSeconds: uptime, BootTime: boot,
	}, nil
}

// bootTime reads when the machine booted, in Unix seconds, from the btime
// line of /proc/stat, as ps does.
func bootTime() (int64, error) { return readBootTime("/proc/stat") }

func readBootTime(file string) (int64, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, errors.New(file + " has no btime line")
}

// uptimeSeconds reads the time since boot from /proc/uptime.
func uptimeSeconds() (float64, error) {
	data, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0, errors.New("/proc/uptime is empty")
	}
	return strconv.ParseFloat(f[0], 64)
}

// osRelease returns the distribution's ID and VERSION_ID from os-release(5):
// "ubuntu" and "24.04", "debian" and "12", "alpine" and "3.20.3". Both are
// "" when the file is missing (a scratch container).
func osRelease() (id, version string) {
	// In a DaemonSet, the host's / is mounted at $HOST_ROOT: its release.
	root := os.Getenv("HOST_ROOT")
	data, err := os.ReadFile(filepath.Join(root, "/etc/os-release"))
	if err != nil {
		data, _ = os.ReadFile(filepath.Join(root, "/usr/lib/os-release"))
	}
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		switch k {
		case "ID":
			id = unquoteShell(v)
		case "VERSION_ID":
			version = unquoteShell(v)
		}
	}
	return id, version
}

// unquoteShell removes the quotes of an os-release value: 'a b', "a b"
// (where a backslash escapes the next character) or a bare word.
func unquoteShell(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) {
				i++
			}
			b.WriteByte(v[i])
		}
		return b.String()
	}
	return v
}
