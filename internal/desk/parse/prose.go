package parse

import "net/netip"

// proseReport reads a mail in no structured format. Category stays CategoryNone: triage
// decides it.
func proseReport(d *decoded) Report {
	r := Report{Format: FormatProse, Complainant: d.msg.From}
	fromText(&r, d)
	return r
}

// fromText fills a report from the texts of the mail: Addresses and URLs in order of
// appearance, Source the first address, SourcePort a port written right after the source,
// Destination the first other address written with a port (and DestinationPort that port,
// else the first port named on its own), OccurredAt the first timestamp.
func fromText(r *Report, d *decoded) {
	var c collector
	for t := range d.texts() {
		s := defang(truncate(t, maxScan))
		var spans [][2]int
		for h := range addrHits(s) {
			c.addAddr(h.addr)
			if h.port > 0 && len(spans) < 1024 {
				spans = append(spans, [2]int{h.start, h.end})
				notePort(r, h, c.addrs[0])
			}
		}
		for _, u := range findURLs(s, 4*MaxURLs) {
			c.addURL(u)
		}
		if src, dst := loosePorts(s, spans); r.SourcePort == 0 || r.DestinationPort == 0 {
			r.SourcePort = firstPort(r.SourcePort, src)
			r.DestinationPort = firstPort(r.DestinationPort, dst)
		}
		if r.OccurredAt.IsZero() {
			r.OccurredAt, r.ZoneGiven, _ = FindTime(s)
		}
	}
	r.Addresses, r.URLs = c.addrs, c.urls
	if len(c.addrs) > 0 {
		r.Source = c.addrs[0]
	}
}

// notePort records the port written after an address: the source port after the source,
// the destination (with its port) after the first other address.
func notePort(r *Report, h addrHit, source netip.Addr) {
	switch {
	case h.addr == source:
		r.SourcePort = firstPort(r.SourcePort, h.port)
	case r.Destination == "":
		r.Destination = h.addr.String()
		r.DestinationPort = h.port
	}
}

func firstPort(have, found int) int {
	if have != 0 {
		return have
	}
	return found
}
