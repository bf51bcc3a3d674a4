package notice

import (
	"fmt"
	"strconv"
	"strings"

	"sortie.dev/sortie/internal/policy"
)

// maxListed caps how many port ranges a summary line names; the rest are counted.
const maxListed = 120

// PortRange is an inclusive range of destination ports.
type PortRange struct {
	Lo, Hi uint16
}

// String returns "443" or "20-23".
func (r PortRange) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return strconv.Itoa(int(r.Lo)) + "-" + strconv.Itoa(int(r.Hi))
}

func (r PortRange) count() int { return int(r.Hi) - int(r.Lo) + 1 }

// Ports is the set of ports open to ordinary internet destinations of one address family.
type Ports struct {
	Open []PortRange // ascending, non-overlapping, non-adjacent
}

// Count returns how many ports are open.
func (p Ports) Count() int {
	n := 0
	for _, r := range p.Open {
		n += r.count()
	}
	return n
}

// Closed returns the complement of Open in 1-65535.
func (p Ports) Closed() []PortRange {
	var out []PortRange
	next := 1
	for _, r := range p.Open {
		if int(r.Lo) > next {
			out = append(out, PortRange{Lo: uint16(next), Hi: r.Lo - 1})
		}
		next = int(r.Hi) + 1
	}
	if next <= 65535 {
		out = append(out, PortRange{Lo: uint16(next), Hi: 65535})
	}
	return out
}

// String summarises the set in words: "all ports", "no ports", "all ports except 25, 119"
// or "only ports 80, 443", whichever names fewer ports.
func (p Ports) String() string {
	n := p.Count()
	switch {
	case n == 65535:
		return "all ports"
	case n == 0:
		return "no ports"
	case n > 65535/2:
		return "all ports except " + listRanges(p.Closed())
	case n == 1:
		return "only port " + listRanges(p.Open)
	}
	return "only ports " + listRanges(p.Open)
}

func listRanges(rs []PortRange) string {
	shown := rs[:min(len(rs), maxListed)]
	parts := make([]string, 0, len(shown)+1)
	for _, r := range shown {
		parts = append(parts, r.String())
	}
	if rest := len(rs) - len(shown); rest > 0 {
		parts = append(parts, fmt.Sprintf("and %d more ranges", rest))
	}
	return strings.Join(parts, ", ")
}

// Summary is the public, readable form of an assembled exit policy: which ports are open to
// ordinary internet destinations. It never contains the special-purpose ranges or the
// gateway's own addresses.
type Summary struct {
	// Base is the built-in policy the rules end with ("default", "reduced", "reject-all"), or
	// "" when the operator's rules replace it.
	Base string
	// OperatorRules counts the operator's own lines.
	OperatorRules int
	// AddressRules counts the operator's lines that apply to particular address ranges only;
	// they are left out of IPv4 and IPv6.
	AddressRules int
	// IPv6Exit is false when IPv6 destinations are refused altogether.
	IPv6Exit bool
	// IPv4 and IPv6 are the open ports per family (IPv6 has none when IPv6Exit is false).
	IPv4, IPv6 Ports
}

// Summarize reads p's assembled rules into a Summary. A port counts as open for a family when
// the first rule that covers every address of that family on that port accepts it; rules for
// particular address ranges, `private` and the gateway's own addresses are left out (the page
// says in words that private and special-purpose networks are never reached).
func Summarize(p *policy.Policy) (Summary, error) {
	s := Summary{IPv6Exit: true}
	var v4, v6 portState
	for i, ref := range p.Rules() {
		if ref.Origin != policy.OriginOperator && ref.Origin != policy.OriginBase && ref.Origin != policy.OriginIPv6Off {
			continue
		}
		rules, err := policy.ParseRules(ref.Text)
		if err != nil || len(rules) != 1 {
			return Summary{}, fmt.Errorf("policy summary: rule %d: cannot read it back", i+1)
		}
		s.note(ref)
		r := rules[0]
		if r.Private || (r.Prefix.IsValid() && r.Prefix.Bits() > 0) {
			s.AddressRules += b2i(ref.Origin == policy.OriginOperator)
			continue
		}
		fam := ruleFamily(r)
		if fam != policy.FamilyV6 {
			v4.apply(r)
		}
		if fam != policy.FamilyV4 {
			v6.apply(r)
		}
	}
	s.IPv4 = v4.ports()
	s.IPv6 = v6.ports()
	return s, nil
}

// note records what the rule ref tells about the policy as a whole.
func (s *Summary) note(ref policy.RuleRef) {
	switch ref.Origin {
	case policy.OriginOperator:
		s.OperatorRules++
	case policy.OriginBase:
		s.Base = strings.TrimPrefix(ref.Source, "base ")
	case policy.OriginIPv6Off:
		s.IPv6Exit = false
	}
}

// ruleFamily is the family a wildcard rule (or a /0 prefix) covers.
func ruleFamily(r policy.Rule) policy.Family {
	if r.Prefix.IsValid() {
		if r.Prefix.Addr().Is4() {
			return policy.FamilyV4
		}
		return policy.FamilyV6
	}
	return r.Family
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// portState tracks, for each port, whether a rule has decided it yet. Rules are applied in
// order, so the first one to cover a port decides it.
type portState struct {
	decided [65536]bool
	accept  [65536]bool
	left    int // ports 1-65535 still undecided, once initialised
	started bool
}

func (ps *portState) apply(r policy.Rule) {
	if !ps.started {
		ps.left, ps.started = 65535, true
	}
	for port := int(r.PortLo); port <= int(r.PortHi) && ps.left > 0; port++ {
		if !ps.decided[port] {
			ps.decided[port], ps.accept[port] = true, r.Accept
			ps.left--
		}
	}
}

// ports returns the open ranges; a port no rule decided is open (as in Decide).
func (ps *portState) ports() Ports {
	var p Ports
	for port := 1; port <= 65535; port++ {
		if ps.decided[port] && !ps.accept[port] {
			continue
		}
		if n := len(p.Open); n > 0 && int(p.Open[n-1].Hi) == port-1 {
			p.Open[n-1].Hi = uint16(port)
			continue
		}
		p.Open = append(p.Open, PortRange{Lo: uint16(port), Hi: uint16(port)})
	}
	return p
}
