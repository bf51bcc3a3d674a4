//go:build linux

package relay

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestSpliceAvoidsBuffers(t *testing.T) {
	for _, tr := range tcpTransports() {
		t.Run(tr.name, func(t *testing.T) {
			pool := newTestPool(t)
			gets := buffers.gets.Load()
			r := startRig(t, tr, 5*time.Second, pool)
			payload := randomBytes(t, 1<<20)
			go send(r.client, payload)
			got, err := io.ReadAll(r.server)
			if err != nil || len(got) != len(payload) {
				t.Fatalf("server read %d bytes, %v; want %d", len(got), err, len(payload))
			}
			if n := buffers.gets.Load() - gets; n != 0 {
				t.Errorf("the copy took %d buffers from the pool; want 0 (splice)", n)
			}
			if made, _ := pool.stats(); tr.mode == modeSplice && made == 0 {
				t.Error("the splice mode made no pipe")
			}
		})
	}
}

func TestSpliceFallsBackWithoutPipes(t *testing.T) {
	pool := newPipePool(0, pipeSize) // no pipe may be made
	gets := buffers.gets.Load()
	r := startRig(t, transports[0], 5*time.Second, pool)
	payload := randomBytes(t, 1<<20)
	go send(r.client, payload)
	got, err := io.ReadAll(r.server)
	if err != nil || string(got) != string(payload) {
		t.Fatalf("server read %d bytes, %v; want the %d bytes sent", len(got), err, len(payload))
	}
	if buffers.gets.Load() == gets {
		t.Error("without pipes the copy took no buffer")
	}
}

// TestIdleTunnelsHoldNoPipes proves the splice mode holds no pipe while a tunnel waits, where
// the runtime's ReadFrom holds one per waiting direction.
func TestIdleTunnelsHoldNoPipes(t *testing.T) {
	const n = 20
	for _, row := range []struct {
		tr transport
		// pipe descriptors the n idle tunnels hold, apart from the pool's free pipes. The
		// runtime may reuse a few pipes it cached before the count started.
		min, max int
	}{
		{tr: transports[0], min: 0, max: 0},
		{tr: transports[1], min: 4*n - 8, max: 4 * n},
	} {
		t.Run(row.tr.name, func(t *testing.T) {
			pool := newTestPool(t)
			dropRuntimePipes()
			before := countFDs(t)
			for range n {
				r := startRig(t, row.tr, time.Minute, pool)
				// One byte each way first, so both directions have spliced once.
				r.client.Write([]byte("x"))
				io.ReadFull(r.server, make([]byte, 1))
				r.server.Write([]byte("y"))
				io.ReadFull(r.client, make([]byte, 1))
			}
			held := func() fdCount {
				c := countFDs(t)
				_, free := pool.stats()
				return fdCount{pipes: c.pipes - before.pipes - 2*free, sockets: c.sockets - before.sockets}
			}
			got := waitFor(t, 2*time.Second, held, func(c fdCount) bool { return c.pipes >= row.min && c.pipes <= row.max })
			if got.pipes < row.min || got.pipes > row.max {
				t.Errorf("%d idle tunnels hold %d pipe descriptors, want %d to %d", n, got.pipes, row.min, row.max)
			}
			if got.sockets != 4*n {
				t.Errorf("%d tunnels hold %d sockets, want %d (two per tunnel, two for the test)", n, got.sockets, 4*n)
			}
		})
	}
}

// dropRuntimePipes empties the runtime's own cache of splice pipes (a sync.Pool whose pipes
// are closed by a cleanup after the GC drops them), so that it does not shift a count.
func dropRuntimePipes() {
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // cleanups run on their own goroutine
	}
}

// fdCount is the process's descriptors by kind.
type fdCount struct {
	pipes, sockets, total int
}

func countFDs(t testing.TB) fdCount {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var c fdCount
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil {
			continue // the directory's own descriptor, closed by now
		}
		c.total++
		switch {
		case strings.HasPrefix(target, "pipe:"):
			c.pipes++
		case strings.HasPrefix(target, "socket:"):
			c.sockets++
		}
	}
	return c
}

// waitFor polls get until ok or limit, and returns the last value.
func waitFor[T any](t testing.TB, limit time.Duration, get func() T, ok func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		v := get()
		if ok(v) || time.Now().After(deadline) {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
}
