package runtime

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/result"
)

// The rounds of a --wait run share the Deps' HTTP connections: a server
// that is down twice and then up sees one connection, however many rounds
// it took, with the RunOptions' Deps and with the default one alike.
func TestWaitRoundsReuseConnections(t *testing.T) {
	for _, tt := range []struct {
		name string
		deps func(t *testing.T) *builtins.Deps
	}{
		{"own Deps", func(t *testing.T) *builtins.Deps {
			d := builtins.NewDeps()
			t.Cleanup(d.Close)
			return d
		}},
		{"default Deps", func(*testing.T) *builtins.Deps { return nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var conns, requests atomic.Int32
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if requests.Add(1) <= 2 {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				w.Write([]byte("ok"))
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			g := load(t, LoadOptions{Env: func(string) (string, bool) { return srv.URL, true }}, map[string]string{"guard.star": `
URL = env("URL")
check("api", lambda: http_check(URL, retries = 0).ok)
`})
			rep := g.RunUntil(context.Background(), RunOptions{Deps: tt.deps(t)}, Wait{For: 10 * time.Second, Interval: 10 * time.Millisecond})
			if rep.Rounds != 3 || rep.Checks[0].Status != result.OK {
				t.Fatalf("%d rounds, api %s %q; want 3 rounds and ok", rep.Rounds, rep.Checks[0].Status, rep.Checks[0].Message)
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("3 rounds opened %d connections, want 1", n)
			}
		})
	}
}
