package builtins

import (
	"os"
	"syscall"
)

// The Windows versions of sys_unix.go, so that the Windows release builds.
// process() reads /proc, which Windows does not have: it reports that
// error. Windows has no process groups to kill: only the plugin itself is.

type procFD = syscall.Handle

func sysOpen(name string) (procFD, error) { return syscall.Open(name, syscall.O_RDONLY, 0) }

func sysRead(fd procFD, b []byte) (int, error) { return syscall.Read(fd, b) }

func sysClose(fd procFD) error { return syscall.Close(fd) }

func newProcessGroup() *syscall.SysProcAttr { return nil }

func killProcessGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
