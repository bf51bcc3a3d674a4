package policy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Family says which address family a rule's address can match.
type Family uint8

// The families. FamilyAny is what `*`, `private` and plain accept/reject lines with a
// wildcard match; `*4`, `*6`, accept6 and reject6 narrow it.
const (
	FamilyAny Family = iota // both IPv4 and IPv6
	FamilyV4                // IPv4 only
	FamilyV6                // IPv6 only
)

// Rule is one line of an exit policy in Tor's grammar:
// `accept|reject|accept6|reject6 ADDR[/MASK][:PORT]`. Rules are checked in order; the
// first that matches an address and port decides.
type Rule struct {
	Accept bool // accept (true) or reject (false)
	// Family narrows a wildcard address: `*` is FamilyAny, `*4` FamilyV4, `*6` (and `*` on an
	// accept6/reject6 line) FamilyV6. For a prefix it is the prefix's family.
	Family Family
	// Prefix is the address and mask; invalid (the zero Prefix) for `*`, `*4`, `*6` and
	// `private`.
	Prefix netip.Prefix
	// Private is true for the `private` alias, which matches Tor's private list in both
	// families, even on accept6/reject6 lines (as Tor does).
	Private bool
	// PortLo and PortHi are the inclusive port range; 1-65535 for `*` or a missing port.
	PortLo, PortHi uint16
	// Text is the rule as written, without surrounding space.
	Text string
	// Source names where the rule came from (a file name); ParseRules leaves it empty.
	Source string
	// Line and Col locate the rule in its source text (1-based).
	Line, Col int
}

// SyntaxError is a ParseRules error: where it is and what was expected there.
type SyntaxError struct {
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("exit policy: line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// ParseRules parses exit-policy text: rules one per line or separated by commas, `#`
// starting a comment that runs to the end of the line, blank lines and empty items ignored.
// The first error stops parsing; it is a *SyntaxError naming the line and column.
func ParseRules(text string) ([]Rule, error) {
	var rules []Rule
	for i, line := range strings.Split(text, "\n") {
		if c := strings.IndexByte(line, '#'); c >= 0 {
			line = line[:c]
		}
		col := 0
		for item := range strings.SplitSeq(line, ",") {
			r, ok, err := parseItem(item, i+1, col+1)
			if err != nil {
				return nil, err
			}
			if ok {
				rules = append(rules, r)
			}
			col += len(item) + 1
		}
	}
	return rules, nil
}

// parseItem parses one comma-separated item that starts at column col of line.
func parseItem(item string, line, col int) (Rule, bool, error) {
	lead := len(item) - len(strings.TrimLeft(item, " \t\r"))
	text := strings.TrimSpace(item)
	if text == "" {
		return Rule{}, false, nil
	}
	p := &ruleParser{s: text, line: line, col: col + lead}
	r, err := p.rule()
	if err != nil {
		return Rule{}, false, err
	}
	r.Text, r.Line, r.Col = text, line, col+lead
	return r, true, nil
}

// ruleParser reads one rule; pos is the byte offset in s, col the column of s[0].
type ruleParser struct {
	s         string
	pos       int
	line, col int
}

func (p *ruleParser) errorf(at int, format string, args ...any) error {
	return &SyntaxError{Line: p.line, Col: p.col + at, Msg: fmt.Sprintf(format, args...)}
}

func (p *ruleParser) rule() (Rule, error) {
	var r Rule
	kw := p.s
	if i := strings.IndexAny(kw, " \t"); i >= 0 {
		kw = kw[:i]
	}
	six := false
	switch strings.ToLower(kw) {
	case "accept":
		r.Accept = true
	case "reject":
	case "accept6":
		r.Accept, six = true, true
	case "reject6":
		six = true
	default:
		return r, p.errorf(0, "expected accept, reject, accept6 or reject6")
	}
	p.pos = len(kw)
	rest := strings.TrimLeft(p.s[p.pos:], " \t")
	if len(rest) == len(p.s)-p.pos {
		return r, p.errorf(p.pos, "expected a space and an address after %q", kw)
	}
	p.pos = len(p.s) - len(rest)
	if err := p.address(&r, six); err != nil {
		return r, err
	}
	return r, p.ports(&r)
}

// address parses ADDR[/MASK] up to the ':' before the port or the end.
func (p *ruleParser) address(r *Rule, six bool) error {
	start := p.pos
	if strings.HasPrefix(p.s[p.pos:], "[") {
		return p.address6(r, start)
	}
	if strings.Count(p.s[start:], ":") > 1 {
		return p.errorf(start, "IPv6 addresses must be written in brackets, as [2001:db8::1]")
	}
	end := strings.IndexByte(p.s[start:], ':')
	if end < 0 {
		end = len(p.s)
	} else {
		end += start
	}
	word := p.s[start:end]
	p.pos = end
	if strings.ContainsAny(word, " \t") {
		return p.errorf(start+strings.IndexAny(word, " \t"), "unexpected space in the address")
	}
	addr, mask, hasMask := strings.Cut(word, "/")
	switch strings.ToLower(addr) {
	case "*", "*4", "*6", "private":
		if hasMask {
			return p.errorf(start+len(addr), "no mask is allowed after %q", addr)
		}
		return p.wildcard(r, strings.ToLower(addr), six, start)
	}
	if six {
		return p.errorf(start, "accept6 and reject6 take an IPv6 address in brackets, *, *6 or private (Tor ignores this line; Sortie refuses it)")
	}
	return p.address4(r, addr, mask, hasMask, start)
}

func (p *ruleParser) wildcard(r *Rule, w string, six bool, at int) error {
	switch w {
	case "*":
		r.Family = FamilyAny
		if six {
			r.Family = FamilyV6
		}
	case "*4":
		if six {
			return p.errorf(at, "*4 on an accept6 or reject6 line matches nothing (Tor ignores this line; Sortie refuses it)")
		}
		r.Family = FamilyV4
	case "*6":
		r.Family = FamilyV6
	case "private":
		r.Private = true
	}
	return nil
}

func (p *ruleParser) address4(r *Rule, addr, mask string, hasMask bool, at int) error {
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is4() {
		if err == nil {
			return p.errorf(at, "IPv6 addresses must be written in brackets, as [2001:db8::1]")
		}
		return p.errorf(at, "expected an IPv4 address, [IPv6], *, *4, *6 or private")
	}
	bits := 32
	if hasMask {
		if bits, err = parseMask4(mask); err != nil {
			return p.errorf(at+len(addr)+1, "%v", err)
		}
	}
	r.Family = FamilyV4
	r.Prefix = netip.PrefixFrom(a, bits).Masked()
	return nil
}

// parseMask4 reads an IPv4 mask: a bit count 0-32 or a dotted netmask with contiguous bits.
func parseMask4(mask string) (int, error) {
	if n, err := strconv.Atoi(mask); err == nil && n >= 0 && n <= 32 && isDigits(mask) {
		return n, nil
	}
	m, err := netip.ParseAddr(mask)
	if err != nil || !m.Is4() {
		return 0, fmt.Errorf("expected a mask: a bit count 0-32 or a dotted netmask")
	}
	v := uint32(m.As4()[0])<<24 | uint32(m.As4()[1])<<16 | uint32(m.As4()[2])<<8 | uint32(m.As4()[3])
	ones := 0
	for v&(1<<31) != 0 {
		v <<= 1
		ones++
	}
	if v != 0 {
		return 0, fmt.Errorf("the netmask's bits are not contiguous")
	}
	return ones, nil
}

func (p *ruleParser) address6(r *Rule, start int) error {
	end := strings.IndexByte(p.s[start:], ']')
	if end < 0 {
		return p.errorf(start, "expected ']' after the IPv6 address")
	}
	end += start
	a, err := netip.ParseAddr(p.s[start+1 : end])
	if err != nil || !a.Is6() || a.Zone() != "" {
		return p.errorf(start+1, "expected an IPv6 address (without a zone) between brackets")
	}
	if a.Is4In6() {
		return p.errorf(start+1, "write an IPv4-mapped address as IPv4 (mapped addresses are checked as IPv4)")
	}
	p.pos = end + 1
	bits := 128
	if strings.HasPrefix(p.s[p.pos:], "/") {
		m := p.pos + 1
		e := m
		for e < len(p.s) && p.s[e] >= '0' && p.s[e] <= '9' {
			e++
		}
		n, err := strconv.Atoi(p.s[m:e])
		if err != nil || n > 128 {
			return p.errorf(m, "expected a bit count 0-128 after '/'")
		}
		bits, p.pos = n, e
	}
	r.Family = FamilyV6
	r.Prefix = netip.PrefixFrom(a, bits).Masked()
	return nil
}

// ports parses the optional ":PORT" and requires the end of the rule after it.
func (p *ruleParser) ports(r *Rule) error {
	r.PortLo, r.PortHi = 1, 65535
	if p.pos == len(p.s) {
		return nil
	}
	if p.s[p.pos] != ':' {
		return p.errorf(p.pos, "expected ':' and a port, or the end of the rule")
	}
	p.pos++
	spec := p.s[p.pos:]
	if i := strings.IndexAny(spec, " \t"); i >= 0 {
		return p.errorf(p.pos+i, "unexpected text after the port")
	}
	if spec == "*" {
		return nil
	}
	lo, hi, isRange := strings.Cut(spec, "-")
	if !isRange {
		hi = lo
	}
	l, okl := parsePort(lo)
	if !okl {
		return p.errorf(p.pos, "expected a port 1-65535, a range N-M or *")
	}
	h, okh := parsePort(hi)
	if !okh {
		return p.errorf(p.pos+len(lo)+1, "expected the end of the port range, 1-65535")
	}
	if l > h {
		return p.errorf(p.pos, "the port range %d-%d is empty", l, h)
	}
	r.PortLo, r.PortHi = l, h
	return nil
}

func parsePort(s string) (uint16, bool) {
	if !isDigits(s) || len(s) > 5 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, false
	}
	return uint16(n), true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String returns the rule in canonical form, as ParseRules reads it back:
// `accept 192.0.2.0/24:80-81`, `reject6 [2001:db8::]/32:*`, `accept *4:443`.
func (r Rule) String() string {
	kw := "reject"
	if r.Accept {
		kw = "accept"
	}
	return kw + " " + r.addrString() + ":" + r.portString()
}

func (r Rule) addrString() string {
	switch {
	case r.Private:
		return "private"
	case r.Prefix.IsValid() && r.Prefix.Addr().Is4():
		return r.Prefix.String()
	case r.Prefix.IsValid():
		return "[" + r.Prefix.Addr().String() + "]/" + strconv.Itoa(r.Prefix.Bits())
	case r.Family == FamilyV4:
		return "*4"
	case r.Family == FamilyV6:
		return "*6"
	}
	return "*"
}

func (r Rule) portString() string {
	switch {
	case r.PortLo <= 1 && r.PortHi == 65535:
		return "*"
	case r.PortLo == r.PortHi:
		return strconv.Itoa(int(r.PortLo))
	}
	return strconv.Itoa(int(r.PortLo)) + "-" + strconv.Itoa(int(r.PortHi))
}

// matches reports whether the rule covers a (already unmapped, zone-free) and port.
func (r *Rule) matches(a netip.Addr, port uint16) bool {
	if port < r.PortLo || port > r.PortHi {
		return false
	}
	switch {
	case r.Private:
		return isPrivate(a)
	case r.Prefix.IsValid():
		return r.Prefix.Contains(a)
	case r.Family == FamilyV4:
		return a.Is4()
	case r.Family == FamilyV6:
		return a.Is6()
	}
	return true
}

// isWildcardAll reports whether r is `accept *:*` or `reject *:*` (both families, all ports),
// the ending that makes an operator policy replace the base policy.
func (r *Rule) isWildcardAll() bool {
	return !r.Private && !r.Prefix.IsValid() && r.Family == FamilyAny && r.PortLo <= 1 && r.PortHi == 65535
}

// check reports a problem with a Rule built by hand rather than by ParseRules.
func (r *Rule) check() error {
	if r.PortLo == 0 || r.PortLo > r.PortHi {
		return fmt.Errorf("rule %q: bad port range %d-%d", r.Text, r.PortLo, r.PortHi)
	}
	if r.Private && r.Prefix.IsValid() {
		return fmt.Errorf("rule %q: private with a prefix", r.Text)
	}
	return nil
}
