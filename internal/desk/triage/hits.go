package triage

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"sortie.dev/sortie/internal/desk/parse"
)

// hits returns our addresses the reports name, each (address, time) once: every address of
// every report is checked against the inventory at the report's time, or at any time when the
// report gives none. At most maxAddresses addresses are checked.
func (t *Triage) hits(reports []parse.Report) []Hit {
	type key struct {
		a  netip.Addr
		at time.Time
	}
	seen := map[key]bool{}
	var out []Hit
	checked := 0
	for _, r := range reports {
		at := r.OccurredAt
		for _, a := range reportAddrs(r) {
			if checked == maxAddresses {
				return out
			}
			checked++
			a = a.Unmap().WithZone("")
			k := key{a, at.UTC()}
			if !a.IsValid() || seen[k] {
				continue
			}
			seen[k] = true
			if h, ok := t.hit(a, at); ok {
				out = append(out, h)
			}
		}
	}
	return out
}

func (t *Triage) hit(a netip.Addr, at time.Time) (Hit, bool) {
	if at.IsZero() {
		o, ok := t.inv.Owner(a, time.Time{})
		return Hit{Addr: a, Name: o.Name, AtTime: true}, ok
	}
	if o, ok := t.inv.Owner(a, at); ok {
		return Hit{Addr: a, Name: o.Name, At: at, AtKnown: true, AtTime: true}, true
	}
	if o, ok := t.inv.Owner(a, time.Time{}); ok {
		return Hit{Addr: a, Name: o.Name, At: at, AtKnown: true}, true
	}
	return Hit{}, false
}

// reportAddrs returns Addresses, with Source first when it is set and not among them.
func reportAddrs(r parse.Report) []netip.Addr {
	if !r.Source.IsValid() || slices.Contains(r.Addresses, r.Source) {
		return r.Addresses
	}
	return append([]netip.Addr{r.Source}, r.Addresses...)
}

// hitReasons says which of our addresses were named, and whether at their time.
func hitReasons(hits []Hit, reports []parse.Report) []string {
	if len(hits) == 0 {
		n := 0
		for _, r := range reports {
			n += len(reportAddrs(r))
		}
		if n == 0 {
			return []string{"names no IP address"}
		}
		if n == 1 {
			return []string{"names no address of ours (1 address named)"}
		}
		return []string{fmt.Sprintf("names no address of ours (%d addresses named)", n)}
	}
	var out []string
	for i, h := range hits {
		if i == shownHits {
			out = append(out, fmt.Sprintf("and %d more of our addresses", len(hits)-shownHits))
			break
		}
		switch {
		case !h.AtKnown:
			out = append(out, fmt.Sprintf("names our address %s (%s); the report gives no time, so ours at any time counts", h.Addr, h.Name))
		case h.AtTime:
			out = append(out, fmt.Sprintf("names our address %s (%s), ours at %s", h.Addr, h.Name, h.At.UTC().Format(time.RFC3339)))
		default:
			out = append(out, fmt.Sprintf("names %s (%s), but it was not ours at %s", h.Addr, h.Name, h.At.UTC().Format(time.RFC3339)))
		}
	}
	return out
}
