package daemon

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestProxyProtocolKeysTheGuard runs a listener behind a (simulated) front end: the PROXY
// header names the client, and the per-client tunnel cap counts by that client, not by the
// front end's address.
func TestProxyProtocolKeysTheGuard(t *testing.T) {
	echo, err := net.Listen("tcp", "127.55.0.1:0")
	if err != nil {
		t.Skipf("no 127.55.0.1 on this machine: %v", err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	c := testConfig(t)
	c.Listeners[0].ProxyProtocol = true
	c.Listeners[0].TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	c.Egress.AllowSpecial = []netip.Prefix{netip.MustParsePrefix("127.55.0.0/16")}
	c.Guard.MaxTunnels = 1
	d := runDaemon(t, c)
	proxy := d.Addrs()[0].String()
	target := echo.Addr().String()
	tunnel := func(source string) (net.Conn, int) {
		conn, err := net.Dial("tcp", proxy)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		header := "PROXY TCP4 " + source + " 127.0.0.1 40000 4480\r\n"
		io.WriteString(conn, header+"CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodConnect})
		if err != nil {
			t.Fatalf("CONNECT from %s: %v", source, err)
		}
		return conn, resp.StatusCode
	}
	if _, status := tunnel("198.51.100.1"); status != 200 {
		t.Fatalf("first client: %d", status)
	}
	if _, status := tunnel("198.51.100.2"); status != 200 {
		t.Errorf("a second client behind the same front end: %d, want 200", status)
	}
	if _, status := tunnel("198.51.100.1"); status != http.StatusTooManyRequests {
		t.Errorf("the first client's second tunnel: %d, want 429 (max_tunnels 1)", status)
	}
	// Without a header a trusted peer gets nothing.
	conn, err := net.Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(conn, "CONNECT "+target+" HTTP/1.1\r\n\r\n")
	if b, _ := io.ReadAll(conn); strings.Contains(string(b), "200") {
		t.Errorf("a connection without a PROXY header was served: %q", b)
	}
}
