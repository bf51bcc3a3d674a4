package resolve

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// key names one cached question. name is lower case without the trailing dot. raw is 0 for
// the address lookups of LookupNetIP and rawQuery (with the rawDO and rawCD bits) for the
// whole messages of Exchange, so that the two never share an entry.
type key struct {
	name  string
	qtype uint16
	raw   uint8
}

// answer is the result of one question, as cached.
type answer struct {
	addrs     []netip.Addr
	msg       *dns.Msg // Exchange only: the upstream's reply, ID 0, no OPT; never modified
	outcome   outcome
	ttl       time.Duration // from the upstream, before clipping
	cacheable bool          // an answer (positive or negative with a SOA), not a failure
	expires   time.Time
}

// middleBuckets are the fixed cache lifetimes between the floor and the ceiling.
var middleBuckets = []time.Duration{5 * time.Minute, time.Hour}

// ttlBuckets returns the sorted lifetimes a cached answer may get: floor, the fixed middle
// buckets that lie strictly between, and ceiling.
func ttlBuckets(floor, ceiling time.Duration) []time.Duration {
	b := []time.Duration{floor}
	for _, m := range middleBuckets {
		if m > floor && m < ceiling {
			b = append(b, m)
		}
	}
	if ceiling > floor {
		b = append(b, ceiling)
	}
	return b
}

// clipTTL rounds ttl down to the largest bucket not above it, and up to the floor (the first
// bucket) when it is shorter: the lifetime then tells little about the upstream's TTL.
func clipTTL(ttl time.Duration, buckets []time.Duration) time.Duration {
	got := buckets[0]
	for _, b := range buckets {
		if b <= ttl {
			got = b
		}
	}
	return got
}

// cache is a bounded map of answers. When full it first drops expired entries it meets, then
// an arbitrary one (Go's map order): no recency bookkeeping on the read path.
type cache struct {
	mu      sync.RWMutex
	max     int
	entries map[key]answer
}

// evictScan bounds how many entries one insertion looks at for expired ones.
const evictScan = 8

func newCache(max int) *cache {
	return &cache{max: max, entries: make(map[key]answer, min(max, 1024))}
}

func (c *cache) get(k key, now time.Time) (answer, bool) {
	c.mu.RLock()
	a, ok := c.entries[k]
	c.mu.RUnlock()
	if !ok || !now.Before(a.expires) {
		return answer{}, false
	}
	return a, true
}

func (c *cache) set(k key, a answer, now time.Time) {
	a.addrs = slices.Clone(a.addrs)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		c.evictLocked(now)
	}
	c.entries[k] = a
}

func (c *cache) evictLocked(now time.Time) {
	var victim key
	seen := 0
	for k, a := range c.entries {
		if !now.Before(a.expires) {
			delete(c.entries, k)
			return
		}
		if seen == 0 {
			victim = k
		}
		seen++
		if seen >= evictScan {
			break
		}
	}
	delete(c.entries, victim)
}

func (c *cache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
