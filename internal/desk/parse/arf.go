package parse

import "strings"

// arfReports reads an RFC 5965 feedback report: the message/feedback-report part (also
// with "Version: 0.1" and the historical Received-Date for Arrival-Date). An ARF envelope
// with Feedback-Type: xarf carries XARF JSON, which xarfJSONReports reads first; such an
// envelope without readable JSON is reported here as ARF with category other.
func arfReports(d *decoded) []Report {
	for _, p := range d.msg.Parts {
		if p.ContentType != "message/feedback-report" {
			continue
		}
		fs := parseKeyValues(cleanText(p.Body))
		if fieldList(fs).get("Feedback-Type") == "" && len(fs) == 0 {
			continue
		}
		r := arfReport(fs, d.msg.From)
		finish(&r, d)
		return []Report{r}
	}
	return nil
}

// parseARF reads the body of a message/feedback-report part. from is the address of the
// mail's From; its domain is the complainant.
func parseARF(body []byte, from string) Report {
	r := arfReport(parseKeyValues(cleanText(body)), from)
	finish(&r, nil)
	return r
}

func arfReport(fs []Field, from string) Report {
	f := fieldList(fs)
	r := Report{
		Format:      FormatARF,
		Type:        f.get("Feedback-Type"),
		Category:    arfCategory(f.get("Feedback-Type")),
		Complainant: domainOf(from),
		Fields:      fs,
	}
	r.Source, _ = sourceOf(f.get("Source-IP"))
	r.SourcePort = parsePort(f.get("Source-Port"))
	r.URLs = cleanURLs(f.all("Reported-URI"))
	r.OccurredAt, r.ZoneGiven, _ = FindTime(f.get("Arrival-Date", "Received-Date"))
	return r
}

// arfCategory maps Feedback-Type. ARF is feedback about mail: abuse and auth-failure are
// spam, fraud is fraud, virus is hacking; not-spam, other and unknown types are other.
func arfCategory(t string) Category {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "abuse", "auth-failure":
		return CategorySpam
	case "fraud":
		return CategoryFraud
	case "virus":
		return CategoryHacking
	}
	return CategoryOther
}

// domainOf returns the domain of a mail address, or the address when it has none.
func domainOf(addr string) string {
	addr = strings.ToValidUTF8(addr, "\uFFFD")
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return addr
}
