//go:build !linux

package ed

// adviseHugePages is a no-op where madvise is not available (see hugepage_linux.go).
func adviseHugePages[T any](s []T) {}
