package main

import (
	"fmt"
	"net/netip"
	"time"
)

// scenario is one attack and the limits in force during it.
type scenario struct {
	Name     string        // idle, malformed, slowloris, scan, brute
	N        int           // connections, handshakes, or probes per proxy mode
	Sources  int           // attacker source addresses
	Inflight int           // most connections being opened at once
	Hold     time.Duration // how long a holding attack holds at its peak
	MaxConns int           // gateway.max_connections
}

// Title names the attack and its size.
func (s scenario) Title() string {
	switch s.Name {
	case "idle":
		return thousands(s.N) + " idle tunnels (CONNECT)"
	case "malformed":
		return thousands(s.N) + " malformed handshakes"
	case "slowloris":
		return thousands(s.N) + " slowloris connections"
	case "scan":
		return "port scan, " + thousands(s.N) + " ports, each mode"
	}
	return "brute force, " + thousands(s.N) + " logins, each mode"
}

// thousands writes n with a comma between thousands.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Limits says what is in force: the defaults of default.yaml, except for what it names.
func (s scenario) Limits() string {
	l := fmt.Sprintf("defaults; max_connections %d", s.MaxConns)
	switch s.Name {
	case "idle":
		l += " (raised from 4096 for this test)"
	case "brute":
		l += "; the origin's login port added to brute_force.ports"
	}
	return l
}

// holds reports whether the attack holds its connections until told to stop.
func (s scenario) holds() bool { return s.Name == "idle" || s.Name == "slowloris" }

// sources returns the attackers' addresses: 127.66.net.1 and up.
func (s scenario) sources(net byte) []netip.Addr {
	var a []netip.Addr
	for i := 1; i <= s.Sources; i++ {
		a = append(a, netip.AddrFrom4([4]byte{127, 66, net, byte(i)}))
	}
	return a
}

// scale is a set of scenarios and how long the quiet reference lasts.
type scale struct {
	Name      string
	Quiet     time.Duration
	Scenarios []scenario
}

// fullScale is the scale of the figures in docs/hardening.md.
func fullScale() scale {
	return scale{Name: "full", Quiet: 5 * time.Second, Scenarios: []scenario{
		{Name: "idle", N: 9000, Sources: 100, Inflight: 200, Hold: 10 * time.Second, MaxConns: 20000},
		{Name: "malformed", N: 20000, Sources: 200, Inflight: 300, MaxConns: 4096},
		{Name: "slowloris", N: 5000, Sources: 50, Inflight: 200, Hold: 25 * time.Second, MaxConns: 4096},
		{Name: "scan", N: 100, Sources: 1, Inflight: 1, MaxConns: 4096},
		{Name: "brute", N: 100, Sources: 1, Inflight: 1, MaxConns: 4096},
	}}
}

// reducedScale is the scale of the test suite: well under a minute in all.
func reducedScale() scale {
	return scale{Name: "reduced", Quiet: time.Second, Scenarios: []scenario{
		{Name: "idle", N: 1000, Sources: 100, Inflight: 100, Hold: 2 * time.Second, MaxConns: 20000},
		{Name: "malformed", N: 2000, Sources: 200, Inflight: 100, MaxConns: 4096},
		{Name: "slowloris", N: 500, Sources: 50, Inflight: 100, Hold: 3 * time.Second, MaxConns: 4096},
		{Name: "scan", N: 30, Sources: 1, Inflight: 1, MaxConns: 4096},
		{Name: "brute", N: 30, Sources: 1, Inflight: 1, MaxConns: 4096},
	}}
}

// only keeps the scenario named name.
func (s scale) only(name string) scale {
	var kept []scenario
	for _, sc := range s.Scenarios {
		if sc.Name == name {
			kept = append(kept, sc)
		}
	}
	s.Scenarios = kept
	return s
}
