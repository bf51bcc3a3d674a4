package netlab

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

// These tests use 203.0.113.0/24 and 2001:db8:203::/64 so that they never collide with other
// packages' labs (cmd/sortie's e2e tests use 198.51.100.0/24) when packages run in parallel.
var (
	hostV4 = netip.MustParsePrefix("203.0.113.10/24")
	hostV6 = netip.MustParsePrefix("2001:db8:203::10/64")
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestHostReachableFromRoot(t *testing.T) {
	lab := New(t, "netlabt")
	h := lab.Host("srv", hostV4, hostV6)
	tests := []struct {
		name string
		addr netip.Addr
	}{
		{name: "ipv4", addr: hostV4.Addr()},
		{name: "ipv6", addr: hostV6.Addr()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := h.Listen("tcp", netip.AddrPortFrom(tt.addr, 0).String())
			if err != nil {
				t.Fatalf("Listen: %v", err)
			}
			defer ln.Close()
			go echoOnce(ln)
			got := roundTrip(t, ln.Addr().String(), "hello "+tt.name)
			if want := "hello " + tt.name; got != want {
				t.Errorf("echo = %q, want %q", got, want)
			}
		})
	}
}

func TestListenerLivesInHostNamespace(t *testing.T) {
	lab := New(t, "netlabt")
	h := lab.Host("srv", hostV4)
	// A listener on the host's loopback is reachable from inside the host and not from the
	// root namespace: it really lives in the host's namespace.
	ln, err := h.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen in host: %v", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := h.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial from inside the host: %v", err)
	}
	c.Close()
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), 2*time.Second); err == nil {
		c.Close()
		t.Error("the host's loopback listener answered from the root namespace")
	}
}

func TestHostPacket(t *testing.T) {
	lab := New(t, "netlabt")
	h := lab.Host("udp", hostV4, hostV6)
	for _, addr := range []netip.Addr{hostV4.Addr(), hostV6.Addr()} {
		t.Run(addr.String(), func(t *testing.T) {
			pc, err := h.ListenPacket("udp", netip.AddrPortFrom(addr, 0).String())
			if err != nil {
				t.Fatalf("ListenPacket: %v", err)
			}
			defer pc.Close()
			c, err := net.DialTimeout("udp", pc.LocalAddr().String(), 5*time.Second)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			if _, err := c.Write([]byte("ping")); err != nil {
				t.Fatalf("write: %v", err)
			}
			pc.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 16)
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if got := string(buf[:n]); got != "ping" {
				t.Errorf("got %q, want %q", got, "ping")
			}
		})
	}
}

func TestIsolatedCannotReachRoot(t *testing.T) {
	lab := New(t, "netlabt")
	lab.Host("srv", hostV4)
	iso := lab.Isolated("iso")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go echoOnce(ln)
	// Control: the root namespace reaches its own listener.
	if got := roundTrip(t, ln.Addr().String(), "root"); got != "root" {
		t.Fatalf("control echo = %q, want %q", got, "root")
	}
	tests := []struct {
		name string
		addr string
		want error
	}{
		{name: "root loopback", addr: ln.Addr().String(), want: syscall.ECONNREFUSED},
		{name: "lab host", addr: net.JoinHostPort(hostV4.Addr().String(), "80"), want: syscall.ENETUNREACH},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := iso.DialContext(ctx, "tcp", tt.addr)
			if err == nil {
				c.Close()
				t.Fatalf("isolated host reached %s", tt.name)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("dial error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCommandRunsInHost(t *testing.T) {
	lab := New(t, "netlabt")
	h := lab.Host("cmd", hostV4, hostV6)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := h.Command(ctx, "ip", "-o", "addr", "show", "dev", "eth0").CombinedOutput()
	if err != nil {
		t.Fatalf("ip addr in host: %v: %s", err, out)
	}
	for _, want := range []string{hostV4.String(), hostV6.String()} {
		if !strings.Contains(string(out), want) {
			t.Errorf("host's eth0 lacks %s:\n%s", want, out)
		}
	}
	out, err = h.Command(ctx, "ip", "route", "show", "default").CombinedOutput()
	if err != nil {
		t.Fatalf("ip route in host: %v: %s", err, out)
	}
	if want := "default via 203.0.113.1 dev eth0"; !strings.Contains(string(out), want) {
		t.Errorf("host routes = %q, want a line with %q", out, want)
	}
}

func TestClaim(t *testing.T) {
	lab := &Lab{prefix: "netlabt", prefixes: map[netip.Prefix]string{}}
	if _, err := lab.claim("a", []netip.Prefix{hostV4, hostV6}); err != nil {
		t.Fatalf("first claim: %v", err)
	}
	tests := []struct {
		name string
		addr netip.Prefix
	}{
		{name: "prefix of another host", addr: netip.MustParsePrefix("203.0.113.20/24")},
		{name: "v6 prefix of another host", addr: netip.MustParsePrefix("2001:db8:203::20/64")},
		{name: "root side address", addr: netip.MustParsePrefix("192.0.2.1/24")},
		{name: "invalid", addr: netip.Prefix{}},
		{name: "mapped", addr: netip.MustParsePrefix("::ffff:192.0.2.10/120")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if veth, err := lab.claim("b", []netip.Prefix{tt.addr}); err == nil {
				t.Errorf("claim(%v) = %q, want an error", tt.addr, veth)
			}
		})
	}
	veth, err := lab.claim("c", []netip.Prefix{netip.MustParsePrefix("2001:db8:ffff::10/64")})
	if err != nil || veth != "netlabt1" {
		t.Errorf("claim of a free prefix = %q, %v; want %q, nil", veth, err, "netlabt1")
	}
}

func TestCleanupLeavesNothing(t *testing.T) {
	const prefix = "netlabc"
	// Leftovers of an earlier run that New must remove.
	mustIP(t, "netns", "add", prefix+"-stale")
	mustIP(t, "link", "add", prefix+"9", "type", "veth", "peer", "name", prefix+"9p")
	t.Run("lab", func(t *testing.T) {
		lab := New(t, prefix)
		if got := withPrefix(t, prefix); len(got) != 0 {
			t.Errorf("after New, leftovers remain: %v", got)
		}
		lab.Host("a", hostV4, hostV6)
		lab.Isolated("b")
		want := []string{prefix + "-a", prefix + "-b", prefix + "0"}
		if diff := cmp.Diff(want, withPrefix(t, prefix)); diff != "" {
			t.Errorf("during the test (-want +got):\n%s", diff)
		}
	})
	if got := withPrefix(t, prefix); len(got) != 0 {
		t.Errorf("after cleanup, remaining: %v", got)
	}
}

// withPrefix returns the namespaces, then the root links, whose names start with prefix.
func withPrefix(t *testing.T, prefix string) []string {
	t.Helper()
	nss, err := namespaces()
	if err != nil {
		t.Fatal(err)
	}
	links, err := rootLinks()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, name := range append(sortedCopy(nss), sortedCopy(links)...) {
		if strings.HasPrefix(name, prefix) {
			got = append(got, name)
		}
	}
	return got
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j] < c[j-1]; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	return c
}

func mustIP(t *testing.T, args ...string) {
	t.Helper()
	Require(t)
	if err := runIP(args...); err != nil {
		t.Fatal(err)
	}
}

// echoOnce accepts one connection and echoes one line back.
func echoOnce(ln net.Listener) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return
	}
	io.WriteString(c, line)
}

// roundTrip sends msg as a line to addr from the root namespace and returns the echoed line.
func roundTrip(t *testing.T, addr, msg string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial from root: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, msg+"\n"); err != nil {
		t.Fatalf("write: %v", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return strings.TrimSuffix(line, "\n")
}

func TestRegistryLastLab(t *testing.T) {
	dir := t.TempDir()
	if err := register(dir, "rega"); err != nil {
		t.Fatal(err)
	}
	if err := register(dir, "regb"); err != nil {
		t.Fatal(err)
	}
	// A record of a process that is gone does not keep the guard.
	if err := os.WriteFile(filepath.Join(dir, "stale.2147483646"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if last, err := unregister(dir, "rega"); err != nil || last {
		t.Fatalf("first of two labs: last=%v err=%v", last, err)
	}
	if last, err := unregister(dir, "regb"); err != nil || !last {
		t.Fatalf("second of two labs: last=%v err=%v", last, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("records left: %v", entries)
	}
}
