//go:build unix

package runtime

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestOpenFileLimitIsTheHardLimit starts this test binary with the soft
// open-file limit lowered to 64, as a shell's ulimit -Sn would, and
// expects it to see the hard limit: the Go runtime raises the soft limit
// at start (package syscall's init), which the default concurrency counts
// on.
func TestOpenFileLimitIsTheHardLimit(t *testing.T) {
	if os.Getenv("INFRA_GUARD_TEST_PRINT_NOFILE") == "1" {
		os.Stdout.WriteString(strconv.FormatUint(openFileLimit(), 10) + "\n")
		return
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	if lim.Max <= 64 {
		t.Skipf("hard limit %d", lim.Max)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip(err)
	}
	cmd := exec.Command(sh, "-c", `ulimit -Sn 64 && exec "$0" -test.run '^TestOpenFileLimitIsTheHardLimit$'`, os.Args[0])
	cmd.Env = append(os.Environ(), "INFRA_GUARD_TEST_PRINT_NOFILE=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	got, err := strconv.ParseUint(line, 10, 64)
	// Go sets the soft limit to the hard one less one, so that it can tell
	// when prlimit changed it later.
	if err != nil || got < uint64(lim.Max)-1 {
		t.Errorf("with ulimit -Sn 64 the process sees %q open files, want the hard limit %d (or one less)", line, lim.Max)
	}
}
