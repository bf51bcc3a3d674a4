package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// Nameserver is a DNS server address. In a file it is "ip" (port 53), "ip:port" or
// "[v6]:port".
type Nameserver netip.AddrPort

// ParseNameserver reads "192.0.2.53", "192.0.2.53:5353", "2001:db8::53" or
// "[2001:db8::53]:53".
func ParseNameserver(s string) (Nameserver, error) {
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		if strings.HasPrefix(s, "[") != strings.HasSuffix(s, "]") || (strings.HasPrefix(s, "[") && a.Is4()) {
			return Nameserver{}, nameserverError(s)
		}
		return Nameserver(netip.AddrPortFrom(a, 53)), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return Nameserver{}, nameserverError(s)
	}
	return Nameserver(ap), nil
}

func nameserverError(s string) error {
	return fmt.Errorf("want ip or ip:port such as 192.0.2.53 or [2001:db8::53]:53, got %q", s)
}

// AddrPort returns the nameserver's address and port.
func (n Nameserver) AddrPort() netip.AddrPort { return netip.AddrPort(n) }

// String returns ip:port, or "[v6]:port".
func (n Nameserver) String() string { return n.AddrPort().String() }

// MarshalText writes ip:port.
func (n Nameserver) MarshalText() ([]byte, error) { return []byte(n.String()), nil }

// UnmarshalText reads the forms ParseNameserver accepts.
func (n *Nameserver) UnmarshalText(b []byte) error {
	v, err := ParseNameserver(string(b))
	if err != nil {
		return err
	}
	*n = v
	return nil
}
