// This file holds the thread-local dependencies of builtins: the check's
// context (deadline and cancellation) and the phase guard for builtins with
// side effects.
package builtins

import (
	"context"
	"fmt"

	"go.starlark.net/starlark"
)

const contextKey = "infra-guard.context"

// SetContext marks thread as running a check under ctx. Threads without a
// context are in the load phase, where builtins that touch the system or the
// network refuse to run.
func SetContext(thread *starlark.Thread, ctx context.Context) {
	thread.SetLocal(contextKey, ctx)
}

// Context returns the check's context, or nil during the load phase.
func Context(thread *starlark.Thread) context.Context {
	ctx, _ := thread.Local(contextKey).(context.Context)
	return ctx
}

// runContext returns the check's context, or the error every side-effecting
// builtin gives when called while the script is being loaded.
func runContext(thread *starlark.Thread, b *starlark.Builtin) (context.Context, error) {
	ctx := Context(thread)
	if ctx == nil {
		return nil, fmt.Errorf("%s() can only be called inside a check function (the load phase has no side effects); wrap it in a def and register that with check()", b.Name())
	}
	return ctx, nil
}

// withContext runs fn in its own goroutine and returns when it finishes or
// ctx ends, whichever is first. It is for system calls that cannot be
// interrupted (statfs on a dead NFS mount): the check's deadline still holds,
// and the stuck goroutine is left to finish on its own.
func withContext[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, context.Cause(ctx)
	}
}
