package parse

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestAddresses(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []netip.Addr
	}{
		{name: "plain at sentence end", text: "attacks from 203.0.113.5.", want: addrs("203.0.113.5")},
		{name: "bracketed last dot", text: "host 203.0.113[.]5 again", want: addrs("203.0.113.5")},
		{name: "every dot bracketed", text: "203[.]0[.]113[.]5", want: addrs("203.0.113.5")},
		{name: "paren dot word", text: "203(dot)0(dot)113(dot)5", want: addrs("203.0.113.5")},
		{name: "bracket dot word upper", text: "203[DOT]0[DOT]113[DOT]5", want: addrs("203.0.113.5")},
		{name: "curly dot", text: "203{.}0{.}113{.}5", want: addrs("203.0.113.5")},
		{name: "spelled dot", text: "it was 203 dot 0 dot 113 dot 5 today", want: addrs("203.0.113.5")},
		{name: "spaced bracket dot", text: "203 [.] 0 [.] 113 [.] 5", want: addrs("203.0.113.5")},
		{name: "leading zeros read as decimal", text: "203.000.113.005", want: addrs("203.0.113.5")},
		{name: "after key and colon", text: "SRC=203.0.113.5 src:198.51.100.7", want: addrs("203.0.113.5", "198.51.100.7")},
		{name: "range", text: "203.0.113.5-203.0.113.9", want: addrs("203.0.113.5", "203.0.113.9")},
		{name: "in a URL", text: "see http://203.0.113.5/24/index.html", want: addrs("203.0.113.5")},
		{name: "each once in order", text: "203.0.113.6, 203.0.113.5 and 203.0.113.6", want: addrs("203.0.113.6", "203.0.113.5")},
		{name: "ipv6", text: "from 2001:db8::5 at noon", want: addrs("2001:db8::5")},
		{name: "ipv6 sentence end", text: "address 2001:db8::5.", want: addrs("2001:db8::5")},
		{name: "ipv6 with port", text: "[2001:db8::5]:443", want: addrs("2001:db8::5")},
		{name: "ipv6 literal in Received", text: "from [IPv6:2001:db8::5] by mx", want: addrs("2001:db8::5")},
		{name: "ipv6 full form", text: "2001:0db8:0000:0000:0000:0000:0000:0005", want: addrs("2001:db8::5")},
		{name: "ipv4-mapped is ipv4", text: "::ffff:203.0.113.5", want: addrs("203.0.113.5")},
		{name: "both families", text: "198.51.100.7 then 2001:db8:1::2", want: addrs("198.51.100.7", "2001:db8:1::2")},
		{name: "version with five parts", text: "build 1.2.3.4.5 released"},
		{name: "octet too large", text: "value 999.1.1.1"},
		{name: "last octet too large", text: "203.0.113.256"},
		{name: "three parts", text: "version 1.2.3"},
		{name: "letter before", text: "v1.2.3.4"},
		{name: "letters after", text: "203.0.113.5abc"},
		{name: "reverse name", text: "5.113.0.203.in-addr.arpa"},
		{name: "prefix", text: "in 198.51.100.0/24"},
		{name: "ipv6 prefix", text: "in 2001:db8::/32,"},
		{name: "dotted date", text: "2026.03.01"},
		{name: "clock", text: "at 12:34:56"},
		{name: "mac address", text: "00:11:22:33:44:55"},
		{name: "c++ scope", text: "std::vector and a::b"},
		{name: "unspecified", text: "bound to :: only"},
		{name: "dot word without digits", text: "the dot com era"},
		{name: "empty", text: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Addresses(tt.text)
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("Addresses(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestAddressesBounded(t *testing.T) {
	var b strings.Builder
	for i := range 200 {
		b.WriteString(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}).String() + " ")
	}
	if got := Addresses(b.String()); len(got) != MaxAddresses {
		t.Errorf("Addresses of 200 addresses returned %d, want %d", len(got), MaxAddresses)
	}
}

func TestAttachedPort(t *testing.T) {
	tests := []struct {
		name string
		text string
		want int
	}{
		{name: "colon", text: "203.0.113.5:8080 x", want: 8080},
		{name: "colon at end", text: "203.0.113.5:8080", want: 8080},
		{name: "colon then full stop", text: "203.0.113.5:8080.", want: 8080},
		{name: "bracketed ipv6", text: "[2001:db8::5]:443", want: 443},
		{name: "port word", text: "from 203.0.113.5 port 40112 ssh2", want: 40112},
		{name: "source port words", text: "203.0.113.5, src port 5123", want: 5123},
		{name: "parenthesised", text: "203.0.113.5(51413) ->", want: 51413},
		{name: "obfuscated address", text: "203.0.113[.]5:22", want: 22},
		{name: "out of range", text: "203.0.113.5:99999"},
		{name: "zero", text: "203.0.113.5:0"},
		{name: "colon then words", text: "203.0.113.5: attack"},
		{name: "not right after", text: "203.0.113.5 attacked our port 22"},
		{name: "ipv6 without brackets takes no port", text: "2001:db8::5 x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got int
			for h := range addrHits(defang(tt.text)) {
				got = h.port
				break
			}
			if got != tt.want {
				t.Errorf("port after the address in %q = %d, want %d", tt.text, got, tt.want)
			}
		})
	}
}

func TestLoosePorts(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		src, dst int
	}{
		{name: "port word", text: "attacks on port 443 all night", dst: 443},
		{name: "port with colon", text: "Port: 22", dst: 22},
		{name: "firewall keys", text: "SPT=5000 DPT=22", src: 5000, dst: 22},
		{name: "slash protocol", text: "open 3389/tcp", dst: 3389},
		{name: "source port words", text: "source port 4000", src: 4000},
		{name: "report is not port", text: "report 25 and support 80"},
		{name: "out of range", text: "port 70000"},
		{name: "none", text: "nothing here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := loosePorts(tt.text, nil)
			if src != tt.src || dst != tt.dst {
				t.Errorf("loosePorts(%q) = %d, %d, want %d, %d", tt.text, src, dst, tt.src, tt.dst)
			}
		})
	}
}

func TestURLs(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{name: "plain", text: "see https://example.com/a?b=1.", want: []string{"https://example.com/a?b=1"}},
		{name: "defanged scheme", text: "hxxp://bad.example.net/x", want: []string{"http://bad.example.net/x"}},
		{name: "defanged everything", text: "hXXps[:]//example[.]org/login", want: []string{"https://example.org/login"}},
		{name: "defanged separator", text: "hxxps[://]example.net/p", want: []string{"https://example.net/p"}},
		{name: "in parentheses", text: "(see http://example.com/x)", want: []string{"http://example.com/x"}},
		{name: "balanced parentheses kept", text: "http://wiki.example.org/Page_(one)", want: []string{"http://wiki.example.org/Page_(one)"}},
		{name: "upper-case scheme", text: "HTTP://EXAMPLE.COM/", want: []string{"http://EXAMPLE.COM/"}},
		{name: "ftp", text: "ftp://files.example.net/pub", want: []string{"ftp://files.example.net/pub"}},
		{name: "each once", text: "http://a.example/ http://a.example/", want: []string{"http://a.example/"}},
		{name: "no host", text: "http:// and https:///path"},
		{name: "other schemes", text: "javascript:alert(1) mailto:x@example.com"},
		{name: "bare domain", text: "example.com/path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, URLs(tt.text)); diff != "" {
				t.Errorf("URLs(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}
