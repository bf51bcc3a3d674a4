package parse

import (
	"net/netip"
	"slices"
)

// collector gathers the addresses and URLs of one report: each once, in order, bounded.
type collector struct {
	addrs []netip.Addr
	urls  []string
	// skipURLs are URLs not to report (a format's schema URL).
	skipURLs []string
}

func (c *collector) full() bool {
	return len(c.addrs) >= MaxAddresses && len(c.urls) >= MaxURLs
}

func (c *collector) addAddr(a netip.Addr) {
	if !a.IsValid() || len(c.addrs) >= MaxAddresses {
		return
	}
	a = a.Unmap().WithZone("")
	if !slices.Contains(c.addrs, a) {
		c.addrs = append(c.addrs, a)
	}
}

func (c *collector) addURL(u string) {
	if len(c.urls) >= MaxURLs || slices.Contains(c.urls, u) || slices.Contains(c.skipURLs, u) {
		return
	}
	c.urls = append(c.urls, u)
}

// scan adds the addresses and URLs of a text (its first maxScan bytes).
func (c *collector) scan(text string) {
	if c.full() || text == "" {
		return
	}
	s := defang(truncate(text, maxScan))
	for h := range addrHits(s) {
		c.addAddr(h.addr)
		if len(c.addrs) >= MaxAddresses {
			break
		}
	}
	if len(c.urls) < MaxURLs {
		for _, u := range findURLs(s, 4*MaxURLs) {
			c.addURL(u)
		}
	}
}
