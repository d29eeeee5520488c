//go:build unix

package builtins

import "syscall"

// The system calls that differ between the release targets: the plain
// reads of readProcFile (process() reads /proc, which only Linux has), and
// plugin()'s process group. sys_windows.go has the Windows versions, so
// that the Windows release builds.

type procFD = int

func sysOpen(name string) (procFD, error) {
	return syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
}

func sysRead(fd procFD, b []byte) (int, error) { return syscall.Read(fd, b) }

func sysClose(fd procFD) error { return syscall.Close(fd) }

// newProcessGroup makes a plugin the leader of its own process group, so
// that killProcessGroup ends whatever it started too.
func newProcessGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func killProcessGroup(pgid int) { _ = syscall.Kill(-pgid, syscall.SIGKILL) }
