package parse

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// xarfJSONReports reads XARF v3 or v4 JSON from a part: application/json or a *.json file
// (xarf.json in an ARF envelope with Feedback-Type: xarf), or a text part that is a JSON
// object.
func xarfJSONReports(d *decoded) []Report {
	for _, p := range d.msg.Parts {
		if !jsonCandidate(p) {
			continue
		}
		fs, ok := flattenJSON(p.Body)
		if !ok {
			continue
		}
		if r, ok := xarfJSONReport(fs); ok {
			finish(&r, d, fieldList(fs).get("$schema"))
			return []Report{r}
		}
	}
	return nil
}

func jsonCandidate(p Part) bool {
	if strings.Contains(p.ContentType, "json") || strings.HasSuffix(strings.ToLower(p.Filename), ".json") {
		return true
	}
	return textual(p.ContentType) && bytes.HasPrefix(bytes.TrimLeft(p.Body, "\uFEFF \t\r\n"), []byte("{"))
}

// parseXARFJSON reads one XARF v3 or v4 JSON document; ok is false when data is not XARF.
// Addresses and URLs hold what the document names.
func parseXARFJSON(data []byte) (Report, bool) {
	fs, ok := flattenJSON(data)
	if !ok {
		return Report{}, false
	}
	r, ok := xarfJSONReport(fs)
	if ok {
		finish(&r, nil, fieldList(fs).get("$schema"))
	}
	return r, ok
}

// xarfJSONReport recognises the version and maps the fields.
func xarfJSONReport(fs []Field) (Report, bool) {
	f := fieldList(fs)
	v4 := f.get("xarf_version", "xarfVersion")
	if strings.HasPrefix(v4, "4") || v4 == "" && f.get("source_identifier") != "" && f.get("class", "category") != "" {
		return xarf4(f), true
	}
	if strings.HasPrefix(f.get("Version"), "3") || f.get("ReporterInfo.ReporterOrg", "Report.ReportType") != "" {
		return xarf3(f), true
	}
	return Report{}, false
}

// xarf4 maps XARF v4, leniently: "class" or "category", numbers as strings or numbers,
// a reporter given as a plain string, a source with its port.
func xarf4(f fieldList) Report {
	class := f.get("class", "category")
	r := Report{
		Format:          FormatXARF4,
		Type:            firstNonEmpty(f.get("type"), class),
		Category:        xarf4Category(class, f.get("type")),
		NoticeID:        f.get("report_id", "id"),
		CaseID:          f.get("case_id"),
		Complainant:     f.get("reporter.org", "reporter.domain", "reporter.contact", "reporter", "sender.org", "sender.domain"),
		SourcePort:      parsePort(f.get("source_port")),
		Destination:     f.get("destination_ip", "destination", "destination_identifier", "target"),
		DestinationPort: parsePort(f.get("destination_port", "dest_port")),
		Service:         f.get("service", "application_protocol"),
		Title:           f.get("work_title", "title", "infringing_work.title"),
		Hash:            f.get("file_hash", "infohash", "hash"),
		Fields:          f,
	}
	r.Destination, r.DestinationPort = destOf(r.Destination, r.DestinationPort)
	src := f.get("source_identifier", "source_ip", "source")
	r.Source, r.URLs = sourceOf(src)
	r.SourcePort = firstPort(r.SourcePort, portOf(src))
	r.URLs = append(r.URLs, cleanURLs(f.all("url", "urls[0]", "reported_url"))...)
	r.OccurredAt, r.ZoneGiven = jsonTime(f.get("timestamp", "occurred_at", "first_seen", "date"))
	return r
}

// xarf4Category maps type words first (login_attack, port_scan, phishing...), then the
// class (messaging is spam, vulnerability and infrastructure hacking, copyright copyright);
// anything else is other.
func xarf4Category(class, typ string) Category {
	if c := classify(typ); c != CategoryNone {
		return c
	}
	switch foldWord(class) {
	case "messaging":
		return CategorySpam
	case "vulnerability", "infrastructure":
		return CategoryHacking
	case "copyright":
		return CategoryCopyright
	case "":
		if typ == "" {
			return CategoryNone
		}
	}
	return CategoryOther
}

// xarf3 maps XARF v3: ReporterInfo and Report, with the Report fields also accepted at the
// top level.
func xarf3(f fieldList) Report {
	g := func(name string) string { return f.get("Report."+name, name) }
	r := Report{
		Format:          FormatXARF3,
		Type:            firstNonEmpty(g("ReportType"), g("ReportClass")),
		Category:        xarfCategory(g("ReportClass"), g("ReportType")),
		NoticeID:        firstNonEmpty(g("ReportID"), g("ReportId")),
		Complainant:     f.get("ReporterInfo.ReporterOrg", "ReporterInfo.ReporterOrgDomain", "ReporterInfo.ReporterOrgEmail", "ReporterInfo.ReporterContactEmail"),
		SourcePort:      parsePort(g("SourcePort")),
		Destination:     g("DestinationIp"),
		DestinationPort: parsePort(g("DestinationPort")),
		Service:         firstNonEmpty(g("Service"), g("Protocol")),
		Fields:          f,
	}
	r.Destination, r.DestinationPort = destOf(r.Destination, r.DestinationPort)
	src := g("SourceIp")
	r.Source, r.URLs = sourceOf(src)
	r.SourcePort = firstPort(r.SourcePort, portOf(src))
	r.URLs = append(r.URLs, cleanURLs(f.all("Report.Url", "Url"))...)
	r.OccurredAt, r.ZoneGiven = jsonTime(g("Date"))
	return r
}

// jsonTime reads an ISO 8601 or RFC 2822 time, or Unix seconds (a UTC instant).
func jsonTime(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && n < 7258118400 {
		return time.Unix(n, 0).UTC(), true
	}
	t, given, _ := FindTime(v)
	return t, given
}
