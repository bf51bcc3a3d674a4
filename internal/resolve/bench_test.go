package resolve

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkCachedLookup measures answers served from the cache, from all cores at once.
func BenchmarkCachedLookup(b *testing.B) {
	srv := startRecords(b, map[string][]netip.Addr{"host.test": addrs("192.0.2.1")})
	r, _ := newTest(b, Config{Nameservers: []netip.AddrPort{srv.addr}, TTLFloor: time.Hour, TTLCeiling: time.Hour})
	ctx := context.Background()
	if _, err := r.LookupNetIP(ctx, "ip4", "host.test"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.LookupNetIP(ctx, "ip4", "host.test"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lookups/s")
	if got := srv.Queries("host.test", "A"); got != 1 {
		b.Errorf("server saw %d queries, want 1", got)
	}
}
