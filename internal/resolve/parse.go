package resolve

import (
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// maxCNAMEs bounds the CNAME chain followed inside one answer.
const maxCNAMEs = 8

// parseAnswer turns an upstream reply into an answer. failed says whether the upstream itself
// is to blame (a refusal or a format error), as opposed to the name's own servers (SERVFAIL).
func parseAnswer(m *dns.Msg, fqdn string, qtype uint16) (answer, bool) {
	switch m.Rcode {
	case dns.RcodeSuccess:
		return positive(m, fqdn, qtype), false
	case dns.RcodeNameError:
		return negative(m, outNXDomain), false
	case dns.RcodeServerFailure:
		return answer{outcome: outServFail}, false
	case dns.RcodeRefused:
		return answer{outcome: outRefused}, true
	case dns.RcodeFormatError:
		return answer{outcome: outFormErr}, true
	case dns.RcodeNotImplemented:
		return answer{outcome: outNotImpl}, true
	}
	return answer{outcome: outError}, true
}

// positive collects the addresses of qtype at the end of fqdn's CNAME chain. The TTL is the
// smallest of the records used; with no address it is a NODATA answer with the SOA's TTL.
func positive(m *dns.Msg, fqdn string, qtype uint16) answer {
	chain := cnameChain(m.Answer, fqdn)
	var (
		addrs []netip.Addr
		ttl   uint32
		first = true
	)
	lower := func(t uint32) {
		if first || t < ttl {
			ttl, first = t, false
		}
	}
	for _, rr := range m.Answer {
		h := rr.Header()
		if h.Class != dns.ClassINET {
			continue
		}
		owner := strings.ToLower(h.Name)
		if _, ok := chain[owner]; !ok {
			continue
		}
		switch v := rr.(type) {
		case *dns.CNAME:
			lower(h.Ttl)
		case *dns.A:
			if a, ok := netip.AddrFromSlice(v.A.To4()); ok && qtype == dns.TypeA {
				addrs = append(addrs, a)
				lower(h.Ttl)
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(v.AAAA.To16()); ok && qtype == dns.TypeAAAA {
				addrs = append(addrs, a)
				lower(h.Ttl)
			}
		}
	}
	if len(addrs) == 0 {
		return negative(m, outNoData)
	}
	return answer{outcome: outSuccess, addrs: addrs, ttl: time.Duration(ttl) * time.Second, cacheable: true}
}

// cnameChain returns the lower-case names reached from fqdn through the answer's CNAMEs.
func cnameChain(rrs []dns.RR, fqdn string) map[string]struct{} {
	cur := strings.ToLower(fqdn)
	chain := map[string]struct{}{cur: {}}
	for range maxCNAMEs {
		next := ""
		for _, rr := range rrs {
			if c, ok := rr.(*dns.CNAME); ok && strings.ToLower(c.Hdr.Name) == cur {
				next = strings.ToLower(c.Target)
				break
			}
		}
		if _, seen := chain[next]; next == "" || seen {
			break
		}
		chain[next] = struct{}{}
		cur = next
	}
	return chain
}

// negative returns a NXDOMAIN or NODATA answer, cacheable (RFC 2308 section 5) for the smaller
// of the SOA record's TTL and its MINIMUM field. Without a SOA it is not cached.
func negative(m *dns.Msg, o outcome) answer {
	for _, rr := range m.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			ttl := time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second
			return answer{outcome: o, ttl: ttl, cacheable: true}
		}
	}
	return answer{outcome: o}
}
