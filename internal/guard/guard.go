// Package guard keeps an exit from being used to flood, scan or brute-force, and keeps the
// gateway standing under a flood itself, without keeping a record of who did what. It limits
// each client's open connections, new connections and forward requests, each destination's
// new connections across all clients, and throttles three patterns: port scans, sweeps of a
// network and brute force on login ports.
//
// All state is in memory, in fixed-size tables allocated once, keyed by hashes keyed with a
// random secret drawn per Guard: no client key, address or port is stored, only numbers. Every
// entry stops counting within MaxWindow (ten minutes) and is then cleared by Run, except the
// count of a client's connections while they are open. Refusals are *refusal.Error values
// with Reason RateLimited and a RetryAfter.
package guard

import (
	"context"
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Key names a client: its source address (AddrKey), or its user name (UserKey). It is hashed
// as soon as a method receives it and never stored.
type Key string

// AddrKey returns the key of a client address. IPv4 addresses (including i2pd's per-peer
// 127.a.b.c) are keys as they are; an IPv6 address is keyed by its /64, which one subscriber
// usually holds whole.
func AddrKey(a netip.Addr) Key {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return Key(p.String())
	}
	return Key(a.String())
}

// UserKey returns the key of an authenticated user name; it never equals an address key.
func UserKey(name string) Key { return Key("user:" + name) }

// Guard holds the limits and their state. Its methods are safe for concurrent use.
type Guard struct {
	cfg     settled
	seed    maphash.Seed
	salt    uint64
	epoch   time.Time
	clients *table[clientEntry, *clientEntry]
	dests   *table[rateEntry, *rateEntry]
	scans   *table[patternEntry, *patternEntry]
	sweeps  *table[patternEntry, *patternEntry]
	brutes  *table[bruteEntry, *bruteEntry]
	m       *metrics
}

// New returns a guard with cfg's limits (defaults filled in, out-of-bound values clamped: see
// Config.Validate), registering its metrics with reg when reg is not nil. Each table takes
// its memory at once: about TableSize times 40 to 56 bytes.
func New(cfg Config, reg prometheus.Registerer) *Guard {
	s := settle(cfg)
	g := &Guard{
		cfg:     s,
		seed:    maphash.MakeSeed(),
		epoch:   s.clock().Add(-24 * time.Hour),
		clients: newTable[clientEntry](s.tableSize),
		dests:   newTable[rateEntry](s.tableSize),
		scans:   newTable[patternEntry](s.tableSize),
		sweeps:  newTable[patternEntry](s.tableSize),
		brutes:  newTable[bruteEntry](s.tableSize),
	}
	g.salt = maphash.String(g.seed, "salt")
	g.m = newMetrics(g, reg)
	return g
}

// now returns the guard's clock in nanoseconds since a point a day before New: zero values
// in the tables always lie in the past.
func (g *Guard) now() int64 { return int64(g.cfg.clock().Sub(g.epoch)) }

// Admit is called when a client opens a connection. It checks the client's open connections
// against MaxTunnels and its new connections against ConnRate. On success the connection
// counts as open until release is called (once; later calls do nothing).
func (g *Guard) Admit(client Key) (release func(), err error) {
	if g.cfg.maxTunnels == 0 && !g.cfg.conn.on() {
		return func() {}, nil
	}
	h := g.hashKey(client)
	now := g.now()
	var (
		cause Cause
		wait  time.Duration
		held  *slot[clientEntry]
	)
	g.clients.do(h, now, func(s *slot[clientEntry]) {
		e := &s.e
		if g.cfg.maxTunnels > 0 && int(e.active) >= g.cfg.maxTunnels {
			cause, wait = CauseTunnels, tunnelsRetry
			return
		}
		if g.cfg.conn.on() {
			if ok, w := g.cfg.conn.take(&e.conn, now); !ok {
				cause, wait = CauseConnRate, w
				return
			}
		}
		e.active++
		held = s
	})
	if cause != 0 {
		return nil, g.refuse(cause, wait)
	}
	done := false
	return func() {
		if done {
			return
		}
		done = true
		g.clients.with(h, held, func(e *clientEntry) { e.active = max(e.active-1, 0) })
	}, nil
}

// tunnelsRetry is the Retry-After of a client at its connection cap: when one of its
// connections ends is unknown.
const tunnelsRetry = 5 * time.Second

// Request is called for each forward request on a kept-alive connection (the first included)
// and checks the client's RequestRate.
func (g *Guard) Request(client Key) error {
	if !g.cfg.req.on() {
		return nil
	}
	h := g.hashKey(client)
	now := g.now()
	var ok bool
	var wait time.Duration
	g.clients.do(h, now, func(s *slot[clientEntry]) { ok, wait = g.cfg.req.take(&s.e.req, now) })
	if !ok {
		return g.refuse(CauseRequestRate, wait)
	}
	return nil
}

// Authentication failures a client may make: AuthFailBurst at once, then one every
// 1/AuthFailRate seconds. They are fixed: a proxy user who mistypes is not held back by them,
// a password guesser is.
const (
	AuthFailRate  = 0.1
	AuthFailBurst = 10
)

var authRate = newRate(AuthFailRate, AuthFailBurst)

// AuthAllowed reports whether client may try to authenticate: nil while its failure budget
// lasts, else a refusal with the time until it may try again. It spends nothing, so that a
// client refused here costs no password check at all.
func (g *Guard) AuthAllowed(client Key) error {
	h := g.hashKey(client)
	now := g.now()
	var wait time.Duration
	g.clients.do(h, now, func(s *slot[clientEntry]) {
		if t := max(s.e.auth, now); t-now > authRate.tolerance {
			wait = time.Duration(t - authRate.tolerance - now)
		}
	})
	if wait > 0 {
		return g.refuse(CauseAuthFailures, wait)
	}
	return nil
}

// AuthFailed spends one of client's authentication failures.
func (g *Guard) AuthFailed(client Key) {
	h := g.hashKey(client)
	now := g.now()
	g.clients.do(h, now, func(s *slot[clientEntry]) { authRate.take(&s.e.auth, now) })
}

// Dest is called before a connection to addr:port is made for client, for every address
// tried. It checks the patterns (port scan, sweep, brute force on login ports), then the
// destination's rate across all clients.
func (g *Guard) Dest(client Key, addr netip.Addr, port uint16) error {
	addr = addr.Unmap().WithZone("")
	hc := g.hashKey(client)
	now := g.now()
	a := addr.As16()
	c, w := g.checkScan(hc, a, port, now)
	if c == 0 {
		c, w = g.checkSweep(hc, a, port, addr.Is4(), now)
	}
	if c == 0 {
		c, w = g.checkBrute(hc, a, port, now)
	}
	if c == 0 {
		c, w = g.checkDest(a, port, now)
	}
	if c != 0 {
		return g.refuse(c, w)
	}
	return nil
}

// Done is called when a connection Dest allowed has ended, with how long it lived. A
// connection to a login port that lived at least LongLived is taken off the brute-force
// count: only short connections count.
func (g *Guard) Done(client Key, addr netip.Addr, port uint16, lived time.Duration) {
	if !g.cfg.bruteOn || !g.cfg.isLogin(port) || int64(lived) < g.cfg.longLived {
		return
	}
	h := g.pairHash(tagBrute, g.hashKey(client), addr.Unmap().As16(), port)
	g.brutes.do(h, g.now(), func(s *slot[bruteEntry]) { g.cfg.brute.refund(&s.e.tat) })
}

// Run clears spent entries every DefaultSweepInterval until ctx ends, so that nothing stays
// in memory after it stopped counting. It returns nil when ctx ends.
func (g *Guard) Run(ctx context.Context) error {
	t := time.NewTicker(DefaultSweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			g.Sweep()
		}
	}
}

// Sweep clears every entry that no longer counts anything and updates the entries metric.
func (g *Guard) Sweep() {
	now := g.now()
	g.m.live[tableClients].Store(int64(g.clients.sweep(now)))
	g.m.live[tableDests].Store(int64(g.dests.sweep(now)))
	g.m.live[tableScans].Store(int64(g.scans.sweep(now)))
	g.m.live[tableSweeps].Store(int64(g.sweeps.sweep(now)))
	g.m.live[tableBrutes].Store(int64(g.brutes.sweep(now)))
}

// Hash domains: the same client and address never hash alike in two tables.
const (
	tagScan byte = iota + 1
	tagSweep
	tagBrute
	tagDest
)

func (g *Guard) hashKey(k Key) uint64 { return nonzero(maphash.String(g.seed, string(k))) }

// pairHash hashes a client hash with an address and a port, in the domain tag.
func (g *Guard) pairHash(tag byte, hc uint64, a [16]byte, port uint16) uint64 {
	var b [27]byte
	b[0] = tag
	binary.LittleEndian.PutUint64(b[1:], hc)
	copy(b[9:], a[:])
	binary.LittleEndian.PutUint16(b[25:], port)
	return nonzero(maphash.Bytes(g.seed, b[:]))
}

// mix scrambles a small value (a port, the host part of an address) with the guard's salt
// before its bit is set in a distinct count.
func (g *Guard) mix(v uint64) uint64 {
	v ^= g.salt
	v ^= v >> 33
	v *= 0xff51afd7ed558ccd
	v ^= v >> 33
	v *= 0xc4ceb9fe1a85ec53
	return v ^ v>>33
}

func nonzero(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}
