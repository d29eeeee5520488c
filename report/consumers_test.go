package report

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Tests that run the real consumers of the formats when they are
// installed: xmllint with the JUnit schema, promtool.

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
	xmllint := lookConsumer(t, "xmllint", "Debian: apt-get install libxml2-utils")
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

// lookConsumer finds a consumer's program, or skips saying how to get it;
// under INFRA_GUARD_CONSUMERS=required (.ci/run, once it has installed
// them) a missing one fails instead.
func lookConsumer(t *testing.T, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("INFRA_GUARD_CONSUMERS") == "required" {
			t.Fatalf("%s is not installed (%s), and INFRA_GUARD_CONSUMERS=required", name, install)
		}
		t.Skipf("%s is not installed (%s); .ci/run installs it", name, install)
	}
	return path
}

// TestPrometheusPromtool runs promtool check metrics, Prometheus' own
// linter, on the prometheus format of every fixture, the hostile one
// included. .ci/run does the same with the binary's real output.
func TestPrometheusPromtool(t *testing.T) {
	promtool := lookConsumer(t, "promtool", "Debian: apt-get install prometheus")
	for name, r := range allReports() {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = bytes.NewReader(render(t, "prometheus", Options{}, r))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("promtool check metrics rejects the report: %v\n%s", err, out)
			}
		})
	}
}
