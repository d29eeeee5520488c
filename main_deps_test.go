package main

import (
	"os/exec"
	"strings"
	"testing"
)

// Packages that must stay out of the binary: each one costs every start
// its package init, whether the command uses it or not (bench/README.md,
// "Start-up"). buildtools/warn linked buildtools/edit and, through
// golang/protobuf's jsonpb, protobuf's descriptor packages; vet's generic
// checks are our own now (runtime/lintgeneric.go).
var unwantedDeps = []string{
	"github.com/bazelbuild/buildtools/warn",
	"github.com/bazelbuild/buildtools/edit",
	"google.golang.org/protobuf/reflect/protodesc",
}

func TestBinaryDeps(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the binary's packages: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps .: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 {
		t.Fatalf("go list -deps . listed %d packages; the list looks wrong", len(deps))
	}
	for _, dep := range deps {
		for _, bad := range unwantedDeps {
			if dep == bad {
				t.Errorf("the binary links %s again", bad)
			}
		}
	}
}
