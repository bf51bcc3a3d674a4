package daemon

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/dnstest"
)

// BenchmarkNewTunnel measures the gateway's new-tunnel rate: each operation opens a client
// connection, sends CONNECT to a name, waits for the 200 and closes. The name resolves (A
// and AAAA) through the daemon's resolver to an origin on 127.0.0.2 that accepts and closes.
// "cached" answers from the cache; "uncached" runs with ttl_floor 0, so every tunnel costs
// two questions to the loopback nameserver.
func BenchmarkNewTunnel(b *testing.B) {
	for _, bc := range []struct {
		name  string
		floor time.Duration
	}{
		{name: "cached", floor: time.Minute},
		{name: "uncached", floor: 0},
	} {
		b.Run(bc.name, func(b *testing.B) { benchTunnels(b, bc.floor) })
	}
}

func benchTunnels(b *testing.B, floor time.Duration) {
	origin := startSink(b, "127.0.0.2:0")
	ns := dnstest.Start(b, map[string][]netip.Addr{"origin.bench.test": {origin.Addr()}})
	c := config.Default()
	c.DataDir = b.TempDir()
	c.Listeners = []config.Listener{{Name: "bench", Address: netip.MustParseAddrPort("127.0.0.1:0")}}
	c.Metrics.Address = netip.MustParseAddrPort("127.0.0.1:0")
	c.Gateway.MaxConnections = 1 << 14
	c.Gateway.DrainTimeout = config.Duration(time.Second)
	c.Egress.AllowSpecial = []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
	c.Resolver.Nameservers = []config.Nameserver{config.Nameserver(ns.Addr)}
	c.Resolver.TTLFloor = config.Duration(floor)
	d, err := New(c, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	proxy := d.Addrs()[0].String()
	target := fmt.Sprintf("origin.bench.test:%d", origin.Port())
	if err := tunnel(proxy, target); err != nil { // warm the cache, and check the path works
		b.Fatalf("first tunnel: %v", err)
	}
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := tunnel(proxy, target); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tunnels/s")
	b.ReportMetric(float64(ns.Queries("origin.bench.test", "A"))/float64(b.N+1), "A-queries/op")
}

// tunnel opens one CONNECT tunnel through proxy to target and closes it.
func tunnel(proxy, target string) error {
	conn, err := net.DialTimeout("tcp", proxy, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodConnect})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("CONNECT: %s", resp.Status)
	}
	return nil
}

// startSink accepts connections on addr and closes them, until the benchmark ends.
func startSink(b *testing.B, addr string) netip.AddrPort {
	b.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	})
	b.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().(*net.TCPAddr).AddrPort()
}
