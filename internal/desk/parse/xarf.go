package parse

import (
	"net/netip"
	"strings"
)

// xarfKeys are keys of the X-ARF report part; a part holding several is the report.
var xarfKeys = []string{"reportedfrom", "category", "reporttype", "source", "sourcetype", "schemaurl", "reportid", "useragent"}

// xarfReports reads an X-ARF 0.1 ("X-ARF: YES") or 0.2 ("X-XARF: PLAIN") mail: the
// YAML-ish report part named report.txt, or starting with "---", or holding X-ARF keys.
// Without either header, a part holding at least four X-ARF keys with Reported-From or
// Schema-URL among them still counts.
func xarfReports(d *decoded) []Report {
	format, flagged := xarfHeader(d.msg)
	fs, ok := xarfPart(d.msg, flagged)
	if !ok {
		return nil
	}
	if !flagged {
		format = FormatXARF02
		if strings.HasPrefix(fieldList(fs).get("Version"), "0.1") {
			format = FormatXARF01
		}
	}
	r := xarfReport(fs, format)
	finish(&r, d, fieldList(fs).get("Schema-URL"))
	return []Report{r}
}

// xarfHeader reports the version the headers announce; X-XARF wins when both are there.
func xarfHeader(m *Message) (Format, bool) {
	yes := func(k string) bool {
		v, ok := m.Header[k]
		return ok && (len(v) == 0 || !strings.EqualFold(strings.TrimSpace(v[0]), "no"))
	}
	switch {
	case yes("X-Xarf"):
		return FormatXARF02, true
	case yes("X-Arf"):
		return FormatXARF01, true
	}
	return "", false
}

// xarfPart finds and reads the report part. Preference: a part named report.txt, then one
// starting with "---", then any textual part with X-ARF keys.
func xarfPart(m *Message, flagged bool) ([]Field, bool) {
	need := 2
	if !flagged {
		need = 4
	}
	var best []Field
	bestRank := 0
	for _, p := range m.Parts {
		if !strings.HasPrefix(p.ContentType, "text/") && p.ContentType != "application/octet-stream" {
			continue // message/rfc822 parts are evidence or forwarded mail, read on their own
		}
		body := cleanText(p.Body)
		rank := 1
		switch {
		case strings.EqualFold(p.Filename, "report.txt"):
			rank = 3
		case strings.HasPrefix(strings.TrimLeft(body, "\uFEFF \t\n"), "---"):
			rank = 2
		}
		if rank <= bestRank {
			continue
		}
		fs := parseKeyValues(body)
		if xarfKeyCount(fs) < need || !flagged && fieldList(fs).get("Reported-From", "Schema-URL") == "" {
			continue
		}
		best, bestRank = fs, rank
	}
	return best, best != nil
}

func xarfKeyCount(fs []Field) int {
	n := 0
	for _, k := range xarfKeys {
		if fieldList(fs).get(k) != "" {
			n++
		}
	}
	return n
}

// xarfReport maps the report part's fields. Port is the port of the attacked service (the
// destination port); Source-Port, when a sender adds it, the source port.
func xarfReport(fs []Field, format Format) Report {
	f := fieldList(fs)
	r := Report{
		Format:          format,
		Type:            firstNonEmpty(f.get("Report-Type"), f.get("Category")),
		Category:        xarfCategory(f.get("Category"), f.get("Report-Type")),
		Service:         f.get("Service"),
		Complainant:     f.get("Reported-From"),
		NoticeID:        f.get("Report-ID"),
		DestinationPort: parsePort(f.get("Destination-Port", "Port")),
		SourcePort:      parsePort(f.get("Source-Port")),
		Fields:          fs,
	}
	r.Destination, r.DestinationPort = destOf(f.get("Destination"), r.DestinationPort)
	r.Source, r.URLs = sourceOf(f.get("Source"))
	if p := portOf(f.get("Source")); r.SourcePort == 0 {
		r.SourcePort = p
	}
	r.OccurredAt, r.ZoneGiven, _ = FindTime(f.get("Date", "Time", "Timestamp"))
	return r
}

// xarfCategory maps Category and Report-Type: the type decides when it is known
// (abuse + login-attack, info + portscan), else the category (fraud, ddos, spam); anything
// else is other.
func xarfCategory(category, reportType string) Category {
	if c := classify(reportType); c != CategoryNone {
		return c
	}
	if c := classify(category); c != CategoryNone {
		return c
	}
	if category == "" && reportType == "" {
		return CategoryNone
	}
	return CategoryOther
}

// sourceOf reads a structured source value: an address (possibly with a port or
// obfuscated), or a URL.
func sourceOf(v string) (netip.Addr, []string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return netip.Addr{}, nil
	}
	if a, err := netip.ParseAddr(v); err == nil {
		return a.Unmap().WithZone(""), nil
	}
	var c collector
	c.scan(v)
	if strings.Contains(v, "://") {
		return netip.Addr{}, c.urls
	}
	if len(c.addrs) > 0 {
		return c.addrs[0], nil
	}
	return netip.Addr{}, nil
}

// destOf splits a destination written with its port ("198.51.100.7:443",
// "[2001:db8::7]:443"); port is kept when the value has none.
func destOf(v string, port int) (string, int) {
	v = strings.TrimSpace(v)
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return ap.Addr().Unmap().String(), firstPort(port, int(ap.Port()))
	}
	if a, err := netip.ParseAddr(v); err == nil {
		return a.Unmap().String(), port
	}
	return v, port
}

// portOf returns the port of "203.0.113.5:22" or "[2001:db8::5]:22", 0 otherwise.
func portOf(v string) int {
	if ap, err := netip.ParseAddrPort(strings.TrimSpace(v)); err == nil {
		return int(ap.Port())
	}
	return 0
}
