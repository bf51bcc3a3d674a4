package gateway

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sortie.dev/sortie/internal/refusal"
)

// authFixture is a gateway whose listener requires authentication for alice:secret.
func authFixture(t *testing.T) (*fixture, *atomic.Int32) {
	var failures atomic.Int32
	f := newFixtureWithListen(t, func(s *Server) {
		s.Authenticate = func(ctx context.Context, user, password string) (context.Context, error) {
			if user == "alice" && password == "secret" {
				return ctx, nil
			}
			failures.Add(1)
			return nil, refusal.New(refusal.Auth, "")
		}
	}, Listen{Protocols: AllProtocols, Auth: true})
	return f, &failures
}

func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

func TestHTTPAuthentication(t *testing.T) {
	f, failures := authFixture(t)
	_, port := echoOrigin(t)
	target := "http://origin.test:" + port + "/"
	tests := []struct {
		name       string
		header     string
		wantStatus int
	}{
		{name: "no credentials", wantStatus: 407},
		{name: "wrong password", header: basic("alice", "guess"), wantStatus: 407},
		{name: "malformed", header: "Basic %%%", wantStatus: 407},
		{name: "right", header: basic("alice", "secret"), wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := "GET " + target + " HTTP/1.1\r\nHost: x\r\n"
			if tt.header != "" {
				raw += "Proxy-Authorization: " + tt.header + "\r\n"
			}
			c := f.conn()
			resp := f.roundTrip(c, bufio.NewReader(c), raw+"\r\n", "GET")
			body := readBody(t, resp)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus == 407 && !strings.HasPrefix(resp.Header.Get("Proxy-Authenticate"), "Basic") {
				t.Errorf("407 without Proxy-Authenticate: %v", resp.Header)
			}
			if strings.Contains(body, "Proxy-Authorization") || strings.Contains(body, "secret") {
				t.Errorf("the origin received the credentials: %s", body)
			}
		})
	}
	if got := failures.Load(); got != 2 {
		t.Errorf("failures counted %d, want 2 (wrong and malformed; a missing header is a challenge)", got)
	}
	// The exit notice stays public.
	c := f.conn()
	if resp := f.roundTrip(c, bufio.NewReader(c), "GET / HTTP/1.1\r\nHost: p\r\n\r\n", "GET"); resp.StatusCode != 200 {
		t.Errorf("the proxy's own page asks for authentication: %d", resp.StatusCode)
	}
}

func TestSOCKSAuthentication(t *testing.T) {
	f, _ := authFixture(t)
	port := portOf(t, echoServer(t))
	req := socks5Request(1, atypIPv4, []byte{127, 0, 0, 1}, port)[3:]
	userPass := func(u, p string) []byte {
		return append(append(append([]byte{1, byte(len(u))}, u...), byte(len(p))), p...)
	}
	tests := []struct {
		name string
		send []byte
		want []byte // the replies, then the connection closes unless the tunnel is up
		up   bool
	}{
		{name: "no authentication offered", send: []byte{5, 1, 0}, want: []byte{5, 0xFF}},
		{name: "wrong password", send: append([]byte{5, 1, 2}, userPass("alice", "guess")...), want: []byte{5, 2, 1, 1}},
		{name: "right", send: append(append([]byte{5, 2, 0, 2}, userPass("alice", "secret")...), req...), want: []byte{5, 2, 1, 0, 5, 0}, up: true},
		{name: "socks4 has no authentication", send: socks4Request(netip.MustParseAddr("127.0.0.1"), port, ""), want: []byte{0, 0x5B}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := f.conn()
			c.Write(tt.send)
			got := make([]byte, len(tt.want))
			if _, err := io.ReadFull(c, got); err != nil || string(got) != string(tt.want) {
				t.Fatalf("replies %v (%v), want %v", got, err, tt.want)
			}
			if !tt.up {
				c.SetReadDeadline(time.Now().Add(3 * time.Second))
				if n, _ := io.Copy(io.Discard, c); n > 8 {
					t.Errorf("%d more bytes after a refusal", n)
				}
				return
			}
			io.ReadFull(c, make([]byte, 2+4+2)) // RSV, ATYP, the bound IPv4 address and port
			c.Write([]byte("ping"))
			echo := make([]byte, 4)
			if _, err := io.ReadFull(c, echo); err != nil || string(echo) != "ping" {
				t.Errorf("through the tunnel: %q %v", echo, err)
			}
		})
	}
}

func TestAdmitRefusesEarly(t *testing.T) {
	var released atomic.Int32
	f := newFixture(t, func(s *Server) {
		s.Admit = func(ctx context.Context, c net.Conn) (context.Context, func(), error) {
			if c.RemoteAddr().(*net.TCPAddr).Port%2 == 0 {
				return nil, nil, &refusal.Error{Reason: refusal.RateLimited, RetryAfter: 7 * time.Second}
			}
			return ctx, func() { released.Add(1) }, nil
		}
	})
	for range 4 {
		c := f.conn()
		even := c.LocalAddr().(*net.TCPAddr).Port%2 == 0
		resp := f.roundTrip(c, bufio.NewReader(c), "GET / HTTP/1.1\r\nHost: p\r\n\r\n", "GET")
		readBody(t, resp)
		c.Close()
		switch {
		case even && (resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7"):
			t.Errorf("refused client: %d Retry-After %q, want 429 and 7", resp.StatusCode, resp.Header.Get("Retry-After"))
		case !even && resp.StatusCode != 200:
			t.Errorf("admitted client: %d", resp.StatusCode)
		}
	}
}
