//go:build linux

package relay

import (
	"flag"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

var idleTunnels = flag.Int("relay.idle-tunnels", 1000, "idle tunnels TestIdleTunnelCost opens")

// TestIdleTunnelCost opens many idle tunnels and reports what each holds: descriptors, pipes,
// Go heap and stacks, and resident memory. Each tunnel here has four sockets: the relay's two
// and the test's two ends.
func TestIdleTunnelCost(t *testing.T) {
	if testing.Short() {
		t.Skip("opens many tunnels; skipped with -short")
	}
	n := *idleTunnels
	if n < 1 || n > 4000 { // 4 descriptors a tunnel; the process may hold 20,000
		t.Fatalf("-relay.idle-tunnels=%d: want 1 to 4000", n)
	}
	for _, row := range []struct {
		tr             transport
		maxRelayFDs    float64 // descriptors the relay holds per tunnel, its two sockets included
		maxRelayMemory float64 // bytes of Go heap and stacks the relay adds per tunnel
	}{
		{tr: transports[0], maxRelayFDs: 2, maxRelayMemory: 12 << 10},
		{tr: transports[1], maxRelayFDs: 6, maxRelayMemory: 64 << 10},
	} {
		t.Run(row.tr.name, func(t *testing.T) {
			pool := newTestPool(t)
			dropRuntimePipes()
			before := measure(t)
			ends := make([][4]net.Conn, n)
			for i := range ends {
				c, a := tcpPair(t)
				b, s := tcpPair(t)
				ends[i] = [4]net.Conn{c, a, b, s}
			}
			withConns := measure(t)
			done := make(chan result, n)
			for _, e := range ends {
				go func() {
					n1, n2, err := pipeWith(e[1], e[2], time.Minute, row.tr.mode, pool)
					done <- result{aToB: n1, bToA: n2, err: err}
				}()
			}
			// One byte each way, so both directions have spliced once, then idle.
			for _, e := range ends {
				e[0].Write([]byte("x"))
				e[3].Read(make([]byte, 1))
				e[3].Write([]byte("y"))
				e[0].Read(make([]byte, 1))
			}
			time.Sleep(200 * time.Millisecond)
			withRelays := measure(t)
			_, free := pool.stats()

			fds := float64(withRelays.fd.total-before.fd.total-2*free)/float64(n) - 2 // less the test's ends
			pipeFDs := float64(withRelays.fd.pipes-before.fd.pipes-2*free) / float64(n)
			goMem := float64(withRelays.goMem-withConns.goMem) / float64(n)
			rss := float64(withRelays.rss-withConns.rss) / float64(n)
			connRSS := float64(withConns.rss-before.rss) / float64(n) / 2 // per connected pair
			t.Logf("%d idle tunnels, per tunnel: %.2f descriptors held by the relay (%.2f of them pipes), "+
				"%.0f B Go heap+stacks and %.0f B RSS for the relay's goroutines and state; "+
				"each pair of connected sockets costs %.0f B RSS besides",
				n, fds, pipeFDs, goMem, rss, connRSS)
			if fds > row.maxRelayFDs {
				t.Errorf("relay descriptors per idle tunnel = %.2f, want <= %v", fds, row.maxRelayFDs)
			}
			if goMem > row.maxRelayMemory {
				t.Errorf("relay heap+stacks per idle tunnel = %.0f B, want <= %.0f", goMem, row.maxRelayMemory)
			}
			for _, e := range ends {
				e[0].Close()
				e[3].Close()
			}
			for range n {
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("relays did not end within 10s of closing their ends")
				}
			}
		})
	}
}

// usage is a snapshot of what the process holds.
type usage struct {
	fd    fdCount
	goMem uint64 // heap in use and goroutine stacks
	rss   int64
}

func measure(t testing.TB) usage {
	t.Helper()
	debug.FreeOSMemory() // a GC, and the freed pages back to the system
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return usage{fd: countFDs(t), goMem: ms.HeapInuse + ms.StackInuse, rss: residentBytes(t)}
}

// residentBytes reads the process's resident set from /proc/self/statm.
func residentBytes(t testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		t.Fatalf("statm: %q", b)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}
