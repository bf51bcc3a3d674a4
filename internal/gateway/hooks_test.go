package gateway

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// hookLog records what the metric hooks were told.
type hookLog struct {
	mu       sync.Mutex
	conns    map[Protocols]int
	open     map[Protocols]int
	failures []Failure
	dials    []string
	up, down int64
}

func newHookLog() *hookLog {
	return &hookLog{conns: map[Protocols]int{}, open: map[Protocols]int{}}
}

func (h *hookLog) install(s *Server) {
	s.Conn = func(p Protocols, delta int) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if delta > 0 {
			h.conns[p]++
		}
		h.open[p] += delta
	}
	s.HandshakeFailed = func(f Failure) { h.mu.Lock(); h.failures = append(h.failures, f); h.mu.Unlock() }
	s.Dialed = func(t Target, _ time.Duration, err error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		result := "ok"
		if err != nil {
			result = err.Error()
		}
		h.dials = append(h.dials, t.Kind.String()+" "+result)
	}
	s.Relayed = func(up, down int64) { h.mu.Lock(); h.up += up; h.down += down; h.mu.Unlock() }
}

func TestHooks(t *testing.T) {
	h := newHookLog()
	f := newFixture(t, func(s *Server) { s.HandshakeTimeout = 300 * time.Millisecond; h.install(s) })
	port := echoServer(t)

	c := f.conn()
	br := bufio.NewReader(c)
	io.WriteString(c, "CONNECT origin.test:"+port+" HTTP/1.1\r\n\r\n")
	if resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"}); err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	io.WriteString(c, "12345")
	io.ReadFull(br, make([]byte, 5))
	c.Close()

	for _, msg := range []string{"CONNECT nx.test:80 HTTP/1.1\r\n\r\n", "\x05\x01\x00\x07", ""} {
		c := f.conn()
		io.WriteString(c, msg)
		io.Copy(io.Discard, c)
	}
	c = f.conn()
	c.Close()

	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		done := h.open[HTTP] == 0 && h.open[SOCKS5] == 0 && h.open[0] == 0 && h.up == 5
		h.mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if diff := cmp.Diff(map[Protocols]int{HTTP: 2, SOCKS5: 1, 0: 2}, h.conns); diff != "" {
		t.Errorf("connections (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[Protocols]int{HTTP: 0, SOCKS5: 0, 0: 0}, h.open); diff != "" {
		t.Errorf("open connections after all closed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"connect ok", "connect nxdomain"}, h.dials); diff != "" {
		t.Errorf("dials (-want +got):\n%s", diff)
	}
	if h.up != 5 || h.down != 5 {
		t.Errorf("relayed up %d down %d, want 5 and 5", h.up, h.down)
	}
	if len(h.failures) != 3 {
		t.Errorf("handshake failures = %v, want three (malformed or timeout, timeout, closed)", h.failures)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestFailureOf(t *testing.T) {
	plain, _ := net.Pipe()
	defer plain.Close()
	tc := tls.Server(plain, &tls.Config{})
	tests := []struct {
		name string
		c    net.Conn
		err  error
		want Failure
	}{
		{name: "timeout", c: plain, err: timeoutErr{}, want: FailTimeout},
		{name: "deadline", c: plain, err: os.ErrDeadlineExceeded, want: FailTimeout},
		{name: "eof", c: plain, err: io.EOF, want: FailClosed},
		{name: "unexpected eof", c: plain, err: io.ErrUnexpectedEOF, want: FailClosed},
		{name: "record header", c: plain, err: tls.RecordHeaderError{Msg: "not tls"}, want: FailTLS},
		{name: "tls error on a tls conn", c: tc, err: errors.New("tls: client offered only unsupported versions"), want: FailTLS},
		{name: "tls-looking error on a plain conn", c: plain, err: errors.New("tls: x"), want: FailMalformed},
		{name: "other", c: plain, err: errSOCKS, want: FailMalformed},
	}
	for _, tt := range tests {
		if got := failureOf(tt.c, tt.err); got != tt.want {
			t.Errorf("%s: failureOf = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		b    byte
		p    Protocols
		want Protocols
	}{
		{b: 5, p: AllProtocols, want: SOCKS5},
		{b: 4, p: AllProtocols, want: SOCKS4},
		{b: 'G', p: AllProtocols, want: HTTP},
		{b: 5, p: HTTP | SOCKS4, want: 0},
		{b: 'C', p: SOCKS5, want: 0},
	}
	for _, tt := range tests {
		if got := sniff(tt.b, tt.p); got != tt.want {
			t.Errorf("sniff(%#x, %v) = %v, want %v", tt.b, tt.p, got, tt.want)
		}
	}
}
