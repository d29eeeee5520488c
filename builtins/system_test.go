package builtins

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"golang.org/x/sys/unix"
)

// call calls the predeclared builtin name on a thread running a check
// under ctx (nil: a thread in the load phase).
func call(t *testing.T, ctx context.Context, name string, args ...starlark.Value) (*starlarkstruct.Struct, error) {
	t.Helper()
	thread := &starlark.Thread{Name: t.Name()}
	if ctx != nil {
		SetContext(thread, ctx)
	}
	v, err := starlark.Call(thread, Predeclared()[name], args, nil)
	if err != nil {
		return nil, err
	}
	s, ok := v.(*starlarkstruct.Struct)
	if !ok {
		t.Fatalf("%s() returned %s, want a struct", name, v.Type())
	}
	return s, nil
}

func attr[T starlark.Value](t *testing.T, s *starlarkstruct.Struct, name string) T {
	t.Helper()
	v, err := s.Attr(name)
	if err != nil {
		t.Fatal(err)
	}
	x, ok := v.(T)
	if !ok {
		t.Fatalf("%s is a %s (%v)", name, v.Type(), v)
	}
	return x
}

func uint64Attr(t *testing.T, s *starlarkstruct.Struct, name string) uint64 {
	t.Helper()
	n, ok := attr[starlark.Int](t, s, name).Uint64()
	if !ok {
		t.Fatalf("%s does not fit a uint64", name)
	}
	return n
}

func percentAttr(t *testing.T, s *starlarkstruct.Struct, name string) float64 {
	t.Helper()
	p := float64(attr[starlark.Float](t, s, name))
	if p < 0 || p > 100 {
		t.Errorf("%s = %v, want a percentage", name, p)
	}
	return p
}

func TestDisk(t *testing.T) {
	for _, path := range []string{"/", t.TempDir()} {
		d, err := call(t, t.Context(), "disk", starlark.String(path))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(attr[starlark.String](t, d, "path")); got != path {
			t.Errorf("path = %q, want %q", got, path)
		}
		if attr[starlark.String](t, d, "fstype") == "" {
			t.Errorf("disk(%q).fstype is empty", path)
		}
		total, free, used := uint64Attr(t, d, "total"), uint64Attr(t, d, "free"), uint64Attr(t, d, "used")
		if total == 0 || free > total || used > total {
			t.Errorf("disk(%q): total %d, free %d, used %d", path, total, free, used)
		}
		percentAttr(t, d, "used_percent")
		if it, iu := uint64Attr(t, d, "inodes_total"), uint64Attr(t, d, "inodes_used"); iu > it {
			t.Errorf("disk(%q): inodes_used %d > inodes_total %d", path, iu, it)
		}
		percentAttr(t, d, "inodes_percent")
	}
}

// fstype comes from the mount that holds the path, after symlinks: /proc
// and a link to it are on proc, not on the root file system.
func TestDiskFstypeFromMountTable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	link := filepath.Join(t.TempDir(), "proc")
	if err := os.Symlink("/proc", link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/proc", "/proc/self", link} {
		d, err := call(t, t.Context(), "disk", starlark.String(path))
		if err != nil {
			t.Fatal(err)
		}
		if got := attr[starlark.String](t, d, "fstype"); got != "proc" {
			t.Errorf("disk(%q).fstype = %q, want proc", path, got)
		}
	}
}

func TestDiskDefaultsToRoot(t *testing.T) {
	d, err := call(t, t.Context(), "disk")
	if err != nil {
		t.Fatal(err)
	}
	if got := attr[starlark.String](t, d, "path"); got != "/" {
		t.Errorf("disk().path = %q, want /", got)
	}
}

func TestDiskMissingPath(t *testing.T) {
	_, err := call(t, t.Context(), "disk", starlark.String("/nope/not/here"))
	if err == nil || !strings.Contains(err.Error(), "disk: /nope/not/here: no such file or directory") {
		t.Errorf("disk(missing) error = %v, want it to name the path", err)
	}
}

func TestDiskCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	_, err := call(t, ctx, "disk", starlark.String("/"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("disk() on a cancelled context: error = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("disk() took %v to notice the cancelled context", d)
	}

	ctx, cancel = context.WithTimeoutCause(t.Context(), 0, errors.New("check timed out after 20s"))
	defer cancel()
	_, err = call(t, ctx, "disk", starlark.String("/srv"))
	if err == nil || !strings.HasSuffix(err.Error(), "disk: /srv: check timed out after 20s") {
		t.Errorf("disk() past the deadline: error = %v, want the context's cause", err)
	}
}

// A probe stuck in the kernel (statfs on a dead NFS mount) must not hold
// the check past its deadline. No test machine has a dead mount, so the
// read here blocks until the test lets it go.
func TestSampleHonoursDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := sample(ctx, starlark.NewBuiltin("disk", disk), "/mnt/nfs", func() (starlark.StringDict, error) {
		<-release
		return nil, nil
	})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "disk: /mnt/nfs: ") {
		t.Errorf("error = %v, want disk: /mnt/nfs: context deadline exceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("sample returned %v after the deadline", d)
	}
}

// BenchmarkDisk is disk("/") in a run, whose checks share one read of the
// mount table: statfs plus a lookup.
func BenchmarkDisk(b *testing.B) {
	thread := new(starlark.Thread)
	SetContext(thread, b.Context())
	run := NewRun()
	defer run.Close()
	SetRun(thread, run)
	fn := Predeclared()["disk"]
	for b.Loop() {
		if _, err := starlark.Call(thread, fn, starlark.Tuple{starlark.String("/")}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMemory(t *testing.T) {
	m, err := call(t, t.Context(), "memory")
	if err != nil {
		t.Fatal(err)
	}
	total, avail, used := uint64Attr(t, m, "total"), uint64Attr(t, m, "available"), uint64Attr(t, m, "used")
	if total == 0 || avail > total || used > total {
		t.Errorf("memory(): total %d, available %d, used %d", total, avail, used)
	}
	percentAttr(t, m, "used_percent")
	swapTotal, swapUsed := uint64Attr(t, m, "swap_total"), uint64Attr(t, m, "swap_used")
	if swapUsed > swapTotal {
		t.Errorf("memory(): swap_used %d > swap_total %d", swapUsed, swapTotal)
	}
	if p := percentAttr(t, m, "swap_percent"); swapTotal == 0 && p != 0 {
		t.Errorf("memory(): no swap, but swap_percent = %v", p)
	}
}

func TestLoadavg(t *testing.T) {
	l, err := call(t, t.Context(), "loadavg")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"load1", "load5", "load15"} {
		if v := attr[starlark.Float](t, l, name); v < 0 {
			t.Errorf("%s = %v", name, v)
		}
	}
	if cores, _ := attr[starlark.Int](t, l, "cores").Int64(); cores != int64(runtime.NumCPU()) {
		t.Errorf("cores = %d, want runtime.NumCPU() = %d", cores, runtime.NumCPU())
	}
}

func TestSystemBuiltinsArgs(t *testing.T) {
	for _, tt := range []struct {
		name string
		args starlark.Tuple
		want string
	}{
		{"disk", starlark.Tuple{starlark.MakeInt(1)}, "disk: for parameter path: got int, want string"},
		{"disk", starlark.Tuple{starlark.String("")}, "disk: path is empty"},
		{"memory", starlark.Tuple{starlark.None}, "memory: got 1 arguments, want at most 0"},
		{"loadavg", starlark.Tuple{starlark.None}, "loadavg: got 1 arguments, want at most 0"},
		{"host", starlark.Tuple{starlark.None}, "host: got 1 arguments, want at most 0"},
		{"disks", starlark.Tuple{starlark.MakeInt(1)}, "disks: for parameter fstype: got int, want a string or a list of strings"},
		{"disks", starlark.Tuple{starlark.None, starlark.NewList([]starlark.Value{starlark.String("/a"), starlark.MakeInt(2)})}, "disks: for parameter exclude: element 1 is int, want string"},
		{"disks", starlark.Tuple{starlark.None, starlark.String("/mnt/[")}, `disks: exclude: bad pattern "/mnt/["`},
	} {
		_, err := call(t, t.Context(), tt.name, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s%v: error = %v, want %q", tt.name, tt.args, err, tt.want)
		}
	}
}

// callList calls the predeclared builtin name on a check thread and
// returns the list it gives.
func callList(t *testing.T, name string, args ...starlark.Value) []*starlarkstruct.Struct {
	t.Helper()
	thread := &starlark.Thread{Name: t.Name()}
	SetContext(thread, t.Context())
	v, err := starlark.Call(thread, Predeclared()[name], args, nil)
	if err != nil {
		t.Fatal(err)
	}
	list, ok := v.(*starlark.List)
	if !ok {
		t.Fatalf("%s() returned %s, want a list", name, v.Type())
	}
	var out []*starlarkstruct.Struct
	for i := range list.Len() {
		out = append(out, list.Index(i).(*starlarkstruct.Struct))
	}
	return out
}

func paths(t *testing.T, ds []*starlarkstruct.Struct) []string {
	var ps []string
	for _, d := range ds {
		ps = append(ps, string(attr[starlark.String](t, d, "path")))
	}
	return ps
}

func TestDisks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	ds := callList(t, "disks")
	ps := paths(t, ds)
	if !slices.Contains(ps, "/") {
		t.Fatalf("disks() = %v, want / among them", ps)
	}
	if !slices.IsSorted(ps) || len(slices.Compact(slices.Clone(ps))) != len(ps) {
		t.Errorf("disks() = %v, want sorted and unique", ps)
	}
	root, err := call(t, t.Context(), "disk", starlark.String("/"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		p := string(attr[starlark.String](t, d, "path"))
		fstype := string(attr[starlark.String](t, d, "fstype"))
		if pseudoFstypes[fstype] || under(p, kernelDirs, true) {
			t.Errorf("disks() lists %s (%s)", p, fstype)
		}
		if total := uint64Attr(t, d, "total"); total == 0 {
			t.Errorf("disks() lists %s with no blocks", p)
		}
		percentAttr(t, d, "used_percent")
		percentAttr(t, d, "inodes_percent")
		if uint64Attr(t, d, "inodes_used") > uint64Attr(t, d, "inodes_total") {
			t.Errorf("%s: more inodes used than there are", p)
		}
		if p == "/" {
			// The same filesystem as disk("/"): compare what cannot
			// change between the two calls (free space can).
			for _, name := range []string{"fstype", "path"} {
				if a, b := attr[starlark.String](t, d, name), attr[starlark.String](t, root, name); a != b {
					t.Errorf("disks() has %s %s for /, disk(\"/\") %s", name, a, b)
				}
			}
			if a, b := uint64Attr(t, d, "total"), uint64Attr(t, root, "total"); a != b {
				t.Errorf("disks() has total %d for /, disk(\"/\") %d", a, b)
			}
		}
	}

	rootType := attr[starlark.String](t, root, "fstype")
	for _, tt := range []struct {
		args     starlark.Tuple
		wantRoot bool
	}{
		{starlark.Tuple{rootType}, true},
		{starlark.Tuple{starlark.NewList([]starlark.Value{starlark.String("no-such-fs"), rootType})}, true},
		{starlark.Tuple{starlark.String("no-such-fs")}, false},
		{starlark.Tuple{starlark.None, starlark.NewList([]starlark.Value{starlark.String("/")})}, false},
		{starlark.Tuple{starlark.None, starlark.String("/*/*")}, true}, // * does not cross a /
		{starlark.Tuple{starlark.None, starlark.Tuple{starlark.String("/nowhere/*")}}, true},
	} {
		ps := paths(t, callList(t, "disks", tt.args...))
		if got := slices.Contains(ps, "/"); got != tt.wantRoot {
			t.Errorf("disks%v = %v: / listed %v, want %v", tt.args, ps, got, tt.wantRoot)
		}
	}
}

// A mount table as a container host has it: the rules in realMounts keep
// the disks and drop the rest.
func TestRealMounts(t *testing.T) {
	table := `22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=1k
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw
40 27 254:1 / /boot rw,relatime - ext4 /dev/vdb rw
41 27 0:40 / /run rw - tmpfs tmpfs rw
42 41 0:41 / /run/credentials/getty.service ro - tmpfs tmpfs ro
50 27 254:2 / /var/lib/docker rw - xfs /dev/vdc rw
51 50 0:50 / /var/lib/docker/overlay2/abc/merged rw - overlay overlay rw
52 27 254:2 /containers/x/hosts /etc/hosts rw - xfs /dev/vdc rw
53 27 7:1 / /snap/core/17 ro - squashfs /dev/loop1 ro
54 27 0:54 / /mnt/old rw - tmpfs tmpfs rw
55 27 0:55 / /mnt/old rw - nfs4 srv:/export rw
56 27 254:3 / /mnt/my\040disk rw - ext4 /dev/vdd rw
57 27 254:4 / /srv rw - btrfs /dev/vde rw
58 27 254:4 /@data /srv/data rw - btrfs /dev/vde rw
59 27 0:59 / /var/lib/kubelet/pods/p/volumes/x rw - tmpfs tmpfs rw
60 27 0:60 / /home/u/.cache/doc rw - fuse.portal portal rw
`
	file := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(file, []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	all, err := readMountinfo(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != strings.Count(table, "\n") {
		t.Fatalf("read %d mounts from %d lines", len(all), strings.Count(table, "\n"))
	}
	points := func(ms []Mount) []string {
		var ps []string
		for _, m := range ms {
			ps = append(ps, m.Point+" "+m.Fstype)
		}
		return ps
	}
	for _, tt := range []struct {
		fstype, exclude []string
		want            []string
	}{
		{nil, nil, []string{
			"/ ext4", "/boot ext4", "/home/u/.cache/doc fuse.portal", "/mnt/my disk ext4",
			"/mnt/old nfs4", "/run tmpfs", "/srv btrfs", "/var/lib/docker xfs",
		}},
		{[]string{"ext4", "xfs"}, nil, []string{"/ ext4", "/boot ext4", "/mnt/my disk ext4", "/var/lib/docker xfs"}},
		{nil, []string{"/mnt/*", "/home", "/run", "/var/lib/docker"}, []string{"/ ext4", "/boot ext4", "/srv btrfs", "/etc/hosts xfs"}},
		{[]string{"proc"}, nil, nil},
		{nil, []string{"/"}, []string{
			"/boot ext4", "/home/u/.cache/doc fuse.portal", "/mnt/my disk ext4",
			"/mnt/old nfs4", "/run tmpfs", "/srv btrfs", "/var/lib/docker xfs",
		}},
	} {
		got := points(realMounts(all, tt.fstype, tt.exclude))
		want := tt.want
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("realMounts(fstype %q, exclude %q)\n got %q\nwant %q", tt.fstype, tt.exclude, got, want)
		}
	}
}

func TestExcluded(t *testing.T) {
	for _, tt := range []struct {
		path, pattern string
		want          bool
	}{
		{"/", "/", true},
		{"/var", "/", false},
		{"/var/lib/docker/overlay2/x/merged", "/var/lib/docker", true},
		{"/var/lib/dockerd", "/var/lib/docker", false},
		{"/mnt/a", "/mnt/*", true},
		{"/mnt/a/b", "/mnt/*", true},
		{"/mnt", "/mnt/*", false},
		{"/media/usb0", "/media/usb?", true},
		{"/boot/efi", "/boot*", true},
	} {
		if got := excluded(tt.path, []string{tt.pattern}); got != tt.want {
			t.Errorf("excluded(%q, %q) = %v, want %v", tt.path, tt.pattern, got, tt.want)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{
		`/mnt/my\040disk`: "/mnt/my disk",
		`/a\134b`:         `/a\b`,
		`/tab\011`:        "/tab\t",
		`/plain`:          "/plain",
		`/odd\04`:         `/odd\04`,
	} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	h, err := call(t, t.Context(), "host")
	if err != nil {
		t.Fatal(err)
	}
	hostname, _ := os.Hostname()
	if got := attr[starlark.String](t, h, "hostname"); string(got) != hostname {
		t.Errorf("hostname = %q, want %q", got, hostname)
	}
	if got := attr[starlark.String](t, h, "os"); got != "linux" {
		t.Errorf("os = %q", got)
	}
	var uts syscall.Utsname
	if err := syscall.Uname(&uts); err != nil {
		t.Fatal(err)
	}
	var release []byte
	for _, c := range uts.Release {
		if c == 0 {
			break
		}
		release = append(release, byte(c))
	}
	if got := attr[starlark.String](t, h, "kernel"); string(got) != string(release) {
		t.Errorf("kernel = %q, want %q", got, release)
	}
	id, version := osRelease()
	if got := attr[starlark.String](t, h, "platform"); string(got) != id {
		t.Errorf("platform = %q, want %q", got, id)
	}
	if got := attr[starlark.String](t, h, "platform_version"); string(got) != version {
		t.Errorf("platform_version = %q, want %q", got, version)
	}
	boot, _ := attr[starlark.Int](t, h, "boot_time").Int64()
	uptime := float64(attr[starlark.Float](t, h, "uptime_seconds"))
	if uptime <= 0 {
		t.Errorf("uptime_seconds = %f", uptime)
	}
	// boot_time is whole seconds and the clock may have been set since
	// boot, so allow some slack.
	if now := float64(time.Now().Unix()); math.Abs(float64(boot)+uptime-now) > 60 {
		t.Errorf("boot_time %d + uptime %f is %f, now is %f", boot, uptime, float64(boot)+uptime, now)
	}
}

func TestUnquoteShell(t *testing.T) {
	for in, want := range map[string]string{
		`ubuntu`:             "ubuntu",
		`"24.04"`:            "24.04",
		`'3.20'`:             "3.20",
		`"say \"hi\" \\ ok"`: `say "hi" \ ok`,
		`"`:                  `"`,
	} {
		if got := unquoteShell(in); got != want {
			t.Errorf("unquoteShell(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkDisks(b *testing.B) {
	thread := new(starlark.Thread)
	SetContext(thread, b.Context())
	fn := Predeclared()["disks"]
	for b.Loop() {
		if _, err := starlark.Call(thread, fn, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// Inside a container: / is an overlay, and the host's disk shows up only
// through the files the runtime bind-mounts, listed once.
func TestRealMountsContainer(t *testing.T) {
	table := `600 500 0:70 / / rw - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/A
601 600 0:73 / /proc rw - proc proc rw
602 600 0:74 / /dev rw - tmpfs tmpfs rw,size=65536k
603 602 0:75 / /dev/pts rw - devpts devpts rw
604 600 0:76 / /sys ro - sysfs sysfs ro
605 602 0:72 / /dev/shm rw - tmpfs shm rw,size=65536k
606 600 8:1 /var/lib/docker/containers/c/resolv.conf /etc/resolv.conf rw - ext4 /dev/sda1 rw
607 600 8:1 /var/lib/docker/containers/c/hostname /etc/hostname rw - ext4 /dev/sda1 rw
608 600 8:1 /var/lib/docker/containers/c/hosts /etc/hosts rw - ext4 /dev/sda1 rw
609 601 0:77 / /proc/acpi ro - tmpfs tmpfs ro
`
	file := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(file, []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	all, err := readMountinfo(file)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range realMounts(all, nil, nil) {
		got = append(got, m.Point)
	}
	if want := []string{"/", "/etc/hosts"}; !slices.Equal(got, want) {
		t.Errorf("realMounts = %q, want %q", got, want)
	}
}

// cores counts the CPUs the process may run on, not the machine's: run
// pinned to one CPU (as taskset or a cpuset would), it says 1.
func TestLoadavgCoresHonoursAffinity(t *testing.T) {
	if os.Getenv("IG_TEST_PRINT_CORES") == "1" {
		l, err := call(t, t.Context(), "loadavg")
		if err != nil {
			t.Fatal(err)
		}
		cores, _ := attr[starlark.Int](t, l, "cores").Int64()
		os.Stdout.WriteString("cores=" + strconv.FormatInt(cores, 10) + "\n")
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("needs sched_setaffinity")
	}
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		t.Fatal(err)
	}
	if all.Count() < 2 {
		t.Skip("one CPU: pinning changes nothing")
	}
	var first int
	for first = 0; !all.IsSet(first); first++ {
	}
	out := make(chan []byte, 1)
	errc := make(chan error, 1)
	go func() {
		// The child inherits the affinity of the thread that forks
		// it. This thread ends with the goroutine, as it stays locked.
		runtime.LockOSThread()
		var one unix.CPUSet
		one.Set(first)
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			errc <- err
			return
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestLoadavgCoresHonoursAffinity$", "-test.count=1")
		cmd.Env = append(os.Environ(), "IG_TEST_PRINT_CORES=1")
		b, err := cmd.Output()
		out <- b
		errc <- err
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if b := <-out; !strings.Contains(string(b), "cores=1\n") {
		t.Errorf("pinned to CPU %d, loadavg() says %q, want cores=1", first, b)
	}
}
