package serve

// This file holds the HTTP endpoints. The health ones follow
// kube-apiserver's: "ok" or a "[+]name ok" / "[-]name failed: reason"
// list with ?verbose, ?exclude=NAME to leave a check out, and a JSON
// report for Accept: application/json.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/infra-guard/infra-guard/report"
	"github.com/infra-guard/infra-guard/result"
)

// livenessLag is how old the scheduler's heartbeat may be before /livez
// fails: far longer than its one-second tick, so only a wedged process
// trips it.
const livenessLag = 30 * time.Second

// Handler is every endpoint.
func (s *Server) Handler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), (*collector)(s))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /livez", s.livez)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /healthz/{name}", s.healthzOne)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog2promLog{s}}))
	mux.HandleFunc("GET /api/v1/checks", s.apiChecks)
	mux.HandleFunc("GET /api/v1/checks/{name}", s.apiCheck)
	mux.HandleFunc("POST /-/reload", s.reloadHTTP)
	mux.HandleFunc("GET /{$}", s.page)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.plainProbe(w, r) {
			mux.ServeHTTP(w, r)
		}
	})
}

// plainProbe answers a plain GET /healthz or /readyz that passes, the
// request a probe storm is made of, before the mux routes it: "ok" from
// a flag kept as results arrive, with no lock, no walk over the checks
// and nothing allocated. It reports whether it answered.
func (s *Server) plainProbe(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet || r.URL.RawQuery != "" {
		return false
	}
	switch r.URL.Path {
	case "/healthz":
		if !s.healthyPlain.Load() {
			return false
		}
	case "/readyz":
		if !s.readyPlain.Load() || s.stopping.Load() {
			return false
		}
	default:
		return false
	}
	if wantsJSON(r) {
		return false
	}
	plainOK(w)
	return true
}

type slog2promLog struct{ s *Server }

func (l slog2promLog) Println(v ...any) { l.s.log.Error("metrics: " + fmt.Sprint(v...)) }

// probe is one line of a health answer.
type probe struct {
	name   string
	ok     bool
	reason string
}

// answer writes a health endpoint's response: "ok", or with ?verbose (and
// always on failure) one line per probe and a verdict.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, endpoint string, probes []probe) {
	q := r.URL.Query()
	excluded := q["exclude"]
	pass := true
	var b strings.Builder
	var unused []string
	for _, ex := range excluded {
		if !slices.ContainsFunc(probes, func(p probe) bool { return p.name == ex }) {
			unused = append(unused, ex)
		}
	}
	for _, p := range probes {
		if slices.Contains(excluded, p.name) {
			fmt.Fprintf(&b, "[+]%s excluded: ok\n", p.name)
			continue
		}
		if p.ok {
			fmt.Fprintf(&b, "[+]%s ok\n", p.name)
		} else {
			pass = false
			fmt.Fprintf(&b, "[-]%s failed: %s\n", p.name, oneLine(p.reason))
		}
	}
	if len(unused) > 0 {
		fmt.Fprintf(&b, "warn: some health checks cannot be excluded: no matches for %s\n", strings.Join(quote(unused), ","))
	}
	code := http.StatusOK
	if !pass {
		code = http.StatusServiceUnavailable
	}
	if wantsJSON(r) && endpoint != "livez" {
		s.writeJSONReport(w, code, excluded)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, verbose := q["verbose"]
	switch {
	case pass && !verbose:
		fmt.Fprint(w, "ok")
	case pass:
		fmt.Fprintf(w, "%s%s check passed\n", b.String(), endpoint)
	default:
		fmt.Fprintf(w, "%s%s check failed\n", b.String(), endpoint)
	}
}

// The header values of plainOK, shared by every answer: net/http only
// reads them, and a Header.Add would append to a copy (len == cap).
var (
	textPlain = []string{"text/plain; charset=utf-8"}
	nosniff   = []string{"nosniff"}
	noStore   = []string{"no-store"}
	okBody    = []byte("ok")
)

// plainOK is the answer of a plain probe that passes, without the walk
// over every check that the verbose forms need.
func plainOK(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = textPlain
	h["X-Content-Type-Options"] = nosniff
	h["Cache-Control"] = noStore
	_, _ = w.Write(okBody)
}

func quote(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// livez: the process answers and the scheduler's heartbeat is recent.
func (s *Server) livez(w http.ResponseWriter, r *http.Request) {
	lag := time.Since(time.Unix(0, s.beat.Load()))
	ps := []probe{{name: "ping", ok: true}, {name: "scheduler", ok: lag < livenessLag,
		reason: fmt.Sprintf("no heartbeat for %s", lag.Round(time.Second))}}
	s.answer(w, r, "livez", ps)
}

// readyz: a script is loaded and every selected check has a result;
// false while shutting down, so traffic drains first. (A plain passing
// GET has been answered by plainProbe already.)
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	ps := make([]probe, 0, 2+s.checkCount())
	ps = append(ps, probe{name: "shutdown", ok: !s.stopping.Load(), reason: "shutting down"})
	ps = append(ps, s.scriptProbe())
	if s.cur != nil {
		for _, st := range s.cur.order {
			ps = append(ps, probe{name: st.check.Name, ok: st.has, reason: "no result yet"})
		}
	}
	s.mu.RUnlock()
	s.answer(w, r, "readyz", ps)
}

func (s *Server) checkCount() int {
	if s.cur == nil {
		return 0
	}
	return len(s.cur.order)
}

// scriptProbe fails only when no script has ever loaded; a failed reload
// keeps the previous checks running and shows on /metrics and the page.
func (s *Server) scriptProbe() probe {
	p := probe{name: "script", ok: s.cur != nil}
	if !p.ok {
		p.reason = "the script did not load"
		if len(s.loadErrors) > 0 {
			p.reason += ": " + s.loadErrors[0]
		}
	}
	return p
}

// healthz: every check's reported status passes: OK, WARN (unless
// --fail-on warn) or SKIP. (A plain passing GET has been answered by
// plainProbe already.)
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	ps := make([]probe, 0, 1+s.checkCount())
	ps = append(ps, s.scriptProbe())
	if s.cur != nil {
		for _, st := range s.cur.order {
			ps = append(ps, s.checkProbe(st))
		}
	}
	s.mu.RUnlock()
	s.answer(w, r, "healthz", ps)
}

func (s *Server) checkProbe(st *checkState) probe {
	p := probe{name: st.check.Name}
	if !st.has {
		p.reason = "no result yet"
		return p
	}
	e := st.reported
	p.ok = s.passes(e.status)
	p.reason = strings.ToUpper(e.status.String())
	if m := e.message(); m != "" {
		p.reason += ": " + m
	}
	return p
}

func (s *Server) passes(st result.Status) bool {
	switch st.Valid() {
	case result.OK, result.Skip:
		return true
	case result.Warn:
		return !s.cfg.FailOnWarn
	}
	return false
}

// healthzOne answers for one check; 404 for a name the script lacks.
func (s *Server) healthzOne(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	s.mu.RLock()
	var st *checkState
	if s.cur != nil {
		st = s.cur.byName[name]
	}
	var p probe
	if st != nil {
		p = s.checkProbe(st)
	}
	s.mu.RUnlock()
	if st == nil {
		http.Error(w, fmt.Sprintf("no check %q in %s", name, s.cfg.Script.Path), http.StatusNotFound)
		return
	}
	s.answer(w, r, "healthz", []probe{p})
}

// snapshot is the report of the reported results, as run would give it.
func (s *Server) snapshot(excluded []string) *result.Report {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rep := &result.Report{Script: s.cfg.Script.Path, BuiltIn: s.cfg.Script.BuiltIn}
	if s.cur == nil {
		for _, e := range s.loadErrors {
			rep.Errors = append(rep.Errors, result.Diagnostic{Msg: e})
		}
	} else {
		rep.Started = s.cur.at
		for _, st := range s.cur.order {
			if slices.Contains(excluded, st.check.Name) {
				continue
			}
			c := st.reported.result(st.check)
			if !st.has {
				c = result.CheckResult{Name: st.check.Name, Status: result.Unknown, Message: "no result yet",
					Tags: st.check.Tags, File: st.check.File, Line: st.check.Line}
			}
			rep.Checks = append(rep.Checks, c)
		}
	}
	rep.ExitCode = result.Judge(rep, !s.cfg.FailOnWarn)
	return rep
}

func (s *Server) writeJSONReport(w http.ResponseWriter, code int, excluded []string) {
	var b bytes.Buffer
	rj, _ := report.New("json", report.Options{Version: s.cfg.Version})
	if err := rj.Report(&b, s.snapshot(excluded)); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

// apiResult is one result in the JSON API.
type apiResult struct {
	Status     string          `json:"status"`
	Message    string          `json:"message"`
	Started    time.Time       `json:"started"`
	DurationMS float64         `json:"duration_ms"`
	Metrics    []result.Metric `json:"metrics,omitempty"`
}

// apiCheck is a check in the JSON API: its reported status and, for
// /api/v1/checks/NAME, its history, oldest first.
type apiCheckJSON struct {
	Name      string      `json:"name"`
	Status    string      `json:"status"` // after fail_after/ok_after; "pending" before the first result
	Flapping  bool        `json:"flapping"`
	Running   bool        `json:"running"`
	IntervalS float64     `json:"interval_seconds"`
	Tags      []string    `json:"tags"`
	Location  string      `json:"location"`
	Latest    *apiResult  `json:"latest"` // the newest result, which fail_after may hold back
	Runs      uint64      `json:"runs"`
	History   []apiResult `json:"history,omitempty"`
	FailAfter int         `json:"fail_after"`
	OkAfter   int         `json:"ok_after"`
}

func toAPI(e entry) apiResult {
	return apiResult{Status: e.status.String(), Message: e.message(), Started: e.startedAt(),
		DurationMS: float64(e.duration.Microseconds()) / 1000, Metrics: e.metrics()}
}

// checkJSON describes st; the caller holds s.mu.
func (s *Server) checkJSON(st *checkState, withHistory bool) apiCheckJSON {
	c := st.check
	iv := c.Interval
	if iv == 0 {
		iv = s.cfg.Interval
	}
	j := apiCheckJSON{Name: c.Name, Status: "pending", Flapping: st.flapping(), Running: st.running,
		IntervalS: iv.Seconds(), Tags: c.Tags, Location: fmt.Sprintf("%s:%d", c.File, c.Line),
		FailAfter: c.FailAfter, OkAfter: c.OkAfter}
	if j.Tags == nil {
		j.Tags = []string{}
	}
	j.Runs = st.runCount()
	if st.has {
		j.Status = st.reported.status.String()
		l, _ := st.latest()
		a := toAPI(l)
		j.Latest = &a
	}
	if withHistory {
		j.History = make([]apiResult, st.history.len())
		for i := range j.History {
			j.History[i] = toAPI(st.history.at(i))
		}
	}
	return j
}

// apiDoc is GET /api/v1/checks.
type apiDoc struct {
	Script     string         `json:"script"`
	Loaded     bool           `json:"loaded"`      // the latest load or reload succeeded
	LoadErrors []string       `json:"load_errors"` // of the latest attempt
	LoadedAt   time.Time      `json:"loaded_at"`   // of the running script
	Checks     []apiCheckJSON `json:"checks"`
}

func (s *Server) apiChecks(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	doc := apiDoc{Script: s.cfg.Script.Path, Loaded: s.loadOK, LoadErrors: append([]string{}, s.loadErrors...), Checks: []apiCheckJSON{}}
	if s.cur != nil {
		doc.LoadedAt = s.cur.at
		for _, st := range s.cur.order {
			doc.Checks = append(doc.Checks, s.checkJSON(st, false))
		}
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, doc)
}

func (s *Server) apiCheck(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	s.mu.RLock()
	var st *checkState
	if s.cur != nil {
		st = s.cur.byName[name]
	}
	var j apiCheckJSON
	if st != nil {
		j = s.checkJSON(st, true)
	}
	s.mu.RUnlock()
	if st == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no check %q in %s", name, s.cfg.Script.Path)})
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// reloadHTTP is POST /-/reload: 200 when the script reloaded, 422 with
// the reason when it did not (the old checks keep running).
func (s *Server) reloadHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.Reload(r.Context()); err != nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprintf(w, "reload failed; the previous script keeps running: %s\n", s.cfg.Scrub(err.Error()))
		return
	}
	fmt.Fprintln(w, "reloaded")
}
