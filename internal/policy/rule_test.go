package policy

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// netipEqual compares netip values by ==, as cmp cannot look inside them.
var netipEqual = cmpopts.EquateComparable(netip.Prefix{}, netip.Addr{}, netip.AddrPort{})

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites the file under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestParseRules(t *testing.T) {
	pfx := netip.MustParsePrefix
	tests := []struct {
		name string
		text string
		want []Rule
	}{
		{name: "star all ports", text: "accept *:*",
			want: []Rule{{Accept: true, Family: FamilyAny, PortLo: 1, PortHi: 65535}}},
		{name: "star4 one port", text: "reject *4:25",
			want: []Rule{{Family: FamilyV4, PortLo: 25, PortHi: 25}}},
		{name: "star6 range", text: "accept *6:80-443",
			want: []Rule{{Accept: true, Family: FamilyV6, PortLo: 80, PortHi: 443}}},
		{name: "missing port means all", text: "reject 192.0.2.1",
			want: []Rule{{Family: FamilyV4, Prefix: pfx("192.0.2.1/32"), PortLo: 1, PortHi: 65535}}},
		{name: "ipv4 bit mask", text: "reject 198.51.100.0/24:*",
			want: []Rule{{Family: FamilyV4, Prefix: pfx("198.51.100.0/24"), PortLo: 1, PortHi: 65535}}},
		{name: "ipv4 dotted mask", text: "reject 10.1.2.3/255.255.0.0:22",
			want: []Rule{{Family: FamilyV4, Prefix: pfx("10.1.0.0/16"), PortLo: 22, PortHi: 22}}},
		{name: "ipv4 zero mask", text: "accept 0.0.0.0/0:443",
			want: []Rule{{Accept: true, Family: FamilyV4, Prefix: pfx("0.0.0.0/0"), PortLo: 443, PortHi: 443}}},
		{name: "ipv6 with bits", text: "reject6 [2001:db8::]/32:*",
			want: []Rule{{Family: FamilyV6, Prefix: pfx("2001:db8::/32"), PortLo: 1, PortHi: 65535}}},
		{name: "ipv6 host on plain accept", text: "accept [2001:db8::1]:443",
			want: []Rule{{Accept: true, Family: FamilyV6, Prefix: pfx("2001:db8::1/128"), PortLo: 443, PortHi: 443}}},
		{name: "accept6 star means star6", text: "accept6 *:53",
			want: []Rule{{Accept: true, Family: FamilyV6, PortLo: 53, PortHi: 53}}},
		{name: "private", text: "reject private:*",
			want: []Rule{{Private: true, PortLo: 1, PortHi: 65535}}},
		{name: "private on reject6 covers both families", text: "reject6 private",
			want: []Rule{{Private: true, PortLo: 1, PortHi: 65535}}},
		{name: "upper case keyword", text: "ACCEPT *:80",
			want: []Rule{{Accept: true, PortLo: 80, PortHi: 80}}},
		{name: "commas comments blanks", text: "# head\naccept *:80, reject *:* # tail\n\n,",
			want: []Rule{{Accept: true, PortLo: 80, PortHi: 80}, {PortLo: 1, PortHi: 65535}}},
		{name: "empty text", text: "  \n# nothing\n", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRules(tt.text)
			if err != nil {
				t.Fatalf("ParseRules(%q) error: %v", tt.text, err)
			}
			for i := range got {
				got[i].Text, got[i].Line, got[i].Col = "", 0, 0
			}
			if diff := cmp.Diff(tt.want, got, netipEqual); diff != "" {
				t.Errorf("ParseRules(%q) mismatch (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestParseRulesPositions(t *testing.T) {
	got, err := ParseRules("accept *:80,  reject *:25\n\n   accept6 [::]/0")
	if err != nil {
		t.Fatal(err)
	}
	type pos struct {
		Text      string
		Line, Col int
	}
	var gotPos []pos
	for _, r := range got {
		gotPos = append(gotPos, pos{Text: r.Text, Line: r.Line, Col: r.Col})
	}
	want := []pos{
		{Text: "accept *:80", Line: 1, Col: 1},
		{Text: "reject *:25", Line: 1, Col: 15},
		{Text: "accept6 [::]/0", Line: 3, Col: 4},
	}
	if diff := cmp.Diff(want, gotPos); diff != "" {
		t.Errorf("positions mismatch (-want +got):\n%s", diff)
	}
}

func TestParseRulesErrors(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		line, col int
		msg       string // a substring of the message
	}{
		{name: "unknown keyword", text: "allow *:80", line: 1, col: 1, msg: "expected accept, reject"},
		{name: "no address", text: "accept", line: 1, col: 7, msg: "expected a space and an address"},
		{name: "bad ipv4", text: "accept 1.2.3:80", line: 1, col: 8, msg: "expected an IPv4 address"},
		{name: "bare ipv6", text: "accept 2001:db8::1", line: 1, col: 8, msg: "must be written in brackets"},
		{name: "mask too big", text: "reject 10.0.0.0/33", line: 1, col: 17, msg: "expected a mask"},
		{name: "dotted mask not contiguous", text: "reject 10.0.0.0/255.0.255.0", line: 1, col: 17, msg: "not contiguous"},
		{name: "mask on star", text: "reject */8:*", line: 1, col: 9, msg: "no mask is allowed"},
		{name: "ipv6 mask too big", text: "reject [::1]/129", line: 1, col: 14, msg: "bit count 0-128"},
		{name: "unclosed bracket", text: "reject [::1:80", line: 1, col: 8, msg: "expected ']'"},
		{name: "zone in brackets", text: "reject [fe80::1%eth0]", line: 1, col: 9, msg: "without a zone"},
		{name: "ipv4 in brackets", text: "reject [192.0.2.1]", line: 1, col: 9, msg: "expected an IPv6 address"},
		{name: "port zero", text: "accept *:0", line: 1, col: 10, msg: "expected a port"},
		{name: "port too big", text: "accept *:65536", line: 1, col: 10, msg: "expected a port"},
		{name: "port range reversed", text: "accept *:90-80", line: 1, col: 10, msg: "is empty"},
		{name: "port range open", text: "accept *:80-", line: 1, col: 13, msg: "end of the port range"},
		{name: "junk after ipv6", text: "accept [::1]x", line: 1, col: 13, msg: "expected ':'"},
		{name: "space inside address", text: "accept * :80", line: 1, col: 9, msg: "unexpected space"},
		{name: "accept6 with ipv4", text: "accept *:80\naccept6 192.0.2.1:80", line: 2, col: 9, msg: "accept6 and reject6 take"},
		{name: "reject6 with star4", text: "reject6 *4:*", line: 1, col: 9, msg: "*4 on an accept6"},
		{name: "second item on a line", text: "accept *:80, bogus", line: 1, col: 14, msg: "expected accept"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRules(tt.text)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseRules(%q) error = %v, want a *SyntaxError", tt.text, err)
			}
			if se.Line != tt.line || se.Col != tt.col || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("ParseRules(%q) = line %d col %d %q, want line %d col %d containing %q",
					tt.text, se.Line, se.Col, se.Msg, tt.line, tt.col, tt.msg)
			}
		})
	}
}

// TestParseRulesGolden records the canonical form of every address form, and the errors.
func TestParseRulesGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "rules.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for line := range strings.SplitSeq(strings.TrimRight(string(in), "\n"), "\n") {
		rules, err := ParseRules(line)
		switch {
		case err != nil:
			b.WriteString(line + "\n\terror: " + err.Error() + "\n")
		case len(rules) == 0:
			b.WriteString(line + "\n\t(nothing)\n")
		default:
			b.WriteString(line + "\n")
			for _, r := range rules {
				b.WriteString("\t" + r.String() + "\n")
			}
		}
	}
	golden(t, "rules.golden", b.String())
}

func TestRuleStringRoundTrip(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "rules.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(in), "\n") {
		rules, err := ParseRules(line)
		if err != nil {
			continue
		}
		for _, r := range rules {
			again, err := ParseRules(r.String())
			if err != nil || len(again) != 1 {
				t.Errorf("ParseRules(%q) = %v, %v; want one rule", r.String(), again, err)
				continue
			}
			if again[0].String() != r.String() || again[0].Prefix != r.Prefix || again[0].Family != r.Family {
				t.Errorf("round trip of %q gave %q", r.String(), again[0].String())
			}
		}
	}
}
