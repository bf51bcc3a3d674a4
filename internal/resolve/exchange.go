package resolve

import (
	"context"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// The bits of key.raw for the questions of Exchange.
const (
	rawQuery uint8 = 1 << iota // a whole-message question (always set)
	rawDO                      // the client set EDNS0's DNSSEC OK bit
	rawCD                      // the client set checking disabled
)

// Exchange answers a DNS query message, as a DNS-over-HTTPS endpoint needs: the question,
// of any type, is sent to the upstreams with the machinery of LookupNetIP (0x20, TCP on
// truncation, set-aside, coalescing) and the reply is cached by question (name, type and the
// client's DO and CD bits). The reply carries req's ID and question and, when req has EDNS0,
// an OPT record. Record TTLs are never raised, and are capped at the cache lifetime of the
// answer (one of the fixed buckets); they are not counted down while cached, so that an
// answer does not tell when someone else asked the same question.
//
// A message that is not one IN-class QUERY question is answered FORMERR, NOTIMP or REFUSED
// without a query; names never resolved (.onion, .i2p and configured suffixes) get NXDOMAIN
// (RFC 7686). A failure upstream (timeout, SERVFAIL from every upstream...) is a SERVFAIL
// reply. The error is non-nil only when ctx ended or the resolver is closed.
func (r *Resolver) Exchange(ctx context.Context, req *dns.Msg) (*dns.Msg, error) {
	if rcode, ok := r.precheck(req); !ok {
		return replyRcode(req, rcode), nil
	}
	q := req.Question[0]
	k := key{name: strings.TrimSuffix(strings.ToLower(q.Name), "."), qtype: q.Qtype, raw: rawQuery}
	if opt := req.IsEdns0(); opt != nil && opt.Do() {
		k.raw |= rawDO
	}
	if req.CheckingDisabled {
		k.raw |= rawCD
	}
	r.metrics.byType[typeIndex(q.Qtype)].Inc()
	if r.cache != nil {
		if a, ok := r.cache.get(k, r.now()); ok {
			r.metrics.hits.Inc()
			return r.replyFrom(req, a), nil
		}
		r.metrics.misses.Inc()
	}
	a, err := r.flights.do(ctx, k, r.flightBudget(), r.resolveUpstream)
	if err != nil {
		return nil, err
	}
	return r.replyFrom(req, a), nil
}

// precheck answers what Exchange refuses without a query: it returns the reply's rcode and
// false, or true when the question may go upstream.
func (r *Resolver) precheck(req *dns.Msg) (int, bool) {
	switch {
	case req.Response || len(req.Question) != 1:
		return dns.RcodeFormatError, false
	case req.Opcode != dns.OpcodeQuery:
		return dns.RcodeNotImplemented, false
	}
	q := req.Question[0]
	switch q.Qtype {
	case dns.TypeAXFR, dns.TypeIXFR, dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY:
		return dns.RcodeRefused, false
	}
	if q.Qclass != dns.ClassINET {
		return dns.RcodeRefused, false
	}
	if name := strings.TrimSuffix(strings.ToLower(q.Name), "."); name != "" && r.neverResolve(name) {
		r.metrics.never.Inc()
		return dns.RcodeNameError, false
	}
	return dns.RcodeSuccess, true
}

// replyRcode is an empty reply to req with rcode.
func replyRcode(req *dns.Msg, rcode int) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(req, rcode)
	m.RecursionAvailable = true
	if len(req.Question) != 1 {
		m.Question = nil
	}
	withEDNS(m, req)
	return m
}

// withEDNS adds an OPT record to m when req has one, echoing its DO bit.
func withEDNS(m, req *dns.Msg) {
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(ednsSize, opt.Do())
	}
}

// replyFrom builds the reply to req from an answer, cached or fresh.
func (r *Resolver) replyFrom(req *dns.Msg, a answer) *dns.Msg {
	r.metrics.byOutcome[a.outcome].Inc()
	if a.msg == nil {
		return replyRcode(req, dns.RcodeServerFailure)
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Rcode = a.msg.Rcode
	m.RecursionAvailable = a.msg.RecursionAvailable
	m.AuthenticatedData = a.msg.AuthenticatedData && (req.AuthenticatedData || req.IsEdns0() != nil && req.IsEdns0().Do())
	limit := uint32(0)
	if r.buckets != nil && a.cacheable {
		limit = uint32(clipTTL(a.ttl, r.buckets) / time.Second)
	}
	m.Answer = copyRRs(a.msg.Answer, limit)
	m.Ns = copyRRs(a.msg.Ns, limit)
	m.Extra = copyRRs(a.msg.Extra, limit)
	withEDNS(m, req)
	return m
}

// copyRRs copies rrs with every TTL at most limit (0: no limit).
func copyRRs(rrs []dns.RR, limit uint32) []dns.RR {
	if len(rrs) == 0 {
		return nil
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		c := dns.Copy(rr)
		if h := c.Header(); limit > 0 && h.Ttl > limit {
			h.Ttl = limit
		}
		out[i] = c
	}
	return out
}

// parseRaw reads an upstream reply for Exchange: the whole message is kept, and the answer is
// cached like those of LookupNetIP (positive: the smallest TTL of the answer and authority
// records; negative: the SOA rule of RFC 2308; failures: never).
func parseRaw(m *dns.Msg, fqdn string, qtype uint16) (answer, bool) {
	var (
		a      answer
		failed bool
	)
	switch m.Rcode {
	case dns.RcodeSuccess:
		if len(m.Answer) == 0 {
			a = negative(m, outNoData)
		} else {
			a = answer{outcome: outSuccess, ttl: minTTL(m.Answer, m.Ns), cacheable: true}
		}
	case dns.RcodeNameError:
		a = negative(m, outNXDomain)
	default:
		a, failed = parseAnswer(m, fqdn, qtype) // SERVFAIL, REFUSED...: the outcome only
		if a.outcome != outServFail {
			return a, failed // retried on the next upstream, then a SERVFAIL reply
		}
	}
	a.msg = stripped(m)
	return a, failed
}

// minTTL returns the smallest TTL of the records, OPT excluded.
func minTTL(sections ...[]dns.RR) time.Duration {
	var (
		ttl   uint32
		first = true
	)
	for _, rrs := range sections {
		for _, rr := range rrs {
			if h := rr.Header(); h.Rrtype != dns.TypeOPT && (first || h.Ttl < ttl) {
				ttl, first = h.Ttl, false
			}
		}
	}
	return time.Duration(ttl) * time.Second
}

// stripped returns what is kept of a reply: its sections without the OPT record, ID 0, and
// the question and the records owned by its name in lower case (not in the 0x20 case).
func stripped(m *dns.Msg) *dns.Msg {
	c := m.Copy()
	c.Id = 0
	for i := range c.Question {
		c.Question[i].Name = strings.ToLower(c.Question[i].Name)
	}
	if len(c.Question) == 1 {
		for _, rrs := range [][]dns.RR{c.Answer, c.Ns, c.Extra} {
			for _, rr := range rrs {
				if h := rr.Header(); strings.EqualFold(h.Name, c.Question[0].Name) {
					h.Name = c.Question[0].Name
				}
			}
		}
	}
	extra := c.Extra[:0]
	for _, rr := range c.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			extra = append(extra, rr)
		}
	}
	c.Extra = extra
	return c
}
