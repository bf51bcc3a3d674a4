package policy

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sortie.dev/sortie/internal/refusal"
)

func mustRules(t testing.TB, text string) []Rule {
	t.Helper()
	r, err := ParseRules(text)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustNew(t testing.TB, o Options) *Policy {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ruleTexts(p *Policy) []string {
	var s []string
	for _, r := range p.Rules() {
		s = append(s, r.Origin.String()+" "+r.Text)
	}
	return s
}

func TestAssembly(t *testing.T) {
	tests := []struct {
		name string
		opts func(t *testing.T) Options
		want []string
	}{
		{
			name: "ipv6 off, own, operator prepended to reject-all",
			opts: func(t *testing.T) Options {
				return Options{Own: []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")},
					Rules: mustRules(t, "accept *:443"), Base: BaseRejectAll}
			},
			want: []string{"ipv6_off reject *6:*", "private reject private:*", "own reject 192.0.2.1/32:*",
				"own reject [2001:db8::1]/128:*", "operator accept *:443", "base reject *:*"},
		},
		{
			name: "ipv6 on, operator ending in accept *:* replaces the base",
			opts: func(t *testing.T) Options {
				return Options{IPv6Exit: true, Rules: mustRules(t, "reject *:25\naccept *:*"), Base: BaseReduced}
			},
			want: []string{"private reject private:*", "operator reject *:25", "operator accept *:*"},
		},
		{
			name: "operator ending in reject *:* replaces the base",
			opts: func(t *testing.T) Options {
				return Options{IPv6Exit: true, Rules: mustRules(t, "accept *:80, reject *:*")}
			},
			want: []string{"private reject private:*", "operator accept *:80", "operator reject *:*"},
		},
		{
			name: "ending in reject *4:* is prepended",
			opts: func(t *testing.T) Options {
				return Options{IPv6Exit: true, Rules: mustRules(t, "reject *4:*"), Base: BaseRejectAll}
			},
			want: []string{"private reject private:*", "operator reject *4:*", "base reject *:*"},
		},
		{
			name: "no operator lines: the default base",
			opts: func(t *testing.T) Options { return Options{IPv6Exit: true} },
			want: []string{"private reject private:*", "base reject *:25", "base reject *:119", "base reject *:135-139",
				"base reject *:445", "base reject *:563", "base reject *:1214", "base reject *:4661-4666",
				"base reject *:6346-6429", "base reject *:6699", "base reject *:6881-6999", "base accept *:*"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ruleTexts(mustNew(t, tt.opts(t)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("assembled rules mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want []string // substrings, all required
	}{
		{name: "unknown base", opts: Options{Base: "loose"}, want: []string{`unknown base policy "loose"`}},
		{name: "bad hand-made rule", opts: Options{Rules: []Rule{{Text: "x", PortLo: 9, PortHi: 8}}}, want: []string{"bad port range"}},
		{name: "every problem at once", opts: Options{Base: "loose", Own: []netip.Addr{{}},
			Blocks: []Block{{ID: "b1"}}}, want: []string{"unknown base", "own address: invalid", "reason is required"}},
		{name: "duplicate block id", opts: Options{Blocks: []Block{testBlock("dup", "example.org"), testBlock("dup", "example.net")}},
			want: []string{`duplicate id "dup"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestDecide(t *testing.T) {
	addr := netip.MustParseAddr
	own := addr("192.0.2.1")
	p := mustNew(t, Options{
		Own:          []netip.Addr{own},
		OwnPorts:     []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:4444"), netip.MustParseAddrPort("[2001:db8::9]:4445")},
		Rules:        mustRules(t, "reject 198.51.100.66:*\naccept 198.51.100.0/24:22\naccept6 [2001:db8::]/32:22"),
		Base:         BaseReduced,
		AllowSpecial: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("192.0.2.0/24")},
	})
	p6 := mustNew(t, Options{IPv6Exit: true, AllowSpecial: []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}})
	tests := []struct {
		name   string
		p      *Policy
		q      Query
		allow  bool
		origin Origin
		text   string
	}{
		{name: "allowed special, reduced port", p: p, q: Query{Addr: addr("198.51.100.7"), Port: 443}, allow: true, origin: OriginBase, text: "accept *:443"},
		{name: "reduced rejects port 25", p: p, q: Query{Addr: addr("198.51.100.7"), Port: 25}, origin: OriginBase, text: "reject *:*"},
		{name: "operator accepts 22", p: p, q: Query{Addr: addr("198.51.100.7"), Port: 22}, allow: true, origin: OriginOperator, text: "accept 198.51.100.0/24:22"},
		{name: "operator rejects host first", p: p, q: Query{Addr: addr("198.51.100.66"), Port: 22}, origin: OriginOperator, text: "reject 198.51.100.66:*"},
		{name: "mapped address checked as ipv4", p: p, q: Query{Addr: addr("::ffff:198.51.100.66"), Port: 443}, origin: OriginOperator, text: "reject 198.51.100.66:*"},
		{name: "special range refused", p: p, q: Query{Addr: addr("10.1.2.3"), Port: 443}, origin: OriginSpecial, text: "10.0.0.0/8 Private-Use (RFC 1918)"},
		{name: "documentation range not allowed", p: p, q: Query{Addr: addr("203.0.113.5"), Port: 443}, origin: OriginSpecial, text: "203.0.113.0/24 Documentation (TEST-NET-3) (RFC 5737)"},
		{name: "own address even when allowed", p: p, q: Query{Addr: own, Port: 443}, origin: OriginOwn},
		{name: "own address through nat64", p: p6, q: Query{Addr: addr("64:ff9b::c000:201"), Port: 443}, origin: OriginSpecial},
		{name: "own listener on loopback", p: p, q: Query{Addr: addr("127.0.0.1"), Port: 4444}, origin: OriginOwn},
		{name: "other loopback port allowed", p: p, q: Query{Addr: addr("127.0.0.1"), Port: 443}, allow: true, origin: OriginBase, text: "accept *:443"},
		{name: "ipv6 off", p: p, q: Query{Addr: addr("2606:4700::1"), Port: 443}, origin: OriginIPv6Off, text: "reject *6:*"},
		{name: "ipv6 on", p: p6, q: Query{Addr: addr("2606:4700::1"), Port: 443}, allow: true, origin: OriginBase, text: "accept *:*"},
		{name: "ipv6 default base rejects 25", p: p6, q: Query{Addr: addr("2606:4700::1"), Port: 25}, origin: OriginBase, text: "reject *:25"},
		{name: "zone ignored", p: p6, q: Query{Addr: addr("fe80::1%eth0"), Port: 443}, origin: OriginSpecial, text: "fe80::/10 Link-Local Unicast (RFC 4291)"},
		{name: "nat64 to loopback", p: p6, q: Query{Addr: addr("64:ff9b::7f00:1"), Port: 443}, origin: OriginSpecial, text: "127.0.0.0/8 Loopback (RFC 1122 §3.2.1.3)"},
		{name: "nat64 to public", p: p6, q: Query{Addr: addr("64:ff9b::808:808"), Port: 443}, allow: true, origin: OriginBase, text: "accept *:*"},
		{name: "6to4 to private", p: p6, q: Query{Addr: addr("2002:c0a8:0101::1"), Port: 443}, origin: OriginSpecial, text: "192.168.0.0/16 Private-Use (RFC 1918)"},
		{name: "allowed ipv6 documentation", p: p6, q: Query{Addr: addr("2001:db8::5"), Port: 443}, allow: true, origin: OriginBase},
		{name: "ipv6 own listener exact", p: p, q: Query{Addr: addr("2001:db8::9"), Port: 4445}, origin: OriginOwn},
		{name: "invalid address", p: p, q: Query{Port: 443}, origin: OriginInvalid, text: "invalid address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.p.Decide(tt.q)
			if v.Allow != tt.allow || v.Rule.Origin != tt.origin || tt.text != "" && v.Rule.Text != tt.text {
				t.Errorf("Decide = allow %v, %v %q; want allow %v, %v %q", v.Allow, v.Rule.Origin, v.Rule.Text, tt.allow, tt.origin, tt.text)
			}
			wantReason := refusal.Policy
			if tt.allow {
				wantReason = refusal.Unknown
			}
			if v.Reason != wantReason {
				t.Errorf("Decide reason = %v, want %v", v.Reason, wantReason)
			}
			if err := v.Err(); (err == nil) != tt.allow {
				t.Errorf("Err() = %v, want nil only when allowed", err)
			}
		})
	}
}

// TestAllowSpecialAndOperatorPrivate: AllowSpecial lifts the table and the implicit
// `reject private:*`, but not a `reject private:*` the operator wrote.
func TestAllowSpecialAndOperatorPrivate(t *testing.T) {
	allow := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	q := Query{Addr: netip.MustParseAddr("10.9.9.9"), Port: 443}
	if v := mustNew(t, Options{AllowSpecial: allow}).Decide(q); !v.Allow {
		t.Errorf("allowed 10/8: Decide = %+v, want allowed", v.Rule)
	}
	v := mustNew(t, Options{AllowSpecial: allow, Rules: mustRules(t, "reject private:*")}).Decide(q)
	if v.Allow || v.Rule.Origin != OriginOperator {
		t.Errorf("operator reject private: Decide = allow %v by %v, want refused by the operator", v.Allow, v.Rule.Origin)
	}
}

func TestVerdictErrMessages(t *testing.T) {
	p := mustNew(t, Options{Rules: mustRules(t, "reject 198.51.100.66:*"),
		AllowSpecial: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}})
	for _, q := range []Query{
		{Addr: netip.MustParseAddr("198.51.100.66"), Port: 8443},
		{Addr: netip.MustParseAddr("127.0.0.1"), Port: 8443},
	} {
		err := p.Decide(q).Err()
		e := refusal.As(err)
		if e == nil || e.Reason != refusal.Policy {
			t.Fatalf("Err() = %v, want a Policy refusal", err)
		}
		for _, leak := range []string{q.Addr.String(), "8443", "127.0.0.0/8", "Loopback", "reject"} {
			if strings.Contains(e.Error(), leak) {
				t.Errorf("Err() = %q, contains %q", e.Error(), leak)
			}
		}
	}
}

func TestDecideZeroAlloc(t *testing.T) {
	p := benchPolicy(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	queries := []Query{
		{Name: "www.example.org", Addr: netip.MustParseAddr("198.51.100.7"), Port: 443, Now: now},
		{Name: "a.b.blocked.example", Addr: netip.MustParseAddr("198.51.100.7"), Port: 443, Now: now},
		{Addr: netip.MustParseAddr("203.0.113.9"), Port: 443, Now: now},
		{Addr: netip.MustParseAddr("10.0.0.1"), Port: 80, Now: now},
		{Addr: netip.MustParseAddr("64:ff9b::7f00:1"), Port: 80, Now: now},
		{Addr: netip.MustParseAddr("2606:4700::1"), Port: 6000, Now: now},
	}
	for _, q := range queries {
		if n := testing.AllocsPerRun(200, func() { _ = p.Decide(q) }); n != 0 {
			t.Errorf("Decide(%v) allocates %v times per run, want 0", q.Addr, n)
		}
	}
	if n := testing.AllocsPerRun(200, func() { _ = p.DecideName("x.blocked.example", 443, now) }); n != 0 {
		t.Errorf("DecideName allocates %v times per run, want 0", n)
	}
}

func benchPolicy(t testing.TB) *Policy {
	blocks := []Block{testBlock("name", "blocked.example"), testBlock("net", "")}
	blocks[0].IncludeSubdomains = true
	blocks[1].Domain, blocks[1].Prefix = "", netip.MustParsePrefix("203.0.113.0/24")
	return mustNew(t, Options{
		IPv6Exit:     true,
		Own:          []netip.Addr{netip.MustParseAddr("192.0.2.1")},
		OwnPorts:     []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:4444")},
		Rules:        mustRules(t, "reject 198.51.100.66:*\naccept 198.51.100.0/24:22"),
		Base:         BaseReduced,
		AllowSpecial: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")},
		Blocks:       blocks,
	})
}

func BenchmarkDecide(b *testing.B) {
	p := benchPolicy(b)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, bc := range []struct {
		name string
		q    Query
	}{
		{name: "name late in reduced", q: Query{Name: "www.example.org", Addr: netip.MustParseAddr("198.51.100.7"), Port: 64738, Now: now}},
		{name: "special", q: Query{Addr: netip.MustParseAddr("10.0.0.1"), Port: 443, Now: now}},
		{name: "ipv6 first rule", q: Query{Addr: netip.MustParseAddr("2606:4700::1"), Port: 20, Now: now}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = p.Decide(bc.q)
			}
		})
	}
}
