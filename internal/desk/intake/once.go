package intake

import "sync"

// maxRemembered bounds the set of things already logged; past it the set starts over, so
// at worst a persistent problem is logged again.
const maxRemembered = 10000

// onceSet remembers which keys were logged, so that a problem that persists from one poll
// to the next is logged once, not at every poll.
type onceSet struct {
	mu   sync.Mutex
	seen map[string]struct{}
}

// first reports whether key was not seen before, and remembers it.
func (o *onceSet) first(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.seen[key]; ok {
		return false
	}
	if o.seen == nil || len(o.seen) >= maxRemembered {
		o.seen = make(map[string]struct{})
	}
	o.seen[key] = struct{}{}
	return true
}

// forget drops key, so that its next problem is logged again.
func (o *onceSet) forget(key string) {
	o.mu.Lock()
	delete(o.seen, key)
	o.mu.Unlock()
}
