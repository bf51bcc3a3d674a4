//go:build linux

package relay

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// transport is one way to build the two conn pairs around a relay, and to run it.
type transport struct {
	name  string
	tcp   bool
	mode  mode
	start bool // run it with Start's two goroutines, not Pipe on the caller's
}

var transports = []transport{
	{name: "splice", tcp: true, mode: modeSplice},
	{name: "readfrom", tcp: true, mode: modeReadFrom},
	{name: "memory", tcp: false, mode: modeSplice},
	{name: "splice-start", tcp: true, mode: modeSplice, start: true},
	{name: "memory-start", tcp: false, mode: modeSplice, start: true},
}

// tcpTransports are the transports over TCP, which have half-close and resets.
func tcpTransports() []transport {
	var out []transport
	for _, tr := range transports {
		if tr.tcp {
			out = append(out, tr)
		}
	}
	return out
}

// result is what a relay returned.
type result struct {
	aToB, bToA int64
	err        error
	took       time.Duration
}

// rig is a running relay: client talks to the relay's a side, server to its b side.
type rig struct {
	client, server net.Conn
	done           chan result
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (dialed, accepted *net.TCPConn) {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d, err := net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	a, err := ln.AcceptTCP()
	if err != nil {
		d.Close()
		t.Fatal(err)
	}
	return d, a
}

func connPair(t testing.TB, tcp bool) (net.Conn, net.Conn) {
	if !tcp {
		return net.Pipe()
	}
	return tcpPair(t)
}

// startRig starts a relay between two fresh conn pairs and cleans it all up at the end.
func startRig(t testing.TB, tr transport, idle time.Duration, pool *pipePool) *rig {
	t.Helper()
	client, a := connPair(t, tr.tcp)
	b, server := connPair(t, tr.tcp)
	r := &rig{client: client, server: server, done: make(chan result, 1)}
	start := time.Now()
	if tr.start {
		startWith(a, b, idle, tr.mode, pool, func(n1, n2 int64, err error) {
			r.done <- result{aToB: n1, bToA: n2, err: err, took: time.Since(start)}
		})
	} else {
		go func() {
			n1, n2, err := pipeWith(a, b, idle, tr.mode, pool)
			r.done <- result{aToB: n1, bToA: n2, err: err, took: time.Since(start)}
		}()
	}
	t.Cleanup(func() {
		client.Close()
		server.Close()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Error("relay did not return within 5s of closing both ends")
		}
	})
	return r
}

// wait returns the relay's result, failing the test after limit.
func (r *rig) wait(t testing.TB, limit time.Duration) result {
	t.Helper()
	select {
	case res := <-r.done:
		r.done <- res // for the cleanup
		return res
	case <-time.After(limit):
		t.Fatalf("relay still running after %v", limit)
		return result{}
	}
}

func newTestPool(t testing.TB) *pipePool {
	p := newPipePool(4, pipeSize)
	t.Cleanup(func() {
		p.close()
		if made, _ := p.stats(); made != 0 {
			t.Errorf("pipes still alive after the test: %d", made)
		}
	})
	return p
}

// send writes p to c and then closes c's write half (or c, when it has none).
func send(c net.Conn, p []byte) error {
	if _, err := c.Write(p); err != nil {
		return err
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func TestPipeCopiesBothWays(t *testing.T) {
	const size = 4 << 20
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			if !tr.tcp {
				t.Skip("net.Pipe has no half-close: covered by TestPipeMemoryRoundTrip")
			}
			up, down := randomBytes(t, size), randomBytes(t, size)
			r := startRig(t, tr, 5*time.Second, newTestPool(t))
			errc := make(chan error, 2)
			go func() { errc <- send(r.client, up) }()
			go func() { errc <- send(r.server, down) }()
			gotUp := make(chan []byte, 1)
			go func() { b, _ := io.ReadAll(r.server); gotUp <- b }()
			gotDown, err := io.ReadAll(r.client)
			if err != nil {
				t.Fatalf("client read: %v", err)
			}
			for range 2 {
				if err := <-errc; err != nil {
					t.Fatalf("send: %v", err)
				}
			}
			if got, want := sha256.Sum256(<-gotUp), sha256.Sum256(up); got != want {
				t.Errorf("server got a different payload (sha256 %x, want %x)", got, want)
			}
			if got, want := sha256.Sum256(gotDown), sha256.Sum256(down); got != want {
				t.Errorf("client got a different payload (sha256 %x, want %x)", got, want)
			}
			res := r.wait(t, 5*time.Second)
			want := result{aToB: size, bToA: size}
			if diff := cmp.Diff(want, result{aToB: res.aToB, bToA: res.bToA, err: res.err}, cmpResult); diff != "" {
				t.Errorf("relay result (-want +got):\n%s", diff)
			}
		})
	}
}

// cmpResult compares results by counts and error identity.
var cmpResult = cmp.Options{
	cmp.AllowUnexported(result{}),
	cmp.Comparer(func(x, y error) bool { return errors.Is(x, y) || errors.Is(y, x) }),
}

func TestPipeMemoryRoundTrip(t *testing.T) {
	for _, tr := range transports {
		if !tr.tcp {
			t.Run(tr.name, func(t *testing.T) { memoryRoundTrip(t, tr) })
		}
	}
}

func memoryRoundTrip(t *testing.T, tr transport) {
	gets := buffers.gets.Load()
	r := startRig(t, tr, 5*time.Second, newTestPool(t))
	payload := randomBytes(t, 1<<20)
	go func() {
		r.client.Write(payload)
	}()
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(r.server, got); err != nil {
		t.Fatalf("server read: %v", err)
	}
	if !bytes.Equal(got, payload) {
		t.Error("server got a different payload")
	}
	go func() { r.server.Write(got[:1000]) }()
	back := make([]byte, 1000)
	if _, err := io.ReadFull(r.client, back); err != nil {
		t.Fatalf("client read: %v", err)
	}
	if !bytes.Equal(back, payload[:1000]) {
		t.Error("client got a different reply")
	}
	r.client.Close()
	r.server.Close()
	res := r.wait(t, 2*time.Second)
	if res.aToB != int64(len(payload)) || res.bToA != 1000 {
		t.Errorf("counts = %d, %d; want %d, %d", res.aToB, res.bToA, len(payload), 1000)
	}
	if buffers.gets.Load() == gets {
		t.Error("memory conns did not copy through the buffer pool")
	}
}

func TestPipeHalfClose(t *testing.T) {
	for _, tr := range tcpTransports() {
		t.Run(tr.name, func(t *testing.T) {
			r := startRig(t, tr, 5*time.Second, newTestPool(t))
			if err := send(r.client, []byte("request")); err != nil {
				t.Fatal(err)
			}
			r.server.SetReadDeadline(time.Now().Add(3 * time.Second))
			req, err := io.ReadAll(r.server)
			if err != nil {
				t.Fatalf("server read: %v", err)
			}
			if got, want := string(req), "request"; got != want {
				t.Errorf("server got %q, want %q", got, want)
			}
			// The client's write half is closed; the server answers after EOF.
			if err := send(r.server, []byte("response")); err != nil {
				t.Fatalf("server write after EOF: %v", err)
			}
			r.client.SetReadDeadline(time.Now().Add(3 * time.Second))
			resp, err := io.ReadAll(r.client)
			if err != nil {
				t.Fatalf("client read: %v", err)
			}
			if got, want := string(resp), "response"; got != want {
				t.Errorf("client got %q, want %q", got, want)
			}
			res := r.wait(t, 3*time.Second)
			want := result{aToB: 7, bToA: 8}
			if diff := cmp.Diff(want, result{aToB: res.aToB, bToA: res.bToA, err: res.err}, cmpResult); diff != "" {
				t.Errorf("relay result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPipeIdleTimeout(t *testing.T) {
	const idle = 200 * time.Millisecond
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			r := startRig(t, tr, idle, newTestPool(t))
			res := r.wait(t, 3*time.Second)
			if !errors.Is(res.err, ErrIdle) {
				t.Errorf("err = %v, want ErrIdle", res.err)
			}
			// The readfrom mode checks in every idle/4, so it may close up to about 1.5 idle.
			if res.took < idle || res.took > 2*idle+100*time.Millisecond {
				t.Errorf("closed after %v, want between %v and %v", res.took, idle, 2*idle)
			}
			r.client.SetReadDeadline(time.Now().Add(time.Second))
			if n, err := r.client.Read(make([]byte, 1)); err == nil || isTimeout(err) {
				t.Errorf("client read after idle close = %d, %v; want EOF or closed", n, err)
			}
		})
	}
}

func TestPipeBusyOneWayIsNotIdle(t *testing.T) {
	const (
		idle   = 200 * time.Millisecond
		every  = 50 * time.Millisecond
		writes = 20 // 1s of traffic
	)
	for _, tr := range transports {
		for _, dir := range []string{"up", "down"} {
			t.Run(tr.name+"/"+dir, func(t *testing.T) {
				r := startRig(t, tr, idle, newTestPool(t))
				from, to := r.client, r.server
				if dir == "down" {
					from, to = r.server, r.client
				}
				got := make(chan int, 1)
				go func() {
					n, _ := io.ReadFull(to, make([]byte, writes))
					got <- n
				}()
				tick := time.NewTicker(every)
				defer tick.Stop()
				for i := range writes {
					<-tick.C
					if _, err := from.Write([]byte{byte(i)}); err != nil {
						t.Fatalf("write %d: %v", i, err)
					}
					select {
					case res := <-r.done:
						r.done <- res // for the cleanup
						t.Fatalf("relay ended during traffic after %v: %v", res.took, res.err)
					default:
					}
				}
				if n := <-got; n != writes {
					t.Errorf("peer got %d bytes, want %d", n, writes)
				}
				res := r.wait(t, 3*time.Second)
				if !errors.Is(res.err, ErrIdle) {
					t.Errorf("err after the traffic stopped = %v, want ErrIdle", res.err)
				}
			})
		}
	}
}

func TestPipeErrorClosesBoth(t *testing.T) {
	for _, tr := range tcpTransports() {
		for _, side := range []string{"client", "server"} {
			t.Run(tr.name+"/"+side+"-reset", func(t *testing.T) {
				r := startRig(t, tr, 10*time.Second, newTestPool(t))
				reset, other := r.client.(*net.TCPConn), r.server
				if side == "server" {
					reset, other = r.server.(*net.TCPConn), r.client
				}
				// Some bytes through first, so the relay is past its start.
				if _, err := reset.Write([]byte("x")); err != nil {
					t.Fatal(err)
				}
				other.SetReadDeadline(time.Now().Add(3 * time.Second))
				if _, err := io.ReadFull(other, make([]byte, 1)); err != nil {
					t.Fatal(err)
				}
				reset.SetLinger(0)
				reset.Close()
				res := r.wait(t, 2*time.Second)
				if res.err == nil || errors.Is(res.err, ErrIdle) {
					t.Errorf("err = %v, want the reset", res.err)
				}
				if n, err := other.Read(make([]byte, 1)); err == nil || isTimeout(err) {
					t.Errorf("other end read = %d, %v; want closed", n, err)
				}
			})
		}
	}
}

func TestPipeErrorHasNoAddress(t *testing.T) {
	for _, tr := range tcpTransports() {
		t.Run(tr.name, func(t *testing.T) {
			r := startRig(t, tr, 10*time.Second, newTestPool(t))
			c := r.client.(*net.TCPConn)
			c.SetLinger(0)
			c.Close()
			res := r.wait(t, 2*time.Second)
			if res.err == nil {
				t.Fatal("err = nil, want the reset")
			}
			if got := res.err.Error(); strings.Contains(got, "127.0.0.1") {
				t.Errorf("error %q contains an address", got)
			}
		})
	}
}

func TestPipeHalfClosedTunnelIdles(t *testing.T) {
	const idle = 200 * time.Millisecond
	for _, tr := range tcpTransports() {
		t.Run(tr.name, func(t *testing.T) {
			r := startRig(t, tr, idle, newTestPool(t))
			if err := send(r.client, []byte("request")); err != nil {
				t.Fatal(err)
			}
			// The server reads the request and EOF, then never answers.
			r.server.SetReadDeadline(time.Now().Add(3 * time.Second))
			if _, err := io.ReadAll(r.server); err != nil {
				t.Fatalf("server read: %v", err)
			}
			res := r.wait(t, 3*time.Second)
			if !errors.Is(res.err, ErrIdle) {
				t.Errorf("err = %v, want ErrIdle", res.err)
			}
			if res.took > 2*idle+100*time.Millisecond {
				t.Errorf("half-closed tunnel closed after %v, want within about %v", res.took, idle)
			}
		})
	}
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPipeStalledWriterIsIdle(t *testing.T) {
	const idle = 200 * time.Millisecond
	for _, tr := range tcpTransports() {
		t.Run(tr.name, func(t *testing.T) {
			pool := newTestPool(t)
			r := startRig(t, tr, idle, pool)
			// The server never reads: once the socket buffers are full nothing moves.
			go func() {
				block := make([]byte, 1<<20)
				for range 64 {
					if _, err := r.client.Write(block); err != nil {
						return
					}
				}
			}()
			res := r.wait(t, 5*time.Second)
			if !errors.Is(res.err, ErrIdle) {
				t.Errorf("err = %v, want ErrIdle", res.err)
			}
			if res.aToB == 0 {
				t.Error("no byte reached the server before the stall")
			}
			if made, free := pool.stats(); made != free {
				t.Errorf("pipes in use after the relay ended: %d of %d", made-free, made)
			}
		})
	}
}
