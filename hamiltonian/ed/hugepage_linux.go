package ed

import (
	"syscall"
	"unsafe"
)

// adviseHugePages asks the kernel to back a large table with 2 MiB pages. The products read the
// state table at random, one access per term, and with 4 KiB pages nearly every access also
// misses the TLB: a 268 MB table spans 65536 small pages but 134 huge ones. Where transparent
// huge pages are off, or the memory is already in use, this changes nothing; it must come
// before the table is first written. Errors are ignored: it is only advice.
func adviseHugePages[T any](s []T) {
	if len(s) == 0 {
		return
	}
	var zero T
	n := uintptr(len(s)) * unsafe.Sizeof(zero)
	if n < 4<<20 {
		return
	}
	_ = syscall.Madvise(unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), n), 14) // MADV_HUGEPAGE
}
