package policy

import (
	"net/netip"

	"github.com/gaissmai/bart"
)

// SpecialRange is one row of the special-purpose address table: a range Sortie never dials
// unless the operator allows it (Options.AllowSpecial).
type SpecialRange struct {
	Prefix netip.Prefix
	Name   string // the registry's name for the range
	RFC    string // where it is defined
	// Global marks a globally reachable range inside a larger refused one (IANA's
	// "Globally Reachable: True"): addresses in it are not refused.
	Global bool
}

func sr(prefix, name, rfc string) SpecialRange {
	return SpecialRange{Prefix: netip.MustParsePrefix(prefix), Name: name, RFC: rfc}
}

func global(prefix, name, rfc string) SpecialRange {
	r := sr(prefix, name, rfc)
	r.Global = true
	return r
}

// specialRanges is the table: every range of the IANA IPv4 and IPv6 Special-Purpose Address
// Registries that is not globally reachable (or has no such statement and is deprecated),
// multicast, limited broadcast, and Tor's `private` list. Global exceptions nested inside a
// refused range are listed with Global set; the longest matching prefix decides.
var specialRanges = []SpecialRange{
	// IANA IPv4 Special-Purpose Address Registry.
	sr("0.0.0.0/8", "This network", "RFC 791 §3.2"),
	sr("0.0.0.0/32", "This host on this network", "RFC 1122 §3.2.1.3"),
	sr("10.0.0.0/8", "Private-Use", "RFC 1918"),
	sr("100.64.0.0/10", "Shared Address Space", "RFC 6598"),
	sr("127.0.0.0/8", "Loopback", "RFC 1122 §3.2.1.3"),
	sr("169.254.0.0/16", "Link Local", "RFC 3927"),
	sr("172.16.0.0/12", "Private-Use", "RFC 1918"),
	sr("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890 §2.1"),
	sr("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335"),
	sr("192.0.0.8/32", "IPv4 dummy address", "RFC 7600"),
	global("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723"),
	global("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
	sr("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 §2.2"),
	sr("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050 §2.2"),
	sr("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737"),
	sr("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526"),
	sr("192.168.0.0/16", "Private-Use", "RFC 1918"),
	sr("198.18.0.0/15", "Benchmarking", "RFC 2544"),
	sr("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737"),
	sr("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737"),
	sr("240.0.0.0/4", "Reserved", "RFC 1112 §4"),
	sr("255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919 §7"),
	// IPv4 multicast (IANA IPv4 Multicast Address Space Registry).
	sr("224.0.0.0/4", "Multicast", "RFC 5771"),

	// IANA IPv6 Special-Purpose Address Registry.
	sr("::1/128", "Loopback Address", "RFC 4291"),
	sr("::/128", "Unspecified Address", "RFC 4291"),
	sr("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291"),
	global("64:ff9b::/96", "IPv4-IPv6 Translation (checked as the IPv4 address it carries)", "RFC 6052"),
	sr("64:ff9b:1::/48", "IPv4-IPv6 Translation (local use)", "RFC 8215"),
	sr("100::/64", "Discard-Only Address Block", "RFC 6666"),
	sr("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780"),
	sr("2001::/23", "IETF Protocol Assignments", "RFC 2928"),
	sr("2001::/32", "TEREDO", "RFC 4380, RFC 8190"),
	global("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723"),
	global("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
	global("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665"),
	sr("2001:2::/48", "Benchmarking", "RFC 5180, RFC Errata 1752"),
	global("2001:3::/32", "AMT", "RFC 7450"),
	global("2001:4:112::/48", "AS112-v6", "RFC 7535"),
	sr("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843"),
	global("2001:20::/28", "ORCHIDv2", "RFC 7343"),
	global("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374"),
	sr("2001:db8::/32", "Documentation", "RFC 3849"),
	sr("3fff::/20", "Documentation", "RFC 9637"),
	sr("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602"),
	sr("fc00::/7", "Unique-Local", "RFC 4193, RFC 8190"),
	sr("fe80::/10", "Link-Local Unicast", "RFC 4291"),
	// IPv6 multicast and Tor's private list (site-local, the ::/8 block).
	sr("ff00::/8", "Multicast", "RFC 4291 §2.7"),
	sr("fec0::/10", "Site-Local (deprecated)", "RFC 3879"),
	sr("::/8", "Reserved by IETF (IPv4-compatible and others; Tor private)", "RFC 4291 §2.5.5.1"),
	sr("::/127", "Unspecified and Loopback (Tor private)", "RFC 4291"),
}

// privatePrefixes is Tor's `private` alias (policies.c, private_nets).
var privatePrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("::/8"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fec0::/10"),
	netip.MustParsePrefix("ff00::/8"),
	netip.MustParsePrefix("::/127"),
}

// SpecialRanges returns a copy of the special-purpose address table, in its written order.
func SpecialRanges() []SpecialRange {
	return append([]SpecialRange(nil), specialRanges...)
}

// PrivatePrefixes returns Tor's `private` list.
func PrivatePrefixes() []netip.Prefix {
	return append([]netip.Prefix(nil), privatePrefixes...)
}

func isPrivate(a netip.Addr) bool {
	for _, p := range privatePrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// specialTable answers "is this address special, and which range says so".
type specialTable struct {
	ranges  *bart.Table[int] // prefix -> index into specialRanges
	allowed *bart.Lite       // Options.AllowSpecial
	texts   []string         // precomputed RuleRef texts, one per range
}

func newSpecialTable(allow []netip.Prefix) *specialTable {
	t := &specialTable{ranges: new(bart.Table[int]), allowed: new(bart.Lite)}
	for i, r := range specialRanges {
		t.ranges.Insert(r.Prefix, i)
		t.texts = append(t.texts, r.Prefix.String()+" "+r.Name+" ("+r.RFC+")")
	}
	for _, p := range allow {
		t.allowed.Insert(p.Masked())
	}
	return t
}

// lookup returns the index of the refused range holding a, or -1. An address that carries an
// IPv4 address (NAT64, 6to4, IPv4-compatible) is refused when the IPv4 address is.
func (t *specialTable) lookup(a netip.Addr) int {
	if i := t.lookupOne(a); i >= 0 {
		return i
	}
	if v4, ok := embeddedIPv4(a); ok {
		return t.lookupOne(v4)
	}
	return -1
}

func (t *specialTable) lookupOne(a netip.Addr) int {
	i, ok := t.ranges.Lookup(a)
	if !ok || specialRanges[i].Global || t.allowed.Lookup(a) {
		return -1
	}
	return i
}

var (
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local     = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	v4Compatible   = netip.MustParsePrefix("::/96")
)

// embeddedIPv4 returns the IPv4 address an IPv6 address carries: NAT64 (RFC 6052, the last
// 32 bits of 64:ff9b::/96 and, in its /96 form, 64:ff9b:1::/48), 6to4 (RFC 3056, bits
// 16-47 of 2002::/16) and IPv4-compatible (::a.b.c.d). IPv4-mapped addresses are unmapped
// before any check, so they are not handled here.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() || a.Is4In6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case nat64WellKnown.Contains(a), nat64Local.Contains(a), v4Compatible.Contains(a):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}
