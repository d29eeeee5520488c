package report

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// On a full disk the error names the report file asked for, not the
// temporary file it was being written to. (Issue 10, item 18.) It mounts
// a 64 KiB tmpfs, so it needs root; elsewhere it is skipped.
func TestWriteFileAtomicFullDiskNamesTarget(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	target := filepath.Join(dir, "junit.xml")
	err := WriteFileAtomic(target, func(w io.Writer) error {
		_, err := w.Write([]byte(strings.Repeat("x", 1<<20)))
		return err
	})
	if err == nil || !strings.HasPrefix(err.Error(), "write "+target+": ") || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("err = %v, want it to name %s only", err, target)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
