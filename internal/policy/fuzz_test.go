package policy

import (
	"strings"
	"testing"
)

func FuzzParseRules(f *testing.F) {
	for _, s := range []string{"accept *:*", "reject 192.0.2.0/255.255.255.0:80-81", "accept6 [2001:db8::]/32:443",
		"reject private:*, accept *4:1-65535 # c", "reject6 *4", "accept [::1", "accept *:90-80\nreject 10.0.0.0/33"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		rules, err := ParseRules(text)
		if err != nil {
			return
		}
		for _, r := range rules {
			if r.PortLo == 0 || r.PortLo > r.PortHi {
				t.Fatalf("ParseRules(%q) gave port range %d-%d", text, r.PortLo, r.PortHi)
			}
			again, err := ParseRules(r.String())
			if err != nil || len(again) != 1 || again[0].String() != r.String() {
				t.Fatalf("canonical %q of %q does not read back: %v %v", r.String(), r.Text, again, err)
			}
		}
	})
}

func FuzzNormalizeHost(f *testing.F) {
	for _, s := range []string{"example.org", "WWW.Example.ORG.", "bücher.example", "127.1", "0x7f.1", "2130706433",
		"017700000001", "1.2.3.256", "0x1g", "[fe80::1%25eth0]", "[2001:db8::1]", "localhost", "a.localhost", "xn--a", "１２７.１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		name, addr, err := NormalizeHost(host)
		if err != nil {
			if name != "" || addr.IsValid() {
				t.Fatalf("NormalizeHost(%q) returned a result with error %v", host, err)
			}
			return
		}
		if (name == "") == !addr.IsValid() {
			t.Fatalf("NormalizeHost(%q) = %q, %v: want exactly one of name and address", host, name, addr)
		}
		if addr.IsValid() && (addr.Zone() != "" || addr.Is4In6()) {
			t.Fatalf("NormalizeHost(%q) = %v: zone or mapped address left", host, addr)
		}
		if name == "" {
			return
		}
		if name != strings.ToLower(name) || len(name) > maxName || strings.HasSuffix(name, ".") {
			t.Fatalf("NormalizeHost(%q) = %q: not normalised", host, name)
		}
		again, a2, err := NormalizeHost(name)
		if err != nil || again != name || a2.IsValid() {
			t.Fatalf("NormalizeHost(%q) = %q, but NormalizeHost(%q) = %q, %v, %v", host, name, name, again, a2, err)
		}
	})
}
