package parse

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// checkReport fails t when r breaks an invariant every report keeps.
func checkReport(t *testing.T, r Report) {
	t.Helper()
	known := []Format{FormatXARF01, FormatXARF02, FormatXARF3, FormatXARF4, FormatARF, FormatACNS, FormatFail2ban, FormatProse}
	if !slices.Contains(known, r.Format) {
		t.Errorf("unknown format %q", r.Format)
	}
	if r.Category != CategoryNone && !slices.Contains(Categories, r.Category) {
		t.Errorf("unknown category %q", r.Category)
	}
	if len(r.Addresses) > MaxAddresses || len(r.URLs) > MaxURLs || len(r.Fields) > MaxFields {
		t.Errorf("unbounded report: %d addresses, %d URLs, %d fields", len(r.Addresses), len(r.URLs), len(r.Fields))
	}
	if r.Source.IsValid() && (len(r.Addresses) == 0 || r.Addresses[0] != r.Source) {
		t.Errorf("source %v is not the first of addresses %v", r.Source, r.Addresses)
	}
	for i, a := range r.Addresses {
		if !a.IsValid() || a.Is4In6() || a.Zone() != "" || slices.Contains(r.Addresses[:i], a) {
			t.Errorf("bad or repeated address %v in %v", a, r.Addresses)
		}
	}
	for i, u := range r.URLs {
		p, err := url.Parse(u)
		if err != nil || p.Host == "" || slices.Contains(r.URLs[:i], u) || len(u) > maxURLLen {
			t.Errorf("bad or repeated URL %q (%v)", u, err)
		}
	}
	for _, p := range []int{r.SourcePort, r.DestinationPort} {
		if p < 0 || p > 65535 {
			t.Errorf("port %d out of range", p)
		}
	}
	if r.ZoneGiven && r.OccurredAt.IsZero() {
		t.Error("zone given without a time")
	}
	if !r.ZoneGiven && !r.OccurredAt.IsZero() && r.OccurredAt.Location() != time.UTC {
		t.Errorf("time without zone is in %v, want UTC", r.OccurredAt.Location())
	}
	for _, f := range r.Fields {
		if len(f.Value) > MaxFieldValue || !utf8.ValidString(f.Value) || !utf8.ValidString(f.Key) {
			t.Errorf("field %q: value of %d bytes or invalid UTF-8", f.Key, len(f.Value))
		}
	}
	for _, s := range []string{r.Type, r.Destination, r.Service, r.Complainant, r.CaseID, r.NoticeID, r.Title, r.Hash} {
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8 in %q", s)
		}
	}
}

// checkParse fails t when a Parse result breaks an invariant.
func checkParse(t *testing.T, m *Message, reports []Report, err error) {
	t.Helper()
	if err != nil {
		if m != nil || reports != nil {
			t.Errorf("error %v came with a result", err)
		}
		return
	}
	if m == nil || len(reports) == 0 || len(reports) > MaxReports {
		t.Fatalf("decoded mail gave message %v and %d reports", m != nil, len(reports))
	}
	if len(m.Parts) > MaxParts || !utf8.ValidString(m.Text) || !utf8.ValidString(m.Subject) {
		t.Errorf("message with %d parts or invalid UTF-8 text", len(m.Parts))
	}
	if m.From != strings.ToLower(m.From) {
		t.Errorf("From %q is not lower case", m.From)
	}
	for _, r := range reports {
		checkReport(t, r)
	}
}

func TestFixtureInvariants(t *testing.T) {
	seen := map[Format]bool{}
	for _, name := range fixtures(t) {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		m, reports, err := Parse(raw)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checkParse(t, m, reports, err)
		for _, r := range reports {
			seen[r.Format] = true
		}
	}
	for _, f := range []Format{FormatXARF01, FormatXARF02, FormatXARF3, FormatXARF4, FormatARF, FormatACNS, FormatFail2ban, FormatProse} {
		if !seen[f] {
			t.Errorf("no fixture yields format %q", f)
		}
	}
}

// TestResendIsIdentical checks the byte-identical resend fixture: same bytes, same reports.
func TestResendIsIdentical(t *testing.T) {
	a, errA := os.ReadFile("testdata/mail/acns-clearsigned.eml")
	b, errB := os.ReadFile("testdata/mail/acns-resend.eml")
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Fatalf("resend fixture is not a byte-identical copy (%v, %v)", errA, errB)
	}
	_, ra, _ := Parse(a)
	_, rb, _ := Parse(b)
	if len(ra) != 1 || ra[0].NoticeID == "" || ra[0].NoticeID != rb[0].NoticeID || ra[0].CaseID != rb[0].CaseID {
		t.Errorf("resend reports differ or carry no notice ID: %+v / %+v", ra, rb)
	}
}

func TestParseNotMail(t *testing.T) {
	for _, in := range []string{"", "\n\nbody only", "just some words\nwithout a header\n", " leading space: x\n\n"} {
		m, rs, err := Parse([]byte(in))
		if err == nil || m != nil || rs != nil {
			t.Errorf("Parse(%q) = %v, %v, %v; want an error only", in, m, rs, err)
		}
		if !errors.Is(err, ErrNotMail) {
			t.Errorf("Parse(%q): error %v is not ErrNotMail", in, err)
		}
	}
}

func TestParseLenientMail(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		// check inspects the result.
		check func(t *testing.T, m *Message, rs []Report)
	}{
		{
			name: "mbox separator and header only",
			raw:  "From someone@example.com Sun Mar  1 12:00:00 2026\nFrom: A <A@Example.com>\nSubject: hi 203.0.113.5\n",
			check: func(t *testing.T, m *Message, rs []Report) {
				if m.From != "a@example.com" || rs[0].Format != FormatProse || rs[0].Source.String() != "203.0.113.5" {
					t.Errorf("got from %q, report %+v", m.From, rs[0])
				}
			},
		},
		{
			name: "broken header line ends the header",
			raw:  "From: a@example.com\nSubject: s\nthis line is broken\nmore: 203.0.113.5\n\nbody\n",
			check: func(t *testing.T, m *Message, rs []Report) {
				if m.Subject != "s" || !strings.Contains(m.Text, "body") || rs[0].Source.String() != "203.0.113.5" {
					t.Errorf("got subject %q, text %q, report %+v", m.Subject, m.Text, rs[0])
				}
			},
		},
		{
			name: "multipart without boundary is text",
			raw:  "From: a@example.com\nContent-Type: multipart/mixed\n\nabuse from 203.0.113.5\n",
			check: func(t *testing.T, m *Message, rs []Report) {
				if !strings.Contains(m.Text, "203.0.113.5") || len(m.Parts) != 1 {
					t.Errorf("got text %q, %d parts", m.Text, len(m.Parts))
				}
			},
		},
		{
			name: "multipart whose boundary never comes is text",
			raw:  "From: a@example.com\nContent-Type: multipart/mixed; boundary=zz\n\nabuse from 203.0.113.5\n",
			check: func(t *testing.T, m *Message, rs []Report) {
				if !strings.Contains(m.Text, "203.0.113.5") {
					t.Errorf("got text %q", m.Text)
				}
			},
		},
		{
			name: "truncated multipart keeps what came",
			raw:  "From: a@example.com\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\nfirst 203.0.113.5\n--zz\nContent-Type: text/plain\n\nsecond 198.51.100.7",
			check: func(t *testing.T, m *Message, rs []Report) {
				if !strings.Contains(m.Text, "first") || rs[0].Source.String() != "203.0.113.5" {
					t.Errorf("got text %q, report %+v", m.Text, rs[0])
				}
			},
		},
		{
			name: "unknown charset and encoding keep the bytes",
			raw:  "From: a@example.com\nContent-Type: text/plain; charset=x-unknown-42\nContent-Transfer-Encoding: x-weird\n\nabuse from 203.0.113.5 \xff\n",
			check: func(t *testing.T, m *Message, rs []Report) {
				if !strings.Contains(m.Text, "203.0.113.5") || !utf8.ValidString(m.Text) {
					t.Errorf("got text %q", m.Text)
				}
			},
		},
		{
			name: "bad base64 keeps what decoded",
			raw:  "From: a@example.com\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\nMjAzLjAuMTEzLjU=\n!!!!\n",
			check: func(t *testing.T, m *Message, rs []Report) {
				if rs[0].Source.String() != "203.0.113.5" {
					t.Errorf("got text %q, report %+v", m.Text, rs[0])
				}
			},
		},
		{
			name: "crlf line ends",
			raw:  "From: a@example.com\r\nSubject: x\r\n\r\nline one\r\nline two 203.0.113.5\r\n",
			check: func(t *testing.T, m *Message, rs []Report) {
				if m.Text != "line one\nline two 203.0.113.5" {
					t.Errorf("got text %q", m.Text)
				}
			},
		},
		{
			name: "return path present but empty",
			raw:  "Return-Path: \nFrom: a@example.com\n\nx\n",
			check: func(t *testing.T, m *Message, rs []Report) {
				if m.ReturnPath != "<>" {
					t.Errorf("got return path %q, want <>", m.ReturnPath)
				}
			},
		},
		{
			name: "unreadable from keeps the address",
			raw:  "From: broken <<Someone@Example.org>\nDate: not a date\n\nx\n",
			check: func(t *testing.T, m *Message, rs []Report) {
				if m.From != "someone@example.org" || !m.Date.IsZero() {
					t.Errorf("got from %q, date %v", m.From, m.Date)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, rs, err := Parse([]byte(tt.raw))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkParse(t, m, rs, err)
			tt.check(t, m, rs)
		})
	}
}

func TestParseBounds(t *testing.T) {
	t.Run("parts", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: a@example.com\nContent-Type: multipart/mixed; boundary=zz\n\n")
		for i := range MaxParts + 20 {
			fmt.Fprintf(&b, "--zz\nContent-Type: text/plain\n\npart %d\n", i)
		}
		b.WriteString("--zz--\n")
		m, _, err := Parse([]byte(b.String()))
		if err != nil || len(m.Parts) != MaxParts {
			t.Errorf("got %d parts (%v), want %d", len(m.Parts), err, MaxParts)
		}
	})
	t.Run("nested messages", func(t *testing.T) {
		inner := "From: deep@example.com\nX-XARF: PLAIN\nContent-Type: text/plain; name=report.txt\n\n" +
			"Reported-From: deep@example.com\nCategory: abuse\nReport-Type: spam\nSource: 203.0.113.5\n"
		for range MaxNested + 1 {
			inner = "From: fwd@example.com\nContent-Type: message/rfc822\n\n" + inner
		}
		_, rs, err := Parse([]byte(inner))
		if err != nil || rs[0].Format != FormatProse {
			t.Errorf("a complaint %d messages deep was read as %q (%v), want prose", MaxNested+1, rs[0].Format, err)
		}
		shallow := strings.Repeat("From: fwd@example.com\nContent-Type: message/rfc822\n\n", MaxNested) +
			"From: deep@example.com\nX-XARF: PLAIN\nContent-Type: text/plain; name=report.txt\n\n" +
			"Reported-From: deep@example.com\nCategory: abuse\nReport-Type: spam\nSource: 203.0.113.5\n"
		if _, rs, _ := Parse([]byte(shallow)); rs[0].Format != FormatXARF02 {
			t.Errorf("a complaint %d messages deep was read as %q, want %q", MaxNested, rs[0].Format, FormatXARF02)
		}
	})
	t.Run("addresses and urls", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: a@example.com\n\n")
		for i := range 300 {
			fmt.Fprintf(&b, "198.51.%d.%d http://h%d.example.com/\n", i/250, i%250, i)
		}
		_, rs, _ := Parse([]byte(b.String()))
		if len(rs[0].Addresses) != MaxAddresses || len(rs[0].URLs) != MaxURLs {
			t.Errorf("got %d addresses and %d URLs, want %d and %d", len(rs[0].Addresses), len(rs[0].URLs), MaxAddresses, MaxURLs)
		}
	})
	t.Run("input size", func(t *testing.T) {
		big := "From: a@example.com\n\n" + strings.Repeat("abuse abuse abuse abuse 1.2.3 12:00\n", (MaxInput+MaxInput/4)/36) + "tail 203.0.113.5\n"
		start := time.Now()
		m, rs, err := Parse([]byte(big))
		if err != nil || strings.Contains(m.Text, "tail") || len(rs[0].Addresses) != 0 {
			t.Errorf("input beyond %d bytes was read (err %v)", MaxInput, err)
		}
		t.Logf("parsed %d bytes in %v", len(big), time.Since(start))
	})
}
