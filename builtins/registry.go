package builtins

// This file holds the table of builtins: each one's name, the phase from
// which it may be called, its user documentation and its Go function. The
// table is the one place that decides what a script sees (Predeclared),
// which builtins refuse to run while the script loads (the registry adds
// that refusal, so no builtin writes it by hand), and what `infra-guard
// doc` shows.

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/result"
)

// Phase is the earliest phase of a run in which a builtin may be called.
type Phase int

const (
	// LoadPhase builtins work while the script loads and inside checks:
	// they are pure (ok, threshold) or read configuration (env, secret).
	LoadPhase Phase = iota
	// RunPhase builtins touch the machine or the network, so they work only
	// inside a check function, on a thread that has the check's context:
	// vet and list, which only load the script, must have no side effects.
	RunPhase
)

func (p Phase) String() string {
	if p == RunPhase {
		return "run"
	}
	return "load"
}

// Fn is the Go function of a builtin, as starlark.NewBuiltin takes it.
type Fn = func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)

// Descriptor describes one builtin.
type Descriptor struct {
	Name  string
	Phase Phase
	// Doc is the user documentation: the signature, then one paragraph.
	Doc string
	Fn  Fn
}

// table lists every builtin, in the order docs/builtins.md presents them.
// check() is not here: it belongs to the runtime, which owns the registry
// of checks it fills.
var table = []Descriptor{
	{"disk", RunPhase, `disk(path="/")

Reports the usage of the file system that holds path (any file or directory on it), as a struct with path (as given), fstype (from the mount table: "ext4", "xfs", "overlay"…), total, free (available to unprivileged users, df's Avail) and used in bytes, used_percent (as df's Use%), inodes_total, inodes_used and inodes_percent. A path that does not exist, or a file system that does not answer by the check's deadline, is an error naming the path. Each path is read once per run and shared by every check of the run (an --wait round or a serve interval is a new run).`, disk},

	{"disks", RunPhase, `disks(fstype=None, exclude=[])

Reports every real mount as disk() would, as a list of disk results sorted by mount point. Pseudo file systems (proc, sysfs, cgroup…), read-only images (squashfs…), mounts below /proc, /sys and /dev or inside a container runtime's directory, hidden mounts and repeated devices are left out. fstype (a type or a list of types; None for every type) keeps only mounts of those types; exclude (a glob or a list of globs, as Go's path.Match reads them) leaves out mount points that match, and whatever is mounted below a directory that matches. statfs runs on all mounts at once; one that does not answer by the check's deadline is named in the error.`, disks},

	{"memory", RunPhase, `memory()

Reports physical memory and swap, as a struct with total, available (what new work can use without swapping, Linux's MemAvailable), used (total - available) and used_percent, and swap_total, swap_used and swap_percent (0 without swap). In a container these are the machine's numbers, not the cgroup limit's. The figures are read once per run and shared by every check of the run.`, memory},

	{"loadavg", RunPhase, `loadavg()

Reports the load averages load1, load5 and load15 (floats) and cores, the number of CPUs this process may run on (taskset and cpusets count, a CPU quota does not), so load5 / cores compares across machines.`, loadavg},

	{"host", RunPhase, `host()

Describes the machine, as a struct with hostname, os ("linux"), platform and platform_version (ID and VERSION_ID of /etc/os-release: "ubuntu" and "24.04"; "" without the file), kernel (uname -r), uptime_seconds (float) and boot_time (Unix seconds).`, host},

	{"process", RunPhase, `process(name=None, pattern=None, user=None, state=None, include_zombies=False)

Lists the running processes that match every filter given: name is the executable name, matched exactly; pattern a regular expression (RE2) searched for in the command line, like pgrep -f; user the effective user, a name or a numeric uid; state one state or a list of them (running, sleeping, disk_sleep, stopped, tracing_stop, zombie, dead, idle, parked, wakekill, waking). Zombies (processes that have exited and wait for their parent to reap them; "<defunct>" in ps) are left out unless include_zombies=True or state asks for them. The result has count, pids (ascending), zombies (how many matching processes are zombies, counted or not) and procs, one struct per process with pid, name, cmdline, user, state, rss (bytes) and start_time (Unix seconds). A zombie has no command line, so pattern never matches one. No match is count == 0, not an error. The process table is read once per run and shared by every check of the run; infra-guard never lists itself.`, process},

	{"listening", RunPhase, `listening(port, proto="tcp", addr=None)

Reports whether something listens on port of this machine: a TCP socket in the LISTEN state, or, with proto="udp", a bound UDP socket. It reads the kernel's socket tables (/proc/net/tcp, tcp6, udp, udp6) and connects to nothing. addr (an IP address; None for any) keeps the sockets that accept connections to it: bound to it, or to the wildcard address (0.0.0.0 for IPv4, :: for both). The result has ok, port, proto, addrs (the "ip:port" the sockets are bound to, sorted) and pid and process (the lowest PID that holds a matching socket, and its name), which are None when no process this user may inspect holds it (run as root to see every owner). In a container, HOST_PROC points at the host's /proc; the host's sockets need hostNetwork too.`, listening},

	{"file", RunPhase, `file(path)

Reports the metadata of the file or directory at path, following symbolic links, as a struct with exists, is_dir, size, mode (octal text such as "0644"), mtime (Unix seconds) and age_seconds. A missing file is not an error: exists is False and size, mode, mtime and age_seconds are None, so a comparison with them fails loudly instead of passing. Its contents are read only on demand: read(limit="1MiB") returns them as a string (limit is a number of bytes or a size such as "64KiB" or "2GiB"; a larger file is an error, not a cut), and sha256() returns the hex SHA-256 of them, read as a stream. Both work only on a regular file (a directory, FIFO or device is an error), inside a check, under its deadline.`, file},

	{"http_check", RunPhase, `http_check(url, method="GET", headers={}, body=None, json=None, timeout="10s", retries=2, follow_redirects=True, insecure=False, ca_file=None, idempotency_key=None, expect_status=None, basic_auth=None)

Sends one HTTP request, retrying connection failures, timeouts and 500, 429, 502, 503 and 504 answers of idempotent requests with full-jitter backoff, all within timeout. A network failure is a value, not an error: the response has ok (no error and a 2xx status, or one in expect_status), status, error (plain words, "" when there was none), headers, body (at most 1 MiB), truncated, json(), duration_ms, first_attempt_ms, attempts, url (redacted) and tls (days_left, not_after, issuer, subject) for https. url, header values, body, the basic_auth password and idempotency_key may be secrets. ca_file is a PEM bundle trusted instead of the system roots; None means the system roots. The checks of a run share one connection pool per insecure/ca_file setting.`, httpCheck},

	{"tcp", RunPhase, `tcp(addr, send=None, expect=None, expect_re=None, tls=False, server_name=None, ca_file=None, insecure=False, timeout="5s")

Opens a TCP connection to addr ("host:port"), optionally talks to the server, and closes it. With tls=True it completes a TLS handshake first and verifies the certificate against server_name (None: the host of addr) and ca_file (a PEM bundle; None: the system roots); a certificate that does not verify ends the check before anything is sent, unless insecure=True. send (a string or a secret) is written as is, so write "
" where the protocol wants it. expect (a substring) or expect_re (a regular expression, RE2) makes tcp() read until what the server sent matches, the server closes the connection, 64 KiB arrived or the timeout passes. The result has ok (connected, and matched when asked to), response (what was read, at most 64 KiB; "" without expect), tls (None without tls=True, else verified, days_left, not_after, issuer, subject and sans, as tls_cert() reports them), duration_ms and error ("connection refused (10.0.0.5:5432)", "\"+PONG\" not received: timed out after 5s; received \"-ERR…\""; "" when ok). Redis: tcp(addr, send="PING\r\n", expect="+PONG"); an SMTP banner: tcp(addr, expect_re="^220 ").`, tcpCheck},

	{"grpc_health", RunPhase, `grpc_health(addr, service="", tls=False, server_name=None, ca_file=None, insecure=False, timeout="5s")

Asks the standard health service (grpc.health.v1.Health/Check) of the gRPC server at addr ("host:port") about service ("" for the server as a whole) and returns a result, usable as a check's return value: SERVING is ok, NOT_SERVING fail, UNKNOWN, a service the server does not know (SERVICE_UNKNOWN) or a server without a health service unknown, and a server that cannot be reached or does not answer within timeout fail. An answer has the metric latency_ms. With tls=True the certificate is verified against server_name (None: the host of addr) and ca_file (a PEM bundle; None: the system roots), unless insecure=True; without it the connection is plaintext (h2c).`, grpcHealth},

	{"dns", RunPhase, `dns(name, type="A", server=None, timeout="5s")

Looks name up, with the system resolver or, with server ("10.0.0.2" or "10.0.0.2:5353"; None for the system resolver), by asking that server directly. type is A, AAAA, CNAME, MX, TXT or SRV. The result has ok (at least one record came back), records (a list of strings), duration_ms and error.`, dnsCheck},

	{"tls_cert", RunPhase, `tls_cert(addr, server_name=None, timeout="5s", ca_file=None)

Connects to addr ("host:port"), completes a TLS handshake and reports the server's certificate, verified separately so that an expired or untrusted certificate still reports its dates. server_name is sent as SNI and verified (None: the host of addr); ca_file is a PEM bundle trusted instead of the system roots (None: the system roots). The result has ok, verified, days_left (negative once expired; None without a certificate), not_after, issuer, subject, sans and error.`, tlsCert},

	{"plugin", RunPhase, `plugin(name, *args, timeout=None, env={}, allow_secret_args=False)

Runs the Monitoring Plugins-compatible program name (check_disk, check_tcp…) with args and returns its result: exit code 0 is ok, 1 warn, 2 fail, anything else unknown; the first line of its output is the message, the lines after it long_text, and its performance data ('label'=value[unit];warn;crit;min;max) the metrics. name is a bare file name looked up in the plugin directories (/usr/lib/nagios/plugins and /usr/lib/monitoring-plugins, or those --plugin-dir names), never through a shell or PATH. The plugin runs with only PATH=/usr/bin:/bin, LANG=C and env in its environment, in a process group of its own that is killed at timeout or the check's deadline and once the plugin exits; at most 64 KiB of its standard output and error are read. args are strings or numbers; a secret is refused in args (every user can read a process's arguments) unless allow_secret_args=True: pass it in env instead. A plugin that is missing or not executable is an error; one killed at the deadline is an unknown result.`, plugin},

	{"threshold", LoadPhase, `threshold(value, warn=None, crit=None, name="", unit="")

Judges a number against a critical and a warning limit and returns a fail, warn or ok result with one metric. A number N means alert above N; a string is a Nagios range ("10:" alerts below 10, "@10:20" inside 10..20). The message says the value and the limits: "root disk 85.2% (warn > 80, crit > 90)".`, threshold},

	{"ok", LoadPhase, `ok(msg="", metrics={})

Makes an ok result, with a message and {name: number} metrics to report. A result has status, message and metrics; ok and skip results are truthy, warn and fail falsy.`, statusBuiltin(result.OK)},

	{"warn", LoadPhase, `warn(msg="", metrics={})

Makes a warn result, with a message and {name: number} metrics to report.`, statusBuiltin(result.Warn)},

	{"fail", LoadPhase, `fail(msg="", metrics={})

Makes a fail result, with a message and {name: number} metrics to report.`, statusBuiltin(result.Fail)},

	{"skip", LoadPhase, `skip(msg="", metrics={})

Makes a skip result, for a check that does not apply here (no swap configured, say), with a message and {name: number} metrics to report.`, statusBuiltin(result.Skip)},

	{"worst", LoadPhase, `worst(*results)

Returns the most severe of several results (FAIL > UNKNOWN > WARN > OK > SKIP), with the messages of all joined by "; " and their metrics merged. A single list or tuple argument is spread; True, False and None count as they would when returned from a check.`, worst},

	{"env", LoadPhase, `env(name, default=None, type="string", choices=None, pattern="")

Returns the environment variable name converted to type (string, int, float, bool, duration, url or list) and checked against choices and pattern. At the top level of the script every missing or invalid variable is recorded and the zero value returned, so one run lists all of them (exit 3); inside a check a problem is an error of that check. Names that look like secrets are refused: read them with secret().`, env},

	{"require_env", LoadPhase, `require_env(*names)

Records every variable of names that is not set or is empty, like env(), so one run lists them all; inside a check it raises one error naming the missing ones. Returns None.`, requireEnv},

	{"secret", LoadPhase, `secret(name)

Reads the secret NAME from the variable NAME, or from the file the variable NAME_FILE names, and returns an opaque Secret for http_check's URL, headers, body and basic_auth. Only at the top level of the script: the value is registered with the output scrubber before any check runs. str() of a secret is <secret:NAME>; + with strings keeps it secret.`, secret},
}

// Table returns the descriptors of every builtin, in the order
// docs/builtins.md presents them.
func Table() []Descriptor { return append([]Descriptor(nil), table...) }

// Predeclared returns the builtins every guard script sees, except check(),
// which belongs to the runtime's registry. Each call returns a new dict,
// which the caller may extend.
func Predeclared() starlark.StringDict { return maps.Clone(predeclared()) }

// predeclared builds the builtins once: they hold no state, so every
// script and thread can share them.
var predeclared = sync.OnceValue(func() starlark.StringDict {
	d := make(starlark.StringDict, len(table))
	for _, desc := range table {
		d[desc.Name] = starlark.NewBuiltin(desc.Name, desc.wrapped())
	}
	return d
})

// wrapped is the builtin's function as scripts call it: a run-phase builtin
// first refuses to run without a check's context, before it looks at its
// arguments, so the message is the same whatever the call.
func (d Descriptor) wrapped() Fn {
	if d.Phase != RunPhase {
		return d.Fn
	}
	fn := d.Fn
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if Context(thread) == nil {
			return nil, fmt.Errorf("%s() can only be called inside a check function (the load phase has no side effects); wrap it in a def and register that with check()", b.Name())
		}
		defer enter(thread, b, args)()
		return fn(thread, b, args, kwargs)
	}
}

// ctxOf returns the check's context. The registry calls a run-phase
// builtin only on a thread that has one; Background stands in for a
// builtin called around the registry (a test's direct call).
func ctxOf(thread *starlark.Thread) context.Context {
	if ctx := Context(thread); ctx != nil {
		return ctx
	}
	return context.Background()
}
