// Package serve runs a guard script continuously: each check on its own
// interval, its results kept in memory, and an HTTP server that answers
// health probes (/livez, /readyz, /healthz), Prometheus scrapes (/metrics),
// a JSON API and a status page from those results alone; no request runs a
// check. The script is reloaded on demand and when it changes, replacing
// the running one only once the new one has loaded cleanly.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

// Defaults for Config fields left zero.
const (
	DefaultListen   = "127.0.0.1:9417"
	DefaultInterval = 30 * time.Second
	DefaultHistory  = 100
)

// gcPercent is serve's GOGC, unless the environment sets one. Its live
// heap is small (2 MiB with 1,000 checks, 4 MiB with their full history),
// and at Go's default of 100 the collector runs after every 2 MiB of
// garbage: under a probe storm twice as often as for a bare net/http
// server, at 5 µs of CPU per request where the bare server spends 2. At
// 200 it spends about what the bare server does, for 2 to 4 MiB of heap.
const gcPercent = 200

// shutdownWithin is how long a SIGTERM may take, all in: kubelet's grace
// period is longer, but a node drain should not wait on a stuck check.
const shutdownWithin = 2 * time.Second

// Config is everything a Server needs.
type Config struct {
	Listen     string
	Script     runtime.Script
	Load       runtime.LoadOptions
	Run        runtime.RunOptions // Deps is set by the server, one per loaded guard; MaxHeap bounds the heap while checks run
	Select     runtime.Selection
	Interval   time.Duration // checks without interval=
	History    int           // results kept per check
	FailOnWarn bool          // a WARN makes /healthz 503
	Watch      bool          // reload when a .star file beside the script changes
	Version    string
	Logger     *slog.Logger
	// Scrub removes the script's secrets from a text; every text a
	// response can hold passes through it before it is stored.
	Scrub func(string) string
}

// SelectionError is --only, --skip or --tag naming checks or tags the
// script does not have.
type SelectionError struct{ Err error }

func (e *SelectionError) Error() string { return e.Err.Error() }
func (e *SelectionError) Unwrap() error { return e.Err }

// loaded is one guard that loaded cleanly, with what runs it.
type loaded struct {
	guard  *runtime.Guard
	deps   *builtins.Deps
	sched  *scheduler
	order  []*checkState
	byName map[string]*checkState
	at     time.Time
}

// Server is a running serve.
type Server struct {
	cfg Config
	log *slog.Logger

	mu  sync.RWMutex // guards cur, load* and every checkState
	cur *loaded      // nil until a script loads
	// The latest load or reload attempt.
	loadOK       bool
	loadErrors   []string // file:line:col: message, scrubbed
	loadAt       time.Time
	reloads      map[string]uint64 // by result: success, failure
	lastReloadOK time.Time
	// Of cur's checks: how many have no result yet, and how many do not
	// pass (pending ones included), kept as results arrive so that the
	// plain /readyz and /healthz answer without a walk over every check.
	pending, notPassing int
	// What the plain /healthz and /readyz answer, from the counts above;
	// read without the lock, so a probe storm never contends with runs.
	healthyPlain, readyPlain atomic.Bool

	reloadMu  sync.Mutex // one (re)load at a time
	reloadReq chan chan error
	stopping  atomic.Bool
	beat      atomic.Int64 // unix nanos of the scheduler supervisor's last tick
	ln        net.Listener
	http      *http.Server
}

// New checks cfg and listens on cfg.Listen, so that Addr is known (and a
// port in use is an error) before Run.
func New(cfg Config) (*Server, error) {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.History <= 0 {
		cfg.History = DefaultHistory
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Scrub == nil {
		cfg.Scrub = func(s string) string { return s }
	}
	if cfg.Run.MaxHeap == 0 {
		cfg.Run.MaxHeap = runtime.DefaultMaxHeap
	}
	if cfg.Load.Logger == nil {
		cfg.Load.Logger = cfg.Logger
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("serve: cannot listen on %s: %w (another process there? pick one with --listen)", cfg.Listen, err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, ln: ln, reloads: map[string]uint64{}, reloadReq: make(chan chan error)}
	// ReadHeaderTimeout bounds a client that trickles its request. No
	// IdleTimeout: it would arm one more timer per request, and the
	// clients of a health endpoint close their idle connections.
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)}
	return s, nil
}

// Addr is where the server listens.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Run loads the script, starts the scheduler and serves HTTP until ctx
// ends; then it stops scheduling, cancels running checks, lets in-flight
// requests finish and returns, within shutdownWithin. A script that does
// not load is no error: the server runs, unready, and says why.
func (s *Server) Run(ctx context.Context) error {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(gcPercent))
	}
	s.beat.Store(time.Now().UnixNano())
	bg, stopBg := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopBg()

	if err := s.reload(bg, "start"); err != nil {
		// --only, --skip or --tag naming what the script lacks is a usage
		// error, for the command line to report; a script that does not
		// load is served, unready, until a reload fixes it.
		var sel *SelectionError
		if errors.As(err, &sel) {
			return err
		}
		s.log.Error("the script did not load; serving without checks until it does", "script", s.cfg.Script.Path, "error", err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.supervise(bg)
	}()
	if s.cfg.Watch && !s.cfg.Script.BuiltIn {
		if stop, err := s.watch(bg); err != nil {
			s.log.Warn("cannot watch the script for changes; reload with SIGHUP or POST /-/reload", "error", err)
		} else {
			defer stop()
		}
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.http.Serve(s.ln) }()
	s.log.Info("serving", "address", "http://"+s.Addr()+"/", "script", s.cfg.Script.Path)

	var err error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down", "reason", context.Cause(ctx).Error())
	case err = <-serveErr:
	}
	s.stopping.Store(true)
	deadline := time.Now().Add(shutdownWithin - 200*time.Millisecond)
	stopBg()
	s.mu.Lock()
	cur := s.cur
	s.mu.Unlock()
	if cur != nil {
		if !cur.sched.stop(errors.New("shutting down"), time.Until(deadline)/2) {
			s.log.Warn("a check did not stop when cancelled; exiting without it")
		}
		cur.deps.Close()
	}
	sctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if serr := s.http.Shutdown(sctx); serr != nil {
		_ = s.http.Close()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// supervise is the scheduler's heartbeat, which /livez reads, and the one
// goroutine that performs reloads, so they never overlap.
func (s *Server) supervise(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.beat.Store(time.Now().UnixNano())
		case reply := <-s.reloadReq:
			reply <- s.reload(ctx, "request")
		}
	}
}

// Reload loads the script again and, when it loads cleanly, puts it in
// place of the running one. It returns the load's error; the old checks
// then keep running.
func (s *Server) Reload(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case s.reloadReq <- reply:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reload is Reload's work, on the supervisor's goroutine (or Run's, at
// start).
func (s *Server) reload(ctx context.Context, why string) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	sc := s.cfg.Script
	g, diags := runtime.Vet(ctx, sc.Path, sc.Src, s.cfg.Load)
	var selErr error
	if len(diags) == 0 {
		if g, selErr = g.Select(s.cfg.Select); selErr != nil {
			diags = []result.Diagnostic{{File: sc.Path, Msg: selErr.Error()}}
			selErr = &SelectionError{selErr}
		}
	}
	s.mu.Lock()
	s.loadAt = time.Now()
	if len(diags) > 0 {
		s.loadOK = false
		s.loadErrors = s.loadErrors[:0]
		for _, d := range diags {
			s.loadErrors = append(s.loadErrors, s.cfg.Scrub(d.String()))
		}
		if why != "start" {
			s.reloads["failure"]++
		}
		msgs := append([]string(nil), s.loadErrors...)
		running := s.cur != nil
		s.mu.Unlock()
		for _, m := range msgs {
			if selErr != nil && why == "start" {
				break // the command line reports it, once
			}
			s.log.Error("the script did not load", "script", sc.Path, "error", m, "keeping_previous", running)
		}
		if selErr != nil {
			return selErr
		}
		return fmt.Errorf("%s did not load: %s", sc.Path, msgs[0])
	}
	// Checks that keep their name keep their history.
	next := &loaded{guard: g, deps: builtins.NewDeps(), byName: map[string]*checkState{}, at: time.Now()}
	for _, c := range g.Checks {
		var st *checkState
		if s.cur != nil {
			st = s.cur.byName[c.Name]
		}
		if st == nil {
			st = newCheckState(c)
		}
		st.check = c
		next.order = append(next.order, st)
		next.byName[c.Name] = st
	}
	prev := s.cur
	s.cur = next
	s.recount()
	s.loadOK, s.loadErrors = true, nil
	if why != "start" {
		s.reloads["success"]++
	}
	s.lastReloadOK = next.at
	s.mu.Unlock()

	if prev != nil {
		// The old checks stop before the new ones start, so a check that
		// kept its name never runs twice at once.
		if !prev.sched.stop(errors.New("reloaded"), shutdownWithin) {
			s.log.Warn("a check of the previous script did not stop when cancelled; its result is dropped")
		}
		prev.deps.Close()
	}
	opts := s.cfg.Run
	opts.Deps = next.deps
	next.sched = &scheduler{srv: s, guard: g, opts: opts, interval: s.cfg.Interval, states: next.byName}
	next.sched.start(context.Background())
	s.log.Info("script loaded", "script", sc.Path, "checks", len(g.Checks), "why", why)
	return nil
}

// record stores one run's result, scrubbed.
func (s *Server) record(st *checkState, r result.CheckResult, started time.Time) {
	r.Message = s.cfg.Scrub(r.Message)
	r.Backtrace = s.cfg.Scrub(r.Backtrace)
	// The result is the scheduler's to keep; its metrics are copied only
	// when scrubbing changes one.
	cloned := false
	for i, m := range r.Metrics {
		name, unit := s.cfg.Scrub(m.Name), s.cfg.Scrub(m.Unit)
		if name != m.Name || unit != m.Unit {
			if !cloned {
				r.Metrics, cloned = slices.Clone(r.Metrics), true
			}
			r.Metrics[i].Name, r.Metrics[i].Unit = name, unit
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var prev *detail
	if l, ok := st.latest(); ok {
		prev = l.detail
	}
	e := newEntry(r, started, prev)
	current := s.cur != nil && s.cur.byName[st.check.Name] == st
	if current {
		s.pending -= b2i(!st.has)
		s.notPassing -= b2i(!s.passing(st))
	}
	st.record(e, s.cfg.History)
	if current {
		s.pending += b2i(!st.has)
		s.notPassing += b2i(!s.passing(st))
		s.setProbes()
	}
}

// passing is whether /healthz counts st as passing; the caller holds s.mu.
func (s *Server) passing(st *checkState) bool { return st.has && s.passes(st.reported.status) }

// recount sets pending and notPassing from cur; the caller holds s.mu.
func (s *Server) recount() {
	s.pending, s.notPassing = 0, 0
	for _, st := range s.cur.order {
		s.pending += b2i(!st.has)
		s.notPassing += b2i(!s.passing(st))
	}
	s.setProbes()
}

// setProbes sets what the plain probes answer from the counts; the
// caller holds s.mu.
func (s *Server) setProbes() {
	s.healthyPlain.Store(s.cur != nil && s.notPassing == 0)
	s.readyPlain.Store(s.cur != nil && s.pending == 0)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
