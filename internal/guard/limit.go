package guard

import (
	"math"
	"math/bits"
	"time"
)

// rate is a token bucket in its GCRA form: a steady rate with a burst, checked with one
// number per key (the theoretical arrival time), whose zero value is a full bucket.
type rate struct {
	interval  int64 // nanoseconds between two tokens; 0: the limit is off
	tolerance int64 // (burst-1) * interval
}

func newRate(perSecond float64, burst int) rate {
	if perSecond <= 0 || burst <= 0 {
		return rate{}
	}
	iv := int64(float64(time.Second) / perSecond)
	return rate{interval: max(iv, 1), tolerance: int64(burst-1) * max(iv, 1)}
}

func (r rate) on() bool { return r.interval > 0 }

// take spends one token from the bucket whose arrival time is *tat. When none is left it
// returns false and how long until one is.
func (r rate) take(tat *int64, now int64) (bool, time.Duration) {
	t := max(*tat, now)
	if t-now > r.tolerance {
		return false, time.Duration(t - r.tolerance - now)
	}
	*tat = t + r.interval
	return true, 0
}

// refund gives one token back.
func (r rate) refund(tat *int64) { *tat -= r.interval }

// full reports whether the bucket is full again at now: it then limits nothing.
func full(tat, now int64) bool { return tat <= now }

// distinct counts the distinct values seen in a window, in 128 bits (linear counting). The
// values are hashed first, so the bits say how many, never which.
type distinct struct {
	end  int64 // when the current window ends
	bits [2]uint64
}

// add records the hashed value v at now, in windows of window nanoseconds, and returns the
// estimated number of distinct values in the current window.
func (d *distinct) add(v uint64, now, window int64) int {
	if now >= d.end {
		*d = distinct{end: now + window}
	}
	d.bits[(v>>6)&1] |= 1 << (v & 63)
	return d.count()
}

// count returns the linear-counting estimate of the distinct values added.
func (d *distinct) count() int {
	const m = 128
	set := bits.OnesCount64(d.bits[0]) + bits.OnesCount64(d.bits[1])
	if set >= m {
		return math.MaxInt32
	}
	return int(math.Round(-m * math.Log(1-float64(set)/m)))
}

// maxDistinct is the largest threshold 128 bits count with useful precision.
const maxDistinct = 100
