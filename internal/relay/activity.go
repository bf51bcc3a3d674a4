package relay

import (
	"math"
	"sync/atomic"
	"time"
)

// activity is the idle clock the two directions of a tunnel share. Times are nanoseconds on
// the monotonic clock since base.
//
// A direction that sees every byte it moves (its own splice loop, a buffer copy) is precise:
// it records each movement at once. A direction that learns of its progress only when a
// chunk ends (TCPConn.ReadFrom) reports at each check; the tunnel is quiet only when both
// directions have reported silence covering idle.
type activity struct {
	idle  int64 // 0: no timeout
	step  int64 // how often an imprecise direction checks in
	base  time.Time
	last  atomic.Int64    // the latest movement seen
	known [2]atomic.Int64 // up to when each direction's movements are accounted for
}

const forever = math.MaxInt64

func (a *activity) init(idle time.Duration, imprecise bool) {
	a.base = time.Now()
	a.idle = max(int64(idle), 0)
	a.step = a.idle
	if imprecise {
		a.step = max(a.idle/4, int64(time.Millisecond))
		return
	}
	a.known[0].Store(forever)
	a.known[1].Store(forever)
}

func (a *activity) now() int64 { return int64(time.Since(a.base)) }

// moved records that bytes moved at now.
func (a *activity) moved(now int64) {
	for {
		old := a.last.Load()
		if now <= old || a.last.CompareAndSwap(old, now) {
			return
		}
	}
}

// report records that direction dir has accounted for its movements up to now.
func (a *activity) report(dir int, now int64) { a.known[dir].Store(now) }

// finish records that direction dir will move nothing more.
func (a *activity) finish(dir int) { a.known[dir].Store(forever) }

// quiet reports whether no byte moved either way for idle, as far as both directions know.
func (a *activity) quiet(now int64) bool {
	if a.idle == 0 {
		return false
	}
	until := min(now, a.known[0].Load(), a.known[1].Load())
	return until-a.last.Load() >= a.idle
}

// deadline returns when a precise direction should next check: idle after the last movement.
func (a *activity) deadline() time.Time {
	if a.idle == 0 {
		return time.Time{}
	}
	return a.base.Add(time.Duration(a.last.Load() + a.idle))
}

// checkAt returns when an imprecise direction should next check in.
func (a *activity) checkAt(now int64) time.Time {
	if a.idle == 0 {
		return time.Time{}
	}
	return a.base.Add(time.Duration(now + a.step))
}
