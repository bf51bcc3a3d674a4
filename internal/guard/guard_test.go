package guard

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"sortie.dev/sortie/internal/refusal"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// off turns every limit off; tests turn on the one they exercise.
func off() Config {
	return Config{
		MaxTunnels: -1, ConnRate: -1, RequestRate: -1, DestRate: -1,
		PortScan: Pattern{Distinct: -1}, Sweep: Pattern{Distinct: -1},
		BruteForce: Brute{Max: -1}, TableSize: 1024,
	}
}

// wantRefused checks that err is a guard refusal with cause c and returns its RetryAfter.
func wantRefused(t *testing.T, err error, c Cause) time.Duration {
	t.Helper()
	e := refusal.As(err)
	if e == nil {
		t.Fatalf("err = %v, want a %v refusal", err, c)
	}
	if e.Reason != refusal.RateLimited || CauseOf(err) != c || e.Message == "" {
		t.Fatalf("refusal = %+v (cause %v), want RateLimited by %v with a message", e, CauseOf(err), c)
	}
	if e.RetryAfter < time.Second || e.RetryAfter%time.Second != 0 {
		t.Errorf("RetryAfter = %v, want whole seconds, at least one", e.RetryAfter)
	}
	return e.RetryAfter
}

func mustOK(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v, want allowed", what, err)
	}
}

func TestAdmitTunnelCap(t *testing.T) {
	cfg := off()
	cfg.MaxTunnels = 3
	g := New(cfg, nil)
	var releases []func()
	for i := range 3 {
		rel, err := g.Admit("client-a")
		mustOK(t, err, fmt.Sprintf("tunnel %d", i))
		releases = append(releases, rel)
	}
	_, err := g.Admit("client-a")
	if got := wantRefused(t, err, CauseTunnels); got != tunnelsRetry {
		t.Errorf("RetryAfter = %v, want %v", got, tunnelsRetry)
	}
	rel, err := g.Admit("client-b")
	mustOK(t, err, "another client")
	rel()
	releases[0]()
	releases[0]() // a second call must not free a second place
	rel, err = g.Admit("client-a")
	mustOK(t, err, "after one release")
	defer rel()
	_, err = g.Admit("client-a")
	wantRefused(t, err, CauseTunnels)
}

func TestAdmitConnRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := off()
		cfg.ConnRate, cfg.ConnBurst = 10, 5
		g := New(cfg, nil)
		for i := range 5 {
			rel, err := g.Admit("c")
			mustOK(t, err, fmt.Sprintf("burst %d", i))
			rel()
		}
		_, err := g.Admit("c")
		if got := wantRefused(t, err, CauseConnRate); got != time.Second {
			t.Errorf("RetryAfter = %v, want 1s (100ms rounded up)", got)
		}
		_, err = g.Admit("other")
		mustOK(t, err, "another client")
		time.Sleep(100 * time.Millisecond)
		_, err = g.Admit("c")
		mustOK(t, err, "one token later")
		_, err = g.Admit("c")
		wantRefused(t, err, CauseConnRate)
		time.Sleep(time.Second)
		for i := range 5 {
			_, err = g.Admit("c")
			mustOK(t, err, fmt.Sprintf("refilled %d", i))
		}
	})
}

func TestRequestRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := off()
		cfg.RequestRate, cfg.RequestBurst = 2, 4
		g := New(cfg, nil)
		for i := range 4 {
			mustOK(t, g.Request("c"), fmt.Sprintf("request %d", i))
		}
		wantRefused(t, g.Request("c"), CauseRequestRate)
		mustOK(t, g.Request("d"), "another client")
		time.Sleep(500 * time.Millisecond)
		mustOK(t, g.Request("c"), "half a second later")
		wantRefused(t, g.Request("c"), CauseRequestRate)
	})
}

var (
	web    = netip.MustParseAddr("192.0.2.10")
	web6   = netip.MustParseAddr("2001:db8:7::10")
	mapped = netip.MustParseAddr("::ffff:192.0.2.10")
)

func TestDestRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := off()
		cfg.DestRate, cfg.DestBurst = 1, 3
		g := New(cfg, nil)
		for i := range 3 {
			mustOK(t, g.Dest(Key(fmt.Sprint("client", i)), web, 443), fmt.Sprintf("client %d", i))
		}
		// The limit is across clients, and an IPv4-mapped address is the same address.
		wantRefused(t, g.Dest("client9", mapped, 443), CauseDestRate)
		mustOK(t, g.Dest("client9", web, 80), "another port")
		mustOK(t, g.Dest("client9", web6, 443), "another address")
		time.Sleep(time.Second)
		mustOK(t, g.Dest("client9", web, 443), "a second later")
	})
}

func TestPortScan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := off()
		cfg.PortScan = Pattern{Distinct: 10, Window: time.Minute}
		cfg.Penalty = 2 * time.Minute
		g := New(cfg, nil)
		// The same few ports again and again are no scan.
		for i := range 200 {
			mustOK(t, g.Dest("user", web, []uint16{80, 443, 8080}[i%3]), "browsing")
		}
		var err error
		tripped := 0
		for port := uint16(1000); port < 1100 && err == nil; port++ {
			err = g.Dest("scanner", web, port)
			tripped++
		}
		if tripped < 11 || tripped > 14 {
			t.Errorf("tripped after %d distinct ports, want about 11 (threshold 10)", tripped)
		}
		if got := wantRefused(t, err, CausePortScan); got != 2*time.Minute {
			t.Errorf("RetryAfter = %v, want the penalty 2m", got)
		}
		wantRefused(t, g.Dest("scanner", web, 443), CausePortScan)
		mustOK(t, g.Dest("scanner", web6, 443), "another address")
		mustOK(t, g.Dest("user", web, 443), "another client")
		time.Sleep(2*time.Minute + time.Second)
		mustOK(t, g.Dest("scanner", web, 443), "after the penalty")
	})
}

func TestPortScanWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := off()
		cfg.PortScan = Pattern{Distinct: 10, Window: time.Minute}
		g := New(cfg, nil)
		// Eight ports a minute, for ten minutes: slow enough.
		for minute := range 10 {
			for p := range uint16(8) {
				mustOK(t, g.Dest("slow", web, 2000+uint16(minute)*8+p), "a slow client")
			}
			time.Sleep(time.Minute)
		}
	})
}

func TestSweep(t *testing.T) {
	tests := []struct {
		name string
		addr func(i int) netip.Addr
		trip bool
	}{
		{name: "ipv4 /24", trip: true, addr: func(i int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}) }},
		{name: "ipv6 /48", trip: true, addr: func(i int) netip.Addr {
			return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 7, 0, byte(i), 15: 1})
		}},
		{name: "ipv4 many /24", addr: func(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, byte(i), 1}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := off()
				cfg.Sweep = Pattern{Distinct: 16, Window: time.Minute}
				g := New(cfg, nil)
				var err error
				n := 0
				for i := 1; i < 100 && err == nil; i++ {
					err = g.Dest("sweeper", tt.addr(i), 80)
					n++
				}
				if !tt.trip {
					mustOK(t, err, "addresses of many networks")
					return
				}
				// Linear counting may over-count by one when no two values collide: 16
				// distinct values then estimate 17.
				if n < 16 || n > 21 {
					t.Errorf("tripped after %d addresses, want about 17 (threshold 16)", n)
				}
				wantRefused(t, err, CauseSweep)
				wantRefused(t, g.Dest("sweeper", tt.addr(1), 80), CauseSweep)
				mustOK(t, g.Dest("sweeper", tt.addr(1), 443), "another port")
				mustOK(t, g.Dest("other", tt.addr(1), 80), "another client")
			})
		})
	}
}

func TestBruteForce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := off()
		cfg.BruteForce = Brute{Max: 5, Window: time.Minute, Ports: []uint16{2222}}
		cfg.Penalty = 3 * time.Minute
		g := New(cfg, nil)
		for _, port := range []uint16{22, 3389, 2222} {
			for i := range 5 {
				mustOK(t, g.Dest("bf", web, port), fmt.Sprintf("port %d connection %d", port, i))
			}
			if got := wantRefused(t, g.Dest("bf", web, port), CauseBruteForce); got != 3*time.Minute {
				t.Errorf("port %d: RetryAfter = %v, want the penalty", port, got)
			}
		}
		for i := range 50 {
			mustOK(t, g.Dest("bf", web, 443), fmt.Sprintf("not a login port %d", i))
		}
		mustOK(t, g.Dest("bf", web6, 22), "another address")
		mustOK(t, g.Dest("admin", web, 22), "another client")
		time.Sleep(3*time.Minute + time.Second)
		mustOK(t, g.Dest("bf", web, 22), "after the penalty")
	})
}

func TestBruteForceLongLivedNotCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := off()
		cfg.BruteForce = Brute{Max: 3, Window: time.Minute, LongLived: 10 * time.Second}
		g := New(cfg, nil)
		// Many sessions that each last a while: an administrator, not a brute force.
		for i := range 20 {
			mustOK(t, g.Dest("admin", web, 22), fmt.Sprintf("session %d", i))
			g.Done("admin", web, 22, 15*time.Second)
		}
		// Short ones count.
		for i := range 3 {
			mustOK(t, g.Dest("bf", web, 22), fmt.Sprintf("short %d", i))
			g.Done("bf", web, 22, time.Second)
		}
		wantRefused(t, g.Dest("bf", web, 22), CauseBruteForce)
	})
}

func TestEverythingOff(t *testing.T) {
	g := New(off(), nil)
	for i := range 2000 {
		rel, err := g.Admit("c")
		mustOK(t, err, "admit")
		defer rel()
		mustOK(t, g.Request("c"), "request")
		mustOK(t, g.Dest("c", netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), uint16(i+1)), "dest")
		mustOK(t, g.Dest("c", web, 22), "login port")
	}
}

func TestDefaults(t *testing.T) {
	g := New(Config{}, nil)
	got := struct {
		MaxTunnels, Scan, Sweep     int
		ConnInterval, BruteInterval time.Duration
		Penalty, LongLived          time.Duration
		Capacity                    int
		Login22, Login80            bool
	}{
		g.cfg.maxTunnels, g.cfg.scan, g.cfg.sweep,
		time.Duration(g.cfg.conn.interval), time.Duration(g.cfg.brute.interval),
		time.Duration(g.cfg.penalty), time.Duration(g.cfg.longLived),
		g.clients.capacity(), g.cfg.isLogin(22), g.cfg.isLogin(80),
	}
	want := struct {
		MaxTunnels, Scan, Sweep     int
		ConnInterval, BruteInterval time.Duration
		Penalty, LongLived          time.Duration
		Capacity                    int
		Login22, Login80            bool
	}{
		DefaultMaxTunnels, DefaultScanPorts, DefaultSweepAddrs,
		50 * time.Millisecond, 3 * time.Second,
		DefaultPenalty, DefaultLongLived,
		DefaultTableSize, true, false,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want bool // valid
	}{
		{name: "zero", cfg: Config{}, want: true},
		{name: "all off", cfg: off(), want: true},
		{name: "window too long", cfg: Config{PortScan: Pattern{Window: 11 * time.Minute}}},
		{name: "penalty too long", cfg: Config{Penalty: time.Hour}},
		{name: "slow refill", cfg: Config{ConnRate: 0.1, ConnBurst: 100}},
		{name: "threshold too high", cfg: Config{Sweep: Pattern{Distinct: 500}}},
		{name: "table too big", cfg: Config{TableSize: MaxTableSize * 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if got := err == nil; got != tt.want {
				t.Errorf("Validate() = %v, want valid %v", err, tt.want)
			}
		})
	}
}

func TestMetricsByCause(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	cfg := off()
	cfg.MaxTunnels = 1
	g := New(cfg, reg)
	rel, _ := g.Admit("c")
	defer rel()
	for range 3 {
		g.Admit("c")
	}
	n, err := testutil.GatherAndCount(reg, "sortie_guard_refusals_total", "sortie_guard_entries", "sortie_guard_evictions_total")
	if err != nil {
		t.Fatal(err)
	}
	if want := len(Causes()) + 2*numTables; n != want {
		t.Errorf("series = %d, want %d", n, want)
	}
	if got := testutil.ToFloat64(g.m.refusals[CauseTunnels]); got != 3 {
		t.Errorf("client_tunnels refusals = %v, want 3", got)
	}
	// A second guard on its own registry does not collide.
	New(Config{}, prometheus.NewRegistry())
}

func TestCauseOf(t *testing.T) {
	if got := CauseOf(errors.New("other")); got != 0 {
		t.Errorf("CauseOf(other) = %v, want 0", got)
	}
	for _, c := range Causes() {
		if c.String() == "unknown" || causeMessages[c] == "" {
			t.Errorf("cause %d has no name or message", c)
		}
	}
}

func TestAuthFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(Config{}, nil)
		client, other := Key("198.51.100.7"), Key("198.51.100.8")
		for i := range AuthFailBurst {
			if err := g.AuthAllowed(client); err != nil {
				t.Fatalf("failure %d: refused already: %v", i, err)
			}
			g.AuthFailed(client)
		}
		err := g.AuthAllowed(client)
		if e := refusal.As(err); e == nil || e.Reason != refusal.RateLimited || e.RetryAfter <= 0 {
			t.Fatalf("after %d failures: %v, want a rate-limit refusal with Retry-After", AuthFailBurst, err)
		}
		if CauseOf(err) != CauseAuthFailures {
			t.Errorf("cause %v, want auth_failures", CauseOf(err))
		}
		if err := g.AuthAllowed(other); err != nil {
			t.Errorf("another client is refused too: %v", err)
		}
		time.Sleep(time.Duration(float64(time.Second) / AuthFailRate))
		if err := g.AuthAllowed(client); err != nil {
			t.Errorf("one refill interval later: %v, want allowed", err)
		}
	})
}
