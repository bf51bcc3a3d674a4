package auth

import (
	"bytes"
	"testing"
	"time"
)

func TestCacheBoundedOldestFirst(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	c := newCache(time.Hour, 3, clock.Now)
	keys := make([]cacheKey, 5)
	for i := range keys {
		keys[i] = c.key("user", string(rune('a'+i)), "hash")
		c.add(keys[i])
		clock.Advance(time.Second)
	}
	if c.len() != 3 {
		t.Errorf("cache holds %d entries, want its size 3", c.len())
	}
	for i, k := range keys {
		if got, want := c.hit(k), i >= 2; got != want {
			t.Errorf("entry %d: hit %v, want %v (the oldest go first)", i, got, want)
		}
	}
}

func TestCacheReAddRefreshes(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	c := newCache(time.Minute, 2, clock.Now)
	a, b, d := c.key("a", "", ""), c.key("b", "", ""), c.key("d", "", "")
	c.add(a)
	c.add(b)
	c.add(a) // a is now the newest
	c.add(d) // evicts b, not a
	if !c.hit(a) || c.hit(b) || !c.hit(d) {
		t.Errorf("hits a=%v b=%v d=%v, want true false true", c.hit(a), c.hit(b), c.hit(d))
	}
}

func TestCacheExpiry(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	c := newCache(time.Minute, 10, clock.Now)
	k := c.key("alice", "wonderland", "hash")
	c.add(k)
	clock.Advance(time.Minute - time.Nanosecond)
	if !c.hit(k) {
		t.Fatal("entry gone before its time to live")
	}
	clock.Advance(time.Nanosecond)
	if c.hit(k) {
		t.Fatal("entry still there after its time to live")
	}
	if c.len() != 0 {
		t.Errorf("expired entry kept: %d entries, want 0", c.len())
	}
}

func TestCacheExpiredEntriesDroppedOnAdd(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	c := newCache(time.Minute, 10, clock.Now)
	for _, u := range []string{"a", "b", "c"} {
		c.add(c.key(u, "", ""))
	}
	clock.Advance(2 * time.Minute)
	c.add(c.key("d", "", ""))
	if c.len() != 1 {
		t.Errorf("%d entries after the others expired, want 1", c.len())
	}
}

func TestCacheKey(t *testing.T) {
	c := newCache(time.Minute, 10, time.Now)
	base := c.key("alice", "wonderland", "hash")
	if base != c.key("alice", "wonderland", "hash") {
		t.Fatal("the same tuple gives two keys")
	}
	for name, k := range map[string]cacheKey{
		"other password":    c.key("alice", "wonderland2", "hash"),
		"other user":        c.key("alicf", "wonderland", "hash"),
		"other stored hash": c.key("alice", "wonderland", "hash2"),
		"shifted boundary":  c.key("alicew", "onderland", "hash"),
		"other process":     newCache(time.Minute, 10, time.Now).key("alice", "wonderland", "hash"),
	} {
		if k == base {
			t.Errorf("%s: same cache key, want a different one", name)
		}
	}
	for _, secret := range []string{"alice", "wonderland"} {
		if bytes.Contains(base[:], []byte(secret)) {
			t.Errorf("cache key holds %q in the clear", secret)
		}
	}
}
