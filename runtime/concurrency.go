package runtime

// This file holds the default --concurrency: as many checks at once as the
// process's open-file limit and the machine's memory allow, so that a
// guard of thousands of HTTP checks runs in one wave where it can, and a
// small container does not run out of either.

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// The rule of DefaultConcurrency (docs/design.md, "Deadlines, limits and
// signals").
const (
	// fdsPerCheck: a running network check holds a socket, and a second
	// one for a moment while a dial falls back from IPv6 to IPv4 or a DNS
	// lookup is under way.
	fdsPerCheck = 2
	// fdReserve is kept for everything else: the script and its files,
	// the serve listener and its clients, plugins' pipes. A quarter of
	// the limit when the limit is small.
	fdReserve = 256
	// memPerCheck is the memory allowed per running check. An HTTP check
	// in flight takes about 40 KiB (bench/http/README.md), an HTTPS one
	// more, so the default lets running checks take at most a sixth or so
	// of the machine's or the container's memory.
	memPerCheck = 256 << 10
	// minDefaultConcurrency is the floor, whatever the limits say: fewer
	// would make a guard of slow checks crawl.
	minDefaultConcurrency = 16
	// maxDefaultConcurrency bounds the default on a large machine, so a
	// guard with a million checks cannot take gigabytes at once: 10,000
	// HTTP checks in flight are about half a GiB. --concurrency goes higher.
	maxDefaultConcurrency = 10_000
)

// DefaultConcurrency is the number of checks run at once when RunOptions
// (--concurrency) does not say: two open files per check within the
// open-file limit after a reserve, one check per 256 KiB of memory (the
// machine's, or its cgroup's limit when lower), and from 16 to 10,000.
// Go raises the soft open-file limit to the hard one when the process
// starts (and puts it back for the programs it starts), so the hard limit
// is the one that counts. Worked out once
// per process.
func DefaultConcurrency() int { return defaultConcurrency() }

var defaultConcurrency = sync.OnceValue(func() int {
	return concurrencyFor(openFileLimit(), memoryLimit())
})

// concurrencyFor is the rule of DefaultConcurrency for an open-file limit
// and a memory size in bytes, each 0 when unknown (no bound from it).
func concurrencyFor(openFiles, memory uint64) int {
	n := uint64(maxDefaultConcurrency)
	if openFiles > 0 {
		reserve := min(fdReserve, openFiles/4)
		n = min(n, (openFiles-reserve)/fdsPerCheck)
	}
	if memory > 0 {
		n = min(n, memory/memPerCheck)
	}
	return int(max(n, minDefaultConcurrency))
}

// memoryLimit is the machine's memory, or its cgroup's limit when that is
// lower, in bytes; 0 when it cannot be read (not Linux).
func memoryLimit() uint64 {
	total := memTotal(readFile("/proc/meminfo"))
	if limit := cgroupMemoryLimit(readFile("/proc/self/cgroup"), readFile); limit > 0 && (total == 0 || limit < total) {
		return limit
	}
	return total
}

func readFile(name string) []byte {
	b, _ := os.ReadFile(name) // missing: not Linux, or no such cgroup
	return b
}

// memTotal reads MemTotal from /proc/meminfo.
func memTotal(meminfo []byte) uint64 {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(rest, "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// cgroupMemoryLimit is the memory limit of the cgroup that /proc/self/cgroup
// names, v2 (memory.max) or v1 (memory.limit_in_bytes); 0 for none. read
// returns a file's contents, nil when it is missing.
func cgroupMemoryLimit(selfCgroup []byte, read func(string) []byte) uint64 {
	sc := bufio.NewScanner(bytes.NewReader(selfCgroup))
	for sc.Scan() {
		// hierarchy-ID:controller-list:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		var file string
		switch {
		case parts[0] == "0" && parts[1] == "":
			file = filepath.Join("/sys/fs/cgroup", parts[2], "memory.max")
		case strings.Contains(","+parts[1]+",", ",memory,"):
			file = filepath.Join("/sys/fs/cgroup/memory", parts[2], "memory.limit_in_bytes")
		default:
			continue
		}
		// "max", or v1's page-rounded 2^63 when there is no limit.
		v, err := strconv.ParseUint(strings.TrimSpace(string(read(file))), 10, 64)
		if err == nil && v < 1<<62 {
			return v
		}
	}
	return 0
}
