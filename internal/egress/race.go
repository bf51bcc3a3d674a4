package egress

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"sortie.dev/sortie/internal/refusal"
)

// Address families, as indexes into race.pending.
const (
	v6 = 0
	v4 = 1
)

type lookupResult struct {
	family int
	addrs  []netip.Addr
	err    error
}

type attemptResult struct {
	conn net.Conn
	err  error
}

// race is one Happy Eyeballs dial of a name. Only the goroutine running Dial touches its
// fields; lookups and attempts report through the channels.
type race struct {
	e    *Egress
	port uint16

	lookups chan lookupResult  // buffered: a lookup never blocks on send
	results chan attemptResult // buffered to maxInFlight: an attempt never blocks on send

	lookupsOut int // lookups not yet reported
	inFlight   int // attempts not yet reported

	pending    [2][]netip.Addr // addresses not yet tried, by family
	seen       []netip.Addr    // every address taken from the lookups, to skip duplicates
	lastFamily int
	attempted  bool      // some address was dialled
	lastStart  time.Time // when the latest attempt started
	holdUntil  time.Time // resolution delay: no IPv4 attempt before this while AAAA is out
	dialCtx    context.Context
	dialCancel context.CancelFunc

	lookupCancel context.CancelFunc

	dnsErr  *refusal.Error // the best lookup failure
	refused *refusal.Error // the best Check refusal
	dialErr *refusal.Error // the best attempt failure
}

func (e *Egress) dialName(ctx context.Context, name string, port uint16) (net.Conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	r := &race{
		e:          e,
		port:       port,
		lookups:    make(chan lookupResult, 2),
		results:    make(chan attemptResult, maxInFlight),
		lastFamily: v4, // so that IPv6 goes first
	}
	r.startLookups(ctx, name)
	conn, err := r.run(ctx)
	cancel()
	r.drain()
	r.lookupCancel()
	if r.dialCancel != nil {
		r.dialCancel()
	}
	return conn, err
}

// startLookups asks for AAAA and A at once.
func (r *race) startLookups(ctx context.Context, name string) {
	res := r.e.resolver()
	if _, ok := res.(*net.Resolver); ok && !strings.HasSuffix(name, ".") {
		name += "." // rooted: no search domains
	}
	lctx, cancel := context.WithTimeout(ctx, r.e.resolveTimeout())
	r.lookupCancel = cancel
	r.lookupsOut = 2
	for family, network := range [2]string{v6: "ip6", v4: "ip4"} {
		go func() {
			addrs, err := res.LookupNetIP(lctx, network, name)
			r.lookups <- lookupResult{family: family, addrs: addrs, err: err}
		}()
	}
}

// run is the event loop: it starts attempts when they are due and reacts to lookups,
// attempt results, timers and cancellation.
func (r *race) run(ctx context.Context) (net.Conn, error) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		r.startDue(ctx)
		if r.lookupsOut == 0 && r.inFlight == 0 && r.empty() {
			return nil, r.failure(ctx)
		}
		var wake <-chan time.Time
		if d, ok := r.nextWake(); ok {
			timer.Reset(d)
			wake = timer.C
		}
		var dialDone <-chan struct{}
		if r.dialCtx != nil {
			dialDone = r.dialCtx.Done()
		}
		select {
		case lr := <-r.lookups:
			r.lookupsOut--
			r.addLookup(lr)
		case ar := <-r.results:
			r.inFlight--
			if ar.err == nil {
				return ar.conn, nil
			}
			if re := classifyDial(ar.err); better(re, r.dialErr) {
				r.dialErr = re
			}
		case <-wake:
		case <-dialDone:
			return nil, r.failure(ctx)
		case <-ctx.Done():
			return nil, r.failure(ctx)
		}
		timer.Stop()
	}
}

func (r *race) addLookup(lr lookupResult) {
	if lr.err != nil {
		if re := classifyDNS(lr.err); better(re, r.dnsErr) {
			r.dnsErr = re
		}
		return
	}
	for _, a := range lr.addrs {
		a = a.Unmap().WithZone("")
		if a.IsValid() && !slices.Contains(r.seen, a) && len(r.pending[lr.family]) < maxAddrsPerFamily {
			r.pending[lr.family] = append(r.pending[lr.family], a)
			r.seen = append(r.seen, a)
		}
	}
	if lr.family == v4 && r.lookupsOut > 0 && !r.attempted && len(r.pending[v4]) > 0 {
		r.holdUntil = time.Now().Add(resolutionDelay)
	}
}

// startDue starts every attempt whose time has come, skipping refused addresses.
func (r *race) startDue(ctx context.Context) {
	for r.inFlight < maxInFlight && r.mayStart() {
		addr, ok := r.next()
		if !ok {
			return
		}
		if err := r.e.allow(ctx, addr, r.port); err != nil {
			if re := refusal.As(err); better(re, r.refused) {
				r.refused = re
			}
			continue
		}
		r.launch(ctx, addr)
	}
}

func (r *race) mayStart() bool {
	now := time.Now()
	if r.holding(now) {
		return false
	}
	return r.inFlight == 0 || now.Sub(r.lastStart) >= attemptDelay
}

// holding reports whether the resolution delay still holds IPv4 back for a late AAAA.
func (r *race) holding(now time.Time) bool {
	return !r.attempted && r.lookupsOut > 0 && len(r.pending[v6]) == 0 && now.Before(r.holdUntil)
}

// nextWake says how long to sleep before an attempt may become due.
func (r *race) nextWake() (time.Duration, bool) {
	now := time.Now()
	switch {
	case r.holding(now):
		return r.holdUntil.Sub(now), true
	case r.inFlight > 0 && r.inFlight < maxInFlight && !r.empty():
		return max(0, r.lastStart.Add(attemptDelay).Sub(now)), true
	}
	return 0, false
}

// next takes the next address, alternating families, IPv6 first.
func (r *race) next() (netip.Addr, bool) {
	f := 1 - r.lastFamily
	if len(r.pending[f]) == 0 {
		f = r.lastFamily
	}
	if len(r.pending[f]) == 0 {
		return netip.Addr{}, false
	}
	addr := r.pending[f][0]
	r.pending[f] = r.pending[f][1:]
	r.lastFamily = f
	return addr, true
}

func (r *race) empty() bool { return len(r.pending[v6]) == 0 && len(r.pending[v4]) == 0 }

func (r *race) launch(ctx context.Context, addr netip.Addr) {
	if r.dialCtx == nil {
		r.dialCtx, r.dialCancel = context.WithTimeout(ctx, r.e.dialTimeout())
	}
	r.attempted = true
	r.inFlight++
	r.lastStart = time.Now()
	dctx := r.dialCtx
	go func() {
		c, err := r.e.dialOne(dctx, addr, r.port)
		r.results <- attemptResult{conn: c, err: err}
	}()
}

// drain waits for every lookup and attempt still out, after their context was cancelled,
// and closes the connections of the losers.
func (r *race) drain() {
	for r.inFlight > 0 {
		if ar := <-r.results; ar.conn != nil {
			ar.conn.Close()
		}
		r.inFlight--
	}
	for ; r.lookupsOut > 0; r.lookupsOut-- {
		<-r.lookups
	}
}

// failure picks the error Dial reports when no attempt succeeded.
func (r *race) failure(ctx context.Context) error {
	switch {
	case ctx.Err() == context.Canceled:
		return refusal.Wrap(refusal.Unknown, msgCancelled, ctx.Err())
	case r.dialCtx != nil && r.dialCtx.Err() != nil && r.inFlight > 0:
		return refusal.Wrap(refusal.DialTimeout, msgDialTimeout, r.dialCtx.Err())
	case ctx.Err() != nil && r.attempted:
		return refusal.Wrap(refusal.DialTimeout, msgDialTimeout, ctx.Err())
	case ctx.Err() != nil:
		return refusal.Wrap(refusal.DNSTimeout, msgDNSTimeout, ctx.Err())
	case r.dialErr != nil:
		return r.dialErr
	case r.refused != nil:
		return r.refused
	case r.dnsErr != nil:
		return r.dnsErr
	}
	return refusal.New(refusal.NXDomain, msgNXDomain) // no error, no address
}
