package parse

import (
	"fmt"
	"iter"
	"strings"
)

// Parse decodes a complaint mail and returns it with the reports it holds: at least one for
// every mail that decodes (a prose report at worst, even when it names nothing), at most
// MaxReports.
//
// Parse reads at most MaxInput bytes of raw. It fails only when raw does not begin with a
// mail header (then it returns no Message); a header field that cannot be read ends the
// header early and the rest is read as the body. Unknown charsets and transfer encodings
// leave the bytes as they came; text is always valid UTF-8.
func Parse(raw []byte) (*Message, []Report, error) {
	d, err := decode(raw, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("parse: %w", err)
	}
	return d.msg, reportsOf(d), nil
}

// reportsOf detects the format of a decoded mail and builds its reports.
func reportsOf(d *decoded) []Report {
	if rs := structured(d); len(rs) > 0 {
		if len(rs) > MaxReports {
			rs = rs[:MaxReports]
		}
		return rs
	}
	if r, ok := fail2banReport(d); ok {
		return []Report{r}
	}
	return []Report{proseReport(d)}
}

// structured returns the reports of the first structured format found in d or, failing
// that, in a message forwarded inside it (an upstream provider passing a complaint on).
func structured(d *decoded) []Report {
	for _, f := range []func(*decoded) []Report{xarfReports, xarfJSONReports, arfReports, acnsReports} {
		if rs := f(d); len(rs) > 0 {
			return rs
		}
	}
	for _, i := range d.order {
		if rs := structured(d.nested[i]); len(rs) > 0 {
			return rs
		}
	}
	return nil
}

// finish completes a single-report format: Addresses start with Source, then the addresses
// the format set, then those in the structured fields, then those anywhere in the mail.
// URLs the same way; skipURLs are never reported (schema URLs).
func finish(r *Report, d *decoded, skipURLs ...string) {
	c := collector{skipURLs: skipURLs}
	r.Source = r.Source.Unmap().WithZone("")
	c.addAddr(r.Source)
	for _, a := range r.Addresses {
		c.addAddr(a)
	}
	for _, u := range r.URLs {
		c.addURL(u)
	}
	for _, f := range r.Fields {
		c.scan(f.Value)
	}
	if d != nil {
		for t := range d.texts() {
			c.scan(t)
		}
	}
	r.Addresses, r.URLs = c.addrs, c.urls
}

// texts yields every text of the mail where addresses and URLs may be named: the subject,
// the human text, the other textual parts (logs, feedback reports, JSON, XML), and the
// header and texts of forwarded messages.
func (d *decoded) texts() iter.Seq[string] {
	return func(yield func(string) bool) {
		d.eachText(yield, true)
	}
}

func (d *decoded) eachText(yield func(string) bool, top bool) bool {
	m := d.msg
	if !top && !yield(d.header) {
		return false
	}
	if !yield(m.Subject) || !yield(m.Text) {
		return false
	}
	for i, p := range m.Parts {
		if n, ok := d.nested[i]; ok {
			if !n.eachText(yield, false) {
				return false
			}
			continue
		}
		if textual(p.ContentType) && p.ContentType != "text/plain" && p.ContentType != "text/html" {
			if !yield(cleanText(p.Body)) {
				return false
			}
		}
	}
	return true
}

// textual reports whether a part of this type holds text worth scanning.
func textual(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.HasPrefix(ctype, "message/") ||
		strings.HasSuffix(ctype, "/json") || strings.HasSuffix(ctype, "+json") ||
		strings.HasSuffix(ctype, "/xml") || strings.HasSuffix(ctype, "+xml")
}
