package builtins

// This file holds listening(), which says whether something listens on a
// port of this machine and, when this user may see it, which process:
// "postgres listens on :5432". It reads the kernel's socket tables
// (/proc/net/tcp, tcp6, udp, udp6) rather than connecting, so it needs no
// network access, sees UDP, and cannot be fooled by a firewall.

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
)

// SocketTables reads the kernel's socket tables and who owns a socket.
type SocketTables interface {
	// Table returns the contents of /proc/net/NAME: "tcp", "tcp6", "udp"
	// or "udp6". A table that does not exist (no IPv6) is empty, not an
	// error.
	Table(name string) ([]byte, error)
	// Owners maps socket inodes to the lowest PID of a process that
	// holds them open; inodes no visible process holds are left out
	// (reading another user's descriptors needs privileges).
	Owners(inodes []uint64) (map[uint64]int, error)
}

// socket is one bound socket of a table.
type socket struct {
	addr  netip.AddrPort
	inode uint64
}

// TCP_LISTEN, and the state of an unconnected UDP socket, in the st column.
const (
	tcpListen = 0x0A
	udpBound  = 0x07
)

// parseSocketTable reads /proc/net/tcp{,6} or udp{,6} and returns the
// sockets in state (listening for TCP, bound and unconnected for UDP).
// Lines it cannot read are skipped: the format is the kernel's, and a
// half-read line must not hide the others.
func parseSocketTable(data []byte, state int) []socket {
	var out []socket
	lines := bytes.Split(data, []byte("\n"))
	for _, line := range lines[min(1, len(lines)):] { // the first line is the header
		f := strings.Fields(string(line))
		if len(f) < 10 {
			continue
		}
		st, err := strconv.ParseUint(f[3], 16, 8)
		if err != nil || int(st) != state {
			continue
		}
		addr, ok := parseHexAddrPort(f[1])
		if !ok {
			continue
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			continue
		}
		out = append(out, socket{addr, inode})
	}
	return out
}

// parseHexAddrPort reads "0100007F:1F90" (127.0.0.1:8080): the address in
// 32-bit words of host byte order, the port big-endian.
func parseHexAddrPort(s string) (netip.AddrPort, bool) {
	h, p, ok := strings.Cut(s, ":")
	if !ok || (len(h) != 8 && len(h) != 32) {
		return netip.AddrPort{}, false
	}
	raw, err := hex.DecodeString(h)
	if err != nil {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	var b [16]byte
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(b[i:], binary.NativeEndian.Uint32(raw[i:]))
	}
	var addr netip.Addr
	if len(raw) == 4 {
		addr = netip.AddrFrom4([4]byte(b[:4]))
	} else {
		addr = netip.AddrFrom16(b)
	}
	return netip.AddrPortFrom(addr, uint16(port)), true
}

// listening(port, proto="tcp", addr=None) reports whether a socket
// listens on port (a TCP listener, or a bound UDP socket).
func listening(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := ctxOf(thread)
	var (
		port  int
		proto = "tcp"
		addr  optString // None: any address
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "port", &port, "proto?", &proto, "addr?", &addr); err != nil {
		return nil, err
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("%s: port %d is out of range 1-65535", b.Name(), port)
	}
	state := tcpListen
	switch proto {
	case "tcp":
	case "udp":
		state = udpBound
	default:
		return nil, fmt.Errorf("%s: proto %q: want \"tcp\" or \"udp\"", b.Name(), proto)
	}
	var want netip.Addr
	if addr.set {
		var err error
		if want, err = netip.ParseAddr(addr.s); err != nil {
			return nil, fmt.Errorf("%s: addr %q is not an IP address (like \"127.0.0.1\" or \"::1\")", b.Name(), addr.s)
		}
		want = want.Unmap()
	}
	tables := depsOf(thread).Sockets
	return sample(ctx, b, "", func() (starlark.StringDict, error) {
		var found []socket
		for _, name := range []string{proto, proto + "6"} {
			data, err := tables.Table(name)
			if err != nil {
				return nil, fmt.Errorf("reading the %s socket table: %v", name, pathErr(err))
			}
			for _, s := range parseSocketTable(data, state) {
				if int(s.addr.Port()) == port && (!want.IsValid() || addrMatches(s.addr.Addr(), want)) {
					found = append(found, s)
				}
			}
		}
		fields := starlark.StringDict{
			"ok":      starlark.Bool(len(found) > 0),
			"port":    starlark.MakeInt(port),
			"proto":   starlark.String(proto),
			"addrs":   starlark.NewList(nil),
			"pid":     starlark.None,
			"process": starlark.None,
		}
		if len(found) == 0 {
			return fields, nil
		}
		var addrs []string
		inodes := make([]uint64, 0, len(found))
		for _, s := range found {
			a := netip.AddrPortFrom(s.addr.Addr().Unmap(), s.addr.Port()).String()
			if !slices.Contains(addrs, a) {
				addrs = append(addrs, a)
			}
			inodes = append(inodes, s.inode)
		}
		slices.Sort(addrs)
		vals := make([]starlark.Value, len(addrs))
		for i, a := range addrs {
			vals[i] = starlark.String(a)
		}
		fields["addrs"] = starlark.NewList(vals)
		owners, err := tables.Owners(inodes)
		if err != nil {
			return nil, fmt.Errorf("finding the process that owns port %d: %v", port, err)
		}
		pid := 0
		for _, p := range owners {
			if pid == 0 || p < pid {
				pid = p
			}
		}
		if pid > 0 {
			fields["pid"] = starlark.MakeInt(pid)
			if name, ok := procName(depsOf(thread).Procs, pid); ok {
				fields["process"] = starlark.String(name)
			}
		}
		return fields, nil
	})
}

// addrMatches says whether a socket bound to bound accepts connections to
// want: the same address, or the wildcard of its family (:: also takes
// IPv4 unless the socket is IPv6-only, which /proc does not show).
func addrMatches(bound, want netip.Addr) bool {
	bound = bound.Unmap()
	switch {
	case bound == want:
		return true
	case bound == netip.IPv4Unspecified():
		return want.Is4()
	case bound == netip.IPv6Unspecified():
		return true
	}
	return false
}

// procName is the name of the process pid, from its stat file.
func procName(procs ProcFS, pid int) (string, bool) {
	data, err := procs.ReadFile(pid, "stat", nil)
	if err != nil {
		return "", false
	}
	st, ok := parseStat(data)
	return st.comm, ok
}

// procSockets is the production SocketTables: the files of /proc (root).
type procSockets struct{ root string }

func (p procSockets) Table(name string) ([]byte, error) {
	data, err := os.ReadFile(p.root + "/net/" + name)
	if os.IsNotExist(err) {
		return nil, nil // no IPv6 in this kernel
	}
	return data, err
}

// Owners looks through the file descriptors of every process it may read
// for the sockets, stopping once it has found them all.
func (p procSockets) Owners(inodes []uint64) (map[uint64]int, error) {
	want := map[string]uint64{}
	for _, in := range inodes {
		want["socket:["+strconv.FormatUint(in, 10)+"]"] = in
	}
	pids, err := procfs(p).PIDs()
	if err != nil {
		return nil, err
	}
	slices.Sort(pids)
	out := map[uint64]int{}
	for _, pid := range pids {
		dir := p.root + "/" + strconv.Itoa(pid) + "/fd"
		f, err := os.Open(dir)
		if err != nil {
			continue // exited, or another user's
		}
		names, _ := f.Readdirnames(-1)
		f.Close()
		for _, n := range names {
			link, err := os.Readlink(dir + "/" + n)
			if err != nil {
				continue
			}
			if in, ok := want[link]; ok {
				if _, seen := out[in]; !seen {
					out[in] = pid
				}
			}
		}
		if len(out) == len(want) {
			break
		}
	}
	return out, nil
}
