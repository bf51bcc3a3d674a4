package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"sortie.dev/sortie/internal/gateway"
	"sortie.dev/sortie/internal/refusal"
)

func TestGatewayHooks(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := NewGateway(reg, func() float64 { return 3 })
	g.Conn(gateway.SOCKS5, 1)
	g.Conn(gateway.SOCKS5, 1)
	g.Conn(gateway.SOCKS5, -1)
	g.Conn(0, 1)
	g.Observe(gateway.KindConnect, refusal.Policy, false)
	g.Observe(gateway.KindForward, refusal.Unknown, true)
	g.Observe(gateway.Kind(99), refusal.Reason(200), false)
	g.HandshakeFailed(gateway.FailTLS)
	g.HandshakeFailed(gateway.Failure(200)) // ignored
	g.Dialed(20*time.Millisecond, nil)
	g.Dialed(time.Second, refusal.New(refusal.Refused, ""))
	g.Dialed(time.Millisecond, refusal.New(refusal.Blocked, "")) // nothing was dialled
	g.Dialed(time.Millisecond, errors.New("odd"))
	g.Relayed(100, 2000)
	tests := []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{name: "socks5 accepted", c: g.accepted[3], want: 2},
		{name: "socks5 active", c: g.active[3], want: 1},
		{name: "none accepted", c: g.accepted[0], want: 1},
		{name: "connect refused by policy", c: g.requests[2][refusal.Policy], want: 1},
		{name: "forward accepted", c: g.requests[1][len(refusal.Reasons())], want: 1},
		{name: "odd kind and reason", c: g.requests[0][refusal.Unknown], want: 1},
		{name: "tls handshake", c: g.handshake[gateway.FailTLS], want: 1},
		{name: "dial ok", c: g.dials[len(g.dials)-1], want: 1},
		{name: "dial refused", c: g.dials[refusal.Refused], want: 1},
		{name: "dial unknown", c: g.dials[refusal.Unknown], want: 1},
		{name: "bytes up", c: g.bytesUp, want: 100},
		{name: "bytes down", c: g.bytesDown, want: 2000},
	}
	for _, tt := range tests {
		if got := testutil.ToFloat64(tt.c); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := testutil.CollectAndCount(g.dialTime); got != 1 {
		t.Errorf("dial histogram has %d series, want 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "sortie_egress_dial_duration_seconds"); err != nil || n != 1 {
		t.Errorf("GatherAndCount = %d, %v", n, err)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`# HELP sortie_gateway_tunnels_active Tunnels (CONNECT, SOCKS, protocol upgrades) open right now.
# TYPE sortie_gateway_tunnels_active gauge
sortie_gateway_tunnels_active 3
`), "sortie_gateway_tunnels_active"); err != nil {
		t.Error(err)
	}
}

func TestSeriesAreBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := NewGateway(reg, nil)
	before, err := testutil.GatherAndCount(reg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		g.Observe(gateway.Kind(i%7), refusal.Reason(i%40), i%3 == 0)
		g.Dialed(time.Millisecond, refusal.New(refusal.Reason(i%40), ""))
		g.Conn(gateway.Protocols(i%9), 1)
		g.HandshakeFailed(gateway.Failure(i % 9))
	}
	if after, _ := testutil.GatherAndCount(reg); after != before {
		t.Errorf("traffic changed the number of series from %d to %d; all must exist from the start", before, after)
	}
}

func TestConfigReloads(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := NewConfig(reg)
	steps := []struct {
		ok       bool
		wantLast float64
	}{{ok: false, wantLast: 0}, {ok: true, wantLast: 1}, {ok: false, wantLast: 0}}
	for i, s := range steps {
		c.Reloaded(s.ok)
		if got := testutil.ToFloat64(c.last); got != s.wantLast {
			t.Errorf("step %d: last_reload_successful = %v, want %v", i, got, s.wantLast)
		}
	}
	if got := testutil.ToFloat64(c.failed); got != 2 {
		t.Errorf("failures = %v, want 2", got)
	}
}

type fakeRing struct{}

func (fakeRing) Len() int        { return 4 }
func (fakeRing) Bytes() int      { return 400 }
func (fakeRing) Dropped() uint64 { return 1 }

func TestRingAndBuild(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewRing(reg, fakeRing{})
	NewBuild(reg)
	err := testutil.GatherAndCompare(reg, strings.NewReader(`# HELP sortie_ringlog_entries Events the RAM ring log holds right now.
# TYPE sortie_ringlog_entries gauge
sortie_ringlog_entries 4
`), "sortie_ringlog_entries")
	if err != nil {
		t.Error(err)
	}
	if n, _ := testutil.GatherAndCount(reg, "sortie_build_info"); n != 1 {
		t.Errorf("sortie_build_info has %d series, want 1", n)
	}
}
