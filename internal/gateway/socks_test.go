package gateway

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"strconv"
	"testing"

	"golang.org/x/net/proxy"
)

func portOf(t *testing.T, s string) uint16 {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return uint16(n)
}

func socks5Request(cmd, atyp byte, addr []byte, port uint16) []byte {
	b := []byte{5, 1, 0, 5, cmd, 0, atyp}
	if atyp == atypDomain {
		b = append(b, byte(len(addr)))
	}
	b = append(b, addr...)
	return binary.BigEndian.AppendUint16(b, port)
}

func TestSOCKS5(t *testing.T) {
	f := newFixture(t, nil)
	port := portOf(t, echoServer(t))
	tests := []struct {
		name      string
		req       []byte
		wantReply byte
		wantEcho  bool
	}{
		{name: "domain", req: socks5Request(1, atypDomain, []byte("origin.test"), port), wantReply: socks5OK, wantEcho: true},
		{name: "ipv4", req: socks5Request(1, atypIPv4, []byte{127, 0, 0, 1}, port), wantReply: socks5OK, wantEcho: true},
		{name: "bind", req: socks5Request(2, atypIPv4, []byte{127, 0, 0, 1}, port), wantReply: socks5BadCommand},
		{name: "udp associate", req: socks5Request(3, atypIPv4, []byte{127, 0, 0, 1}, port), wantReply: socks5BadCommand},
		{name: "bad address type", req: []byte{5, 1, 0, 5, 1, 0, 9, 1, 2, 3, 4, 0, 80}, wantReply: socks5BadAddressType},
		{name: "policy", req: socks5Request(1, atypDomain, []byte("inward.test"), 80), wantReply: socks5NotAllowed},
		{name: "blocked", req: socks5Request(1, atypDomain, []byte("blocked.test"), 80), wantReply: socks5NotAllowed},
		{name: "nxdomain", req: socks5Request(1, atypDomain, []byte("nx.test"), 80), wantReply: socks5HostUnreach},
		{name: "refused", req: socks5Request(1, atypIPv4, []byte{127, 0, 0, 1}, 1), wantReply: socks5Refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := f.conn()
			c.Write(append(tt.req, "ping"...))
			var method [2]byte
			if _, err := io.ReadFull(c, method[:]); err != nil || method != [2]byte{5, 0} {
				t.Fatalf("method selection = %v, %v", method, err)
			}
			var reply [10]byte
			if _, err := io.ReadFull(c, reply[:]); err != nil {
				t.Fatalf("reply: %v", err)
			}
			if reply[1] != tt.wantReply {
				t.Errorf("reply code = %#x, want %#x", reply[1], tt.wantReply)
			}
			if !tt.wantEcho {
				if n, _ := c.Read(make([]byte, 1)); n != 0 {
					t.Error("connection stayed open after a failure reply")
				}
				return
			}
			got := make([]byte, 4)
			if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
				t.Errorf("echo = %q, %v", got, err)
			}
		})
	}
}

func TestSOCKS5UserPassWithoutAuth(t *testing.T) {
	// Tor Browser sends a username and password to isolate its circuits: a listener without
	// authentication takes any.
	f := newFixture(t, nil)
	port := portOf(t, echoServer(t))
	c := f.conn()
	c.Write([]byte{5, 1, 2})
	c.Write([]byte{1, 3, 'i', 's', 'o', 1, 'x'})
	c.Write(socks5Request(1, atypIPv4, []byte{127, 0, 0, 1}, port)[3:])
	want := []byte{5, 2, 1, 0, 5, 0}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
		t.Errorf("replies %v (%v), want %v", got, err, want)
	}
}

func TestSOCKS5WithXNetProxy(t *testing.T) {
	f := newFixture(t, nil)
	port := echoServer(t)
	d, err := proxy.SOCKS5("tcp", f.addr, nil, proxy.Direct)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Dial("tcp", net.JoinHostPort("origin.test", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hello"))
	got := make([]byte, 5)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "hello" {
		t.Errorf("echo = %q, %v", got, err)
	}
}

func socks4Request(ip netip.Addr, port uint16, host string) []byte {
	b := []byte{4, 1}
	b = binary.BigEndian.AppendUint16(b, port)
	b = append(b, ip.AsSlice()...)
	b = append(b, "user\x00"...)
	if host != "" {
		b = append(b, host+"\x00"...)
	}
	return b
}

func TestSOCKS4(t *testing.T) {
	f := newFixture(t, nil)
	port := portOf(t, echoServer(t))
	tests := []struct {
		name      string
		req       []byte
		wantReply byte
	}{
		{name: "socks4", req: socks4Request(netip.MustParseAddr("127.0.0.1"), port, ""), wantReply: socks4Granted},
		{name: "socks4a", req: socks4Request(netip.MustParseAddr("0.0.0.1"), port, "origin.test"), wantReply: socks4Granted},
		{name: "policy", req: socks4Request(netip.MustParseAddr("0.0.0.1"), 80, "inward.test"), wantReply: socks4Rejected},
		{name: "bind", req: append([]byte{4, 2}, socks4Request(netip.MustParseAddr("127.0.0.1"), port, "")[2:]...), wantReply: socks4Rejected},
		{name: "empty 4a host", req: socks4Request(netip.MustParseAddr("0.0.0.1"), port, "\x00"), wantReply: socks4Rejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := f.conn()
			c.Write(tt.req)
			var reply [8]byte
			if _, err := io.ReadFull(c, reply[:]); err != nil {
				t.Fatalf("reply: %v", err)
			}
			if reply[0] != 0 || reply[1] != tt.wantReply {
				t.Errorf("reply = %v, want code %#x", reply, tt.wantReply)
			}
			if tt.wantReply != socks4Granted {
				return
			}
			c.Write([]byte("ping"))
			got := make([]byte, 4)
			if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
				t.Errorf("echo = %q, %v", got, err)
			}
		})
	}
}

func TestListenerProtocols(t *testing.T) {
	f := newFixtureWith(t, nil, HTTP)
	c := f.conn()
	c.Write([]byte{5, 1, 0})
	if got, _ := io.ReadAll(c); len(got) != 0 {
		t.Errorf("SOCKS5 on an HTTP-only listener got %v, want a closed connection", got)
	}
}
