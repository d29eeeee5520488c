package runtime

// This file holds what `infra-guard test` (package guardtest) needs of the
// runtime: executing a *_test.star file with the guard scripts' dialect,
// builtins and load(), and knowing which check a probe runs for, so a fake
// world can report a probe it has no fake for as that check's problem.

import (
	"context"
	"fmt"
	"os"

	"go.starlark.net/starlark"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/result"
)

type checkNameKey struct{}

// CheckName is the name of the check whose context ctx is (or derives
// from), or "" outside a check.
func CheckName(ctx context.Context) string {
	name, _ := ctx.Value(checkNameKey{}).(string)
	return name
}

// ExecTestFile executes the test file at path once, as a guard script's
// load phase would (same dialect, builtins and load() resolution, against
// the file's directory), with extra predeclared beside the builtins, and
// returns its globals. check() calls in what it loads register nothing
// anyone runs. Problems are Diagnostics with positions.
func ExecTestFile(ctx context.Context, path string, extra starlark.StringDict, print func(*starlark.Thread, string)) (starlark.StringDict, []result.Diagnostic) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, []result.Diagnostic{{File: path, Msg: fmt.Sprintf("cannot read test file: %v", pathMsg(err))}}
	}
	ld := newLoader(ctx, path, false, LoadOptions{Extra: extra})
	defer ld.close()
	thread := &starlark.Thread{Name: path, Print: print, Load: ld.load}
	thread.SetMaxExecutionSteps(DefaultMaxSteps)
	thread.SetLocal(registryKey, &registry{})
	builtins.SetConfig(thread, builtins.NewLoadConfig(func(string) (string, bool) { return "", false }, nil))
	stop := context.AfterFunc(ctx, func() { thread.Cancel(context.Cause(ctx).Error()) })
	defer stop()
	globals, err := starlark.ExecFileOptions(dialect, thread, path, src, ld.predeclared)
	if err != nil {
		return nil, diagnose(err)
	}
	return globals, nil
}

// pathMsg drops the operation from an *os.PathError.
func pathMsg(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
