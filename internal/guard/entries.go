package guard

import (
	"encoding/binary"
	"time"
)

// clientEntry is what the guard holds per client: open connections and two token buckets.
type clientEntry struct {
	active int32 // open connections
	conn   int64 // new-connection bucket (GCRA arrival time)
	req    int64 // request bucket
	auth   int64 // authentication-failure bucket
}

func (e *clientEntry) rank(now int64) int {
	switch {
	case e.active > 0:
		return rankPinned
	case !full(e.conn, now) || !full(e.req, now) || !full(e.auth, now):
		return rankLive
	}
	return rankSpent
}

// rateEntry is the new-connection bucket of one destination address and port.
type rateEntry struct{ tat int64 }

func (e *rateEntry) rank(now int64) int {
	if full(e.tat, now) {
		return rankSpent
	}
	return rankLive
}

// patternEntry counts distinct ports (scan) or addresses (sweep) for one client and one
// destination, and the end of a penalty once the pattern tripped.
type patternEntry struct {
	d     distinct
	until int64
}

func (e *patternEntry) rank(now int64) int {
	if now < e.d.end || now < e.until {
		return rankLive
	}
	return rankSpent
}

// bruteEntry counts new connections from one client to one login port of one address.
type bruteEntry struct {
	tat   int64
	until int64
}

func (e *bruteEntry) rank(now int64) int {
	if !full(e.tat, now) || now < e.until {
		return rankLive
	}
	return rankSpent
}

// checkPattern records v in e and reports a penalty, running or just started.
func (g *Guard) checkPattern(e *patternEntry, v uint64, threshold int, win, now int64) time.Duration {
	if now < e.until {
		return time.Duration(e.until - now)
	}
	if e.d.add(v, now, win) > threshold {
		e.until = now + g.cfg.penalty
		return time.Duration(g.cfg.penalty)
	}
	return 0
}

// checkScan counts the distinct ports one client reaches on one address.
func (g *Guard) checkScan(hc uint64, a [16]byte, port uint16, now int64) (Cause, time.Duration) {
	if g.cfg.scan == 0 {
		return 0, 0
	}
	var wait time.Duration
	g.scans.do(g.pairHash(tagScan, hc, a, 0), now, func(s *slot[patternEntry]) {
		wait = g.checkPattern(&s.e, g.mix(uint64(port)), g.cfg.scan, g.cfg.scanWin, now)
	})
	if wait > 0 {
		return CausePortScan, wait
	}
	return 0, 0
}

// checkSweep counts the distinct addresses of one network (/24, /48) one client reaches on
// one port.
func (g *Guard) checkSweep(hc uint64, a [16]byte, port uint16, is4 bool, now int64) (Cause, time.Duration) {
	if g.cfg.sweep == 0 {
		return 0, 0
	}
	network, host := a, uint64(0)
	if is4 {
		network[15], host = 0, uint64(a[15])
	} else {
		clear(network[6:])
		host = binary.LittleEndian.Uint64(a[8:]) ^ uint64(binary.LittleEndian.Uint16(a[6:]))<<48
	}
	var wait time.Duration
	g.sweeps.do(g.pairHash(tagSweep, hc, network, port), now, func(s *slot[patternEntry]) {
		wait = g.checkPattern(&s.e, g.mix(host), g.cfg.sweep, g.cfg.sweepWin, now)
	})
	if wait > 0 {
		return CauseSweep, wait
	}
	return 0, 0
}

// checkBrute counts new connections from one client to one login port of one address.
func (g *Guard) checkBrute(hc uint64, a [16]byte, port uint16, now int64) (Cause, time.Duration) {
	if !g.cfg.bruteOn || !g.cfg.isLogin(port) {
		return 0, 0
	}
	var wait time.Duration
	g.brutes.do(g.pairHash(tagBrute, hc, a, port), now, func(s *slot[bruteEntry]) {
		e := &s.e
		if now < e.until {
			wait = time.Duration(e.until - now)
			return
		}
		if ok, _ := g.cfg.brute.take(&e.tat, now); !ok {
			e.until = now + g.cfg.penalty
			wait = time.Duration(g.cfg.penalty)
		}
	})
	if wait > 0 {
		return CauseBruteForce, wait
	}
	return 0, 0
}

// checkDest takes a token from the destination's bucket, shared by all clients.
func (g *Guard) checkDest(a [16]byte, port uint16, now int64) (Cause, time.Duration) {
	if !g.cfg.dest.on() {
		return 0, 0
	}
	var ok bool
	var wait time.Duration
	g.dests.do(g.pairHash(tagDest, 0, a, port), now, func(s *slot[rateEntry]) {
		ok, wait = g.cfg.dest.take(&s.e.tat, now)
	})
	if !ok {
		return CauseDestRate, wait
	}
	return 0, 0
}
