//go:build !unix

package atomicfile

import "context"

// Lock is a no-op where advisory file locks are not available: concurrent runs of one
// computation are then the caller's responsibility.
func Lock(ctx context.Context, path string) (unlock func(), err error) { return func() {}, ctx.Err() }
