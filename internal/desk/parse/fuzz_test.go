package parse

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fixtureParts returns the bodies of the fixtures' parts of the given content types (all
// when none is given), for seeds.
func fixtureParts(f *testing.F, types ...string) [][]byte {
	var out [][]byte
	for _, name := range fixtures(f) {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		d, err := decode(raw, 0)
		if err != nil {
			f.Fatal(err)
		}
		var all []Part
		all = append(all, d.msg.Parts...)
		for _, i := range d.order {
			all = append(all, d.nested[i].msg.Parts...)
		}
		for _, p := range all {
			if len(types) == 0 || slices.Contains(types, p.ContentType) {
				out = append(out, p.Body)
			}
		}
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, name := range fixtures(f) {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte("From: a@example.com\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: message/rfc822\n\nFrom: b@example.com\n\n203.0.113.5\n--x--\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, reports, err := Parse(raw)
		checkParse(t, m, reports, err)
	})
}

func FuzzXARFPlain(f *testing.F) {
	for _, b := range fixtureParts(f, "text/plain") {
		f.Add(string(b))
	}
	f.Add("Source: 203.0.113[.]5:22\nDate: Feb  3 2014 02:13:35 +0100\nCategory: info\nReport-Type: portscan\n")
	f.Fuzz(func(t *testing.T, text string) {
		fs := parseKeyValues(text)
		if len(fs) > MaxFields {
			t.Fatalf("%d fields", len(fs))
		}
		for _, fl := range fs {
			if !fieldName(fl.Key) || strings.ContainsAny(fl.Value, "\r\n") {
				t.Fatalf("field %q: %q is not one line with a field name", fl.Key, fl.Value)
			}
		}
		r := xarfReport(fs, FormatXARF02)
		finish(&r, nil)
		checkReport(t, r)
		if (r.Category == CategoryNone) != (fieldList(fs).get("Category") == "" && fieldList(fs).get("Report-Type") == "") {
			t.Fatalf("category %q for category %q and type %q", r.Category, fieldList(fs).get("Category"), fieldList(fs).get("Report-Type"))
		}
	})
}

// scalars counts the scalar values of a decoded JSON value down to depth levels; ok is
// false when some lie deeper.
func scalars(v any, depth int) (n int, ok bool) {
	switch x := v.(type) {
	case map[string]any:
		if depth == 0 {
			return 0, len(x) == 0
		}
		ok = true
		for _, e := range x {
			k, o := scalars(e, depth-1)
			n, ok = n+k, ok && o
		}
		return n, ok
	case []any:
		if depth == 0 {
			return 0, len(x) == 0
		}
		ok = true
		for _, e := range x {
			k, o := scalars(e, depth-1)
			n, ok = n+k, ok && o
		}
		return n, ok
	}
	return 1, true
}

func FuzzXARFJSON(f *testing.F) {
	for _, b := range fixtureParts(f, "application/json", "application/octet-stream") {
		f.Add(b)
	}
	f.Add([]byte(`{"xarf_version":4,"source_identifier":"[2001:db8::5]:443","class":"content","type":"phishing","url":"hxxp://example[.]com/"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, ok := flattenJSON(data)
		if len(fs) > MaxFields {
			t.Fatalf("%d fields", len(fs))
		}
		var doc map[string]any
		if ok && json.Unmarshal(data, &doc) == nil && utf8.Valid(data) && len(data) < 4096 {
			// Duplicate keys collapse in a map: compare only documents without them.
			if n, deep := scalars(doc, maxJSONDepth-1); deep && n < MaxFields && len(fs) != n && !hasDuplicateKeys(data) {
				t.Fatalf("flattenJSON gave %d fields for %d scalars: %v", len(fs), n, fs)
			}
		}
		if r, ok := parseXARFJSON(data); ok {
			checkReport(t, r)
			if r.Format != FormatXARF3 && r.Format != FormatXARF4 {
				t.Fatalf("format %q", r.Format)
			}
		}
	})
}

// hasDuplicateKeys says whether an object in the JSON document repeats a key: a map keeps
// only the last value, so its scalars cannot be compared with flattenJSON's fields.
func hasDuplicateKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type object struct {
		keys      map[string]bool
		expectKey bool
	}
	var stack []*object // nil entries are arrays
	for {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		var top *object
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := t.(json.Delim); ok {
			switch d {
			case '{':
				if top != nil {
					top.expectKey = true
				}
				stack = append(stack, &object{keys: map[string]bool{}, expectKey: true})
			case '[':
				if top != nil {
					top.expectKey = true
				}
				stack = append(stack, nil)
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if top == nil {
			continue
		}
		if top.expectKey {
			k, _ := t.(string)
			if top.keys[k] {
				return true
			}
			top.keys[k] = true
			top.expectKey = false
		} else {
			top.expectKey = true
		}
	}
}

func FuzzARF(f *testing.F) {
	for _, b := range fixtureParts(f, "message/feedback-report") {
		f.Add(b, "fbl@example.com")
	}
	f.Fuzz(func(t *testing.T, body []byte, from string) {
		r := parseARF(body, from)
		checkReport(t, r)
		if !slices.Contains([]Category{CategorySpam, CategoryFraud, CategoryHacking, CategoryOther}, r.Category) {
			t.Fatalf("ARF category %q", r.Category)
		}
	})
}

func FuzzACNS(f *testing.F) {
	for _, b := range fixtureParts(f, "text/plain", "application/xml") {
		if strings.Contains(string(b), "Infringement") {
			f.Add(string(b))
		}
	}
	f.Add("<Infringement><Source><IP_Address>2001:db8::5</IP_Address></Source></Infringement><Infringement>")
	f.Fuzz(func(t *testing.T, text string) {
		rs := parseACNS(text)
		if len(rs) > MaxReports || len(rs) > strings.Count(strings.ToLower(text), "<infringement") {
			t.Fatalf("%d reports from %d blocks", len(rs), strings.Count(strings.ToLower(text), "<infringement"))
		}
		for _, r := range rs {
			checkReport(t, r)
			if r.Format != FormatACNS || r.Category != CategoryCopyright {
				t.Fatalf("ACNS report %q %q", r.Format, r.Category)
			}
		}
	})
}

func FuzzAddresses(f *testing.F) {
	for _, s := range []string{"203.0.113[.]5 and 203(dot)0(dot)113(dot)6", "[2001:db8::5]:443, ::ffff:203.0.113.5",
		"1.2.3.4.5 999.1.1.1 198.51.100.0/24", "hxxps[:]//example[.]net/x?y=1.", "203 dot 0 dot 113 dot 5"} {
		f.Add(s)
	}
	for _, b := range fixtureParts(f, "text/plain") {
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := Addresses(text)
		if len(got) > MaxAddresses {
			t.Fatalf("%d addresses", len(got))
		}
		var spelled []string
		for i, a := range got {
			if !a.IsValid() || a.Is4In6() || a.Zone() != "" || a.IsUnspecified() || slices.Contains(got[:i], a) {
				t.Fatalf("bad or repeated address %v", a)
			}
			spelled = append(spelled, a.String())
		}
		// The addresses found, written plainly, read back as themselves.
		again := Addresses(strings.Join(spelled, " "))
		if !slices.Equal(again, got) {
			t.Fatalf("Addresses(%q) = %v, but its own spelling reads back as %v", text, got, again)
		}
		urls := URLs(text)
		if len(urls) > MaxURLs {
			t.Fatalf("%d URLs", len(urls))
		}
		for _, u := range urls {
			if c, ok := cleanURL(u); !ok || c != u {
				t.Fatalf("URL %q is not clean (%q, %v)", u, c, ok)
			}
		}
		for h := range addrHits(defang(text)) {
			if h.port < 0 || h.port > 65535 || h.start >= h.end {
				t.Fatalf("hit %+v", h)
			}
		}
	})
}

func FuzzTimestamp(f *testing.F) {
	for _, s := range []string{"2026-03-01T12:34:56.5Z", "Sun, 01 Mar 2026 12:34:56 +0100 (CET)", "March 1, 2026 at 9:15 PM EST",
		"01.03.2026 14:22:10 MEZ", "Sun Mar  1 12:34:56 UTC 2026", "2026-03-01 12:34 UTC+14", "Feb 29 2026 10:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, given, ok := FindTime(text)
		if !ok {
			if !got.IsZero() || given {
				t.Fatalf("FindTime(%q) gave %v, %v without a time", text, got, given)
			}
			return
		}
		if got.Year() < 1970 || got.Year() > 2199 || !given && got.Location() != time.UTC {
			t.Fatalf("FindTime(%q) = %v, zone given %v", text, got, given)
		}
		// The time written in RFC 3339 reads back as the same instant and offset.
		again, _, ok := FindTime(got.Format(time.RFC3339Nano))
		_, off := got.Zone()
		_, off2 := again.Zone()
		if !ok || !again.Equal(got) || off != off2 {
			t.Fatalf("FindTime(%q) = %v, which reads back as %v (%v)", text, got, again, ok)
		}
	})
}
