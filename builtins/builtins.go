// Package builtins holds the Starlark builtins that guard scripts call: results
// (ok, warn, fail, skip, worst, threshold), the system probes (disk, memory, …,
// process, file), configuration (env, require_env, secret) and the network
// probes (http_check, tcp, dns, tls_cert). One file per area.
//
// Builtins get everything they depend on from the Starlark thread (see
// thread.go), never from package variables, so tests can run many scripts in
// parallel with different contexts and clocks.
package builtins

import (
	"github.com/infra-guard/infra-guard/result"
	"go.starlark.net/starlark"
)

// Predeclared returns the builtins every guard script sees, except check(),
// which belongs to the runtime's registry.
func Predeclared() starlark.StringDict {
	return starlark.StringDict{
		"ok":        starlark.NewBuiltin("ok", statusBuiltin(result.OK)),
		"warn":      starlark.NewBuiltin("warn", statusBuiltin(result.Warn)),
		"fail":      starlark.NewBuiltin("fail", statusBuiltin(result.Fail)),
		"skip":      starlark.NewBuiltin("skip", statusBuiltin(result.Skip)),
		"worst":     starlark.NewBuiltin("worst", worst),
		"threshold": starlark.NewBuiltin("threshold", threshold),
		"disk":      starlark.NewBuiltin("disk", disk),
		"memory":    starlark.NewBuiltin("memory", memory),
		"loadavg":   starlark.NewBuiltin("loadavg", loadavg),
		"disks":     starlark.NewBuiltin("disks", disks),
		"host":      starlark.NewBuiltin("host", host),
		"process":   starlark.NewBuiltin("process", process),
		"file":      starlark.NewBuiltin("file", file),

		// configuration: env.go, secret.go
		"env":         starlark.NewBuiltin("env", env),
		"require_env": starlark.NewBuiltin("require_env", requireEnv),
		"secret":      starlark.NewBuiltin("secret", secret),

		// network: http.go, net.go
		"http_check": starlark.NewBuiltin("http_check", httpCheck),
		"tcp":        starlark.NewBuiltin("tcp", tcpCheck),
		"dns":        starlark.NewBuiltin("dns", dnsCheck),
		"tls_cert":   starlark.NewBuiltin("tls_cert", tlsCert),
	}
}
