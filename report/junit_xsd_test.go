package report

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// junitXSD is the Jenkins xunit plugin's JUnit schema, kept outside the
// repository (../shared/reference/ beside the checkout; see its README).
var junitXSD = filepath.Join("..", "..", "shared", "reference", "junit-10.xsd")

// TestJUnitSchema validates the junit format of every fixture, the hostile
// one included, with and without WarnAsFailure, against junit-10.xsd with
// xmllint (Debian's libxml2-utils), the validator .ci/run also uses on the
// binary's real output. It skips, saying why, when either is missing.
func TestJUnitSchema(t *testing.T) {
	if _, err := os.Stat(junitXSD); err != nil {
		t.Skipf("no JUnit schema to validate against: %v (it lives in ../shared/reference/ beside the repository)", err)
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint is not installed (Debian: apt-get install libxml2-utils); .ci/run installs it")
	}
	dir := t.TempDir()
	for name, r := range allReports() {
		for _, warnAsFailure := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/warnAsFailure=%v", name, warnAsFailure), func(t *testing.T) {
				path := filepath.Join(dir, fmt.Sprintf("%s-%v.xml", name, warnAsFailure))
				if err := os.WriteFile(path, render(t, "junit", Options{Version: "v9", WarnAsFailure: warnAsFailure}, r), 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(xmllint, "--noout", "--schema", junitXSD, path).CombinedOutput()
				if err != nil {
					t.Errorf("xmllint rejects the junit report: %v\n%s", err, out)
				}
			})
		}
	}
}
