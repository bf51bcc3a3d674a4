package guard

import (
	"sync"
	"sync/atomic"
)

// ways is how many slots one hash may land in; a new entry takes an empty slot of its set, or
// evicts the one that holds the least.
const ways = 8

// nShards splits a table so that connections from different clients rarely share a lock.
const nShards = 64

// Ranks of a slot's content, lowest evicted first.
const (
	rankEmpty  = iota // the slot holds nothing
	rankSpent         // the entry no longer limits anything: it may be cleared
	rankLive          // the entry still counts something
	rankPinned        // the entry counts open connections: evicting it would forget them
)

// entry is what a table holds per hash: only numbers.
type entry interface {
	// rank returns rankSpent, rankLive or rankPinned at now.
	rank(now int64) int
}

// slot is one cell of a table: a keyed hash (0: empty), when it was last used, its entry.
type slot[E any] struct {
	h    uint64
	seen int64
	e    E
}

// table is a fixed-size, set-associative map from keyed hashes to entries. It never grows:
// all its memory is taken by newTable, and a new hash evicts what holds the least.
type table[E any, P interface {
	*E
	entry
}] struct {
	shards    [nShards]shard[E]
	setMask   uint64
	evictions atomic.Uint64
}

type shard[E any] struct {
	mu    sync.Mutex
	slots []slot[E]
	_     [40]byte // keeps hot locks on separate cache lines
}

// newTable returns a table of at least size slots (rounded up to a power of two, at least
// nShards*ways).
func newTable[E any, P interface {
	*E
	entry
}](size int) *table[E, P] {
	perShard := 1
	for perShard*nShards*ways < size {
		perShard <<= 1
	}
	t := &table[E, P]{setMask: uint64(perShard - 1)}
	for i := range t.shards {
		t.shards[i].slots = make([]slot[E], perShard*ways)
	}
	return t
}

// capacity returns the number of slots.
func (t *table[E, P]) capacity() int { return nShards * len(t.shards[0].slots) }

func (t *table[E, P]) shard(h uint64) *shard[E] { return &t.shards[h%nShards] }

// set returns the slots one hash may occupy.
func (t *table[E, P]) set(sh *shard[E], h uint64) []slot[E] {
	i := int((h/nShards)&t.setMask) * ways
	return sh.slots[i : i+ways : i+ways]
}

// do finds or makes the entry of h and calls f with it under the shard's lock. A spent entry
// is handed over zeroed. f must not keep the entry.
func (t *table[E, P]) do(h uint64, now int64, f func(s *slot[E])) {
	sh := t.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := t.find(sh, h, now)
	s.seen = now
	f(s)
}

func (t *table[E, P]) find(sh *shard[E], h uint64, now int64) *slot[E] {
	set := t.set(sh, h)
	victim, vrank := 0, rankPinned+1
	for i := range set {
		s := &set[i]
		if s.h == h {
			if P(&s.e).rank(now) == rankSpent {
				s.e = *new(E)
			}
			return s
		}
		r := rankEmpty
		if s.h != 0 {
			r = P(&s.e).rank(now)
		}
		if r < vrank || (r == vrank && s.seen < set[victim].seen) {
			victim, vrank = i, r
		}
	}
	if vrank >= rankLive {
		t.evictions.Add(1)
	}
	s := &set[victim]
	*s = slot[E]{h: h}
	return s
}

// with calls f with the entry of h if slot s still holds it (it may have been evicted).
func (t *table[E, P]) with(h uint64, s *slot[E], f func(e *E)) {
	sh := t.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.h == h {
		f(&s.e)
	}
}

// sweep clears every spent entry, hash included, and returns how many slots stay in use.
func (t *table[E, P]) sweep(now int64) int {
	live := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for j := range sh.slots {
			s := &sh.slots[j]
			if s.h == 0 {
				continue
			}
			if P(&s.e).rank(now) == rankSpent {
				*s = slot[E]{}
				continue
			}
			live++
		}
		sh.mu.Unlock()
	}
	return live
}
