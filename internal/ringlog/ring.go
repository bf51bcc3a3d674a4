// Package ringlog owns Sortie's only log store: a log/slog handler that keeps formatted records
// in one preallocated byte arena in RAM, for at most a time-to-live, and never writes anything
// to disk. Records leave the arena when they expire or are evicted to make room, and their bytes
// are overwritten with zeros when they leave, so the process's memory does not keep them.
package ringlog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Defaults used when the matching Options field is zero. DefaultTTL is what the operator's
// configuration should default to; an Options.TTL of zero means "keep nothing".
const (
	DefaultTTL        = 15 * time.Minute
	DefaultMaxEntries = 4096
	DefaultMaxBytes   = 4 << 20
)

// Options configure a Ring. The zero value keeps nothing (TTL 0).
type Options struct {
	// TTL is how long a record stays in the ring. Zero keeps nothing at all: every record is
	// dropped as it arrives. Callers wanting the usual window pass DefaultTTL.
	TTL time.Duration
	// MaxEntries bounds the number of records held; the oldest is evicted first.
	// Zero means DefaultMaxEntries.
	MaxEntries int
	// MaxBytes is the size of the arena: the sum of the formatted sizes of the records held.
	// The oldest records are evicted first; a record larger than the arena is dropped.
	// Zero means DefaultMaxBytes.
	MaxBytes int
	// Level is the minimum level kept; nil means slog.LevelInfo.
	Level slog.Leveler
	// Now is the clock used to stamp and expire records; nil means time.Now. The sweeper in
	// Run sleeps on the real (or synctest) clock, so Now should follow it.
	Now func() time.Time
}

// Entry is one record read back from the ring.
type Entry struct {
	// Time is when the ring took the record; it expires at Time plus the TTL.
	Time time.Time
	// Line is the record formatted as one JSON object (log/slog's JSON form), without a newline.
	Line string
}

// slot locates one record in the arena.
type slot struct {
	at  time.Time // when the record was stored
	off int       // start offset in the arena
	n   int       // length in bytes; the record may wrap around the arena's end
}

// Ring is an in-memory, expiring store of log records. All methods are safe for concurrent use.
type Ring struct {
	ttl     time.Duration
	now     func() time.Time
	handler slog.Handler
	wake    chan struct{} // signalled when a record lands in an empty ring

	mu      sync.Mutex
	arena   []byte // fixed backing storage, zeroed where no record lives
	slots   []slot // circular queue of records, oldest at first
	first   int    // index of the oldest slot
	count   int    // number of records held
	head    int    // arena offset where the next record starts
	used    int    // bytes held by records
	dropped uint64 // records too large for the arena
}

// New returns a Ring with its arena and slot table allocated up front.
func New(o Options) *Ring {
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Ring{
		ttl:   max(o.TTL, 0),
		now:   o.Now,
		wake:  make(chan struct{}, 1),
		slots: make([]slot, o.MaxEntries),
	}
	r.arena = newArena(r, o.MaxBytes)
	r.handler = slog.NewJSONHandler(sink{r}, &slog.HandlerOptions{Level: o.Level})
	if r.ttl == 0 {
		r.handler = slog.DiscardHandler
	}
	return r
}

// Handler returns the slog.Handler that writes into the ring. Handlers derived from it with
// WithAttrs or WithGroup share the same ring. With a TTL of zero it drops every record.
func (r *Ring) Handler() slog.Handler { return r.handler }

// Len reports how many records the ring holds in memory right now, expired or not yet swept.
func (r *Ring) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}

// Bytes reports how many arena bytes the records held right now occupy.
func (r *Ring) Bytes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.used
}

// Dropped reports how many records were dropped because they were larger than the arena.
func (r *Ring) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Records returns the unexpired records, oldest first. Expired ones are removed on the way.
// The returned strings are copies on the Go heap; the ring cannot zero them.
func (r *Ring) Records() []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked(r.now())
	out := make([]Entry, 0, r.count)
	for i := range r.count {
		s := r.slots[(r.first+i)%len(r.slots)]
		out = append(out, Entry{Time: s.at, Line: string(r.readLocked(s))})
	}
	return out
}

// Run drops expired records as they expire, even when no new record arrives, until ctx ends.
// It returns nil when ctx ends.
func (r *Ring) Run(ctx context.Context) error {
	for {
		next, ok := r.sweep()
		if !ok {
			select {
			case <-ctx.Done():
				return nil
			case <-r.wake:
				continue
			}
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// sweep removes expired records and reports how long until the oldest remaining one expires;
// ok is false when the ring is empty.
func (r *Ring) sweep() (next time.Duration, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	r.sweepLocked(now)
	if r.count == 0 {
		return 0, false
	}
	return r.slots[r.first].at.Add(r.ttl).Sub(now), true
}

// sweepLocked evicts every record whose TTL has passed at now.
func (r *Ring) sweepLocked(now time.Time) {
	for r.count > 0 && !now.Before(r.slots[r.first].at.Add(r.ttl)) {
		r.evictLocked()
	}
}

// add stores one formatted record, evicting the oldest records until it fits.
func (r *Ring) add(p []byte) {
	if r.ttl == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(p) == 0 {
		return
	}
	if len(p) > len(r.arena) {
		r.dropped++
		return
	}
	now := r.now()
	r.sweepLocked(now)
	for r.count == len(r.slots) || r.used+len(p) > len(r.arena) {
		r.evictLocked()
	}
	s := slot{at: now, off: r.head, n: len(p)}
	k := copy(r.arena[s.off:], p)
	copy(r.arena, p[k:])
	r.head = (s.off + s.n) % len(r.arena)
	r.slots[(r.first+r.count)%len(r.slots)] = s
	r.count++
	r.used += s.n
	if r.count == 1 {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// evictLocked removes the oldest record and overwrites its bytes with zeros.
func (r *Ring) evictLocked() {
	s := r.slots[r.first]
	end := s.off + s.n
	if end <= len(r.arena) {
		clear(r.arena[s.off:end])
	} else {
		clear(r.arena[s.off:])
		clear(r.arena[:end-len(r.arena)])
	}
	r.slots[r.first] = slot{}
	r.first = (r.first + 1) % len(r.slots)
	r.count--
	r.used -= s.n
	if r.count == 0 {
		r.first, r.head = 0, 0
	}
}

// readLocked copies one record out of the arena.
func (r *Ring) readLocked(s slot) []byte {
	b := make([]byte, s.n)
	k := copy(b, r.arena[s.off:min(s.off+s.n, len(r.arena))])
	copy(b[k:], r.arena)
	return b
}

// sink is the io.Writer under the JSON handler. log/slog's built-in handlers format each record
// into a pooled buffer and call Write exactly once per record, under their own mutex.
type sink struct{ r *Ring }

// Write stores p (one record and its newline) in the ring, then zeros p. Zeroing the caller's
// slice breaks the letter of the io.Writer contract on purpose: p is log/slog's pooled format
// buffer, which slog drops right after Write, and this keeps the record's only copy in the arena.
func (s sink) Write(p []byte) (int, error) {
	line := p
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	s.r.add(line)
	clear(p)
	return len(p), nil
}
