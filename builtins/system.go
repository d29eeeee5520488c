// This file holds the system probes: disk(), memory(), loadavg(). Each reads
// the machine through gopsutil, only inside a check (never while the script
// is being loaded), under the check's deadline, and returns a struct named
// after the builtin.
package builtins

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	pscommon "github.com/shirou/gopsutil/v4/common"
	psdisk "github.com/shirou/gopsutil/v4/disk" // disk is our builtin
	psload "github.com/shirou/gopsutil/v4/load"
	psmem "github.com/shirou/gopsutil/v4/mem"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// disk(path="/") reports the usage of the file system that holds path.
func disk(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx, err := runContext(thread, b)
	if err != nil {
		return nil, err
	}
	var (
		path = "/"
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path?", &path); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, fmt.Errorf("%s: path is empty", b.Name())
	}
	return sample(ctx, b, path, func() (starlark.StringDict, error) {
		u, err := diskUsage(ctx, path)
		if err != nil {
			return nil, err
		}
		return starlark.StringDict{
			// The path as the script wrote it: gopsutil's UsageStat.Path
			// is the path after strconv.Unquote, which mangles backslashes.
			"path":           starlark.String(path),
			"fstype":         starlark.String(u.Fstype),
			"total":          starlark.MakeUint64(u.Total),
			"free":           starlark.MakeUint64(u.Free),
			"used":           starlark.MakeUint64(u.Used),
			"used_percent":   starlark.Float(u.UsedPercent),
			"inodes_total":   starlark.MakeUint64(u.InodesTotal),
			"inodes_used":    starlark.MakeUint64(u.InodesUsed),
			"inodes_percent": starlark.Float(u.InodesUsedPercent),
		}, nil
	})
}

// diskUsage is statfs(path) plus the file system type from the mount table.
//
// gopsutil names the type from statfs's magic number, which cannot tell
// ext4 from ext2/ext3 (it says "ext2/ext3") and does not know overlay, the
// root file system of most containers (it says ""). The mount table says
// what mount(8) and df -T say, so it wins when it can be read.
func diskUsage(ctx context.Context, path string) (*psdisk.UsageStat, error) {
	u, err := psdisk.UsageWithContext(ctx, path)
	if err != nil {
		return nil, err // a bare errno: sample() adds the path
	}
	if fstype := mountFstype(ctx, path); fstype != "" {
		u.Fstype = fstype
	}
	return u, nil
}

// mountFstype returns the type of the mount that holds path, or "" when the
// mount table cannot be read. The mount is the one with the longest mount
// point that contains the path once symlinks are resolved; among mounts
// stacked on one mount point the last, which hides the others, wins.
func mountFstype(ctx context.Context, path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		abs = resolved
	}
	// gopsutil reads PID 1's mount table, which belongs to another mount
	// namespace in a container that shares the host's PIDs; path was
	// resolved in ours. An explicit HOST_PROC_MOUNTINFO still wins.
	if os.Getenv(string(pscommon.HostProcMountinfo)) == "" {
		ctx = context.WithValue(ctx, pscommon.EnvKey, pscommon.EnvMap{pscommon.HostProcMountinfo: "/proc/self/mountinfo"})
	}
	parts, err := psdisk.PartitionsWithContext(ctx, true)
	if err != nil {
		return ""
	}
	var best psdisk.PartitionStat
	for _, p := range parts {
		m := p.Mountpoint
		contains := m == "/" || abs == m || strings.HasPrefix(abs, m+"/")
		if contains && len(m) >= len(best.Mountpoint) {
			best = p
		}
	}
	return best.Fstype
}

// memory() reports physical memory and swap.
func memory(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx, err := runContext(thread, b)
	if err != nil {
		return nil, err
	}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	return sample(ctx, b, "", func() (starlark.StringDict, error) {
		vm, err := psmem.VirtualMemoryWithContext(ctx)
		if err != nil {
			return nil, err
		}
		sw, err := psmem.SwapMemoryWithContext(ctx)
		if err != nil {
			return nil, err
		}
		return starlark.StringDict{
			"total":        starlark.MakeUint64(vm.Total),
			"available":    starlark.MakeUint64(vm.Available),
			"used":         starlark.MakeUint64(vm.Used),
			"used_percent": starlark.Float(vm.UsedPercent),
			"swap_total":   starlark.MakeUint64(sw.Total),
			"swap_used":    starlark.MakeUint64(sw.Used),
			"swap_percent": starlark.Float(sw.UsedPercent), // gopsutil gives 0 without swap
		}, nil
	})
}

// loadavg() reports the load averages and the number of CPUs they compare to.
func loadavg(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx, err := runContext(thread, b)
	if err != nil {
		return nil, err
	}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	return sample(ctx, b, "", func() (starlark.StringDict, error) {
		avg, err := psload.AvgWithContext(ctx)
		if err != nil {
			return nil, err
		}
		return starlark.StringDict{
			"load1":  starlark.Float(avg.Load1),
			"load5":  starlark.Float(avg.Load5),
			"load15": starlark.Float(avg.Load15),
			// The CPUs this process may run on: NumCPU honours the
			// affinity mask (taskset, cpusets), unlike gopsutil's
			// cpu.Counts, which counts the whole machine.
			"cores": starlark.MakeInt(runtime.NumCPU()),
		}, nil
	})
}

// sample runs read under the check's deadline and returns its fields as a
// struct named after the builtin, so str(disk()) reads disk(path = "/", …).
// Errors read "disk: /data: no such file or directory" when subject is
// set, "memory: …" when it is not.
func sample(ctx context.Context, b *starlark.Builtin, subject string, read func() (starlark.StringDict, error)) (starlark.Value, error) {
	prefix := b.Name()
	if subject != "" {
		prefix += ": " + subject
	}
	// withContext would race an already-ended context against a fast
	// read; a check that is over must not start new work.
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", prefix, context.Cause(ctx))
	}
	fields, err := withContext(ctx, read)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prefix, err)
	}
	return starlarkstruct.FromStringDict(starlark.String(b.Name()), fields), nil
}
