package serve

// This file holds the status page at /: server-rendered from an embedded
// html/template, which escapes every text (all of it already scrubbed of
// secrets), with no script but a reload every 10 s.

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"
)

//go:embed page.html
var pageHTML string

// pageTmpl is parsed on first use, not at every start of the binary: most
// never serve a page.
var pageTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(pageHTML))
})

type pageCheck struct {
	Name, Status, Class, Message string
	LastRun, Duration, Interval  string
	Flapping, Running            bool
	Strip                        []string
}

type pageData struct {
	Title, Script, LoadedAt, LoadAt, Now, Summary string
	Loaded, Running                               bool
	LoadErrors                                    []string
	Checks                                        []pageCheck
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	const stamp = "2006-01-02 15:04:05 MST"
	s.mu.RLock()
	d := pageData{Title: "infra-guard", Script: s.cfg.Script.Path, Loaded: s.loadOK, Running: s.cur != nil,
		LoadErrors: append([]string(nil), s.loadErrors...), LoadAt: s.loadAt.Format(stamp), Now: time.Now().Format(stamp)}
	counts := map[string]int{}
	if s.cur != nil {
		d.LoadedAt = s.cur.at.Format(stamp)
		for _, st := range s.cur.order {
			c := st.check
			iv := c.Interval
			if iv == 0 {
				iv = s.cfg.Interval
			}
			pc := pageCheck{Name: c.Name, Status: "pending", Class: "pending", LastRun: "never", Duration: "-",
				Interval: iv.String(), Flapping: st.flapping(), Running: st.running}
			if st.has {
				l, _ := st.latest()
				pc.Status = st.reported.status.String()
				pc.Class = pc.Status
				pc.Message = st.reported.message()
				if l.status != st.reported.status {
					pc.Message += fmt.Sprintf(" (latest run: %s: %s, held back by fail_after/ok_after)", strings.ToUpper(l.status.String()), l.message())
				}
				pc.LastRun = l.startedAt().Format(stamp)
				pc.Duration = l.duration.Round(time.Microsecond).String()
			}
			pc.Strip = make([]string, st.history.len())
			for i := range pc.Strip {
				pc.Strip[i] = st.history.at(i).status.String()
			}
			counts[pc.Status]++
			d.Checks = append(d.Checks, pc)
		}
	}
	var parts []string
	for _, k := range []string{"ok", "warn", "fail", "unknown", "skip", "pending"} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	d.Summary = fmt.Sprintf("%d checks", len(d.Checks))
	if len(parts) > 0 {
		d.Summary += ": " + strings.Join(parts, ", ")
	}
	s.mu.RUnlock()
	var b bytes.Buffer
	if err := pageTmpl().Execute(&b, d); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'")
	_, _ = w.Write(b.Bytes())
}
