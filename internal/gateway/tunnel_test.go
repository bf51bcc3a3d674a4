package gateway

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"sortie.dev/sortie/internal/testkit"
)

// tunnelOpener opens a tunnel through the gateway to the echo server on port, in one
// protocol, and fails the test when the gateway does not grant it.
type tunnelOpener struct {
	name  string
	proto Protocols
	open  func(t *testing.T, c net.Conn, br *bufio.Reader, port string)
}

var tunnelOpeners = []tunnelOpener{
	{name: "connect", proto: HTTP, open: func(t *testing.T, c net.Conn, br *bufio.Reader, port string) {
		io.WriteString(c, "CONNECT origin.test:"+port+" HTTP/1.1\r\n\r\n")
		if resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"}); err != nil || resp.StatusCode != 200 {
			t.Fatalf("CONNECT: %v %v", resp, err)
		}
	}},
	{name: "socks5", proto: SOCKS5, open: func(t *testing.T, c net.Conn, br *bufio.Reader, port string) {
		c.Write(socks5Request(1, atypIPv4, []byte{127, 0, 0, 1}, portOf(t, port)))
		var reply [12]byte // method selection, then a reply with an IPv4 address
		if _, err := io.ReadFull(br, reply[:]); err != nil || reply[3] != socks5OK {
			t.Fatalf("SOCKS5: %v %v", reply, err)
		}
	}},
	{name: "socks4", proto: SOCKS4, open: func(t *testing.T, c net.Conn, br *bufio.Reader, port string) {
		req := binary.BigEndian.AppendUint16([]byte{4, 1}, portOf(t, port))
		c.Write(append(req, 127, 0, 0, 1, 0))
		var reply [8]byte
		if _, err := io.ReadFull(br, reply[:]); err != nil || reply[1] != socks4Granted {
			t.Fatalf("SOCKS4: %v %v", reply, err)
		}
	}},
}

// eventually reports whether cond became true within limit.
func eventually(limit time.Duration, cond func() bool) bool {
	end := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// echoOnce checks the tunnel with one message.
func echoOnce(t *testing.T, c net.Conn, br *bufio.Reader, msg string) {
	t.Helper()
	io.WriteString(c, msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != msg {
		t.Fatalf("echo = %q, %v; want %q", got, err, msg)
	}
}

// TestTunnelOutlivesItsHandshake checks that an established tunnel is relayed without the
// goroutine that served its handshake, and that the connection is still counted, tracked
// and ended as before: Admit's release, TunnelDone, the Conn and Relayed hooks.
func TestTunnelOutlivesItsHandshake(t *testing.T) {
	port := echoServer(t)
	for _, o := range tunnelOpeners {
		t.Run(o.name, func(t *testing.T) {
			h := newHookLog()
			var released atomic.Int32
			lived := make(chan time.Duration, 4)
			f := newFixture(t, func(s *Server) {
				h.install(s)
				s.Admit = func(ctx context.Context, _ net.Conn) (context.Context, func(), error) {
					return ctx, func() { released.Add(1) }, nil
				}
				s.TunnelDone = func(_ context.Context, up net.Conn, d time.Duration) {
					if up.Close() == nil {
						t.Error("TunnelDone got an upstream connection still open")
					}
					lived <- d
				}
			})
			c := f.conn()
			br := bufio.NewReader(c)
			o.open(t, c, br, port)
			echoOnce(t, c, br, "ping")
			if !eventually(2*time.Second, func() bool { return testkit.CountFrames("gateway.(*Server).serveConn(") == 0 }) {
				t.Error("the handshake's goroutine still runs while the tunnel is up")
			}
			if got := testkit.CountFrames("relay.(*tunnel).direction("); got != 2 {
				t.Errorf("goroutines relaying = %d, want 2", got)
			}
			if a, n := f.srv.Active(), f.srv.Tunnels(); a != 1 || n != 1 {
				t.Errorf("while up: Active = %d, Tunnels = %d; want 1 and 1", a, n)
			}
			h.mu.Lock()
			open := h.open[o.proto]
			h.mu.Unlock()
			if open != 1 || released.Load() != 0 || len(lived) != 0 {
				t.Errorf("while up: open %d, released %d, TunnelDone %d times; want 1, 0, 0", open, released.Load(), len(lived))
			}

			c.Close()
			select {
			case d := <-lived:
				if d <= 0 {
					t.Errorf("TunnelDone lived = %v, want > 0", d)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("TunnelDone not called within 5s of the client closing")
			}
			if !eventually(2*time.Second, func() bool { return f.srv.Active() == 0 }) {
				t.Fatalf("Active = %d after the tunnel ended, want 0", f.srv.Active())
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if n, r := f.srv.Tunnels(), released.Load(); n != 0 || r != 1 || len(lived) != 0 {
				t.Errorf("after: Tunnels = %d, released %d times, TunnelDone again %d; want 0, 1, 0", n, r, len(lived))
			}
			if h.open[o.proto] != 0 || h.up != 4 || h.down != 4 {
				t.Errorf("after: open %d, relayed up %d down %d; want 0, 4, 4", h.open[o.proto], h.up, h.down)
			}
		})
	}
}

// TestTunnelEndHookPanics checks that a hook panicking at a tunnel's end, on the relay's
// goroutine, is recovered and the connection still released.
func TestTunnelEndHookPanics(t *testing.T) {
	port := echoServer(t)
	var released, panics atomic.Int32
	f := newFixture(t, func(s *Server) {
		s.Admit = func(ctx context.Context, _ net.Conn) (context.Context, func(), error) {
			return ctx, func() { released.Add(1) }, nil
		}
		s.TunnelDone = func(context.Context, net.Conn, time.Duration) { panic("boom") }
		s.Panicked = func() { panics.Add(1) }
	})
	for i := range 2 { // the second proves the server still serves
		c := f.conn()
		br := bufio.NewReader(c)
		tunnelOpeners[0].open(t, c, br, port)
		echoOnce(t, c, br, "x")
		c.Close()
		if !eventually(5*time.Second, func() bool { return f.srv.Active() == 0 && released.Load() == int32(i+1) }) {
			t.Fatalf("tunnel %d: Active = %d, released %d times; want 0 and %d", i, f.srv.Active(), released.Load(), i+1)
		}
	}
	if got := panics.Load(); got != 2 {
		t.Errorf("Panicked called %d times, want 2", got)
	}
}

// TestShutdownWaitsForTunnel checks that a draining Shutdown waits for a tunnel whose
// handshake goroutine is long gone, and returns as soon as it ends.
func TestShutdownWaitsForTunnel(t *testing.T) {
	port := echoServer(t)
	f := newFixture(t, nil)
	c := f.conn()
	br := bufio.NewReader(c)
	tunnelOpeners[0].open(t, c, br, port)
	echoOnce(t, c, br, "x")
	if !eventually(2*time.Second, func() bool { return testkit.CountFrames("gateway.(*Server).serveConn(") == 0 }) {
		t.Fatal("the handshake's goroutine still runs while the tunnel is up")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.srv.Shutdown(ctx) }()
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a tunnel open", err)
	case <-time.After(200 * time.Millisecond):
	}
	echoOnce(t, c, br, "y") // the tunnel still relays while the server drains
	c.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown after the tunnel ended = %v, want nil", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Shutdown did not return within 3s of the tunnel ending")
	}
}
