package egress

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"sortie.dev/sortie/internal/dnstest"
	"sortie.dev/sortie/internal/refusal"
)

// fakeUpstream is a one-shot proxy on loopback: serve reads the handshake, answers with
// reply and, when the handshake succeeded, echoes.
func fakeUpstream(t *testing.T, serve func(c net.Conn) bool) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if serve(c) {
			io.Copy(c, c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return &url.URL{Scheme: "socks5", Host: ln.Addr().String()}
}

// socksServer answers a SOCKS5 CONNECT with code after checking the requested name and port.
func socksServer(t *testing.T, wantName string, wantPort uint16, code byte) func(net.Conn) bool {
	return func(c net.Conn) bool {
		buf := make([]byte, 3)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "\x05\x01\x00" {
			t.Errorf("greeting %q, %v", buf, err)
			return false
		}
		c.Write([]byte{5, 0})
		hdr := make([]byte, 5)
		io.ReadFull(c, hdr)
		name := make([]byte, hdr[4])
		io.ReadFull(c, name)
		port := make([]byte, 2)
		io.ReadFull(c, port)
		if hdr[3] != 3 || string(name) != wantName || int(port[0])<<8|int(port[1]) != int(wantPort) {
			t.Errorf("request for %q:%v (atyp %d), want domain %q:%d", name, port, hdr[3], wantName, wantPort)
		}
		c.Write([]byte{5, code, 0, 1, 0, 0, 0, 0, 0, 0})
		return code == 0
	}
}

func TestRoutes(t *testing.T) {
	dns := dnstest.Start(t, map[string][]netip.Addr{})
	onion := "expyuzz4wqqyqhjn.onion"
	tests := []struct {
		name       string
		host       string
		upstream   func(t *testing.T) *url.URL
		wantReason refusal.Reason
		wantEcho   bool
	}{
		{name: "socks5 upstream", host: "ExpYuzz4wqqyqhjn.Onion", wantEcho: true,
			upstream: func(t *testing.T) *url.URL { return fakeUpstream(t, socksServer(t, onion, 443, 0)) }},
		{name: "tor onion descriptor not found", host: onion, wantReason: refusal.HostUnreach,
			upstream: func(t *testing.T) *url.URL { return fakeUpstream(t, socksServer(t, onion, 443, 0xF0)) }},
		{name: "socks upstream refuses", host: onion, wantReason: refusal.UpstreamFailure,
			upstream: func(t *testing.T) *url.URL { return fakeUpstream(t, socksServer(t, onion, 443, 0x01)) }},
		{name: "no upstream configured", host: onion, wantReason: refusal.NoRoute,
			upstream: func(t *testing.T) *url.URL { return nil }},
		{name: "upstream down", host: onion, wantReason: refusal.UpstreamFailure,
			upstream: func(t *testing.T) *url.URL { return &url.URL{Scheme: "socks5", Host: "127.0.0.1:1"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &Egress{
				Resolver: NewResolver([]netip.AddrPort{dns.Addr}, time.Second),
				Routes:   []Route{{Suffix: ".onion", Upstream: tt.upstream(t)}},
			}
			c, err := e.Dial(context.Background(), Target{Host: tt.host, Port: 443})
			if !tt.wantEcho {
				if got := refusal.ReasonOf(err); err == nil || got != tt.wantReason {
					t.Fatalf("Dial = %v (reason %v), want reason %v", err, got, tt.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte("ping"))
			got := make([]byte, 4)
			if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
				t.Errorf("through the upstream: %q, %v", got, err)
			}
		})
	}
	if n := dns.Queries(onion, "A") + dns.Queries(onion, "AAAA"); n != 0 {
		t.Errorf("a routed name was resolved %d times", n)
	}
}

func TestRouteHTTPConnect(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		wantReason refusal.Reason
	}{
		{name: "tunnel", status: 200},
		{name: "router cannot reach it", status: 503, wantReason: refusal.UpstreamFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := fakeUpstream(t, func(c net.Conn) bool {
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil || req.Method != "CONNECT" || req.Host != "site.i2p:80" {
					t.Errorf("upstream got %v %v", req, err)
					return false
				}
				if tt.status == 200 {
					io.WriteString(c, "HTTP/1.1 200 OK\r\n\r\n")
					return true
				}
				io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
				return false
			})
			u.Scheme = "http"
			e := &Egress{Routes: []Route{{Suffix: "i2p", Upstream: u}}}
			c, err := e.Dial(context.Background(), Target{Host: "site.i2p", Port: 80})
			if tt.wantReason != 0 {
				if got := refusal.ReasonOf(err); got != tt.wantReason {
					t.Fatalf("Dial = %v, want reason %v", err, tt.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
		})
	}
}
