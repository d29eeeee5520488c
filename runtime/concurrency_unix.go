//go:build unix

package runtime

import "syscall"

// openFileLimit is the soft RLIMIT_NOFILE, which Go has raised to the
// hard limit (less one) at start; 0 when unknown. Unlimited is the
// largest number, which the rule bounds like any other.
func openFileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return uint64(lim.Cur)
}
