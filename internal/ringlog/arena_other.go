//go:build !linux

package ringlog

// newArena allocates the arena on the Go heap.
func newArena(_ *Ring, n int) []byte { return make([]byte, n) }
