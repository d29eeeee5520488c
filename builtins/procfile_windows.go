package builtins

import "syscall"

// The plain system calls readProcFile uses. process() reads /proc, which
// Windows does not have: it reports that error; these let the Windows
// release build.

type procFD = syscall.Handle

func sysOpen(name string) (procFD, error) { return syscall.Open(name, syscall.O_RDONLY, 0) }

func sysRead(fd procFD, b []byte) (int, error) { return syscall.Read(fd, b) }

func sysClose(fd procFD) error { return syscall.Close(fd) }
