package report

// This file checks that `infra-guard test`'s report, in which each test is
// a check, is valid JUnit by the same rules as a run's.

import (
	"context"
	"testing"

	"github.com/infra-guard/infra-guard/guardtest"
)

func TestJUnitOfGuardTests(t *testing.T) {
	rep := guardtest.Run(context.Background(), []string{"../guardtest/testdata/api_test.star"}, guardtest.Options{})
	if len(rep.Checks) != 3 {
		t.Fatalf("got %d tests, want 3: %+v", len(rep.Checks), rep.Checks)
	}
	out := render(t, "junit", Options{Version: "v9"}, rep)
	doc, cases := parseJUnit(t, out)
	if got := attr(doc.Suites[0].Attrs, "failures"); got != "2" {
		t.Errorf("failures = %q, want 2\n%s", got, out)
	}
	for _, name := range []string{"test_retry", "test_fails", "test_error"} {
		if _, ok := cases[name]; !ok {
			t.Errorf("no testcase %q\n%s", name, out)
		}
	}
}
