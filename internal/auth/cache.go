package auth

import (
	"container/list"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"
	"time"
)

// cacheKey is a keyed digest of (user, password, stored hash): it names a successful check
// without holding the password or the user name.
type cacheKey [sha256.Size]byte

// cache remembers successful checks for a while. Entries expire ttl after the check that
// made them; past size entries the oldest one goes. Safe for concurrent use.
type cache struct {
	secret [32]byte // per-process random HMAC key
	ttl    time.Duration
	size   int
	now    func() time.Time

	macs sync.Pool // hash.Hash keyed with secret

	mu      sync.Mutex
	entries map[cacheKey]*list.Element
	order   list.List // of *entry, oldest first
}

type entry struct {
	key     cacheKey
	expires time.Time
}

func newCache(ttl time.Duration, size int, now func() time.Time) *cache {
	c := &cache{ttl: ttl, size: size, now: now, entries: make(map[cacheKey]*list.Element)}
	rand.Read(c.secret[:]) // never fails (crypto/rand panics rather than return an error)
	c.macs.New = func() any { return hmac.New(sha256.New, c.secret[:]) }
	return c
}

// key digests the three strings, each prefixed by its length so that no two tuples collide.
func (c *cache) key(user, password, stored string) cacheKey {
	m := c.macs.Get().(hash.Hash)
	defer c.macs.Put(m)
	m.Reset()
	var n [8]byte
	for _, s := range [...]string{user, password, stored} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		m.Write(n[:])
		m.Write([]byte(s))
	}
	var k cacheKey
	m.Sum(k[:0])
	return k
}

// hit reports whether k was remembered and has not expired.
func (c *cache) hit(k cacheKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		return false
	}
	if !c.now().Before(el.Value.(*entry).expires) {
		c.remove(el)
		return false
	}
	return true
}

// add remembers k until ttl from now, dropping expired entries and, past size, the oldest.
func (c *cache) add(k cacheKey) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		c.remove(el)
	}
	for c.order.Len() > 0 {
		oldest := c.order.Front()
		if c.order.Len() < c.size && now.Before(oldest.Value.(*entry).expires) {
			break
		}
		c.remove(oldest)
	}
	c.entries[k] = c.order.PushBack(&entry{key: k, expires: now.Add(c.ttl)})
}

func (c *cache) remove(el *list.Element) {
	delete(c.entries, el.Value.(*entry).key)
	c.order.Remove(el)
}

// len returns the number of entries, expired ones included until they are dropped.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
