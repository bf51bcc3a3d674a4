package ringlog

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// newArena maps n bytes of anonymous memory outside the Go heap, so that locking it (Lock)
// never pins pages the Go runtime later wants to return to the kernel. The mapping is zeroed
// and unmapped when r becomes unreachable. It falls back to the Go heap if mmap fails.
func newArena(r *Ring, n int) []byte {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return make([]byte, n)
	}
	runtime.AddCleanup(r, freeArena, b)
	return b
}

// freeArena zeroes and unmaps an arena made by newArena.
func freeArena(b []byte) {
	clear(b)
	_ = unix.Munmap(b)
}
