package egress

import (
	"net/netip"
	"strings"
	"testing"

	"sortie.dev/sortie/internal/refusal"
)

func TestDefaultNormalize(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	cases := []struct {
		name       string
		host       string
		wantName   string
		wantAddr   netip.Addr
		wantReason refusal.Reason // Unknown means no error
	}{
		{name: "lower-cased name", host: "WWW.Example.COM", wantName: "www.example.com"},
		{name: "one trailing dot dropped", host: "example.com.", wantName: "example.com"},
		{name: "two trailing dots", host: "example.com..", wantReason: refusal.Malformed},
		{name: "underscore and hyphen", host: "_dmarc.my-host.example", wantName: "_dmarc.my-host.example"},
		{name: "digits in last label", host: "example.c0m", wantName: "example.c0m"},
		{name: "single label", host: "intranet", wantName: "intranet"},
		{name: "ipv4", host: "192.0.2.1", wantAddr: netip.MustParseAddr("192.0.2.1")},
		{name: "ipv6 bare", host: "2001:DB8::1", wantAddr: netip.MustParseAddr("2001:db8::1")},
		{name: "ipv6 bracketed", host: "[2001:db8::1]", wantAddr: netip.MustParseAddr("2001:db8::1")},
		{name: "ipv4-mapped unmapped", host: "[::ffff:192.0.2.1]", wantAddr: netip.MustParseAddr("192.0.2.1")},
		{name: "ipv4-mapped hex unmapped", host: "::ffff:c000:201", wantAddr: netip.MustParseAddr("192.0.2.1")},
		{name: "bracketed ipv4", host: "[192.0.2.1]", wantReason: refusal.Malformed},
		{name: "bracketed name", host: "[example.com]", wantReason: refusal.Malformed},
		{name: "open bracket only", host: "[2001:db8::1", wantReason: refusal.Malformed},
		{name: "close bracket only", host: "2001:db8::1]", wantReason: refusal.Malformed},
		{name: "nested brackets", host: "[[::1]]", wantReason: refusal.Malformed},
		{name: "zone id", host: "fe80::1%eth0", wantReason: refusal.Malformed},
		{name: "bracketed zone id", host: "[fe80::1%25eth0]", wantReason: refusal.Malformed},
		{name: "empty", host: "", wantReason: refusal.Malformed},
		{name: "dot only", host: ".", wantReason: refusal.Malformed},
		{name: "empty brackets", host: "[]", wantReason: refusal.Malformed},
		{name: "empty label", host: "a..example", wantReason: refusal.Malformed},
		{name: "leading dot", host: ".example.com", wantReason: refusal.Malformed},
		{name: "label of 63", host: long63 + ".example", wantName: long63 + ".example"},
		{name: "label of 64", host: long63 + "a.example", wantReason: refusal.Malformed},
		{name: "name of 253", host: name253(), wantName: name253()},
		{name: "name of 253 with dot", host: name253() + ".", wantName: name253()},
		{name: "name of 254", host: "a" + name253(), wantReason: refusal.Malformed},
		{name: "space", host: "exa mple.com", wantReason: refusal.Malformed},
		{name: "port included", host: "example.com:80", wantReason: refusal.Malformed},
		{name: "user info", host: "user@example.com", wantReason: refusal.Malformed},
		{name: "slash", host: "example.com/x", wantReason: refusal.Malformed},
		{name: "nul", host: "example.com\x00.evil", wantReason: refusal.Malformed},
		{name: "unicode", host: "bücher.example", wantReason: refusal.Malformed},
		{name: "short ipv4", host: "127.1", wantReason: refusal.Malformed},
		{name: "decimal ipv4", host: "2130706433", wantReason: refusal.Malformed},
		{name: "hex ipv4", host: "0x7f000001", wantReason: refusal.Malformed},
		{name: "hex parts", host: "0x7f.0.0.1", wantReason: refusal.Malformed},
		{name: "octal ipv4", host: "0177.0.0.1", wantReason: refusal.Malformed},
		{name: "ipv4 out of range", host: "1.2.3.256", wantReason: refusal.Malformed},
		{name: "numeric last label with dot", host: "example.123.", wantReason: refusal.Malformed},
		{name: "hex prefix only", host: "a.0x", wantReason: refusal.Malformed},
		{name: "hex-looking word", host: "a.0xfg", wantName: "a.0xfg"},
		{name: "localhost", host: "localhost", wantReason: refusal.Policy},
		{name: "LOCALHOST dot", host: "LOCALHOST.", wantReason: refusal.Policy},
		{name: "sub.localhost", host: "a.b.localhost", wantReason: refusal.Policy},
		{name: "localhost as a label only", host: "localhost.example", wantName: "localhost.example"},
		{name: "suffix without dot", host: "mylocalhost", wantName: "mylocalhost"},
	}
	if n := len(name253()); n != 253 {
		t.Fatalf("name253 has %d characters", n)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name, addr, err := DefaultNormalize(c.host)
			if got := refusal.ReasonOf(err); err != nil && got != c.wantReason || err == nil && c.wantReason != refusal.Unknown {
				t.Fatalf("DefaultNormalize(%q) error = %v, want reason %v", c.host, err, c.wantReason)
			}
			if err != nil && refusal.As(err) == nil {
				t.Errorf("error %v is not a *refusal.Error", err)
			}
			if name != c.wantName || addr != c.wantAddr {
				t.Errorf("DefaultNormalize(%q) = %q, %v; want %q, %v", c.host, name, addr, c.wantName, c.wantAddr)
			}
		})
	}
}

// name253 is a valid name of exactly 253 characters.
func name253() string {
	l := strings.Repeat("a", 62)
	return l + "." + l + "." + l + "." + l + ".a" // 4*63 + 1
}

func FuzzDefaultNormalize(f *testing.F) {
	for _, s := range []string{"example.com", "[::1]", "127.1", "a..b", "LOCALHOST.", "fe80::1%x", "[::ffff:1.2.3.4]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		name, addr, err := DefaultNormalize(host)
		if err != nil {
			if refusal.As(err) == nil {
				t.Fatalf("error %v is not a *refusal.Error", err)
			}
			if msg := err.Error(); msg != "malformed: "+msgMalformed && msg != "policy: "+msgPolicy {
				t.Fatalf("unexpected error text %q", msg)
			}
			return
		}
		if addr.IsValid() {
			if name != "" || addr.Is4In6() || addr.Zone() != "" {
				t.Fatalf("DefaultNormalize(%q) = %q, %v", host, name, addr)
			}
			return
		}
		if name == "" || len(name) > maxNameLen || name != strings.ToLower(name) || strings.HasSuffix(name, ".") {
			t.Fatalf("DefaultNormalize(%q) = %q", host, name)
		}
		if _, err := netip.ParseAddr(name); err == nil {
			t.Fatalf("DefaultNormalize(%q) returned address %q as a name", host, name)
		}
		again, _, err := DefaultNormalize(name)
		if err != nil || again != name {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", host, name, again, err)
		}
	})
}
