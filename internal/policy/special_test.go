package policy

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// specialProbes are addresses whose verdict the golden file pins, besides one address per range.
var specialProbes = []string{
	"8.8.8.8", "1.1.1.1", "100.63.255.255", "100.64.0.1", "100.127.255.255", "100.128.0.0",
	"172.15.255.255", "172.16.0.1", "172.31.255.255", "172.32.0.0", "192.0.0.9", "192.0.0.10",
	"192.0.0.11", "192.31.196.1", "192.88.99.1", "198.17.255.255", "198.18.0.1", "198.20.0.0",
	"223.255.255.255", "224.0.0.1", "239.255.255.250", "255.255.255.255",
	"::", "::1", "::2", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:8.8.8.8",
	"64:ff9b::8.8.8.8", "64:ff9b::127.0.0.1", "64:ff9b::10.0.0.1", "64:ff9b:1::8.8.8.8",
	"2002:808:808::1", "2002:7f00:1::1", "2002:c0a8:101::1", "2001::1", "2001:1::1", "2001:1::4",
	"2001:3::1", "2001:4:112::1", "2001:20::1", "2001:db8::1", "3fff::1", "5f00::1",
	"2606:4700:4700::1111", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1", "ff0e::1",
}

// TestSpecialGolden pins the special-purpose table and the verdict on addresses around it.
func TestSpecialGolden(t *testing.T) {
	p := mustNew(t, Options{IPv6Exit: true})
	var b strings.Builder
	b.WriteString("# table: prefix | refused or global | name | reference\n")
	for _, r := range SpecialRanges() {
		state := "refused"
		if r.Global {
			state = "global "
		}
		fmt.Fprintf(&b, "%-20s %s  %s (%s)\n", r.Prefix, state, r.Name, r.RFC)
	}
	b.WriteString("\n# probes: address -> verdict of Decide (default policy, IPv6 exit on, port 443)\n")
	probes := append([]string{}, specialProbes...)
	for _, r := range SpecialRanges() {
		probes = append(probes, r.Prefix.Addr().String())
	}
	for _, s := range probes {
		v := p.Decide(Query{Addr: netip.MustParseAddr(s), Port: 443})
		verdict := "allow"
		if !v.Allow {
			verdict = "refuse " + v.Rule.Origin.String() + ": " + v.Rule.Text
		}
		fmt.Fprintf(&b, "%-22s %s\n", s, verdict)
	}
	golden(t, "special.golden", b.String())
}

func TestSpecialCoversPrivate(t *testing.T) {
	p := mustNew(t, Options{IPv6Exit: true})
	for _, pfx := range PrivatePrefixes() {
		for _, a := range []netip.Addr{pfx.Addr(), lastAddr(pfx)} {
			if v := p.Decide(Query{Addr: a, Port: 443}); v.Allow || v.Rule.Origin != OriginSpecial {
				t.Errorf("Decide(%v) = allow %v by %v, want refused by the special table", a, v.Allow, v.Rule.Origin)
			}
		}
	}
}

func TestAllowSpecial(t *testing.T) {
	doc := netip.MustParsePrefix("192.0.2.0/24")
	p := mustNew(t, Options{AllowSpecial: []netip.Prefix{doc, netip.MustParsePrefix("64:ff9b::/96")}, IPv6Exit: true})
	tests := []struct {
		name  string
		addr  string
		allow bool
	}{
		{name: "inside the allowed prefix", addr: "192.0.2.77", allow: true},
		{name: "next documentation range stays refused", addr: "198.51.100.1"},
		{name: "nat64 carrying an allowed address", addr: "64:ff9b::192.0.2.77", allow: true},
		{name: "nat64 carrying loopback stays refused", addr: "64:ff9b::127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v := p.Decide(Query{Addr: netip.MustParseAddr(tt.addr), Port: 443}); v.Allow != tt.allow {
				t.Errorf("Decide(%s) = allow %v by %v %q, want allow %v", tt.addr, v.Allow, v.Rule.Origin, v.Rule.Text, tt.allow)
			}
		})
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
