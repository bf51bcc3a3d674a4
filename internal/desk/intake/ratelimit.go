package intake

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// clientLimits holds one token bucket per client network, at most max of them.
type clientLimits struct {
	limit rate.Limit
	burst int
	max   int
	idle  time.Duration // a bucket idle this long is full again: forgetting it changes nothing

	mu      sync.Mutex
	buckets map[netip.Prefix]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// newClientLimits allows perMinute messages a minute to each client, in bursts of up to
// perMinute, remembering at most max clients.
func newClientLimits(perMinute, max int) *clientLimits {
	limit := rate.Limit(float64(perMinute) / 60)
	return &clientLimits{
		limit:   limit,
		burst:   perMinute,
		max:     max,
		idle:    time.Minute + time.Second,
		buckets: make(map[netip.Prefix]*bucket),
	}
}

// clientKey is the network a client is limited by: its IPv4 address, or its IPv6 /64 (one
// host usually holds a whole /64).
func clientKey(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

// allow takes one token from the client's bucket at now.
func (l *clientLimits) allow(client netip.Addr, now time.Time) bool {
	key := clientKey(client)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.evict(now)
		}
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.last = now
	return b.lim.AllowN(now, 1)
}

// evict forgets the idle buckets, or when none is idle, the one used longest ago.
func (l *clientLimits) evict(now time.Time) {
	var oldest netip.Prefix
	var oldestAt time.Time
	for k, b := range l.buckets {
		if now.Sub(b.last) > l.idle {
			delete(l.buckets, k)
			continue
		}
		if oldestAt.IsZero() || b.last.Before(oldestAt) {
			oldest, oldestAt = k, b.last
		}
	}
	if len(l.buckets) >= l.max {
		delete(l.buckets, oldest)
	}
}

// size returns how many clients are remembered.
func (l *clientLimits) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
