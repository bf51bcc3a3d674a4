package proxyproto

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve wraps a loopback listener and returns it with a dial function.
func serve(t *testing.T, cfg Config) (*Listener, func() net.Conn) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := NewListener(raw, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	dial := func() net.Conn {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	return ln, dial
}

func accept(t *testing.T, ln net.Listener) net.Conn {
	t.Helper()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

func TestProxiedConnection(t *testing.T) {
	tests := []struct {
		name    string
		header  []byte
		want    string // the RemoteAddr after the handshake; "" for the proxy's own
		outcome Outcome
	}{
		{name: "v1 tcp4", header: Header{Source: src4, Dest: dst4}.AppendV1(nil), want: src4.String(), outcome: OutcomeProxied},
		{name: "v1 tcp6", header: Header{Source: src6, Dest: dst6}.AppendV1(nil), want: src6.String(), outcome: OutcomeProxied},
		{name: "v2 tcp4", header: Header{Source: src4, Dest: dst4}.AppendV2(nil), want: src4.String(), outcome: OutcomeProxied},
		{name: "v2 tcp6", header: Header{Source: src6, Dest: dst6}.AppendV2(nil), want: src6.String(), outcome: OutcomeProxied},
		{name: "v1 unknown", header: []byte("PROXY UNKNOWN\r\n"), outcome: OutcomeLocal},
		{name: "v2 local", header: v2(0x20, 0, nil), outcome: OutcomeLocal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var outcomes []Outcome
			var mu sync.Mutex
			ln, dial := serve(t, Config{Trusted: loopback, Observe: func(o Outcome) {
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}})
			client := dial()
			payload := "CONNECT example.org:443 HTTP/1.1\r\n\r\n"
			// Header and payload in one write: the v1 reader reads past the line.
			if _, err := client.Write(append(tt.header, payload...)); err != nil {
				t.Fatal(err)
			}
			c := accept(t, ln)
			got := make([]byte, len(payload))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatalf("reading the payload: %v", err)
			}
			if string(got) != payload {
				t.Errorf("payload = %q, want %q", got, payload)
			}
			want := tt.want
			if want == "" {
				want = client.LocalAddr().String()
			}
			if got := c.RemoteAddr().String(); got != want {
				t.Errorf("RemoteAddr = %s, want %s", got, want)
			}
			if _, ok := Raw(c).(*net.TCPConn); !ok {
				t.Errorf("Raw = %T, want *net.TCPConn once the buffered bytes are read", Raw(c))
			}
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff([]Outcome{tt.outcome}, outcomes); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRawKeepsWrapperWhileBuffered(t *testing.T) {
	ln, dial := serve(t, Config{Trusted: loopback})
	client := dial()
	client.Write(append(Header{Source: src4, Dest: dst4}.AppendV1(nil), "hello"...))
	c := accept(t, ln)
	var one [1]byte
	if _, err := io.ReadFull(c, one[:]); err != nil {
		t.Fatal(err)
	}
	if got := c.(*Conn).Buffered(); got != 4 {
		t.Fatalf("Buffered = %d, want 4", got)
	}
	if Raw(c) != c {
		t.Errorf("Raw returned the raw conn with bytes still buffered: they would be lost")
	}
}

func TestUntrusted(t *testing.T) {
	other := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	t.Run("reject", func(t *testing.T) {
		ln, dial := serve(t, Config{Trusted: other})
		client := dial()
		client.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
		accepted := make(chan net.Conn, 1)
		go func() {
			c, err := ln.Accept()
			if err == nil {
				accepted <- c
			}
			close(accepted)
		}()
		client.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := client.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read from a rejected connection: %v, want it closed", err)
		}
		ln.Close()
		if c, ok := <-accepted; ok {
			c.Close()
			t.Error("Accept returned an untrusted connection")
		}
	})
	t.Run("direct", func(t *testing.T) {
		ln, dial := serve(t, Config{Trusted: other, Untrusted: Direct})
		client := dial()
		c := accept(t, ln)
		if _, ok := c.(*net.TCPConn); !ok {
			t.Errorf("Accept = %T, want the raw *net.TCPConn", c)
		}
		if got, want := c.RemoteAddr().String(), client.LocalAddr().String(); got != want {
			t.Errorf("RemoteAddr = %s, want %s", got, want)
		}
	})
}

func TestHandshakeFailures(t *testing.T) {
	tests := []struct {
		name  string
		send  []byte
		close bool // the front end closes after sending
		want  error
	}{
		{name: "no header", send: []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), want: ErrNoHeader},
		{name: "malformed v1", send: []byte("PROXY TCP4 1.2.3.4 nope 1 2\r\n"), want: ErrMalformed},
		{name: "v1 without end", send: append([]byte("PROXY UNKNOWN "), make([]byte, 200)...), want: ErrTooLong},
		{name: "v2 too long", send: v2(0x21, 0x11, make([]byte, MaxV2Length+1))[:16], want: ErrTooLong},
		{name: "cut short", send: []byte("PROXY TCP4 1.2"), close: true, want: io.ErrUnexpectedEOF},
		{name: "silent", want: os.ErrDeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, dial := serve(t, Config{Trusted: loopback, HeaderTimeout: 200 * time.Millisecond})
			client := dial()
			client.Write(tt.send)
			if tt.close {
				client.Close()
			}
			c := accept(t, ln)
			start := time.Now()
			_, err := c.Read(make([]byte, 10))
			if !errors.Is(err, tt.want) && !(tt.close && errors.Is(err, io.EOF)) {
				t.Errorf("Read error = %v, want %v", err, tt.want)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("the handshake took %v, want it bounded by the header timeout", took)
			}
			if got, want := c.RemoteAddr().String(), client.LocalAddr().String(); got != want {
				t.Errorf("RemoteAddr after a failure = %s, want the proxy's %s", got, want)
			}
		})
	}
}

func TestDeadlines(t *testing.T) {
	t.Run("caller's sooner deadline bounds the header", func(t *testing.T) {
		ln, dial := serve(t, Config{Trusted: loopback, HeaderTimeout: time.Minute})
		dial()
		c := accept(t, ln)
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		start := time.Now()
		_, err := c.Read(make([]byte, 1))
		if !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) > 10*time.Second {
			t.Errorf("Read = %v after %v, want a timeout at the caller's deadline", err, time.Since(start))
		}
	})
	t.Run("header deadline lifted afterwards", func(t *testing.T) {
		ln, dial := serve(t, Config{Trusted: loopback, HeaderTimeout: 100 * time.Millisecond})
		client := dial()
		client.Write(Header{Source: src4, Dest: dst4}.AppendV2(nil))
		c := accept(t, ln)
		if err := c.(*Conn).Handshake(); err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(300 * time.Millisecond)
			client.Write([]byte("x"))
		}()
		if _, err := c.Read(make([]byte, 1)); err != nil {
			t.Errorf("Read after the header timeout passed: %v, want the byte", err)
		}
	})
}

func TestNewListenerNeedsTrust(t *testing.T) {
	if _, err := NewListener(nil, Config{}); err == nil {
		t.Error("NewListener with no trusted proxies succeeded, want an error")
	}
}
