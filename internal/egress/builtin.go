package egress

import (
	"net/netip"

	"sortie.dev/sortie/internal/refusal"
)

// notGlobal4 lists the IPv4 ranges Builtin refuses (IANA IPv4 special-purpose registry,
// multicast, reserved). Read only.
var notGlobal4 = [...]netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network", RFC 791
	netip.MustParsePrefix("10.0.0.0/8"),      // private, RFC 1918
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space, RFC 6598
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback, RFC 1122
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, RFC 3927
	netip.MustParsePrefix("172.16.0.0/12"),   // private, RFC 1918
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments, RFC 6890
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation, RFC 5737
	netip.MustParsePrefix("192.88.99.0/24"),  // deprecated 6to4 relay anycast, RFC 7526
	netip.MustParsePrefix("192.168.0.0/16"),  // private, RFC 1918
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking, RFC 2544
	netip.MustParsePrefix("198.51.100.0/24"), // documentation, RFC 5737
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation, RFC 5737
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast, RFC 5771
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved and broadcast, RFC 1112, RFC 919
}

// Only global unicast IPv6 (2000::/3) is dialled, minus these. Read only.
var (
	global6    = netip.MustParsePrefix("2000::/3")
	notGlobal6 = [...]netip.Prefix{
		netip.MustParsePrefix("2001::/23"),     // IETF protocol assignments, RFC 2928
		netip.MustParsePrefix("2001:db8::/32"), // documentation, RFC 3849
		netip.MustParsePrefix("3fff::/20"),     // documentation, RFC 9637
	}
	nat64     = netip.MustParsePrefix("64:ff9b::/96") // well-known NAT64 prefix, RFC 6052
	sixToFour = netip.MustParsePrefix("2002::/16")    // 6to4, RFC 3056
)

// Builtin is the fallback address check: it refuses (refusal.Policy, "destination not
// allowed") every address that is not globally reachable, and checks IPv4-mapped, NAT64
// (64:ff9b::/96) and 6to4 (2002::/16) addresses as the IPv4 address they carry. It ignores
// the port. The policy package has the full table with the operator's exceptions.
func Builtin(addr netip.Addr, port uint16) error {
	if !global(addr) {
		return refusal.New(refusal.Policy, msgPolicy)
	}
	return nil
}

func global(addr netip.Addr) bool {
	addr = embedded4(addr.Unmap())
	if addr.Is4() {
		for _, p := range notGlobal4 {
			if p.Contains(addr) {
				return false
			}
		}
		return true
	}
	if !global6.Contains(addr) {
		return false
	}
	for _, p := range notGlobal6 {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// embedded4 returns the IPv4 address a NAT64 or 6to4 address carries, or addr itself.
func embedded4(addr netip.Addr) netip.Addr {
	a := addr.WithZone("")
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16]))
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6]))
	}
	return addr
}
