package policy

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"sortie.dev/sortie/internal/refusal"
)

func TestNormalizeHost(t *testing.T) {
	tests := []struct {
		name     string
		host     string
		wantName string
		wantAddr string
		reason   refusal.Reason // Unknown: no error
		sentinel error
	}{
		{name: "plain name", host: "example.org", wantName: "example.org"},
		{name: "upper case and trailing dot", host: "WWW.Example.ORG.", wantName: "www.example.org"},
		{name: "underscore and hyphen kept", host: "my_host-1.example.org", wantName: "my_host-1.example.org"},
		{name: "idn to punycode", host: "bücher.example", wantName: "xn--bcher-kva.example"},
		{name: "idn upper case", host: "BÜCHER.example", wantName: "xn--bcher-kva.example"},
		{name: "punycode kept", host: "xn--bcher-kva.example", wantName: "xn--bcher-kva.example"},
		{name: "ideographic full stop", host: "bücher。example", wantName: "xn--bcher-kva.example"},
		{name: "dotted quad", host: "192.0.2.1", wantAddr: "192.0.2.1"},
		{name: "dotted quad trailing dot", host: "192.0.2.1.", wantAddr: "192.0.2.1"},
		{name: "two parts", host: "127.1", wantAddr: "127.0.0.1"},
		{name: "hex and short", host: "0x7f.1", wantAddr: "127.0.0.1"},
		{name: "one decimal", host: "2130706433", wantAddr: "127.0.0.1"},
		{name: "one octal", host: "017700000001", wantAddr: "127.0.0.1"},
		{name: "one hex upper", host: "0X7F000001", wantAddr: "127.0.0.1"},
		{name: "octal parts", host: "0300.0250.01.01", wantAddr: "192.168.1.1"},
		{name: "three parts", host: "10.1.258", wantAddr: "10.1.1.2"},
		{name: "bare 0x is zero", host: "0x.0.0.1", wantAddr: "0.0.0.1"},
		{name: "fullwidth digits", host: "１２７.０.０.１", wantAddr: "127.0.0.1"},
		{name: "bracketed ipv6", host: "[2001:DB8::1]", wantAddr: "2001:db8::1"},
		{name: "bare ipv6", host: "2001:db8::1", wantAddr: "2001:db8::1"},
		{name: "mapped ipv6 unmapped", host: "[::ffff:192.0.2.1]", wantAddr: "192.0.2.1"},
		{name: "part too big", host: "1.2.3.256", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "bad hex", host: "0x1g", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "bad octal", host: "08.0.0.1", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "five parts", host: "1.2.3.4.5", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "decimal overflow", host: "4294967296", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "huge number", host: "99999999999999999999999", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "numeric tld", host: "example.123abc", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "empty part", host: "1..2", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "empty", host: "", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "only a dot", host: ".", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "space", host: "exa mple.org", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "label too long", host: strings.Repeat("a", 64) + ".org", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "name too long", host: strings.Repeat("abcdefghi.", 26) + "org", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "bad punycode", host: "xn--a.example", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "zone in brackets", host: "[fe80::1%25eth0]", reason: refusal.Malformed, sentinel: ErrZone},
		{name: "zone bare", host: "fe80::1%eth0", reason: refusal.Malformed, sentinel: ErrZone},
		{name: "unclosed bracket", host: "[::1", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "ipv4 in brackets", host: "[127.0.0.1]", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "host with port", host: "example.org:80", reason: refusal.Malformed, sentinel: ErrBadHost},
		{name: "localhost", host: "localhost", reason: refusal.Policy, sentinel: ErrLocalhost},
		{name: "localhost upper with dot", host: "LocalHost.", reason: refusal.Policy, sentinel: ErrLocalhost},
		{name: "under localhost", host: "app.localhost", reason: refusal.Policy, sentinel: ErrLocalhost},
		{name: "fullwidth localhost", host: "ｌｏｃａｌｈｏｓｔ", reason: refusal.Policy, sentinel: ErrLocalhost},
		{name: "localhost suffix only", host: "notlocalhost", wantName: "notlocalhost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, addr, err := NormalizeHost(tt.host)
			if tt.reason != refusal.Unknown {
				if got := refusal.ReasonOf(err); got != tt.reason || !errors.Is(err, tt.sentinel) {
					t.Fatalf("NormalizeHost(%q) error = %v (reason %v), want reason %v wrapping %v", tt.host, err, got, tt.reason, tt.sentinel)
				}
				if tt.reason == refusal.Malformed && tt.host != "" && strings.Contains(err.Error(), tt.host) {
					t.Errorf("error %q contains the host", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NormalizeHost(%q) error: %v", tt.host, err)
			}
			var wantAddr netip.Addr
			if tt.wantAddr != "" {
				wantAddr = netip.MustParseAddr(tt.wantAddr)
			}
			if name != tt.wantName || addr != wantAddr {
				t.Errorf("NormalizeHost(%q) = %q, %v; want %q, %v", tt.host, name, addr, tt.wantName, wantAddr)
			}
		})
	}
}
