package parse

import (
	"strings"
	"testing"

	"github.com/emersion/go-message"
	"github.com/google/go-cmp/cmp"
)

func TestParseKeyValues(t *testing.T) {
	text := "\uFEFF---\r\n# comment\r\nReported-From: a@example.com\r\nUser-Agent: Tool/1 (mode: x)\r\n" +
		"Date:2026-03-01T10:00:00Z\r\nSource: '203.0.113.5'\r\nNote: \"say \\\"hi\\\"\"\r\nEmpty:\r\n" +
		"Long: first part\r\n  second part\r\nnot a field line\r\nBad Key: ignored\r\n...\r\n"
	want := []Field{
		{Key: "Reported-From", Value: "a@example.com"},
		{Key: "User-Agent", Value: "Tool/1 (mode: x)"},
		{Key: "Date", Value: "2026-03-01T10:00:00Z"},
		{Key: "Source", Value: "203.0.113.5"},
		{Key: "Note", Value: `say "hi"`},
		{Key: "Empty", Value: ""},
		{Key: "Long", Value: "first part second part"},
	}
	if diff := cmp.Diff(want, parseKeyValues(text)); diff != "" {
		t.Errorf("parseKeyValues (-want +got):\n%s", diff)
	}
}

func TestParseKeyValuesBounded(t *testing.T) {
	var b strings.Builder
	for range MaxFields + 50 {
		b.WriteString("K: v\n")
	}
	b.WriteString("Big: " + strings.Repeat("x", 2*MaxFieldValue) + "\n")
	fs := parseKeyValues(b.String())
	if len(fs) != MaxFields {
		t.Errorf("got %d fields, want %d", len(fs), MaxFields)
	}
	fs = parseKeyValues("Big: " + strings.Repeat("é", MaxFieldValue))
	if len(fs) != 1 || len(fs[0].Value) > MaxFieldValue || !strings.HasPrefix(fs[0].Value, "é") || strings.ContainsRune(fs[0].Value, '\uFFFD') {
		t.Errorf("long value not cut at a rune boundary within %d bytes: %d bytes", MaxFieldValue, len(fs[0].Value))
	}
}

func TestCategories(t *testing.T) {
	tests := []struct {
		name string
		got  Category
		want Category
	}{
		{"x-arf abuse login-attack", xarfCategory("abuse", "login-attack"), CategoryBruteForce},
		{"x-arf info portscan", xarfCategory("info", "portscan"), CategoryScanning},
		{"x-arf fraud phishing", xarfCategory("fraud", "phishing"), CategoryFraud},
		{"x-arf fraud alone", xarfCategory("fraud", ""), CategoryFraud},
		{"x-arf ddos category", xarfCategory("ddos", ""), CategoryDoS},
		{"x-arf spam", xarfCategory("abuse", "spam"), CategorySpam},
		{"x-arf odd type", xarfCategory("abuse", "weird-thing"), CategoryOther},
		{"x-arf nothing", xarfCategory("", ""), CategoryNone},
		{"v4 copyright class", xarf4Category("copyright", "p2p"), CategoryCopyright},
		{"v4 login_attack", xarf4Category("connection", "login_attack"), CategoryBruteForce},
		{"v4 auth_failure", xarf4Category("connection", "auth_failure"), CategoryBruteForce},
		{"v4 port_scan", xarf4Category("connection", "port_scan"), CategoryScanning},
		{"v4 vuln_scanning", xarf4Category("connection", "vuln_scanning"), CategoryScanning},
		{"v4 ddos_amplification", xarf4Category("connection", "ddos_amplification"), CategoryDoS},
		{"v4 messaging bulk", xarf4Category("messaging", "bulk_messaging"), CategorySpam},
		{"v4 phishing", xarf4Category("content", "phishing"), CategoryFraud},
		{"v4 malware", xarf4Category("content", "malware"), CategoryHacking},
		{"v4 vulnerability open", xarf4Category("vulnerability", "open"), CategoryHacking},
		{"v4 infected_host", xarf4Category("infrastructure", "infected_host"), CategoryHacking},
		{"v4 reputation", xarf4Category("reputation", "blocklist"), CategoryOther},
		{"arf abuse", arfCategory("abuse"), CategorySpam},
		{"arf auth-failure", arfCategory("Auth-Failure"), CategorySpam},
		{"arf fraud", arfCategory("fraud"), CategoryFraud},
		{"arf virus", arfCategory("virus"), CategoryHacking},
		{"arf not-spam", arfCategory("not-spam"), CategoryOther},
		{"arf unknown", arfCategory("opt-out"), CategoryOther},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestUndoClearSign(t *testing.T) {
	in := "before\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n- -- dashes\nplain\n- - item\n" +
		"-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\nafter\n"
	want := "before\n-- dashes\nplain\n- item\n\nafter\n"
	if got := undoClearSign(in); got != want {
		t.Errorf("undoClearSign:\n got %q\nwant %q", got, want)
	}
	if got := undoClearSign("- not signed\n"); got != "- not signed\n" {
		t.Errorf("text without a signed section changed: %q", got)
	}
	unterminated := "-----BEGIN PGP SIGNED MESSAGE-----\n\n- -x\n"
	if got := undoClearSign(unterminated); got != "-x\n" {
		t.Errorf("unterminated section: got %q", got)
	}
}

func TestFlattenJSON(t *testing.T) {
	fs, ok := flattenJSON([]byte(`{"a":1,"b":{"c":"x","d":[true,null,{"e":2.50}]},"f":[],"g":"last"}`))
	want := []Field{
		{Key: "a", Value: "1"}, {Key: "b.c", Value: "x"}, {Key: "b.d[0]", Value: "true"},
		{Key: "b.d[1]", Value: ""}, {Key: "b.d[2].e", Value: "2.50"}, {Key: "g", Value: "last"},
	}
	if !ok {
		t.Fatal("flattenJSON refused an object")
	}
	if diff := cmp.Diff(want, fs); diff != "" {
		t.Errorf("flattenJSON (-want +got):\n%s", diff)
	}
	fs, ok = flattenJSON([]byte(`{"a":"kept","b":{"c":`))
	if !ok || len(fs) != 1 || fs[0].Value != "kept" {
		t.Errorf("truncated JSON: got %v, %v; want the field before the cut", fs, ok)
	}
	if _, ok := flattenJSON([]byte(`["not", "an", "object"]`)); ok {
		t.Error("flattenJSON accepted an array")
	}
	deep := strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100)
	if fs, _ := flattenJSON([]byte(deep)); len(fs) != 0 {
		t.Errorf("a value below %d levels was kept: %v", maxJSONDepth, fs)
	}
}

func TestParseACNSLenient(t *testing.T) {
	text := `junk <InfringementReport>not this</InfringementReport>
<Infringement><Case><ID>C1 & co</ID></Case><Source><IP_Address>203.0.113[.]5</IP_Address>
<TimeStamp>2026-04-01T10:00:00Z</TimeStamp><Port>6881</Port></Source><Notes>&nbsp;x</Oops></Notes>`
	rs := parseACNS(text)
	if len(rs) != 1 {
		t.Fatalf("got %d reports, want 1", len(rs))
	}
	r := rs[0]
	if r.CaseID != "C1 & co" || r.Source.String() != "203.0.113.5" || r.SourcePort != 6881 || r.Category != CategoryCopyright {
		t.Errorf("lenient ACNS read as %+v", r)
	}
}

func TestXARFJSONVersions(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		format Format
		ok     bool
	}{
		{"v4", `{"xarf_version":"4.0.0","source_identifier":"203.0.113.5","class":"connection","type":"ddos"}`, FormatXARF4, true},
		{"v4 without version", `{"source_identifier":"203.0.113.5","category":"messaging","type":"spam"}`, FormatXARF4, true},
		{"v3", `{"Version":"3","ReporterInfo":{"ReporterOrg":"X"},"Report":{"ReportType":"Spam"}}`, FormatXARF3, true},
		{"v3 number", `{"Version":3.0,"Report":{"ReportType":"DDoS","SourceIp":"203.0.113.5"}}`, FormatXARF3, true},
		{"other json", `{"name":"value"}`, "", false},
	}
	for _, tt := range tests {
		r, ok := parseXARFJSON([]byte(tt.doc))
		if ok != tt.ok || r.Format != tt.format {
			t.Errorf("%s: got %q, %v; want %q, %v", tt.name, r.Format, ok, tt.format, tt.ok)
		}
	}
}

func TestContentType(t *testing.T) {
	tests := []struct{ header, want string }{
		{"", "text/plain"},
		{"Text/HTML; charset=utf-8", "text/html"},
		{"text/html; charset", "text/html"},
		{"application/json;; name=x.json", "application/json"},
		{"garbage", "text/plain"},
		{`text/plain "quoted"`, "text/plain"},
	}
	for _, tt := range tests {
		var h message.Header
		if tt.header != "" {
			h.Set("Content-Type", tt.header)
		}
		if got, _ := contentType(h); got != tt.want {
			t.Errorf("contentType(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestParsePort(t *testing.T) {
	for in, want := range map[string]int{"22": 22, " 443 ": 443, "22/tcp": 22, "udp/53": 53, "0": 0, "65536": 0, "x": 0, "": 0} {
		if got := parsePort(in); got != want {
			t.Errorf("parsePort(%q) = %d, want %d", in, got, want)
		}
	}
}
