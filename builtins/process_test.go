package builtins

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// callProcess calls process(**kwargs) on a check thread of run (nil: a
// thread with no run) under ctx.
func callProcess(t testing.TB, ctx context.Context, run *Run, kwargs map[string]string) (*starlarkstruct.Struct, error) {
	t.Helper()
	thread := &starlark.Thread{Name: t.Name()}
	SetContext(thread, ctx)
	if run != nil {
		SetRun(thread, run)
	}
	var kw []starlark.Tuple
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range kwargs {
			if !yield(k) {
				return
			}
		}
	}) {
		kw = append(kw, starlark.Tuple{starlark.String(k), starlark.String(kwargs[k])})
	}
	v, err := starlark.Call(thread, Predeclared()["process"], nil, kw)
	if err != nil {
		return nil, err
	}
	return v.(*starlarkstruct.Struct), nil
}

// found returns the pids of a process() result, checking that count,
// pids and procs agree.
func found(t *testing.T, p *starlarkstruct.Struct) []int {
	t.Helper()
	count, _ := attr[starlark.Int](t, p, "count").Int64()
	pidList := attr[*starlark.List](t, p, "pids")
	procs := attr[*starlark.List](t, p, "procs")
	if int(count) != pidList.Len() || pidList.Len() != procs.Len() {
		t.Fatalf("count %d, %d pids, %d procs", count, pidList.Len(), procs.Len())
	}
	var pids []int
	for i := range pidList.Len() {
		pid, _ := pidList.Index(i).(starlark.Int).Int64()
		pids = append(pids, int(pid))
	}
	return pids
}

// sleeper is a copy of sleep(1) under a name no other process has.
type sleeper struct {
	name, path string
}

// newSleeper copies sleep(1) to a temporary file named prefix plus random
// hex digits.
func newSleeper(t testing.TB, prefix string) sleeper {
	t.Helper()
	src, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep(1):", err)
	}
	name := prefix + rand.Text()[:8]
	path := filepath.Join(t.TempDir(), name)
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return sleeper{name, path}
}

// start runs the sleeper for an hour; the test's cleanup stops it.
func (s sleeper) start(t testing.TB) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(s.path, "3600")
	if err := cmd.Start(); err != nil { // returns once exec has succeeded
		t.Fatal(err)
	}
	t.Cleanup(func() { stopProc(cmd) })
	// A busybox sleep, copied under another name, exits at once.
	time.Sleep(10 * time.Millisecond)
	var ws syscall.WaitStatus
	if pid, _ := syscall.Wait4(cmd.Process.Pid, &ws, syscall.WNOHANG, nil); pid != 0 {
		t.Skipf("%s exited at once (a multi-call binary that needs its own name?)", s.path)
	}
	return cmd
}

func stopProc(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}

func TestProcessFindsStartedProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	s := newSleeper(t, "igp") // 11 bytes: the kernel keeps it whole
	cmd := s.start(t)
	pid := cmd.Process.Pid
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	other := "0"
	if me.Uid == "0" {
		other = "65534"
	}

	for _, tt := range []struct {
		kwargs map[string]string
		want   bool
	}{
		{map[string]string{"name": s.name}, true},
		{map[string]string{"pattern": regexp.QuoteMeta(s.path) + " 3600$"}, true},
		{map[string]string{"pattern": "^" + regexp.QuoteMeta(s.path)}, true},
		{map[string]string{"user": me.Username}, true},
		{map[string]string{"user": me.Uid, "name": s.name}, true},
		{map[string]string{"name": s.name, "pattern": "3600", "user": me.Username}, true},
		{map[string]string{"name": s.name[:len(s.name)-1]}, false}, // exact, not a prefix
		{map[string]string{"name": s.name, "pattern": "7200"}, false},
		{map[string]string{"name": s.name, "user": other}, false},
	} {
		p, err := callProcess(t, t.Context(), NewRun(), tt.kwargs)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(found(t, p), pid); got != tt.want {
			t.Errorf("process(%v) found pid %d: %v, want %v", tt.kwargs, pid, got, tt.want)
		}
	}

	// The process's attributes.
	p, err := callProcess(t, t.Context(), NewRun(), map[string]string{"name": s.name})
	if err != nil {
		t.Fatal(err)
	}
	if pids := found(t, p); len(pids) != 1 {
		t.Fatalf("process(name=%q) found %v, want only %d", s.name, pids, pid)
	}
	procs := attr[*starlark.List](t, p, "procs")
	proc := procs.Index(0).(*starlarkstruct.Struct)
	if got, _ := attr[starlark.Int](t, proc, "pid").Int64(); int(got) != pid {
		t.Errorf("pid = %d, want %d", got, pid)
	}
	if got := attr[starlark.String](t, proc, "name"); string(got) != s.name {
		t.Errorf("name = %q, want %q", got, s.name)
	}
	if got, want := attr[starlark.String](t, proc, "cmdline"), s.path+" 3600"; string(got) != want {
		t.Errorf("cmdline = %q, want %q", got, want)
	}
	if got := attr[starlark.String](t, proc, "user"); string(got) != me.Username {
		t.Errorf("user = %q, want %q", got, me.Username)
	}
	if rss := uint64Attr(t, proc, "rss"); rss == 0 || rss > 1<<30 {
		t.Errorf("rss = %d bytes", rss)
	}
	start := float64(attr[starlark.Float](t, proc, "start_time"))
	// The start time counts in 10 ms ticks from a boot time in whole
	// seconds, so it can be a second early.
	if now := float64(time.Now().UnixNano()) / 1e9; start < now-60 || start > now+1 {
		t.Errorf("start_time = %f, now is %f", start, now)
	}

	// Once it has exited, a new run does not find it.
	stopProc(cmd)
	for _, kw := range []map[string]string{{"name": s.name}, {"pattern": regexp.QuoteMeta(s.path)}} {
		p, err := callProcess(t, t.Context(), NewRun(), kw)
		if err != nil {
			t.Fatal(err)
		}
		if pids := found(t, p); len(pids) != 0 {
			t.Errorf("process(%v) after exit found %v", kw, pids)
		}
	}
}

// The kernel cuts names to 15 bytes; process() completes them from argv[0]
// and matches the whole name.
func TestProcessLongName(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	s := newSleeper(t, "igproc-longname-") // 24 bytes
	pid := s.start(t).Process.Pid
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(comm)); got != s.name[:15] {
		t.Fatalf("comm = %q, want the name cut to %q", got, s.name[:15])
	}
	for name, want := range map[string]bool{s.name: true, s.name[:15]: false} {
		p, err := callProcess(t, t.Context(), NewRun(), map[string]string{"name": name})
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(found(t, p), pid); got != want {
			t.Errorf("process(name=%q) found it: %v, want %v", name, got, want)
		}
	}
}

// The checks of one run share one scan of the process table: a process
// that exits during the run is still listed, as the run first saw it.
func TestProcessScanSharedByRun(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	s := newSleeper(t, "igs")
	cmd := s.start(t)
	run := NewRun()
	defer run.Close()
	kw := map[string]string{"name": s.name}
	for i := range 2 {
		p, err := callProcess(t, t.Context(), run, kw)
		if err != nil {
			t.Fatal(err)
		}
		if pids := found(t, p); !slices.Equal(pids, []int{cmd.Process.Pid}) {
			t.Fatalf("call %d in one run: found %v, want [%d]", i+1, pids, cmd.Process.Pid)
		}
		stopProc(cmd)
	}
	p, err := callProcess(t, t.Context(), NewRun(), kw)
	if err != nil {
		t.Fatal(err)
	}
	if pids := found(t, p); len(pids) != 0 {
		t.Errorf("a new run found %v", pids)
	}
}

// The guard does not list itself, as pgrep does not: a pattern must not
// match the guard's own command line.
func TestProcessLeavesOutItself(t *testing.T) {
	p, err := callProcess(t, t.Context(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pids := found(t, p)
	if len(pids) == 0 {
		t.Fatal("process() found no process at all")
	}
	if slices.Contains(pids, os.Getpid()) {
		t.Errorf("process() lists this process, %d", os.Getpid())
	}
	if !slices.IsSorted(pids) {
		t.Errorf("pids are not sorted: %v", pids)
	}
}

func TestProcessErrors(t *testing.T) {
	for _, tt := range []struct {
		kwargs []starlark.Tuple
		want   string
	}{
		{procKwarg("pattern", starlark.String("(")), "process: pattern \"(\": error parsing regexp: missing closing ): `(`"},
		{procKwarg("name", starlark.String("")), "process: name is empty"},
		{procKwarg("pattern", starlark.String("")), "process: pattern is empty"},
		{procKwarg("user", starlark.String("")), "process: user is empty"},
		{procKwarg("name", starlark.MakeInt(1)), `process: for parameter "name": got int, want string or None`},
		{procKwarg("user", starlark.String("no-such-user-ig")), `process: user "no-such-user-ig": no such user`},
		{procKwarg("nam", starlark.String("x")), `process: unexpected keyword argument "nam" (did you mean name?)`},
	} {
		thread := &starlark.Thread{}
		SetContext(thread, t.Context())
		_, err := starlark.Call(thread, Predeclared()["process"], nil, tt.kwargs)
		if err == nil || err.Error() != tt.want {
			t.Errorf("process(%v): error = %v, want %s", tt.kwargs, err, tt.want)
		}
	}
	// None is the default.
	thread := &starlark.Thread{}
	SetContext(thread, t.Context())
	if _, err := starlark.Call(thread, Predeclared()["process"], nil, procKwarg("name", starlark.None)); err != nil {
		t.Errorf("process(name=None): %v", err)
	}
}

func procKwarg(k string, v starlark.Value) []starlark.Tuple {
	return []starlark.Tuple{{starlark.String(k), v}}
}

func TestProcessCancelled(t *testing.T) {
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(errors.New("timed out after 5s"))
	_, err := callProcess(t, ctx, NewRun(), map[string]string{"name": "x"})
	if err == nil || err.Error() != "process: timed out after 5s" {
		t.Errorf("error = %v, want process: timed out after 5s", err)
	}
}

// A /proc read that blocks (cmdline of a process stuck in the kernel)
// must not hold the check past its deadline, nor the next check of the
// run. A FIFO with no writer blocks open(2) the same way.
func TestProcessHonoursDeadline(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "42"), 0o755); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(root, "42", "comm")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	table := newProcTable(procfs{root: root})
	run := NewRun()
	run.Shared(procKey, func() (any, func()) { return table, table.close })
	t.Cleanup(func() {
		run.Close()
		// Let the stuck open return, so the test leaks no goroutine.
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
	})

	for i := range 2 {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		start := time.Now()
		_, err := callProcess(t, ctx, run, map[string]string{"name": "x"})
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "process: ") {
			t.Errorf("check %d: error = %v, want process: context deadline exceeded", i+1, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("check %d returned %v after its deadline", i+1, d)
		}
	}
}

// readLog is a ProcFS that records which file of which process was read.
type readLog struct {
	ProcFS
	mu    sync.Mutex
	reads map[int][]string
}

func (r *readLog) ReadFile(pid int, name string, buf []byte) ([]byte, error) {
	r.mu.Lock()
	r.reads[pid] = append(r.reads[pid], name)
	r.mu.Unlock()
	return r.ProcFS.ReadFile(pid, name, buf)
}

// A name query reads the name (comm) of every process and the stat of
// only those it names: stat costs the kernel far more, and a small guard
// asks for a name. The filters on stat's state (zombies left out,
// state=) still apply to the processes named. A command line completes
// a cut name only when the query could be that name.
func TestProcessNameReadsStatOfMatchesOnly(t *testing.T) {
	root := t.TempDir()
	stat := func(pid int, comm string, state byte) string {
		return fmt.Sprintf("%d (%s) %c 1 %d %d 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 256 0\n", pid, comm, state, pid, pid)
	}
	procs := map[int]map[string]string{
		10: {"comm": "nginx\n", "stat": stat(10, "nginx", 'S'), "cmdline": "nginx: master process\x00"},
		// Another name, and a stat that does not parse: reading it would
		// mark the process gone, which would not change what is found,
		// so the log of reads below is what tells.
		11: {"comm": "postgres\n", "stat": "garbage", "cmdline": "postgres\x00"},
		12: {"comm": "nginx\n", "stat": stat(12, "nginx", 'Z'), "cmdline": ""},
		// The kernel cut the name to 15 bytes; argv[0] completes it.
		13: {"comm": "igproc-longname\n", "stat": stat(13, "igproc-longname", 'S'), "cmdline": "/usr/sbin/igproc-longname-daemon\x00--flag\x00"},
		// Gone between the listing and the read: no comm.
		14: {"stat": stat(14, "nginx", 'S')},
		// A kernel thread's name, longer than 15 bytes.
		15: {"comm": "kworker/R-kblockd\n", "stat": stat(15, "kworker/R-kblockd", 'I'), "cmdline": ""},
	}
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("stat", "cpu 0 0 0 0\nbtime 1700000000\n")
	for pid, files := range procs {
		dir := strconv.Itoa(pid)
		if err := os.Mkdir(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			write(filepath.Join(dir, name), data)
		}
		write(filepath.Join(dir, "status"), "Name:\tx\nUid:\t0\t0\t0\t0\n")
	}
	log := &readLog{ProcFS: procfs{root: root}, reads: map[int][]string{}}
	table := newProcTable(log)
	run := NewRun()
	defer run.Close()
	run.Shared(procKey, func() (any, func()) { return table, table.close })

	for _, c := range []struct {
		kwargs  map[string]string
		want    []int
		zombies int64
	}{
		{map[string]string{"name": "nginx"}, []int{10}, 1},
		{map[string]string{"name": "nginx", "include_zombies": "yes"}, []int{10, 12}, 1},
		{map[string]string{"name": "nginx", "state": "zombie"}, []int{12}, 1},
		{map[string]string{"name": "igproc-longname-daemon"}, []int{13}, 0},
		{map[string]string{"name": "igproc-longname"}, nil, 0},
	} {
		var kw []starlark.Tuple
		for _, k := range slices.Sorted(maps.Keys(c.kwargs)) {
			var v starlark.Value = starlark.String(c.kwargs[k])
			if k == "include_zombies" {
				v = starlark.True
			}
			kw = append(kw, starlark.Tuple{starlark.String(k), v})
		}
		thread := &starlark.Thread{Name: t.Name()}
		SetContext(thread, t.Context())
		SetRun(thread, run)
		v, err := starlark.Call(thread, Predeclared()["process"], nil, kw)
		if err != nil {
			t.Fatalf("process(%v): %v", c.kwargs, err)
		}
		p := v.(*starlarkstruct.Struct)
		if got := found(t, p); !slices.Equal(got, c.want) {
			t.Errorf("process(%v) found %v, want %v", c.kwargs, got, c.want)
		}
		if n, _ := attr[starlark.Int](t, p, "zombies").Int64(); n != c.zombies {
			t.Errorf("process(%v).zombies = %d, want %d", c.kwargs, n, c.zombies)
		}
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	for pid, files := range log.reads {
		if slices.Contains([]int{10, 12, 13}, pid) { // found: all of it is shown
			if n := len(files); n != len(slices.Compact(slices.Sorted(slices.Values(files)))) {
				t.Errorf("process %d: read %v, a file more than once", pid, files)
			}
			continue
		}
		if !slices.Equal(files, []string{"comm"}) {
			t.Errorf("process %d: read %v; want only its comm, as no query names it", pid, files)
		}
	}
	if len(log.reads) != len(procs) {
		t.Errorf("read the files of %d processes, want all %d", len(log.reads), len(procs))
	}
}

func TestParseStat(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want procStat
		ok   bool
	}{
		{"1 (systemd) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 27 22589440 3239 18446744073709551615",
			procStat{"systemd", 27, 3239, 'S'}, true},
		// A name with spaces and parentheses ends at the last ')'.
		{"7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 12 0", procStat{"a) b (c)", 99, 12, 'R'}, true},
		{"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 3 0 0 18446744073709551615", procStat{"kthreadd", 3, 0, 'S'}, true},
		{"3 (short) S 0", procStat{}, false},
		{"", procStat{}, false},
	} {
		got, ok := parseStat([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseStat(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// BenchmarkProcess measures process() with 500 extra processes running:
// one call in a fresh run, and 20 concurrent calls (20 checks) sharing
// one run, which should cost little more than one call. "absent" matches
// nothing (the scan alone); the others match the 500.
func BenchmarkProcess(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("needs /proc")
	}
	s := newSleeper(b, "igb")
	var cmds []*exec.Cmd
	b.Cleanup(func() {
		for _, c := range cmds {
			c.Process.Kill()
		}
		for _, c := range cmds {
			c.Wait()
		}
	})
	for range 500 {
		cmd := exec.Command(s.path, "3600")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	entries, _ := os.ReadDir("/proc")
	b.Logf("%d entries in /proc", len(entries))

	for _, q := range []struct {
		label  string
		kwargs map[string]string
	}{
		{"absent", map[string]string{"name": "no-such-process"}}, // the scan alone
		{"name", map[string]string{"name": s.name}},
		{"pattern", map[string]string{"pattern": regexp.QuoteMeta(s.name) + " 3600$"}},
		{"user", map[string]string{"user": strconv.Itoa(os.Getuid()), "name": s.name}},
	} {
		check := func(b *testing.B, p *starlarkstruct.Struct, err error) {
			if err != nil {
				b.Error(err)
				return
			}
			want := int64(500)
			if q.kwargs["name"] == "no-such-process" {
				want = 0
			}
			if v, _ := p.Attr("count"); v.(starlark.Int).BigInt().Int64() != want {
				b.Errorf("count = %v, want %d", v, want)
			}
		}
		b.Run(q.label+"/one", func(b *testing.B) {
			for b.Loop() {
				run := NewRun()
				p, err := callProcess(b, b.Context(), run, q.kwargs)
				check(b, p, err)
				run.Close()
			}
		})
		b.Run(q.label+"/20-concurrent", func(b *testing.B) {
			for b.Loop() {
				run := NewRun()
				var wg sync.WaitGroup
				for range 20 {
					wg.Go(func() {
						p, err := callProcess(b, b.Context(), run, q.kwargs)
						check(b, p, err)
					})
				}
				wg.Wait()
				run.Close()
			}
		})
	}
}

// BenchmarkProcessAsIs is one process() call in a fresh run on the machine
// as it is, matching nothing: the cost a small guard pays for the scan.
func BenchmarkProcessAsIs(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("needs /proc")
	}
	for b.Loop() {
		run := NewRun()
		if _, err := callProcess(b, b.Context(), run, map[string]string{"name": "no-such-process"}); err != nil {
			b.Fatal(err)
		}
		run.Close()
	}
}

// procStateOf reads the state letter of pid from /proc.
func procStateOf(pid int) byte {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	st, _ := parseStat(data)
	return st.state
}

// waitState waits up to 2s for pid to reach the state letter want.
func waitState(t *testing.T, pid int, want byte) {
	t.Helper()
	for range 200 {
		if procStateOf(pid) == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d did not reach state %c", pid, want)
}

func TestProcessStatesAndZombies(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	s := newSleeper(t, "igz")
	sleeping := s.start(t)
	stopped := s.start(t)
	if err := stopped.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitState(t, stopped.Process.Pid, 'T')
	// A zombie: this test is its parent and does not reap it until the end.
	zombie := exec.Command(s.path, "0")
	if err := zombie.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zombie.Wait() })
	waitState(t, zombie.Process.Pid, 'Z')

	call := func(kwargs ...starlark.Tuple) (*starlarkstruct.Struct, error) {
		thread := &starlark.Thread{Name: t.Name()}
		SetContext(thread, t.Context())
		v, err := starlark.Call(thread, Predeclared()["process"], nil, append([]starlark.Tuple{{starlark.String("name"), starlark.String(s.name)}}, kwargs...))
		if err != nil {
			return nil, err
		}
		return v.(*starlarkstruct.Struct), nil
	}
	states := func(p *starlarkstruct.Struct) map[int]string {
		out := map[int]string{}
		procs := attr[*starlark.List](t, p, "procs")
		for i := range procs.Len() {
			pr := procs.Index(i).(*starlarkstruct.Struct)
			pid, _ := attr[starlark.Int](t, pr, "pid").Int64()
			out[int(pid)] = string(attr[starlark.String](t, pr, "state"))
		}
		return out
	}
	kw := func(k string, v starlark.Value) starlark.Tuple { return starlark.Tuple{starlark.String(k), v} }
	sl, st, zo := sleeping.Process.Pid, stopped.Process.Pid, zombie.Process.Pid

	for _, c := range []struct {
		kwargs  []starlark.Tuple
		want    map[int]string
		zombies int64
	}{
		{nil, map[int]string{sl: "sleeping", st: "stopped"}, 1},
		{[]starlark.Tuple{kw("include_zombies", starlark.True)}, map[int]string{sl: "sleeping", st: "stopped", zo: "zombie"}, 1},
		{[]starlark.Tuple{kw("state", starlark.String("zombie"))}, map[int]string{zo: "zombie"}, 1},
		{[]starlark.Tuple{kw("state", starlark.NewList([]starlark.Value{starlark.String("stopped"), starlark.String("running")}))}, map[int]string{st: "stopped"}, 1},
	} {
		p, err := call(c.kwargs...)
		if err != nil {
			t.Fatal(err)
		}
		got := states(p)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("process(%v) = %v, want %v", c.kwargs, got, c.want)
		}
		if n, _ := attr[starlark.Int](t, p, "zombies").Int64(); n != c.zombies {
			t.Errorf("process(%v).zombies = %d, want %d", c.kwargs, n, c.zombies)
		}
		found(t, p)
	}
	if _, err := call(kw("state", starlark.String("asleep"))); err == nil || !strings.Contains(err.Error(), `state "asleep" is not a process state (dead, disk_sleep, idle, parked, running, sleeping, stopped, tracing_stop, wakekill, waking, zombie)`) {
		t.Errorf("bad state: %v", err)
	}
}
