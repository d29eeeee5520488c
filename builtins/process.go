package builtins

// This file holds process(), which finds running processes by executable
// name, command line and user. It reads /proc directly: one scan of the
// process table per run, shared by every check of the run, and only the
// files a call needs (comm for names, cmdline for patterns, status for
// users, stat for the state of the processes that match the others),
// each read at most once per process and run.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// procKey is the Run's key for the process table of the run.
const procKey = "infra-guard.procs"

// process(name=None, pattern=None, user=None, state=None,
// include_zombies=False) lists the processes that match every filter
// given. Zombies have exited and wait for their parent to reap them, so
// they are left out unless asked for, and counted apart.
func process(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := ctxOf(thread)
	var (
		name    optString // None: any name
		pattern optString // None: any command line
		owner   optString // None: any user
		states  StringList
		zombies bool
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name??", &name, "pattern??", &pattern, "user??", &owner, "state?", &states, "include_zombies?", &zombies); err != nil {
		return nil, err
	}
	q := procQuery{name: name.s, user: owner.s, includeZombies: zombies}
	for _, st := range states {
		if !slices.Contains(procStateNames, st) {
			return nil, fmt.Errorf("%s: state %q is not a process state (%s)", b.Name(), st, strings.Join(procStateNames, ", "))
		}
		if q.states == nil {
			q.states = map[string]bool{}
		}
		q.states[st] = true
	}
	if q.states[procZombie] {
		q.includeZombies = true // asking for zombies by state counts them
	}
	for _, a := range []struct {
		param string
		v     optString
	}{{"name", name}, {"pattern", pattern}, {"user", owner}} {
		if a.v.set && a.v.s == "" {
			return nil, fmt.Errorf("%s: %s is empty", b.Name(), a.param)
		}
	}
	if pattern.set {
		var err error
		if q.pattern, err = regexp.Compile(pattern.s); err != nil {
			return nil, fmt.Errorf("%s: pattern %q: %w", b.Name(), pattern.s, err)
		}
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), context.Cause(ctx))
	}

	procs := depsOf(thread).Procs
	var table *procTable
	if run := RunOf(thread); run != nil {
		table = run.Shared(procKey, func() (any, func()) {
			t := newProcTable(procs)
			return t, t.close
		}).(*procTable)
	} else {
		// A thread outside a run (an embedder's, a test's) scans alone.
		table = newProcTable(procs)
		defer table.close()
	}
	v, err := withContext(ctx, func() (starlark.Value, error) {
		procs, zombies, err := table.query(ctx, q)
		if err != nil {
			return nil, err
		}
		return table.value(ctx, procs, zombies)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return v, nil
}

// procQuery is what one process() call looks for; empty fields match all.
type procQuery struct {
	name           string
	pattern        *regexp.Regexp
	user           string
	states         map[string]bool // nil: any state
	includeZombies bool
}

// procZombie is the state of a process that has exited and that its
// parent has not reaped yet.
const procZombie = "zombie"

// procStates names the state letters of /proc/PID/stat (proc(5)).
var procStates = map[byte]string{
	'R': "running",
	'S': "sleeping",
	'D': "disk_sleep", // uninterruptible, usually waiting for I/O
	'Z': procZombie,
	'T': "stopped",
	't': "tracing_stop",
	'X': "dead",
	'x': "dead",
	'I': "idle",
	'P': "parked",
	'K': "wakekill",
	'W': "waking",
}

// procStateNames are the states process(state=) accepts, sorted.
var procStateNames = func() []string {
	var names []string
	for _, n := range procStates {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}()

// stateName names a state letter; an unknown letter stays as it is.
func stateName(c byte) string {
	if n, ok := procStates[c]; ok {
		return n
	}
	return string(c)
}

// procTable is one run's view of the process table: the PIDs, listed on
// first use, and what calls have needed to know about each process, read
// on demand and kept. Each pass over all processes (names, command lines,
// users) runs at most once, in a goroutine of its own that the calls
// waiting for it share; a call that stops waiting (its check's deadline)
// does not stop the pass, which ends with the run.
type procTable struct {
	fs     ProcFS
	ctx    context.Context
	cancel context.CancelFunc
	self   int // this process, left out as pgrep leaves itself out

	list    lazy[[]*procEntry]
	names   lazy[struct{}]
	cmdline lazy[struct{}]
	uids    lazy[struct{}]
	boot    lazy[int64]

	mu    sync.Mutex
	users map[uint32]string // uid → user name, or the number when it has none
}

func newProcTable(fs ProcFS) *procTable {
	ctx, cancel := context.WithCancel(context.Background())
	return &procTable{fs: fs, ctx: ctx, cancel: cancel, self: os.Getpid(), users: map[uint32]string{}}
}

// close stops a pass that is still running; the run is over.
func (t *procTable) close() { t.cancel() }

// query returns the processes that match q, in PID order, and how many
// of the processes that match are zombies.
func (t *procTable) query(ctx context.Context, q procQuery) ([]*procEntry, int, error) {
	entries, err := t.list.get(ctx, t.listPIDs)
	if err != nil {
		return nil, 0, err
	}
	if q.name != "" {
		if err := t.pass(ctx, &t.names, entries, func(e *procEntry) { e.readComm() }); err != nil {
			return nil, 0, err
		}
	}
	if q.pattern != nil {
		if err := t.pass(ctx, &t.cmdline, entries, func(e *procEntry) { e.readCmdline() }); err != nil {
			return nil, 0, err
		}
	}
	var uid uint32
	if q.user != "" {
		if uid, err = lookupUser(q.user); err != nil {
			return nil, 0, err
		}
		if err := t.pass(ctx, &t.uids, entries, func(e *procEntry) { e.readUID() }); err != nil {
			return nil, 0, err
		}
	}
	var out []*procEntry
	zombies := 0
	for _, e := range entries {
		if q.name != "" && !e.hasName(q.name) {
			continue
		}
		if q.pattern != nil && (e.gone.Load() || !q.pattern.MatchString(e.readCmdline())) {
			continue
		}
		if q.user != "" && (e.readUID() != uid || e.gone.Load()) {
			continue
		}
		if e.gone.Load() {
			continue
		}
		state := stateName(e.readStat().state)
		if e.gone.Load() {
			continue
		}
		if state == procZombie {
			zombies++
			if !q.includeZombies {
				continue
			}
		}
		if q.states != nil && !q.states[state] {
			continue
		}
		out = append(out, e)
	}
	if ctx.Err() != nil {
		return nil, 0, context.Cause(ctx)
	}
	return out, zombies, nil
}

// value builds process()'s result from the processes it found. What the
// result shows of each process is read and built once per run, in
// parallel, and shared (frozen) by every call that finds that process.
func (t *procTable) value(ctx context.Context, found []*procEntry, zombies int) (starlark.Value, error) {
	var boot int64
	if len(found) > 0 {
		var err error
		if boot, err = t.boot.get(ctx, t.fs.BootTime); err != nil {
			return nil, err
		}
		if err := t.each(ctx, found, func(e *procEntry) { e.result(t, boot) }); err != nil {
			return nil, err
		}
	}
	pids := make([]starlark.Value, 0, len(found))
	procs := make([]starlark.Value, 0, len(found))
	for _, e := range found {
		if v := e.result(t, boot); v != nil { // nil: exited since the match
			pids = append(pids, starlark.MakeInt(e.pid))
			procs = append(procs, v)
		}
	}
	return starlarkstruct.FromStringDict(starlark.String("process"), starlark.StringDict{
		"count":   starlark.MakeInt(len(pids)),
		"zombies": starlark.MakeInt(zombies),
		"pids":    starlark.NewList(pids),
		"procs":   starlark.NewList(procs),
	}), nil
}

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat: 100 on
// every architecture Go runs Linux on (sysconf(_SC_CLK_TCK) says so too).
const clockTicks = 100

// listPIDs lists the processes (thread group leaders), in PID order.
func (t *procTable) listPIDs() ([]*procEntry, error) {
	pids, err := t.fs.PIDs()
	if err != nil {
		return nil, err
	}
	entries := make([]*procEntry, 0, len(pids))
	for _, pid := range pids {
		if pid <= 0 || pid == t.self {
			continue
		}
		entries = append(entries, &procEntry{pid: pid, fs: t.fs})
	}
	slices.SortFunc(entries, func(a, b *procEntry) int { return a.pid - b.pid })
	return entries, nil
}

// procfs is the production ProcFS: the files of /proc (root), read with
// plain system calls.
type procfs struct{ root string }

func (p procfs) PIDs() ([]int, error) {
	f, err := os.Open(p.root)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if pid, err := strconv.Atoi(n); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// ReadFile reads /proc/PID/name; comm, stat and status are seq_files,
// cmdline is not (see readProcFile).
func (p procfs) ReadFile(pid int, name string, buf []byte) ([]byte, error) {
	// Built in place: a scan reads a file of every process, and
	// strconv.Itoa plus + would cost an allocation more per read.
	var b [64]byte
	path := append(b[:0], p.root...)
	path = append(strconv.AppendInt(append(path, '/'), int64(pid), 10), '/')
	path = append(path, name...)
	return readProcFile(string(path), name != "cmdline", buf)
}

func (p procfs) BootTime() (int64, error) { return readBootTime(p.root + "/stat") }

// pass reads one field of every process, once per run, for every call
// that needs it.
func (t *procTable) pass(ctx context.Context, l *lazy[struct{}], entries []*procEntry, read func(*procEntry)) error {
	_, err := l.get(ctx, func() (struct{}, error) {
		return struct{}{}, t.each(t.ctx, entries, read)
	})
	return err
}

// each calls fn for every entry, with a few goroutines: /proc reads are
// system calls, which scale with the CPUs. It stops early when ctx or the
// run ends.
func (t *procTable) each(ctx context.Context, entries []*procEntry, fn func(*procEntry)) error {
	workers := min(runtime.GOMAXPROCS(0), 4, len(entries)/32+1)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil && t.ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(entries) {
					return
				}
				fn(entries[i])
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return t.ctx.Err()
}

// userName names a uid, or gives its number when no user has it.
func (t *procTable) userName(uid uint32) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if name, ok := t.users[uid]; ok {
		return name
	}
	id := strconv.FormatUint(uint64(uid), 10)
	name := id
	if u, err := user.LookupId(id); err == nil {
		name = u.Username
	}
	t.users[uid] = name
	return name
}

// lookupUser resolves process()'s user argument: a user name, or a uid.
func lookupUser(name string) (uint32, error) {
	if uid, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(uid), nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		var unknown user.UnknownUserError
		if errors.As(err, &unknown) {
			return 0, fmt.Errorf("user %q: no such user", name)
		}
		return 0, fmt.Errorf("user %q: %w", name, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("user %q: uid %q is not a number", name, u.Uid)
	}
	return uint32(uid), nil
}

// A procEntry is one process of the table. Each field is read from /proc
// at most once; a process whose file cannot be read has exited (its PID
// may come back as another process, which this table does not see).
type procEntry struct {
	pid  int
	fs   ProcFS
	gone atomic.Bool

	statOnce sync.Once
	stat     procStat
	commOnce sync.Once
	comm     string
	nameOnce sync.Once
	name     string
	cmdOnce  sync.Once
	cmdline  string
	args0    string
	uidOnce  sync.Once
	uid      uint32
	resOnce  sync.Once
	res      starlark.Value // the frozen proc struct; nil once gone
}

// read passes the contents of the process's file name to use, which must
// copy what it keeps, reading into a pooled buffer.
func (e *procEntry) read(name string, use func([]byte)) error {
	bp := procBufs.Get().(*[]byte)
	defer procBufs.Put(bp)
	data, err := e.fs.ReadFile(e.pid, name, (*bp)[:0])
	if cap(data) > cap(*bp) {
		*bp = data[:0] // keep the grown buffer
	}
	if err != nil {
		return err
	}
	use(data)
	return nil
}

// result is the process as process() shows it, or nil when it has exited.
func (e *procEntry) result(t *procTable, boot int64) starlark.Value {
	e.resOnce.Do(func() {
		name, cmdline, uid, st := e.readName(), e.readCmdline(), e.readUID(), e.readStat()
		if e.gone.Load() {
			return
		}
		v := starlarkstruct.FromStringDict(starlark.String("proc"), starlark.StringDict{
			"pid":        starlark.MakeInt(e.pid),
			"name":       starlark.String(name),
			"cmdline":    starlark.String(cmdline),
			"user":       starlark.String(t.userName(uid)),
			"rss":        starlark.MakeUint64(st.rss * uint64(os.Getpagesize())),
			"start_time": starlark.Float(float64(boot) + float64(st.start)/clockTicks),
			"state":      starlark.String(stateName(st.state)),
		})
		v.Freeze() // shared by the threads of the run's checks
		e.res = v
	})
	return e.res
}

// procStat is what process() uses of /proc/PID/stat.
type procStat struct {
	comm  string // the name the kernel keeps, cut to 15 bytes (listening() uses it)
	start uint64 // start time, in clock ticks after boot
	rss   uint64 // resident set size, in pages
	state byte   // R, S, D, Z, T…
}

func (e *procEntry) readStat() procStat {
	e.statOnce.Do(func() {
		ok := false
		err := e.read("stat", func(data []byte) { e.stat, ok = parseStat(data) })
		if err != nil || !ok {
			e.gone.Store(true)
		}
	})
	return e.stat
}

// parseStat reads "PID (COMM) STATE PPID … STARTTIME VSIZE RSS …" (proc(5));
// COMM may hold spaces and parentheses, so it ends at the last ')'. It
// walks the fields in place: a query without a name or pattern reads the
// stat of every process.
func parseStat(data []byte) (procStat, bool) {
	open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return procStat{}, false
	}
	st := procStat{comm: string(data[open+1 : end])}
	rest := data[end+1:]
	var ok1, ok2 bool
	for field := 3; field <= 24; field++ { // rest starts before field 3, STATE
		rest = bytes.TrimLeft(rest, " ")
		f := rest
		if i := bytes.IndexByte(rest, ' '); i >= 0 {
			f, rest = rest[:i], rest[i:]
		} else {
			rest = nil
		}
		switch field {
		case 3:
			if len(f) != 1 {
				return procStat{}, false
			}
			st.state = f[0]
		case 22:
			st.start, ok1 = parseUint(f)
		case 24:
			if len(f) > 0 && f[0] == '-' { // a kernel may say -1 for none
				ok2 = true
				continue
			}
			st.rss, ok2 = parseUint(f)
		}
	}
	if !ok1 || !ok2 {
		return procStat{}, false
	}
	return st, true
}

// parseUint is strconv.ParseUint for a field of decimal digits.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// readComm is the name the kernel keeps, cut to 15 bytes (longer for
// kernel threads), from /proc/PID/comm: the same name as stat's second
// field, but a name query reads it of every process, and comm costs the
// kernel far less than stat, which gathers some fifty fields.
func (e *procEntry) readComm() string {
	e.commOnce.Do(func() {
		// comm is the name and a newline; the name itself may hold one.
		err := e.read("comm", func(data []byte) { e.comm = string(bytes.TrimSuffix(data, []byte{'\n'})) })
		if err != nil {
			e.gone.Store(true)
		}
	})
	return e.comm
}

// hasName says whether the process's name (readName) is name. The full
// name starts with comm, so the command line that completes a cut name is
// read only when comm is the start of name: most names of 15 bytes and
// more are kernel threads', which a query rarely asks for.
func (e *procEntry) hasName(name string) bool {
	comm := e.readComm()
	if len(comm) < 15 || !strings.HasPrefix(name, comm) {
		return comm == name
	}
	return e.readName() == name
}

// readName is the executable's name: the kernel's comm, which is cut to 15
// bytes; a cut name is completed from the base name of argv[0] when that
// starts with it (as gopsutil and pidof do).
func (e *procEntry) readName() string {
	e.nameOnce.Do(func() {
		e.name = e.readComm()
		if len(e.name) < 15 {
			return
		}
		e.readCmdline()
		first, _, _ := strings.Cut(e.args0, " ") // "nginx: master process"
		for _, cand := range []string{e.args0, first} {
			if base := filepath.Base(cand); len(base) > len(e.name) && strings.HasPrefix(base, e.name) {
				e.name = base
				return
			}
		}
	})
	return e.name
}

// readCmdline is the command line, its arguments joined by spaces; empty
// for kernel threads and zombies.
func (e *procEntry) readCmdline() string {
	e.cmdOnce.Do(func() {
		err := e.read("cmdline", func(data []byte) {
			for len(data) > 0 && data[len(data)-1] == 0 {
				data = data[:len(data)-1]
			}
			args0, _, _ := bytes.Cut(data, []byte{0})
			e.args0 = string(args0)
			for i, c := range data {
				if c == 0 {
					data[i] = ' '
				}
			}
			e.cmdline = string(data)
		})
		if err != nil {
			e.gone.Store(true)
		}
	})
	return e.cmdline
}

// readUID is the effective user ID, from the Uid line of /proc/PID/status
// (real, effective, saved, file system), as ps and pgrep -u use it.
func (e *procEntry) readUID() uint32 {
	e.uidOnce.Do(func() {
		ok := false
		err := e.read("status", func(data []byte) { e.uid, ok = parseStatusUID(data) })
		if err != nil || !ok {
			e.gone.Store(true)
		}
	})
	return e.uid
}

// parseStatusUID returns the effective uid, the second number of the Uid
// line of /proc/PID/status.
func parseStatusUID(data []byte) (uint32, bool) {
	_, rest, ok := bytes.Cut(data, []byte("\nUid:"))
	if !ok {
		return 0, false
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 2 {
		return 0, false
	}
	uid, err := strconv.ParseUint(f[1], 10, 32)
	return uint32(uid), err == nil
}

// readProcFile reads a whole /proc file with plain system calls (/proc
// files report size 0, and the runtime poller has nothing to offer them),
// appends its contents to buf and returns the result. A seq_file (stat,
// status) produces its record at once, so a read shorter than asked for is
// its end; other files are read until read returns 0.
func readProcFile(name string, seqFile bool, buf []byte) ([]byte, error) {
	fd, err := openRetry(name)
	if err != nil {
		return buf, err
	}
	defer sysClose(fd)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(cap(buf), 512))
		}
		n, err := sysRead(fd, buf[len(buf):cap(buf)])
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return buf, err
		}
		short := len(buf)+n < cap(buf)
		buf = buf[:len(buf)+n]
		if n == 0 || seqFile && short {
			return buf, nil
		}
	}
}

// procBufs holds read buffers: most /proc files fit in 4 KiB.
var procBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func openRetry(name string) (procFD, error) {
	for {
		fd, err := sysOpen(name)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

// lazy is a value computed once, in its own goroutine, for every caller
// that asks: a caller waits until it is ready or the caller's context
// ends, whichever is first, and the computation goes on regardless.
type lazy[T any] struct {
	once     sync.Once
	done     chan struct{}
	finished atomic.Bool // v and err are set: no goroutine, no wait
	v        T
	err      error
}

func (l *lazy[T]) get(ctx context.Context, compute func() (T, error)) (T, error) {
	if l.finished.Load() {
		return l.v, l.err
	}
	l.once.Do(func() {
		l.done = make(chan struct{})
		go func() {
			defer close(l.done)
			defer func() {
				if p := recover(); p != nil {
					l.err = fmt.Errorf("internal error (recovered panic): %v", p)
				}
			}()
			l.v, l.err = compute()
			l.finished.Store(true)
		}()
	})
	select {
	case <-l.done:
		return l.v, l.err
	case <-ctx.Done():
		var zero T
		return zero, context.Cause(ctx)
	}
}
