package resolve

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// upstream is one recursive resolver we ask, with its health.
type upstream struct {
	addr netip.AddrPort

	mu     sync.Mutex
	fails  int       // consecutive failures
	aside  time.Time // set aside until then
	no0x20 bool      // it does not preserve query-name case
}

func (u *upstream) available(now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return !now.Before(u.aside)
}

// report records one query's health; it returns true when it just set the upstream aside.
func (u *upstream) report(now time.Time, failed bool) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !failed {
		u.fails = 0
		return false
	}
	u.fails++
	if u.fails < failuresBeforeAside {
		return false
	}
	u.fails = 0
	u.aside = now.Add(asideFor)
	return true
}

func (u *upstream) use0x20() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return !u.no0x20
}

// disable0x20 turns case randomisation off; it returns false if it already was.
func (u *upstream) disable0x20() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	was := u.no0x20
	u.no0x20 = true
	return !was
}

// order returns the upstreams to try, in configured order, skipping those set aside unless
// every one is.
func (r *Resolver) order(now time.Time) []*upstream {
	var ok []*upstream
	for _, u := range r.upstreams {
		if u.available(now) {
			ok = append(ok, u)
		}
	}
	if len(ok) == 0 {
		return r.upstreams
	}
	return ok
}

// question is one question sent upstream: a lower-case name without the trailing dot, a
// record type, the DNSSEC OK and checking disabled bits, and how to read the reply.
type question struct {
	name  string
	qtype uint16
	do    bool // set EDNS0's DNSSEC OK bit
	cd    bool // set the checking disabled bit
	// parse reads a reply; failed says whether the upstream itself is to blame.
	parse func(m *dns.Msg, fqdn string, qtype uint16) (a answer, failed bool)
}

// query asks the upstreams in turn until one gives a usable answer or the attempts run out.
func (r *Resolver) query(ctx context.Context, q question) answer {
	ups := r.order(r.now())
	a := answer{outcome: outError}
	for i := range r.cfg.Attempts {
		if ctx.Err() != nil {
			break
		}
		u := ups[i%len(ups)]
		var failed bool
		a, failed = r.ask(ctx, u, q)
		if u.report(r.now(), failed) {
			r.metrics.setAside.Inc()
		}
		if final(a.outcome) {
			break
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && !final(a.outcome) {
		a.outcome = outTimeout
	}
	return a
}

// final reports whether an outcome ends the question: an answer, positive or negative.
func final(o outcome) bool {
	return o == outSuccess || o == outNoData || o == outNXDomain
}

// ask sends one question to one upstream: UDP, then TCP on truncation or a case mismatch.
// failed says whether the upstream itself misbehaved (timeout, network, refusal, bad answer).
func (r *Resolver) ask(ctx context.Context, u *upstream, qn question) (answer, bool) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	start := time.Now()
	defer func() { r.metrics.upstream.Observe(time.Since(start).Seconds()) }()

	fqdn := qn.name + "."
	qname := fqdn
	use0x20 := u.use0x20()
	if use0x20 {
		qname = randomCase(fqdn, r.randU64)
	}
	q := newQuery(qname, qn.qtype, qn.do, qn.cd)
	resp, err := exchange(ctx, "udp", u.addr, q)
	if err == nil && (resp.Truncated || !sameQuestion(resp, qname, qn.qtype, use0x20)) {
		resp, err = r.askTCP(ctx, u, q, use0x20)
	}
	if err != nil {
		return answer{outcome: errOutcome(err)}, true
	}
	return qn.parse(resp, fqdn, qn.qtype)
}

// askTCP repeats q over TCP. When the TCP answer also fails the exact case check but matches
// otherwise, the upstream does not preserve case: 0x20 is turned off for it and the answer kept.
func (r *Resolver) askTCP(ctx context.Context, u *upstream, q *dns.Msg, use0x20 bool) (*dns.Msg, error) {
	qname, qtype := q.Question[0].Name, q.Question[0].Qtype
	resp, err := exchange(ctx, "tcp", u.addr, q)
	if err != nil || sameQuestion(resp, qname, qtype, use0x20) {
		return resp, err
	}
	if use0x20 && sameQuestion(resp, qname, qtype, false) {
		if u.disable0x20() {
			r.metrics.caseOff.Inc()
		}
		return resp, nil
	}
	return nil, errMismatch
}

var errMismatch = errors.New("answer does not match the question")

func newQuery(qname string, qtype uint16, do, cd bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(qname, qtype)
	m.RecursionDesired = true
	m.CheckingDisabled = cd
	m.SetEdns0(ednsSize, do)
	return m
}

// exchange sends q over network ("udp", "tcp") and reads the reply with the same ID. The
// context's end interrupts the exchange at once.
func exchange(ctx context.Context, network string, addr netip.AddrPort, q *dns.Msg) (*dns.Msg, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr.String())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c := &dns.Client{Net: network, UDPSize: ednsSize}
	resp, _, err := c.ExchangeWithConnContext(ctx, q, &dns.Conn{Conn: conn, UDPSize: ednsSize})
	return resp, err
}

// sameQuestion checks the echoed question: type and class exactly, the name case-exactly when
// exactCase (0x20 in use), case-insensitively otherwise.
func sameQuestion(m *dns.Msg, qname string, qtype uint16, exactCase bool) bool {
	if len(m.Question) != 1 {
		return false
	}
	q := m.Question[0]
	if q.Qtype != qtype || q.Qclass != dns.ClassINET {
		return false
	}
	if exactCase {
		return q.Name == qname
	}
	return strings.EqualFold(q.Name, qname)
}

func errOutcome(err error) outcome {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return outTimeout
	case errors.As(err, &ne) && ne.Timeout():
		return outTimeout
	case errors.Is(err, errMismatch):
		return outFormErr
	}
	return outError
}

// randomCase flips the case of each letter of name at random (draft-vixie-dnsext-dns0x20).
func randomCase(name string, rnd func() uint64) string {
	b := []byte(name)
	var bits uint64
	for i, c := range b {
		if i%64 == 0 {
			bits = rnd()
		}
		if c >= 'a' && c <= 'z' && bits&(1<<(i%64)) != 0 {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func randUint64() uint64 { return rand.Uint64() }
