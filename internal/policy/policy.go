// Package policy owns Sortie's exit decisions: the exit policy in Tor's grammar (with Tor's
// default and reduced policies), the special-purpose address table, the gateway's own
// addresses, the block list with its public notices, and the normalisation of the host names
// and numeric spellings clients send. Decide is pure: no I/O, no allocation; it returns a
// Verdict with a refusal reason and the rule that matched.
package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gaissmai/bart"

	"sortie.dev/sortie/internal/refusal"
)

// Options is what a Policy is built from. The zero value is Tor's default policy with IPv6
// exit off and nothing allowed in the special-purpose table.
type Options struct {
	// IPv6Exit allows IPv6 destinations; when false `reject *6:*` comes first.
	IPv6Exit bool
	// Own are the gateway's own addresses: refused on every port, never allowable.
	Own []netip.Addr
	// OwnPorts are the gateway's listeners: refused, never allowable. An unspecified address
	// (0.0.0.0, ::) stands for every loopback, unspecified and Own address on that port.
	OwnPorts []netip.AddrPort
	// Rules are the operator's lines, in order (from ParseRules; set Source for files).
	Rules []Rule
	// Base is the policy after the operator's lines: "default" (also ""), "reduced" or
	// "reject-all". It is dropped when Rules end with `accept *:*` or `reject *:*`.
	Base string
	// AllowSpecial takes prefixes out of the special-purpose table (and out of the implicit
	// `reject private:*`), so that destinations inside them may be dialled.
	AllowSpecial []netip.Prefix
	// Blocks is the block list.
	Blocks []Block
	// BlockedBy fills Block.BlockedBy where an entry leaves it empty.
	BlockedBy string
}

// Origin says which part of the policy a RuleRef comes from.
type Origin uint8

// The origins, in the order a Policy checks them.
const (
	OriginNone     Origin = iota // no rule matched (cannot happen with a base policy)
	OriginBlock                  // a block-list entry
	OriginInvalid                // the address was not a valid address
	OriginOwn                    // the gateway's own address or listener
	OriginSpecial                // the special-purpose address table
	OriginIPv6Off                // `reject *6:*` because IPv6 exit is off
	OriginPrivate                // the implicit `reject private:*`
	OriginOperator               // one of the operator's lines
	OriginBase                   // the base policy
)

var originNames = [...]string{"none", "block", "invalid", "own", "special", "ipv6_off", "private", "operator", "base"}

// String returns the origin's snake_case name, fit for a metric label.
func (o Origin) String() string {
	if int(o) < len(originNames) {
		return originNames[o]
	}
	return fmt.Sprintf("origin(%d)", uint8(o))
}

// RuleRef names what decided a verdict. Text is internal: the operator may see it (sortie
// policy, the admin endpoint), clients never do, and it may name a destination, so it must not
// be logged either.
type RuleRef struct {
	Origin Origin
	Text   string // the rule as written, the special range with its RFC, or the block's ID
	Source string // file name or base policy name; empty for the config's own lines
	Line   int    // line in Source (1-based), 0 when not from text
}

// Verdict is the answer of Decide.
type Verdict struct {
	Allow  bool
	Reason refusal.Reason // Policy or Blocked when refused; Unknown when allowed
	Rule   RuleRef
	Block  *Block // the entry, for Blocked
}

// Query is one destination to decide on.
type Query struct {
	Name   string     // the normalised name the client asked for; "" for literals
	Addr   netip.Addr // the address about to be dialled
	Port   uint16
	Proto  Proto
	Client string    // an opaque per-client key; not used by the exit policy today
	Now    time.Time // compared with block expiry
}

// Proto is the transport of a query. Exit policy rules apply to both.
type Proto uint8

// The transports.
const (
	TCP Proto = iota
	UDP
)

// Policy is an assembled exit policy. It is immutable and safe for concurrent use; build a
// new one to reload.
type Policy struct {
	rules    []matcher // compact copies of the assembled rules, for the hot loop
	refs     []RuleRef
	own      []netip.Addr
	ownPorts []netip.AddrPort
	special  *specialTable
	blocks   []Block
	names    map[string][]int   // normalised domain -> indices into blocks
	prefixes *bart.Table[[]int] // prefix -> indices into blocks
}

// New assembles a Policy in Tor's order: `reject *6:*` when IPv6 exit is off, `reject
// private:*`, the own addresses, the operator's rules, then the base policy unless the
// operator's rules end in `accept *:*` or `reject *:*`. Before those rules, every query is
// checked against the block list, the own addresses and listeners, and the special-purpose
// table. New reports every problem in o at once.
func New(o Options) (*Policy, error) {
	base, err := Builtin(o.Base)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	p := &Policy{special: newSpecialTable(o.AllowSpecial)}
	errs = append(errs, p.addOwn(o.Own, o.OwnPorts)...)
	errs = append(errs, p.assemble(o, base)...)
	errs = append(errs, p.addBlocks(o.Blocks, o.BlockedBy)...)
	for _, a := range o.AllowSpecial {
		if !a.IsValid() {
			errs = append(errs, errors.New("allow_special: invalid prefix"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("exit policy: %w", err)
	}
	return p, nil
}

func (p *Policy) addOwn(own []netip.Addr, ports []netip.AddrPort) []error {
	var errs []error
	for _, a := range own {
		if !a.IsValid() {
			errs = append(errs, errors.New("own address: invalid"))
			continue
		}
		p.own = append(p.own, a.Unmap().WithZone(""))
	}
	for _, ap := range ports {
		if !ap.IsValid() {
			errs = append(errs, errors.New("own listener: invalid address and port"))
			continue
		}
		p.ownPorts = append(p.ownPorts, netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()))
	}
	return errs
}

func (p *Policy) assemble(o Options, base []Rule) []error {
	all := func(accept bool, fam Family) Rule { return Rule{Accept: accept, Family: fam, PortLo: 1, PortHi: 65535} }
	if !o.IPv6Exit {
		r := all(false, FamilyV6)
		r.Text = "reject *6:*"
		p.add(r, OriginIPv6Off)
	}
	priv := all(false, FamilyAny)
	priv.Private, priv.Text = true, "reject private:*"
	p.add(priv, OriginPrivate)
	for _, a := range p.own {
		r := all(false, FamilyV4)
		if a.Is6() {
			r.Family = FamilyV6
		}
		r.Prefix = netip.PrefixFrom(a, a.BitLen())
		r.Text = r.String()
		p.add(r, OriginOwn)
	}
	var errs []error
	for _, r := range o.Rules {
		if err := r.check(); err != nil {
			errs = append(errs, err)
		}
		p.add(r, OriginOperator)
	}
	if n := len(o.Rules); n > 0 && o.Rules[n-1].isWildcardAll() {
		return errs
	}
	for _, r := range base {
		p.add(r, OriginBase)
	}
	return errs
}

func (p *Policy) add(r Rule, o Origin) {
	text := r.Text
	if text == "" {
		text = r.String()
	}
	if o != OriginPrivate { // enforced by the special-purpose table, see exempt
		p.rules = append(p.rules, compile(r, len(p.refs)))
	}
	p.refs = append(p.refs, RuleRef{Origin: o, Text: text, Source: r.Source, Line: r.Line})
}

func (p *Policy) addBlocks(blocks []Block, blockedBy string) []error {
	var errs []error
	seen := map[string]bool{}
	p.names = map[string][]int{}
	p.prefixes = new(bart.Table[[]int])
	for i, b := range blocks {
		if err := b.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("blocklist entry %d: %w", i+1, err))
			continue
		}
		if seen[b.ID] {
			errs = append(errs, fmt.Errorf("blocklist entry %d: duplicate id %q", i+1, b.ID))
			continue
		}
		seen[b.ID] = true
		if b.BlockedBy == "" {
			b.BlockedBy = blockedBy
		}
		p.blocks = append(p.blocks, b)
		p.indexBlock(len(p.blocks) - 1)
	}
	return errs
}

// Blocks returns the block list as the policy enforces it: validated, each ID once, domains
// normalised, BlockedBy filled in, in the order given. The entries are copies the caller may
// keep and change.
func (p *Policy) Blocks() []Block {
	out := make([]Block, len(p.blocks))
	for i, b := range p.blocks {
		b.Expires, b.Review = copyTime(b.Expires), copyTime(b.Review)
		out[i] = b
	}
	return out
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

func (p *Policy) indexBlock(i int) {
	b := &p.blocks[i]
	if b.Prefix.IsValid() {
		pfx := b.Prefix.Masked()
		if pfx.Addr().Is4In6() && pfx.Bits() >= 96 {
			pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96)
		}
		old, _ := p.prefixes.Get(pfx)
		p.prefixes.Insert(pfx, append(old, i))
		return
	}
	name, _, _ := NormalizeHost(b.Domain) // Validate accepted it
	b.Domain = name
	p.names[name] = append(p.names[name], i)
}

// Rules returns the assembled rule list in the order it is checked (after the block list,
// own addresses and special-purpose table), for display.
func (p *Policy) Rules() []RuleRef {
	return append([]RuleRef(nil), p.refs...)
}
