// Package builtins holds the Starlark builtins that guard scripts call: results
// (ok, warn, fail, skip, worst, threshold), the system probes (disk, memory, …,
// process, file), configuration (env, require_env, secret) and the network
// probes (http_check, tcp, dns, tls_cert). One file per area; registry.go
// lists them all, with their phase and documentation.
//
// Builtins get everything they depend on from the Starlark thread, never
// from package variables: the check's context and the run's shared state
// (thread.go), and the machine, network and clock they read (Deps, deps.go),
// so tests can run many scripts in parallel with different contexts,
// clocks and fakes.
package builtins
