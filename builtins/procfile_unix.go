//go:build unix

package builtins

import "syscall"

// The plain system calls readProcFile uses. process() reads /proc, which
// only Linux has; these files let the other release targets build.

type procFD = int

func sysOpen(name string) (procFD, error) {
	return syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
}

func sysRead(fd procFD, b []byte) (int, error) { return syscall.Read(fd, b) }

func sysClose(fd procFD) error { return syscall.Close(fd) }
