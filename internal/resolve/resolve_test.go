package resolve

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func lookupCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLookupNetIP(t *testing.T) {
	srv := startRecords(t, map[string][]netip.Addr{
		"dual.test": addrs("192.0.2.1", "2001:db8::1"),
		"v4.test":   addrs("192.0.2.2"),
	})
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{srv.addr}, TTLFloor: time.Minute})
	tests := []struct {
		name     string
		network  string
		host     string
		want     []netip.Addr
		notFound bool
	}{
		{name: "A", network: "ip4", host: "dual.test", want: addrs("192.0.2.1")},
		{name: "AAAA", network: "ip6", host: "dual.test", want: addrs("2001:db8::1")},
		{name: "both, IPv6 first", network: "ip", host: "dual.test", want: addrs("2001:db8::1", "192.0.2.1")},
		{name: "both, one family", network: "ip", host: "v4.test", want: addrs("192.0.2.2")},
		{name: "upper case and trailing dot", network: "ip4", host: "DUAL.Test.", want: addrs("192.0.2.1")},
		{name: "NODATA", network: "ip6", host: "v4.test", notFound: true},
		{name: "NXDOMAIN", network: "ip4", host: "missing.test", notFound: true},
		{name: "NXDOMAIN both", network: "ip", host: "missing.test", notFound: true},
		{name: "literal v4", network: "ip", host: "198.51.100.7", want: addrs("198.51.100.7")},
		{name: "literal v6", network: "ip6", host: "2001:db8::9", want: addrs("2001:db8::9")},
		{name: "literal wrong family", network: "ip6", host: "198.51.100.7", notFound: true},
		{name: "invalid name", network: "ip4", host: "bad name.test", notFound: true},
		{name: "empty label", network: "ip4", host: "a..test", notFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.LookupNetIP(lookupCtx(t), tt.network, tt.host)
			if tt.notFound {
				var de *net.DNSError
				if !errors.As(err, &de) || !de.IsNotFound {
					t.Fatalf("err = %v, want a *net.DNSError with IsNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("LookupNetIP: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("addresses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnknownNetwork(t *testing.T) {
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{silent(t)}})
	if _, err := r.LookupNetIP(lookupCtx(t), "tcp", "example.test"); err == nil {
		t.Fatal("LookupNetIP with network tcp: got no error")
	}
}

func TestRcodeErrors(t *testing.T) {
	rcodes := map[string]int{
		"servfail.test.": dns.RcodeServerFailure,
		"refused.test.":  dns.RcodeRefused,
		"formerr.test.":  dns.RcodeFormatError,
		"notimp.test.":   dns.RcodeNotImplemented,
	}
	f := startFake(t, func(_ string, q *dns.Msg) *dns.Msg {
		m := new(dns.Msg)
		m.SetRcode(q, rcodes[strings.ToLower(q.Question[0].Name)])
		return m
	})
	r, reg := newTest(t, Config{Nameservers: []netip.AddrPort{f.addr}, TTLFloor: time.Minute, Attempts: 1})
	tests := []struct {
		name    string
		host    string
		want    error
		text    string
		outcome string
	}{
		{name: "servfail", host: "servfail.test", want: ErrServFail, text: "SERVFAIL", outcome: "servfail"},
		{name: "refused", host: "refused.test", want: ErrRefused, text: "REFUSED", outcome: "refused"},
		{name: "formerr", host: "formerr.test", want: ErrFormat, text: "FORMERR", outcome: "formerr"},
		{name: "notimp", host: "notimp.test", want: ErrNotImpl, text: "NOTIMP", outcome: "notimpl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.LookupNetIP(lookupCtx(t), "ip4", tt.host)
			var de *net.DNSError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v (%T), want *net.DNSError", err, err)
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %q, want %v", err, tt.want)
			}
			if de.IsNotFound || de.IsTimeout {
				t.Errorf("IsNotFound %v IsTimeout %v, want both false", de.IsNotFound, de.IsTimeout)
			}
			if got := testutil.ToFloat64(r.metrics.answers.WithLabelValues(tt.outcome)); got != 1 {
				t.Errorf("answers_total{outcome=%q} = %v, want 1", tt.outcome, got)
			}
		})
	}
	// Failures are not cached: a second question goes upstream again.
	before := f.udp.Load()
	r.LookupNetIP(lookupCtx(t), "ip4", "servfail.test")
	if got := f.udp.Load() - before; got != 1 {
		t.Errorf("second SERVFAIL lookup sent %d queries, want 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "sortie_resolver_answers_total"); err != nil || n == 0 {
		t.Errorf("gather answers_total: %d series, %v", n, err)
	}
}

func TestTTLBuckets(t *testing.T) {
	tests := []struct {
		name    string
		floor   time.Duration
		ceiling time.Duration
		want    []time.Duration
	}{
		{name: "defaults", floor: time.Minute, ceiling: time.Hour, want: []time.Duration{time.Minute, 5 * time.Minute, time.Hour}},
		{name: "long ceiling", floor: time.Minute, ceiling: 24 * time.Hour, want: []time.Duration{time.Minute, 5 * time.Minute, time.Hour, 24 * time.Hour}},
		{name: "high floor", floor: 10 * time.Minute, ceiling: 2 * time.Hour, want: []time.Duration{10 * time.Minute, time.Hour, 2 * time.Hour}},
		{name: "floor is ceiling", floor: time.Hour, ceiling: time.Hour, want: []time.Duration{time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ttlBuckets(tt.floor, tt.ceiling)); diff != "" {
				t.Errorf("buckets (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClipTTL(t *testing.T) {
	buckets := ttlBuckets(time.Minute, time.Hour)
	tests := []struct {
		name string
		ttl  time.Duration
		want time.Duration
	}{
		{name: "zero to floor", ttl: 0, want: time.Minute},
		{name: "below floor", ttl: 10 * time.Second, want: time.Minute},
		{name: "floor", ttl: time.Minute, want: time.Minute},
		{name: "just below 5m", ttl: 299 * time.Second, want: time.Minute},
		{name: "5m", ttl: 5 * time.Minute, want: 5 * time.Minute},
		{name: "just below 1h", ttl: 3599 * time.Second, want: 5 * time.Minute},
		{name: "ceiling", ttl: time.Hour, want: time.Hour},
		{name: "above ceiling", ttl: 86400 * time.Second, want: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clipTTL(tt.ttl, buckets); got != tt.want {
				t.Errorf("clipTTL(%v) = %v, want %v", tt.ttl, got, tt.want)
			}
		})
	}
}

// TestCacheLifetime checks that an answer lives exactly its clipped TTL, by counting the
// queries that reach the server around the expiry.
func TestCacheLifetime(t *testing.T) {
	tests := []struct {
		name     string
		ttl      uint32
		lifetime time.Duration
	}{
		{name: "raised to the floor", ttl: 5, lifetime: time.Minute},
		{name: "rounded down to 5m", ttl: 3000, lifetime: 5 * time.Minute},
		{name: "cut to the ceiling", ttl: 86400, lifetime: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startRecords(t, map[string][]netip.Addr{"host.test": addrs("192.0.2.1")})
			srv.SetTTL(tt.ttl)
			clock := newFakeClock()
			r, reg := newTest(t, Config{Nameservers: []netip.AddrPort{srv.addr}, TTLFloor: time.Minute, Now: clock.Now})
			steps := []struct {
				advance time.Duration
				queries int
			}{
				{advance: 0, queries: 1},
				{advance: tt.lifetime - time.Second, queries: 1},
				{advance: time.Second, queries: 2},
			}
			for i, s := range steps {
				clock.Advance(s.advance)
				if _, err := r.LookupNetIP(lookupCtx(t), "ip4", "host.test"); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if got := srv.Queries("host.test", "A"); got != s.queries {
					t.Errorf("step %d: server saw %d queries, want %d", i, got, s.queries)
				}
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP sortie_resolver_cache_hits_total Questions answered from the cache.
# TYPE sortie_resolver_cache_hits_total counter
sortie_resolver_cache_hits_total 1
# HELP sortie_resolver_cache_misses_total Questions not found in the cache.
# TYPE sortie_resolver_cache_misses_total counter
sortie_resolver_cache_misses_total 2
`), "sortie_resolver_cache_hits_total", "sortie_resolver_cache_misses_total"); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestNoCacheWhenFloorZero(t *testing.T) {
	srv := startRecords(t, map[string][]netip.Addr{"host.test": addrs("192.0.2.1")})
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{srv.addr}})
	for range 3 {
		if _, err := r.LookupNetIP(lookupCtx(t), "ip4", "host.test"); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.Queries("host.test", "A"); got != 3 {
		t.Errorf("server saw %d queries, want 3 (no cache)", got)
	}
}

func TestNegativeCache(t *testing.T) {
	tests := []struct {
		name     string
		rcode    int
		soaTTL   uint32
		minimum  uint32
		noSOA    bool
		lifetime time.Duration // 0: not cached
	}{
		{name: "NXDOMAIN, minimum below the SOA TTL", rcode: dns.RcodeNameError, soaTTL: 3600, minimum: 400, lifetime: 5 * time.Minute},
		{name: "NXDOMAIN, SOA TTL below the minimum", rcode: dns.RcodeNameError, soaTTL: 90, minimum: 3600, lifetime: time.Minute},
		{name: "NODATA, long minimum", rcode: dns.RcodeSuccess, soaTTL: 86400, minimum: 86400, lifetime: time.Hour},
		{name: "NXDOMAIN without SOA", rcode: dns.RcodeNameError, noSOA: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, func(_ string, q *dns.Msg) *dns.Msg {
				m := negativeReply(q, tt.rcode, tt.soaTTL, tt.minimum)
				if tt.noSOA {
					m.Ns = nil
				}
				return m
			})
			clock := newFakeClock()
			r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{f.addr}, TTLFloor: time.Minute, Now: clock.Now})
			lookup := func() {
				t.Helper()
				_, err := r.LookupNetIP(lookupCtx(t), "ip4", "gone.test")
				var de *net.DNSError
				if !errors.As(err, &de) || !de.IsNotFound {
					t.Fatalf("err = %v, want not found", err)
				}
			}
			lookup()
			lookup()
			wantAfterTwo := int64(1)
			if tt.lifetime == 0 {
				wantAfterTwo = 2
			}
			if got := f.udp.Load(); got != wantAfterTwo {
				t.Fatalf("after two lookups the server saw %d queries, want %d", got, wantAfterTwo)
			}
			if tt.lifetime == 0 {
				return
			}
			clock.Advance(tt.lifetime - time.Second)
			lookup()
			if got := f.udp.Load(); got != 1 {
				t.Errorf("just before expiry the server saw %d queries, want 1", got)
			}
			clock.Advance(time.Second)
			lookup()
			if got := f.udp.Load(); got != 2 {
				t.Errorf("at expiry the server saw %d queries, want 2", got)
			}
		})
	}
}

func TestTruncatedRetriedOverTCP(t *testing.T) {
	f := startFake(t, func(network string, q *dns.Msg) *dns.Msg {
		if network == "udp" {
			m := new(dns.Msg)
			m.SetReply(q)
			m.Truncated = true
			return m
		}
		return answerA(q, 300, "192.0.2.10", "192.0.2.11")
	})
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{f.addr}, TTLFloor: time.Minute})
	got, err := r.LookupNetIP(lookupCtx(t), "ip4", "big.test")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(addrs("192.0.2.10", "192.0.2.11"), got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("addresses (-want +got):\n%s", diff)
	}
	if u, tc := f.udp.Load(), f.tcp.Load(); u != 1 || tc != 1 {
		t.Errorf("queries udp=%d tcp=%d, want 1 and 1", u, tc)
	}
}

func TestEDNS0Advertised(t *testing.T) {
	var size uint16
	var mu sync.Mutex
	f := startFake(t, func(_ string, q *dns.Msg) *dns.Msg {
		if opt := q.IsEdns0(); opt != nil {
			mu.Lock()
			size = opt.UDPSize()
			mu.Unlock()
		}
		return answerA(q, 60, "192.0.2.1")
	})
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{f.addr}})
	if _, err := r.LookupNetIP(lookupCtx(t), "ip4", "host.test"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if size != 1232 {
		t.Errorf("EDNS0 UDP size = %d, want 1232", size)
	}
}

func TestSilentUpstreamSetAside(t *testing.T) {
	good := startRecords(t, map[string][]netip.Addr{
		"a.test": addrs("192.0.2.1"), "b.test": addrs("192.0.2.2"),
		"c.test": addrs("192.0.2.3"), "d.test": addrs("192.0.2.4"),
	})
	r, reg := newTest(t, Config{
		Nameservers: []netip.AddrPort{silent(t), good.addr},
		Timeout:     150 * time.Millisecond,
	})
	for _, host := range []string{"a.test", "b.test", "c.test"} {
		start := time.Now()
		if _, err := r.LookupNetIP(lookupCtx(t), "ip4", host); err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		if took := time.Since(start); took < 150*time.Millisecond {
			t.Errorf("%s answered in %v: the silent upstream was not asked first", host, took)
		}
	}
	// Three consecutive timeouts: the silent upstream is now set aside.
	start := time.Now()
	if _, err := r.LookupNetIP(lookupCtx(t), "ip4", "d.test"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= 150*time.Millisecond {
		t.Errorf("d.test took %v: the silent upstream was still asked", took)
	}
	if got := testutil.ToFloat64(r.metrics.setAside); got != 1 {
		t.Errorf("set_aside_total = %v, want 1", got)
	}
	// Timeouts that were retried successfully are not question timeouts.
	if got := testutil.ToFloat64(r.metrics.timeoutRate); got != 0 {
		t.Errorf("timeout_ratio = %v, want 0", got)
	}
	if n, err := testutil.GatherAndCount(reg, "sortie_resolver_upstream_duration_seconds"); err != nil || n != 1 {
		t.Errorf("upstream_duration_seconds series = %d (%v), want 1", n, err)
	}
}

func TestAllSilentTimesOut(t *testing.T) {
	clock := newFakeClock()
	r, _ := newTest(t, Config{
		Nameservers: []netip.AddrPort{silent(t), silent(t)},
		Timeout:     100 * time.Millisecond,
		Now:         clock.Now,
	})
	if r.Degraded() {
		t.Fatal("Degraded before any query")
	}
	_, err := r.LookupNetIP(lookupCtx(t), "ip4", "slow.test")
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsTimeout || !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want a timeout *net.DNSError", err)
	}
	if got := testutil.ToFloat64(r.metrics.answers.WithLabelValues("timeout")); got != 1 {
		t.Errorf("answers_total{outcome=timeout} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(r.metrics.timeoutRate); got != 1 {
		t.Errorf("timeout_ratio = %v, want 1", got)
	}
	if !r.Degraded() {
		t.Error("Degraded() = false after a timeout, want true")
	}
	clock.Advance(11 * time.Minute)
	if r.Degraded() {
		t.Error("Degraded() = true eleven minutes later, want false")
	}
}

func TestCallerContextBoundsLookup(t *testing.T) {
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{silent(t)}, Timeout: 2 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.LookupNetIP(ctx, "ip4", "slow.test")
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a timeout *net.DNSError wrapping context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("lookup took %v, want about 50ms", took)
	}
}

func TestCloseStopsFlights(t *testing.T) {
	r, err := New(Config{Nameservers: []netip.AddrPort{silent(t)}, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.LookupNetIP(t.Context(), "ip4", "slow.test")
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	r.Close()
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close took %v", took)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("lookup interrupted by Close returned no error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("lookup still running 5s after Close")
	}
	if _, err := r.LookupNetIP(t.Context(), "ip4", "slow.test"); !errors.Is(err, ErrClosed) {
		t.Errorf("lookup after Close: err = %v, want ErrClosed", err)
	}
}

func TestCoalescing(t *testing.T) {
	srv := startRecords(t, map[string][]netip.Addr{"busy.test": addrs("192.0.2.5")})
	srv.DelayA(200 * time.Millisecond)
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{srv.addr}, TTLFloor: time.Minute})
	const callers = 20
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := r.LookupNetIP(lookupCtx(t), "ip4", "busy.test")
			if err == nil && (len(got) != 1 || got[0] != netip.MustParseAddr("192.0.2.5")) {
				err = errors.New("wrong addresses")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := srv.Queries("busy.test", "A"); got != 1 {
		t.Errorf("server saw %d queries for %d concurrent callers, want 1", got, callers)
	}
}

func TestNeverResolve(t *testing.T) {
	srv := startRecords(t, map[string][]netip.Addr{"ok.test": addrs("192.0.2.1")})
	r, reg := newTest(t, Config{
		Nameservers:  []netip.AddrPort{srv.addr},
		NeverResolve: []string{".Corp.Example.", "lan"},
	})
	tests := []struct {
		name    string
		host    string
		refused bool
	}{
		{name: "onion", host: "expyuzz4wqqyqhjn.onion", refused: true},
		{name: "onion upper case, trailing dot", host: "X.ONION.", refused: true},
		{name: "i2p", host: "stats.i2p", refused: true},
		{name: "bare i2p", host: "i2p", refused: true},
		{name: "configured suffix", host: "intranet.corp.example", refused: true},
		{name: "configured suffix itself", host: "corp.example", refused: true},
		{name: "second configured", host: "printer.lan", refused: true},
		{name: "suffix only as label end", host: "notonion.test", refused: false},
		{name: "ordinary", host: "ok.test", refused: false},
	}
	refused := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := totalQueries(srv, tt.host)
			_, err := r.LookupNetIP(lookupCtx(t), "ip", tt.host)
			if got := errors.Is(err, ErrNeverResolve); got != tt.refused {
				t.Fatalf("errors.Is(err, ErrNeverResolve) = %v (err %v), want %v", got, err, tt.refused)
			}
			if tt.refused {
				refused++
				if n := totalQueries(srv, tt.host) - before; n != 0 {
					t.Errorf("a refused name sent %d queries", n)
				}
			}
		})
	}
	if got := testutil.ToFloat64(r.metrics.never); got != float64(refused) {
		t.Errorf("never_resolve_total = %v, want %d", got, refused)
	}
	if n, _ := testutil.GatherAndCount(reg, "sortie_resolver_never_resolve_total"); n != 1 {
		t.Errorf("never_resolve_total not registered")
	}
}

func totalQueries(s *records, host string) int {
	return s.Queries(host, "A") + s.Queries(host, "AAAA")
}

func TestQueriesByType(t *testing.T) {
	srv := startRecords(t, map[string][]netip.Addr{"dual.test": addrs("192.0.2.1", "2001:db8::1")})
	r, reg := newTest(t, Config{Nameservers: []netip.AddrPort{srv.addr}, TTLFloor: time.Minute})
	for _, network := range []string{"ip4", "ip6", "ip", "ip4"} {
		if _, err := r.LookupNetIP(lookupCtx(t), network, "dual.test"); err != nil {
			t.Fatal(err)
		}
	}
	want := `
# HELP sortie_resolver_queries_total Questions asked of the resolver, by record type (A, AAAA, other).
# TYPE sortie_resolver_queries_total counter
sortie_resolver_queries_total{type="A"} 3
sortie_resolver_queries_total{type="AAAA"} 2
sortie_resolver_queries_total{type="other"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "sortie_resolver_queries_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(r.metrics.answers.WithLabelValues("success")); got != 5 {
		t.Errorf("answers_total{outcome=success} = %v, want 5", got)
	}
}

func TestCacheBounded(t *testing.T) {
	f := startFake(t, func(_ string, q *dns.Msg) *dns.Msg { return answerA(q, 600, "192.0.2.1") })
	r, _ := newTest(t, Config{Nameservers: []netip.AddrPort{f.addr}, TTLFloor: time.Minute, CacheSize: 3})
	for i := range 10 {
		host := string(rune('a'+i)) + ".test"
		if _, err := r.LookupNetIP(lookupCtx(t), "ip4", host); err != nil {
			t.Fatal(err)
		}
		if n := r.cache.len(); n > 3 {
			t.Fatalf("after %d names the cache holds %d entries, want at most 3", i+1, n)
		}
	}
}

func TestResolvConf(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []netip.AddrPort
		wantErr bool
	}{
		{
			name:    "two servers",
			content: "search example.test\nnameserver 127.0.0.53\nnameserver ::1\noptions ndots:1\n",
			want:    []netip.AddrPort{netip.MustParseAddrPort("127.0.0.53:53"), netip.MustParseAddrPort("[::1]:53")},
		},
		{name: "none", content: "search example.test\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "resolv.conf")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := readResolvConf(path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
				t.Errorf("nameservers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "floor above ceiling", cfg: Config{Nameservers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}, TTLFloor: 2 * time.Hour, TTLCeiling: time.Hour}},
		{name: "negative floor", cfg: Config{Nameservers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}, TTLFloor: -time.Second}},
		{name: "port zero", cfg: Config{Nameservers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg, nil); err == nil {
				t.Error("New: got no error")
			}
		})
	}
}

func TestDoubleRegistrationFails(t *testing.T) {
	_, reg := newTest(t, Config{Nameservers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}})
	if _, err := New(Config{Nameservers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}}, reg); err == nil {
		t.Error("second New on the same registry: got no error")
	}
}

// lookuper is the interface internal/egress uses; *net.Resolver satisfies it too.
type lookuper interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

var (
	_ lookuper = (*Resolver)(nil)
	_ lookuper = (*net.Resolver)(nil)
)
