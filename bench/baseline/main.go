// Command baseline is the reference for the speed target in docs/design.md: the
// least a Go program can do to run the small guard's checks with Starlark.
// It predeclares disk() and memory() as direct gopsutil calls and a trivial
// threshold(), executes the script named by its argument, calls each
// function of its "checks" list in turn on one thread, and prints how many
// checks ran and how many alerted. It exits 3 if anything goes wrong.
//
//	baseline bench/baseline/small.star
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	psdisk "github.com/shirou/gopsutil/v4/disk"
	psmem "github.com/shirou/gopsutil/v4/mem"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: baseline SCRIPT")
		os.Exit(3)
	}
	predeclared := starlark.StringDict{
		"disk":      starlark.NewBuiltin("disk", disk),
		"memory":    starlark.NewBuiltin("memory", memory),
		"threshold": starlark.NewBuiltin("threshold", threshold),
		"process":   starlark.NewBuiltin("process", process),
		"file":      starlark.NewBuiltin("file", file),
	}
	thread := &starlark.Thread{Name: "baseline"}
	globals, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, os.Args[1], nil, predeclared)
	if err != nil {
		fail(err)
	}
	checks, ok := globals["checks"].(*starlark.List)
	if !ok {
		fail(fmt.Errorf("%s: want a global list named checks", os.Args[1]))
	}
	alerts := 0
	for fn := range checks.Elements() {
		v, err := starlark.Call(thread, fn, nil, nil)
		if err != nil {
			fail(err)
		}
		if n, ok := v.(starlark.Int); !ok {
			fail(fmt.Errorf("%s returned %s, want an int", fn, v.Type()))
		} else if s, _ := n.Int64(); s != 0 {
			alerts++
		}
	}
	fmt.Printf("%d checks, %d alerts\n", checks.Len(), alerts)
}

func fail(err error) {
	if evalErr, ok := err.(*starlark.EvalError); ok {
		fmt.Fprintln(os.Stderr, evalErr.Backtrace())
	} else {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(3) // like infra-guard's UNKNOWN: the run itself went wrong
}

// disk(path) is gopsutil's disk.Usage.
func disk(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path); err != nil {
		return nil, err
	}
	u, err := psdisk.Usage(path)
	if err != nil {
		return nil, err
	}
	return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
		"total":          starlark.MakeUint64(u.Total),
		"free":           starlark.MakeUint64(u.Free),
		"used":           starlark.MakeUint64(u.Used),
		"used_percent":   starlark.Float(u.UsedPercent),
		"inodes_total":   starlark.MakeUint64(u.InodesTotal),
		"inodes_used":    starlark.MakeUint64(u.InodesUsed),
		"inodes_percent": starlark.Float(u.InodesUsedPercent),
	}), nil
}

// memory() is gopsutil's mem.VirtualMemory and mem.SwapMemory.
func memory(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	vm, err := psmem.VirtualMemory()
	if err != nil {
		return nil, err
	}
	sw, err := psmem.SwapMemory()
	if err != nil {
		return nil, err
	}
	return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
		"total":        starlark.MakeUint64(vm.Total),
		"available":    starlark.MakeUint64(vm.Available),
		"used":         starlark.MakeUint64(vm.Used),
		"used_percent": starlark.Float(vm.UsedPercent),
		"swap_used":    starlark.MakeUint64(sw.Used),
		"swap_percent": starlark.Float(sw.UsedPercent),
	}), nil
}

// threshold(value, warn, crit, below=False) returns 0, 1 or 2: above (or
// below) crit is 2, above (or below) warn is 1, anything else 0.
func threshold(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v, w, c starlark.Value
	var below bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "value", &v, "warn", &w, "crit", &c, "below?", &below); err != nil {
		return nil, err
	}
	value, ok1 := starlark.AsFloat(v)
	warn, ok2 := starlark.AsFloat(w)
	crit, ok3 := starlark.AsFloat(c)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("%s: value, warn and crit must be numbers", b.Name())
	}
	alert := func(limit float64) bool {
		if below {
			return value < limit
		}
		return value > limit
	}
	switch {
	case alert(crit):
		return starlark.MakeInt(2), nil
	case alert(warn):
		return starlark.MakeInt(1), nil
	}
	return starlark.MakeInt(0), nil
}

// process(name) counts the processes whose /proc/PID/comm is name. The
// table is read once, on the first call, as infra-guard reads it once per
// run.
func process(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	comms, err := processTable()
	if err != nil {
		return nil, err
	}
	return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{"count": starlark.MakeInt(comms[name])}), nil
}

var processTable = sync.OnceValues(func() (map[string]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	comms := map[string]int{}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if comm, err := os.ReadFile("/proc/" + e.Name() + "/comm"); err == nil {
			comms[strings.TrimSuffix(string(comm), "\n")]++
		}
	}
	return comms, nil
})

// file(path) is os.Stat.
func file(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path); err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
		"size":        starlark.MakeInt64(fi.Size()),
		"age_seconds": starlark.Float(time.Since(fi.ModTime()).Seconds()),
	}), nil
}
