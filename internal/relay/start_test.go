//go:build linux

package relay

import (
	"net"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"sortie.dev/sortie/internal/testkit"
)

// deep calls f with at least depth bytes of stack below it, as a handshake that parsed,
// checked and dialled would have.
//
//go:noinline
func deep(depth int, f func()) byte {
	var pad [1 << 10]byte
	pad[depth%len(pad)] = byte(depth)
	if depth <= len(pad) {
		f()
		return pad[0]
	}
	return deep(depth-len(pad), f) + pad[depth%len(pad)]
}

// idleStarted opens n tunnels with Start, each from a goroutine with a deep stack that ends
// once Start returns, moves one byte each way through every tunnel, and returns their ends
// and a channel of their results.
func idleStarted(t *testing.T, n int, pool *pipePool) ([][4]net.Conn, chan result) {
	t.Helper()
	ends := make([][4]net.Conn, n)
	for i := range ends {
		c, a := tcpPair(t)
		b, s := tcpPair(t)
		ends[i] = [4]net.Conn{c, a, b, s}
	}
	done := make(chan result, n)
	started := make(chan struct{})
	for _, e := range ends {
		go func() {
			deep(64<<10, func() {
				startWith(e[1], e[2], time.Minute, modeSplice, pool, func(n1, n2 int64, err error) {
					done <- result{aToB: n1, bToA: n2, err: err}
				})
			})
			started <- struct{}{}
		}()
	}
	for range n {
		<-started
	}
	one := make([]byte, 1)
	for _, e := range ends {
		e[0].Write([]byte("x"))
		e[3].Read(one)
		e[3].Write([]byte("y"))
		e[0].Read(one)
	}
	return ends, done
}

// closeStarted closes the outer ends and checks that each tunnel called done once, with one
// byte each way.
func closeStarted(t *testing.T, ends [][4]net.Conn, done chan result) {
	t.Helper()
	for _, e := range ends {
		e[0].Close()
		e[3].Close()
	}
	for range ends {
		select {
		case r := <-done:
			if r.aToB != 1 || r.bToA != 1 {
				t.Errorf("done told %d and %d bytes, want 1 and 1", r.aToB, r.bToA)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("tunnels did not end within 10s of closing their ends")
		}
	}
	select {
	case r := <-done:
		t.Errorf("done called more than once per tunnel: %+v", r)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestStartRunsOnTwoGoroutines(t *testing.T) {
	const n = 20
	pool := newTestPool(t)
	ends, done := idleStarted(t, n, pool)
	if got := testkit.CountFrames("relay.(*tunnel).direction("); got != 2*n {
		t.Errorf("goroutines relaying = %d, want %d (two per tunnel)", got, 2*n)
	}
	if got := testkit.CountFrames("relay.deep("); got != 0 {
		t.Errorf("goroutines still in the caller = %d, want 0", got)
	}
	closeStarted(t, ends, done)
}

// TestStartFreesCallerStack checks that an idle tunnel started from a deep goroutine holds
// only the relay's two small stacks, not the caller's.
func TestStartFreesCallerStack(t *testing.T) {
	const n = 200
	pool := newTestPool(t)
	before := stackInuse()
	ends, done := idleStarted(t, n, pool)
	after := stackInuse()
	per := float64(after-before) / n
	t.Logf("goroutine stacks per idle tunnel started from a 64 KiB deep caller: %.0f B", per)
	if per > 8<<10 {
		t.Errorf("stacks per idle tunnel = %.0f B, want <= 8 KiB (two relay goroutines)", per)
	}
	closeStarted(t, ends, done)
}

// stackInuse returns the bytes of goroutine stacks after two collections, which free the
// stacks of ended goroutines and shrink the others.
func stackInuse() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.StackInuse
}
