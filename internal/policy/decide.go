package policy

import (
	"net/netip"
	"strings"
	"time"

	"sortie.dev/sortie/internal/refusal"
)

var allowed = Verdict{Allow: true}

// Decide answers whether q's destination may be dialled. The checks, first refusal wins:
// the block list (q.Name, then q.Addr), the gateway's own addresses and listeners, the
// special-purpose table (also for the IPv4 address a NAT64, 6to4 or IPv4-compatible address
// carries), then the assembled rules. An IPv4-mapped address is checked as IPv4, and a zone
// is ignored. Decide does no I/O and does not allocate.
func (p *Policy) Decide(q Query) Verdict {
	a := q.Addr.Unmap().WithZone("")
	if !a.IsValid() {
		return refuse(refusal.Policy, RuleRef{Origin: OriginInvalid, Text: "invalid address"})
	}
	if q.Name != "" {
		if v, hit := p.blockedName(q.Name, q.Port, q.Now); hit {
			return v
		}
	}
	if v, hit := p.blockedAddr(a, q.Port, q.Now); hit {
		return v
	}
	v4, carries := embeddedIPv4(a)
	if p.isOwn(a, q.Port) || carries && p.isOwn(v4, q.Port) {
		return refuse(refusal.Policy, RuleRef{Origin: OriginOwn, Text: "own address or listener"})
	}
	if i := p.special.lookup(a); i >= 0 {
		return refuse(refusal.Policy, RuleRef{Origin: OriginSpecial, Text: p.special.texts[i]})
	}
	for i := range p.rules {
		if m := &p.rules[i]; m.rule.matches(a, q.Port) {
			return Verdict{Allow: m.rule.Accept, Reason: reasonFor(m.rule.Accept), Rule: p.refs[m.ref]}
		}
	}
	return allowed
}

// matcher is the part of a Rule the hot loop reads, and the index of its RuleRef. The
// implicit `reject private:*` has none: it is listed for Tor's order but enforced by the
// special-purpose table (a superset of Tor's private list, checked before the rules), so that
// AllowSpecial and the NAT64 exception apply to it too.
type matcher struct {
	rule Rule // Text and Source cleared
	ref  int
}

func compile(r Rule, ref int) matcher {
	r.Text, r.Source = "", ""
	return matcher{rule: r, ref: ref}
}

// DecideName checks a normalised name against the block list, before it is resolved.
func (p *Policy) DecideName(name string, port uint16, now time.Time) Verdict {
	if v, hit := p.blockedName(name, port, now); hit {
		return v
	}
	return allowed
}

func reasonFor(accept bool) refusal.Reason {
	if accept {
		return refusal.Unknown
	}
	return refusal.Policy
}

func refuse(r refusal.Reason, ref RuleRef) Verdict {
	return Verdict{Reason: r, Rule: ref}
}

// blockedName looks up name and each name it is under, exact entries only for name itself.
func (p *Policy) blockedName(name string, port uint16, now time.Time) (Verdict, bool) {
	for n, sub := name, false; ; sub = true {
		for _, i := range p.names[n] {
			b := &p.blocks[i]
			if (!sub || b.IncludeSubdomains) && b.matchesPort(port) && b.Active(now) {
				return p.blockVerdict(b), true
			}
		}
		dot := strings.IndexByte(n, '.')
		if dot < 0 {
			return Verdict{}, false
		}
		n = n[dot+1:]
	}
}

func (p *Policy) blockedAddr(a netip.Addr, port uint16, now time.Time) (Verdict, bool) {
	if p.prefixes.Size() == 0 {
		return Verdict{}, false
	}
	for _, idx := range p.prefixes.Supernets(netip.PrefixFrom(a, a.BitLen())) {
		for _, i := range idx {
			b := &p.blocks[i]
			if b.matchesPort(port) && b.Active(now) {
				return p.blockVerdict(b), true
			}
		}
	}
	return Verdict{}, false
}

func (p *Policy) blockVerdict(b *Block) Verdict {
	return Verdict{Reason: refusal.Blocked, Rule: RuleRef{Origin: OriginBlock, Text: b.ID}, Block: b}
}

// isOwn reports whether a is an own address, or a:port an own listener.
func (p *Policy) isOwn(a netip.Addr, port uint16) bool {
	if p.ownAddr(a) {
		return true
	}
	for _, ap := range p.ownPorts {
		if ap.Port() != port {
			continue
		}
		la := ap.Addr()
		if la == a || la.IsUnspecified() && (a.IsLoopback() || a.IsUnspecified() || p.ownAddr(a)) {
			return true
		}
	}
	return false
}

func (p *Policy) ownAddr(a netip.Addr) bool {
	for _, o := range p.own {
		if o == a {
			return true
		}
	}
	return false
}

// Err returns nil for an allowed verdict, else a *refusal.Error whose message is fit for the
// client: it never contains the rule text, the destination or the client. A Blocked error
// carries the entry's public fields.
func (v Verdict) Err() error {
	if v.Allow {
		return nil
	}
	switch v.Rule.Origin {
	case OriginBlock:
		e := refusal.New(refusal.Blocked, "the operator of this exit blocks this destination; see the notice")
		if v.Block != nil {
			e.Block = v.Block.Refusal()
		}
		return e
	case OriginIPv6Off:
		return refusal.New(v.Reason, "this exit does not connect to IPv6 destinations")
	case OriginInvalid, OriginOwn, OriginSpecial, OriginPrivate:
		return refusal.New(v.Reason, "this exit does not connect to private, special-purpose or its own addresses")
	}
	return refusal.New(v.Reason, "the exit policy does not allow this destination and port")
}
