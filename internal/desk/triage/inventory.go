package triage

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Owned is a block of addresses that was ours for a while.
type Owned struct {
	// Prefix holds the addresses; a single address is a /32 or a /128. An IPv4-mapped IPv6
	// prefix is read as the IPv4 prefix.
	Prefix netip.Prefix
	// Since and Until bound the time the addresses were ours: from Since (inclusive) to
	// Until (exclusive). A zero Since means "always was", a zero Until "still is".
	Since, Until time.Time
	// Name is the operator's name for the exit or the block, shown in decisions.
	Name string
}

// Holds reports whether o held addr at time at (a zero at: at any time).
func (o Owned) Holds(addr netip.Addr, at time.Time) bool {
	if !o.Prefix.Contains(addr) {
		return false
	}
	if at.IsZero() {
		return true
	}
	return (o.Since.IsZero() || !at.Before(o.Since)) && (o.Until.IsZero() || at.Before(o.Until))
}

// Inventory lists our addresses over time (egress.addresses in the configuration).
type Inventory []Owned

// ErrInventory is wrapped by every error Validate and Normalize return.
var ErrInventory = errors.New("invalid address inventory")

// Normalize returns a copy with every prefix masked and IPv4-mapped prefixes unmapped, and an
// error naming every entry that is not valid (a prefix that is not valid, or Until not after
// Since).
func (inv Inventory) Normalize() (Inventory, error) {
	out := make(Inventory, 0, len(inv))
	var errs []error
	for i, o := range inv {
		p, err := normalPrefix(o.Prefix)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: entry %d (%s): %w", ErrInventory, i+1, o.Name, err))
			continue
		}
		if !o.Since.IsZero() && !o.Until.IsZero() && !o.Until.After(o.Since) {
			errs = append(errs, fmt.Errorf("%w: entry %d (%s %s): until %s is not after since %s",
				ErrInventory, i+1, o.Name, p, o.Until.Format(time.RFC3339), o.Since.Format(time.RFC3339)))
			continue
		}
		o.Prefix = p
		out = append(out, o)
	}
	return out, errors.Join(errs...)
}

func normalPrefix(p netip.Prefix) (netip.Prefix, error) {
	if !p.IsValid() {
		return netip.Prefix{}, errors.New("prefix is not valid")
	}
	a := p.Addr().WithZone("")
	bits := p.Bits()
	if a.Is4In6() {
		if bits < 96 {
			return netip.Prefix{}, fmt.Errorf("IPv4-mapped prefix %s is shorter than /96", p)
		}
		a, bits = a.Unmap(), bits-96
	}
	return netip.PrefixFrom(a, bits).Masked(), nil
}

// Owner returns the entry that held addr at time at, the longest prefix first, and whether
// there is one. A zero at means "at any time". IPv4-mapped IPv6 addresses are read as IPv4.
func (inv Inventory) Owner(addr netip.Addr, at time.Time) (Owned, bool) {
	addr = addr.Unmap().WithZone("")
	best, found := Owned{}, false
	for _, o := range inv {
		if o.Holds(addr, at) && (!found || o.Prefix.Bits() > best.Prefix.Bits()) {
			best, found = o, true
		}
	}
	return best, found
}
