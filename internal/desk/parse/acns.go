package parse

import (
	"encoding/xml"
	"strings"
)

const (
	maxXMLDepth  = 32
	maxXMLTokens = 1 << 14
)

// acnsReports reads copyright notices with ACNS XML: inline in the text (also PGP
// clear-signed, also quoted with "> " by a forwarder) or attached as XML. Each
// <Infringement> block is one report; a notice both inline and attached counts once.
func acnsReports(d *decoded) []Report {
	var out []Report
	seen := map[string]bool{}
	for _, p := range d.msg.Parts {
		text, ok := acnsText(p)
		if !ok {
			continue
		}
		for _, r := range parseACNS(text) {
			k := acnsKey(r)
			if seen[k] || len(out) >= MaxReports {
				continue
			}
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}

// acnsText returns the text of a part where a notice may be written.
func acnsText(p Part) (string, bool) {
	switch {
	case p.ContentType == "text/html":
		return htmlText(p.Body), true
	case textual(p.ContentType), strings.HasSuffix(strings.ToLower(p.Filename), ".xml"):
		return cleanText(p.Body), true
	}
	return "", false
}

func acnsKey(r Report) string {
	return strings.Join([]string{r.CaseID, r.NoticeID, r.Source.String(), r.OccurredAt.String(),
		r.Title, r.Hash}, "\x00")
}

// parseACNS reads every <Infringement> block of text, after undoing PGP clear-signing and
// quoting, into one report each (at most MaxReports). Addresses and URLs hold what the
// block names.
func parseACNS(text string) []Report {
	text = undoClearSign(truncate(text, maxScan))
	var out []Report
	for len(out) < MaxReports {
		start := indexFold(text, "<infringement")
		if start < 0 {
			break
		}
		rest := text[start:]
		if len(rest) > len("<infringement") && isAlnum(rest[len("<infringement")]) {
			text = rest[len("<infringement"):] // <InfringementSomething>
			continue
		}
		end := indexFold(rest, "</infringement>")
		if end < 0 {
			end = len(rest)
		} else {
			end += len("</infringement>")
		}
		text = rest[end:]
		fs := flattenXML(unquoteLines(rest[:end]))
		if len(fs) == 0 {
			continue
		}
		out = append(out, acnsReport(fs))
	}
	return out
}

func acnsReport(fs []Field) Report {
	f := fieldList(fs)
	r := Report{
		Format:          FormatACNS,
		Category:        CategoryCopyright,
		CaseID:          f.get("Case.ID", "Case_ID", "Case.Case_ID"),
		NoticeID:        f.get("Notice_ID", "Case.Notice_ID", "Notice.ID", "Notice@ID"),
		Type:            f.get("Source.SubType@Protocol", "Source.Protocol", "Source.Type"),
		Service:         f.get("Source.Type", "Source.SubType@Protocol", "Source.Protocol"),
		Title:           f.get("Content.Item.Title", "Title"),
		Hash:            f.get("Content.Item.Hash", "Content.Item.FileHash", "FileHash", "Hash"),
		Complainant:     f.get("Complainant.Entity", "Complainant.Email", "Complainant.Contact"),
		SourcePort:      parsePort(f.get("Source.Port", "Port")),
		Destination:     f.get("Source.Destination_IP"),
		DestinationPort: parsePort(f.get("Source.Destination_Port")),
		Fields:          fs,
	}
	r.Source, _ = sourceOf(f.get("Source.IP_Address", "IP_Address", "Source.IP"))
	r.OccurredAt, r.ZoneGiven, _ = FindTime(f.get("Source.TimeStamp", "TimeStamp", "Content.Item.TimeStamp"))
	r.URLs = cleanURLs(f.all("Content.Item.URL_Base", "Source.URL_Base", "URL_Base", "Content.Item.URL"))
	finish(&r, nil)
	return r
}

// unquoteLines removes mail quoting ("> ") when every non-blank line of s after the first
// carries it (s starts inside its first line, at the <Infringement tag).
func unquoteLines(s string) string {
	first, rest, ok := strings.Cut(s, "\n")
	if !ok {
		return s
	}
	quoted := false
	for line := range strings.Lines(rest) {
		t := strings.TrimSpace(line)
		if t != "" && t[0] != '>' {
			return s
		}
		quoted = quoted || t != ""
	}
	if !quoted {
		return s
	}
	var b strings.Builder
	b.WriteString(first + "\n")
	for line := range strings.Lines(rest) {
		b.WriteString(strings.TrimLeft(line, "> \t"))
	}
	return b.String()
}

// flattenXML reads XML leniently (undeclared entities and stray ampersands allowed, end
// tags not checked) into fields keyed by element path below the root ("Source.IP_Address"),
// attributes as "path@name" (namespace declarations left out). Text is trimmed; blank text
// is not kept.
func flattenXML(s string) []Field {
	dec := xml.NewDecoder(strings.NewReader(s))
	dec.Strict = false
	dec.Entity = xml.HTMLEntity
	var fs []Field
	var path []string
	var text strings.Builder
	key := func() string { return strings.Join(path[1:], ".") }
	for n := 0; n < maxXMLTokens; n++ {
		tok, err := dec.RawToken()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(path) >= maxXMLDepth {
				return fs
			}
			path = append(path, t.Name.Local)
			text.Reset()
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" || a.Name.Space == "xsi" {
					continue
				}
				addField(&fs, key()+"@"+a.Name.Local, strings.TrimSpace(a.Value))
			}
		case xml.CharData:
			if text.Len() < MaxFieldValue {
				text.Write(t)
			}
		case xml.EndElement:
			if len(path) == 0 {
				return fs
			}
			if v := strings.TrimSpace(text.String()); v != "" && len(path) > 1 {
				addField(&fs, key(), v)
			}
			text.Reset()
			path = path[:len(path)-1]
			if len(path) == 0 {
				return fs
			}
		}
	}
	return fs
}

// indexFold is strings.Index ignoring ASCII case; sub must be lower case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i]|0x20 == sub[0]|0x20 && strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
