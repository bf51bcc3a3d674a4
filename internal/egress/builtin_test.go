package egress

import (
	"net/netip"
	"testing"

	"sortie.dev/sortie/internal/refusal"
)

func TestBuiltin(t *testing.T) {
	cases := []struct {
		name  string
		addr  string
		allow bool
	}{
		{name: "public ipv4", addr: "8.8.8.8", allow: true},
		{name: "public ipv4 high", addr: "223.255.255.255", allow: true},
		{name: "just below 100.64/10", addr: "100.63.255.255", allow: true},
		{name: "just above 172.16/12", addr: "172.32.0.0", allow: true},
		{name: "just below 198.18/15", addr: "198.17.255.255", allow: true},
		{name: "192.0.1.1 is global", addr: "192.0.1.1", allow: true},
		{name: "unspecified v4", addr: "0.0.0.0"},
		{name: "this network", addr: "0.1.2.3"},
		{name: "rfc1918 10", addr: "10.1.2.3"},
		{name: "cgnat", addr: "100.64.0.1"},
		{name: "cgnat top", addr: "100.127.255.255"},
		{name: "loopback", addr: "127.0.0.1"},
		{name: "loopback other", addr: "127.255.0.9"},
		{name: "link-local v4", addr: "169.254.169.254"},
		{name: "rfc1918 172", addr: "172.31.255.255"},
		{name: "ietf protocol assignments", addr: "192.0.0.8"},
		{name: "test-net-1", addr: "192.0.2.1"},
		{name: "6to4 relay anycast", addr: "192.88.99.1"},
		{name: "rfc1918 192", addr: "192.168.1.1"},
		{name: "benchmarking", addr: "198.19.0.1"},
		{name: "test-net-2", addr: "198.51.100.7"},
		{name: "test-net-3", addr: "203.0.113.9"},
		{name: "multicast v4", addr: "224.0.0.1"},
		{name: "reserved", addr: "240.0.0.1"},
		{name: "broadcast", addr: "255.255.255.255"},
		{name: "public ipv6", addr: "2606:4700::1111", allow: true},
		{name: "public ipv6 top of 2000::/3", addr: "3ffe::1", allow: true},
		{name: "unspecified v6", addr: "::"},
		{name: "loopback v6", addr: "::1"},
		{name: "ipv4-compatible", addr: "::8.8.8.8"},
		{name: "mapped loopback", addr: "::ffff:127.0.0.1"},
		{name: "mapped public", addr: "::ffff:8.8.8.8", allow: true},
		{name: "nat64 loopback", addr: "64:ff9b::7f00:1"},
		{name: "nat64 private", addr: "64:ff9b::10.0.0.1"},
		{name: "nat64 public", addr: "64:ff9b::8.8.8.8", allow: true},
		{name: "local-use nat64", addr: "64:ff9b:1::8.8.8.8"},
		{name: "discard-only", addr: "100::1"},
		{name: "teredo and ietf", addr: "2001::1"},
		{name: "documentation v6", addr: "2001:db8::1"},
		{name: "documentation v6 new", addr: "3fff::1"},
		{name: "6to4 private", addr: "2002:c0a8:0101::1"},
		{name: "6to4 public", addr: "2002:0808:0808::1", allow: true},
		{name: "srv6 sids", addr: "5f00::1"},
		{name: "unique local", addr: "fd00::1"},
		{name: "unique local fc", addr: "fc00::1"},
		{name: "link-local v6", addr: "fe80::1"},
		{name: "link-local v6 with zone", addr: "fe80::1%eth0"},
		{name: "site-local", addr: "fec0::1"},
		{name: "multicast v6", addr: "ff02::1"},
		{name: "invalid", addr: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var addr netip.Addr
			if c.addr != "" {
				addr = netip.MustParseAddr(c.addr)
			}
			err := Builtin(addr, 443)
			if c.allow {
				if err != nil {
					t.Errorf("Builtin(%v) = %v, want nil", addr, err)
				}
				return
			}
			re := refusal.As(err)
			if re == nil || re.Reason != refusal.Policy || re.Message != "destination not allowed" {
				t.Errorf("Builtin(%v) = %v, want policy: destination not allowed", addr, err)
			}
		})
	}
}

func TestBuiltinAllocs(t *testing.T) {
	addrs := addrs("8.8.8.8", "2606:4700::1111", "64:ff9b::8.8.8.8", "::ffff:8.8.8.8")
	n := testing.AllocsPerRun(100, func() {
		for _, a := range addrs {
			if Builtin(a, 443) != nil {
				t.Fatal("refused a public address")
			}
		}
	})
	if n != 0 {
		t.Errorf("Builtin allocates %v times per run, want 0", n)
	}
}

func BenchmarkBuiltin(b *testing.B) {
	addr := netip.MustParseAddr("2606:4700::1111")
	for b.Loop() {
		_ = Builtin(addr, 443)
	}
}
