package ringlog

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Lock pins the ring's arena in RAM with mlock(2), so the kernel never writes records to swap,
// and asks that the arena be left out of core dumps. It returns an error when the arena cannot
// be locked (for example RLIMIT_MEMLOCK is lower than MaxBytes); the caller should then warn if
// SwapOn reports swap in use. The arena stays locked until the Ring is garbage collected.
func (r *Ring) Lock() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := unix.Mlock(r.arena); err != nil {
		return fmt.Errorf("ringlog: mlock %d bytes: %w", len(r.arena), err)
	}
	_ = unix.Madvise(pageAligned(r.arena), unix.MADV_DONTDUMP) // best effort
	return nil
}

// pageAligned returns the part of b made of whole pages, which madvise(2) requires.
func pageAligned(b []byte) []byte {
	ps := unix.Getpagesize()
	if len(b) == 0 {
		return b
	}
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	skip := (ps - int(addr%uintptr(ps))) % ps
	if skip >= len(b) {
		return nil
	}
	b = b[skip:]
	return b[:len(b)-len(b)%ps]
}
