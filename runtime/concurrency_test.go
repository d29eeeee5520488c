package runtime

import "testing"

func TestConcurrencyFor(t *testing.T) {
	const GiB = 1 << 30
	tests := []struct {
		name           string
		openFiles, mem uint64
		want           int
	}{
		{"limits unknown: the cap", 0, 0, 10_000},
		{"20,000 files, 24 GiB: two files a check after 256", 20_000, 24 * GiB, 9872},
		{"1,024 files (a common soft limit)", 1024, 24 * GiB, 384},
		{"a hard limit of 1,048,576 and 64 GiB: the cap", 1 << 20, 64 * GiB, 10_000},
		{"unlimited files (RLIM_INFINITY)", 1<<64 - 1, 0, 10_000},
		{"256 files: a quarter kept, not 256", 256, 0, 96},
		{"a 512 MiB container", 1 << 20, 512 << 20, 2048},
		{"a 128 MiB container", 1 << 20, 128 << 20, 512},
		{"tiny limits: the floor", 20, 1 << 20, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := concurrencyFor(tt.openFiles, tt.mem); got != tt.want {
				t.Errorf("concurrencyFor(%d, %d) = %d, want %d", tt.openFiles, tt.mem, got, tt.want)
			}
		})
	}
}

func TestDefaultConcurrencyFollowsThisProcess(t *testing.T) {
	got := DefaultConcurrency()
	if want := concurrencyFor(openFileLimit(), memoryLimit()); got != want {
		t.Errorf("DefaultConcurrency() = %d, want %d from this process's limits", got, want)
	}
	if got < minDefaultConcurrency || got > maxDefaultConcurrency {
		t.Errorf("DefaultConcurrency() = %d, outside %d..%d", got, minDefaultConcurrency, maxDefaultConcurrency)
	}
	big := &Guard{Checks: make([]*Check, minDefaultConcurrency+1)}
	if r := (RunOptions{}).withDefaults(big); r.Concurrency != got {
		t.Errorf("RunOptions{} gets concurrency %d, want DefaultConcurrency() %d", r.Concurrency, got)
	}
	if r := (RunOptions{Concurrency: 3}).withDefaults(&Guard{}); r.Concurrency != 3 {
		t.Errorf("RunOptions{Concurrency: 3} gets %d", r.Concurrency)
	}
}

// A guard of at most minDefaultConcurrency checks never reaches the
// default, whatever it is: it runs without reading the machine's limits.
func TestSmallGuardReadsNoLimits(t *testing.T) {
	saved := defaultConcurrency
	t.Cleanup(func() { defaultConcurrency = saved })
	defaultConcurrency = func() int {
		t.Error("read the machine's limits for a guard of 16 checks")
		return saved()
	}
	small := &Guard{Checks: make([]*Check, minDefaultConcurrency)}
	if r := (RunOptions{}).withDefaults(small); r.Concurrency != minDefaultConcurrency {
		t.Errorf("a guard of %d checks gets concurrency %d, want %d", len(small.Checks), r.Concurrency, minDefaultConcurrency)
	}
}

func TestMemTotal(t *testing.T) {
	meminfo := "MemTotal:       24683656 kB\nMemFree:        20404292 kB\n"
	if got := memTotal([]byte(meminfo)); got != 24683656<<10 {
		t.Errorf("memTotal = %d", got)
	}
	for _, bad := range []string{"", "MemFree: 1 kB\n", "MemTotal: lots kB\n"} {
		if got := memTotal([]byte(bad)); got != 0 {
			t.Errorf("memTotal(%q) = %d, want 0", bad, got)
		}
	}
}

func TestCgroupMemoryLimit(t *testing.T) {
	files := map[string]string{
		"/sys/fs/cgroup/memory.max":                              "max\n",
		"/sys/fs/cgroup/kubepods/pod1/memory.max":                "536870912\n",
		"/sys/fs/cgroup/memory/memory.limit_in_bytes":            "9223372036854771712\n",
		"/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "268435456\n",
	}
	read := func(name string) []byte {
		if v, ok := files[name]; ok {
			return []byte(v)
		}
		return nil
	}
	tests := []struct {
		selfCgroup string
		want       uint64
	}{
		{"0::/\n", 0},                                      // v2, no limit
		{"0::/kubepods/pod1\n", 512 << 20},                 // v2 with memory.max
		{"4:memory:/\n0::/\n", 0},                          // v1 unlimited (2^63 rounded to pages)
		{"5:cpu,memory:/docker/abc\n", 256 << 20},          // v1, memory among several controllers
		{"4:memory:/gone\n0::/kubepods/pod1\n", 512 << 20}, // v1 file missing: on to v2
		{"", 0}, // not Linux
		{"garbage\n", 0},
	}
	for _, tt := range tests {
		if got := cgroupMemoryLimit([]byte(tt.selfCgroup), read); got != tt.want {
			t.Errorf("cgroupMemoryLimit(%q) = %d, want %d", tt.selfCgroup, got, tt.want)
		}
	}
}
