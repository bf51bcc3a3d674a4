// Package auth owns proxy authentication: argon2id password hashes in the PHC string format,
// a Verifier that checks a user's password without becoming a denial-of-service lever
// (successful checks remembered under a keyed hash, argon2 computations capped at the core
// count, unknown users as costly as known ones), and the protocol parsers the gateway needs:
// HTTP Proxy-Authorization Basic (RFC 7617) and the SOCKS5 username/password sub-negotiation
// (RFC 1929). It never logs, and it keeps neither passwords nor user names in its cache.
package auth

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero values of Options' fields.
const (
	DefaultCacheTTL  = 5 * time.Minute
	DefaultCacheSize = 4096
	DefaultWait      = 3 * time.Second
	// DefaultQueuePerSlot times MaxConcurrent is how many checks may wait for a slot: about
	// what the slots clear in DefaultWait at 60 ms a check. Past it a check is busy at once.
	DefaultQueuePerSlot = 48
)

// ErrBusy is returned by Check when no argon2 slot freed up in time, or ctx ended first. The
// credentials were not judged: the caller answers "at capacity", not "wrong password".
var ErrBusy = errors.New("authentication busy")

// Outcome is how one Check ended, for metrics. Its String is a fixed label value.
type Outcome uint8

// The outcomes.
const (
	Cached   Outcome = iota + 1 // accepted from the cache, no argon2 computation
	Accepted                    // accepted after an argon2 computation
	Rejected                    // wrong password or unknown user (after a computation)
	Busy                        // no slot in time: not judged
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case Cached:
		return "cached"
	case Accepted:
		return "accepted"
	case Rejected:
		return "rejected"
	case Busy:
		return "busy"
	}
	return "unknown"
}

// Options tune a Verifier. The zero value is the documented defaults.
type Options struct {
	// MinCost is the weakest memory × time (KiB × passes) accepted for a user's hash. Zero
	// means DefaultMinCost. Tests lower it to use cheap hashes.
	MinCost uint64
	// CacheTTL is how long a successful check is remembered. Zero means DefaultCacheTTL;
	// negative disables the cache.
	CacheTTL time.Duration
	// CacheSize caps the remembered checks; the oldest goes first. Zero means
	// DefaultCacheSize.
	CacheSize int
	// MaxConcurrent caps the argon2 computations running at once (each holds the hash's m of
	// memory). Zero means runtime.NumCPU().
	MaxConcurrent int
	// MaxWaiting caps the checks waiting for a slot; past it Check is busy at once. Zero
	// means DefaultQueuePerSlot × MaxConcurrent.
	MaxWaiting int
	// Wait bounds how long a check waits for a slot before it is busy. Zero means
	// DefaultWait.
	Wait time.Duration
	// Observe, when set, is told how every Check ended.
	Observe func(Outcome)
	// Reuse, when set, is the Verifier this one replaces (a reload): its cache carries over,
	// with its TTL and size (CacheTTL and CacheSize are then ignored, unless CacheTTL is
	// negative). An entry names the stored hash it was checked against, so a changed or
	// removed user never matches an old entry.
	Reuse *Verifier
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Verifier checks users' passwords against their argon2id hashes. It is immutable once
// built: a reload builds a new one (with Options.Reuse). Safe for concurrent use.
type Verifier struct {
	users map[string]user
	// dummy is what an unknown user is checked against, derived at the first unknown user:
	// its argon2id derivation takes the users' memory (64 MiB by default), which a gateway
	// whose listeners need no login should not spend at start.
	dummy   func() user
	cache   *cache
	slots   chan struct{}
	waiting atomic.Int64
	maxWait int64
	wait    time.Duration
	observe func(Outcome)
	// verify is Hash.Verify; tests replace it to count or hold computations.
	verify func(h Hash, password string) bool
}

type user struct {
	hash   Hash
	stored string // the PHC string, part of the cache key
}

// New builds a Verifier for users (name → PHC string). Every hash must parse and reach
// MinCost; all problems are reported together, naming the user (not the hash).
func New(users map[string]string, o Options) (*Verifier, error) {
	v := &Verifier{
		users:   make(map[string]user, len(users)),
		wait:    cmp.Or(o.Wait, DefaultWait),
		observe: o.Observe,
		verify:  Hash.Verify,
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(users)) {
		u, err := parseUser(name, users[name], o.MinCost)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v.users[name] = u
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// The dummy's password is random: no password matches it.
	params := dummyParams(v.users)
	if err := params.validate(); err != nil {
		return nil, fmt.Errorf("making the unknown-user hash: %w", err)
	}
	salt := make([]byte, SaltLen)
	if _, err := io.ReadFull(rand.Reader, salt); err != nil {
		return nil, fmt.Errorf("making the unknown-user hash: %w", err)
	}
	password := rand.Text()
	v.dummy = sync.OnceValue(func() user {
		h := Hash{Params: params, Salt: salt}
		h.Key = h.derive(password, KeyLen)
		return user{hash: h, stored: h.String()}
	})
	v.setLimits(o)
	v.cache = cacheFor(o)
	return v, nil
}

func parseUser(name, phc string, minCost uint64) (user, error) {
	if err := ValidateUserName(name); err != nil {
		return user{}, fmt.Errorf("user %q: %w", truncate(name), err)
	}
	h, err := ParseHash(phc)
	if err == nil {
		err = h.CheckStrength(minCost)
	}
	if err != nil {
		return user{}, fmt.Errorf("user %q: %w", name, err)
	}
	return user{hash: h, stored: phc}, nil
}

func (v *Verifier) setLimits(o Options) {
	n := o.MaxConcurrent
	if n <= 0 {
		n = runtime.NumCPU()
	}
	v.slots = make(chan struct{}, n)
	v.maxWait = int64(o.MaxWaiting)
	if v.maxWait <= 0 {
		v.maxWait = int64(DefaultQueuePerSlot * n)
	}
}

func cacheFor(o Options) *cache {
	switch {
	case o.CacheTTL < 0:
		return nil
	case o.Reuse != nil && o.Reuse.cache != nil:
		return o.Reuse.cache
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return newCache(cmp.Or(o.CacheTTL, DefaultCacheTTL), cmp.Or(o.CacheSize, DefaultCacheSize), now)
}

// dummyParams returns the parameters most users' hashes share (the costlier on a tie), so
// that an unknown user costs what a typical known one does.
func dummyParams(users map[string]user) Params {
	if len(users) == 0 {
		return DefaultParams
	}
	count := map[Params]int{}
	for _, u := range users {
		count[u.hash.Params]++
	}
	best := Params{}
	for p, n := range count {
		if n > count[best] || (n == count[best] && p.Cost() > best.Cost()) {
			best = p
		}
	}
	return best
}

// Len returns the number of users.
func (v *Verifier) Len() int { return len(v.users) }

// Check reports whether password is user's. (true, nil): accepted. (false, nil): rejected,
// a failure the caller counts against the client's rate limit. (false, err): not judged; err
// wraps ErrBusy (and ctx's error when ctx ended). An unknown user costs the same argon2
// computation as a known one with a wrong password.
func (v *Verifier) Check(ctx context.Context, user, password string) (bool, error) {
	u, known := v.users[user]
	if !known {
		u = v.dummy()
	}
	var k cacheKey
	if v.cache != nil {
		k = v.cache.key(user, password, u.stored)
		if known && v.cache.hit(k) {
			v.report(Cached)
			return true, nil
		}
	}
	if err := v.acquire(ctx); err != nil {
		v.report(Busy)
		return false, err
	}
	ok := v.verify(u.hash, password) && known
	<-v.slots
	if !ok {
		v.report(Rejected)
		return false, nil
	}
	if v.cache != nil {
		v.cache.add(k)
	}
	v.report(Accepted)
	return true, nil
}

// acquire takes an argon2 slot, waiting at most v.wait, unless too many checks wait already.
func (v *Verifier) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrBusy, err)
	}
	select {
	case v.slots <- struct{}{}:
		return nil
	default:
	}
	if v.waiting.Add(1) > v.maxWait {
		v.waiting.Add(-1)
		return fmt.Errorf("%w: %d checks already waiting", ErrBusy, v.maxWait)
	}
	defer v.waiting.Add(-1)
	t := time.NewTimer(v.wait)
	defer t.Stop()
	select {
	case v.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	case <-t.C:
		return fmt.Errorf("%w: no slot within %v", ErrBusy, v.wait)
	}
}

func (v *Verifier) report(o Outcome) {
	if v.observe != nil {
		v.observe(o)
	}
}
