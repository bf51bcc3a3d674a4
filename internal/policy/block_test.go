package policy

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sortie.dev/sortie/internal/refusal"
)

var decided = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func testBlock(id, domain string) Block {
	return Block{ID: id, Reason: "court order 12/2025", Basis: "court order", DecidedBy: "board",
		Decided: decided, NoticeURL: "https://exit.example/blocks/" + id, Domain: domain}
}

func TestBlockValidate(t *testing.T) {
	past := decided.Add(-time.Hour)
	tests := []struct {
		name   string
		mutate func(b *Block)
		want   []string // substrings; none means valid
	}{
		{name: "valid domain", mutate: func(b *Block) {}},
		{name: "valid prefix", mutate: func(b *Block) { b.Domain, b.Prefix = "", netip.MustParsePrefix("203.0.113.0/24") }},
		{name: "all required missing", mutate: func(b *Block) { *b = Block{Domain: "example.org"} },
			want: []string{"id is required", "reason is required", "basis is required", "decided_by is required", "notice_url is required", "decided is required"}},
		{name: "both targets", mutate: func(b *Block) { b.Prefix = netip.MustParsePrefix("203.0.113.0/24") }, want: []string{"exactly one of domain and prefix"}},
		{name: "no target", mutate: func(b *Block) { b.Domain = "" }, want: []string{"one of domain or prefix is required"}},
		{name: "wildcard domain", mutate: func(b *Block) { b.Domain = "*.example.org" }, want: []string{"include_subdomains"}},
		{name: "address as domain", mutate: func(b *Block) { b.Domain = "203.0.113.5" }, want: []string{"use prefix"}},
		{name: "bad domain", mutate: func(b *Block) { b.Domain = "exa mple.org" }, want: []string{"domain:"}},
		{name: "notice not a url", mutate: func(b *Block) { b.NoticeURL = "see the wiki" }, want: []string{"notice_url must be"}},
		{name: "expires before decided", mutate: func(b *Block) { b.Expires = &past }, want: []string{"expires must be after decided"}},
		{name: "subdomains on prefix", mutate: func(b *Block) {
			b.Domain, b.Prefix, b.IncludeSubdomains = "", netip.MustParsePrefix("203.0.113.0/24"), true
		}, want: []string{"include_subdomains applies to a domain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testBlock("b1", "example.org")
			tt.mutate(&b)
			err := b.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestBlocks(t *testing.T) {
	exp := decided.Add(30 * 24 * time.Hour)
	exact := testBlock("exact", "Shop.Example.")
	subs := testBlock("subs", "example.net")
	subs.IncludeSubdomains = true
	port := testBlock("port", "mail.example.com")
	port.Port = 25
	expiring := testBlock("expiring", "old.example")
	expiring.Expires = &exp
	netb := testBlock("net", "")
	netb.Domain, netb.Prefix, netb.Port = "", netip.MustParsePrefix("203.0.113.0/25"), 443
	mapped := testBlock("mapped", "")
	mapped.Domain, mapped.Prefix = "", netip.MustParsePrefix("::ffff:198.51.100.0/121")
	p := mustNew(t, Options{Blocks: []Block{exact, subs, port, expiring, netb, mapped}, BlockedBy: "https://exit.example/",
		AllowSpecial: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("198.51.100.0/24")}})
	before, after := exp.Add(-time.Second), exp
	public := netip.MustParseAddr("198.51.100.200")
	tests := []struct {
		name string
		q    Query
		want string // block ID, "" for not blocked
	}{
		{name: "exact name", q: Query{Name: "shop.example", Addr: public, Port: 443, Now: before}, want: "exact"},
		{name: "exact does not cover subdomains", q: Query{Name: "www.shop.example", Addr: public, Port: 443, Now: before}},
		{name: "apex of include_subdomains", q: Query{Name: "example.net", Addr: public, Port: 443, Now: before}, want: "subs"},
		{name: "deep subdomain", q: Query{Name: "a.b.example.net", Addr: public, Port: 443, Now: before}, want: "subs"},
		{name: "suffix is not a subdomain", q: Query{Name: "badexample.net", Addr: public, Port: 443, Now: before}},
		{name: "port entry, other port", q: Query{Name: "mail.example.com", Addr: public, Port: 587, Now: before}},
		{name: "port entry, its port", q: Query{Name: "mail.example.com", Addr: public, Port: 25, Now: before}, want: "port"},
		{name: "before expiry", q: Query{Name: "old.example", Addr: public, Port: 443, Now: before}, want: "expiring"},
		{name: "at expiry it lapses", q: Query{Name: "old.example", Addr: public, Port: 443, Now: after}},
		{name: "prefix and port", q: Query{Addr: netip.MustParseAddr("203.0.113.9"), Port: 443, Now: before}, want: "net"},
		{name: "prefix, other port", q: Query{Addr: netip.MustParseAddr("203.0.113.9"), Port: 80, Now: before}},
		{name: "outside prefix", q: Query{Addr: netip.MustParseAddr("203.0.113.200"), Port: 443, Now: before}},
		{name: "mapped prefix matches ipv4", q: Query{Addr: netip.MustParseAddr("198.51.100.7"), Port: 443, Now: before}, want: "mapped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := p.Decide(tt.q)
			got := ""
			if v.Block != nil {
				got = v.Block.ID
			}
			if got != tt.want {
				t.Fatalf("Decide blocked by %q (allow %v, %v), want %q", got, v.Allow, v.Rule.Origin, tt.want)
			}
			if tt.want == "" {
				return
			}
			if v.Allow || v.Reason != refusal.Blocked {
				t.Errorf("Decide = allow %v reason %v, want a Blocked refusal", v.Allow, v.Reason)
			}
			if tt.q.Name != "" {
				if n := p.DecideName(tt.q.Name, tt.q.Port, tt.q.Now); n.Block == nil || n.Block.ID != tt.want {
					t.Errorf("DecideName did not block with %q: %+v", tt.want, n.Rule)
				}
			}
		})
	}
}

func TestBlockedErr(t *testing.T) {
	b := testBlock("b7", "example.org")
	p := mustNew(t, Options{Blocks: []Block{b}, BlockedBy: "https://exit.example/"})
	err := p.DecideName("example.org", 443, decided).Err()
	e := refusal.As(err)
	if e == nil || e.Reason != refusal.Blocked || !errors.Is(err, err) {
		t.Fatalf("Err() = %v, want a Blocked refusal", err)
	}
	want := &refusal.Block{ID: "b7", Reason: b.Reason, Basis: b.Basis, DecidedBy: b.DecidedBy, Decided: decided,
		NoticeURL: b.NoticeURL, BlockedBy: "https://exit.example/"}
	if diff := cmp.Diff(want, e.Block); diff != "" {
		t.Errorf("refusal block mismatch (-want +got):\n%s", diff)
	}
	if strings.Contains(e.Error(), "example.org") {
		t.Errorf("Err() = %q names the destination", e.Error())
	}
	if v := p.DecideName("example.com", 443, decided); !v.Allow || v.Err() != nil {
		t.Errorf("DecideName(other) = %+v, want allowed", v)
	}
}

func TestBlocksAsEnforced(t *testing.T) {
	exp := decided.Add(24 * time.Hour)
	a := testBlock("a", "WWW.Example.ORG.")
	a.Expires = &exp
	b := testBlock("b", "example.net")
	b.BlockedBy = "https://desk.example/"
	p := mustNew(t, Options{Blocks: []Block{a, b}, BlockedBy: "https://exit.example/"})
	got := p.Blocks()
	if len(got) != 2 || got[0].Domain != "www.example.org" || got[0].BlockedBy != "https://exit.example/" ||
		got[1].BlockedBy != "https://desk.example/" || !got[0].Expires.Equal(exp) {
		t.Fatalf("Blocks() = %+v", got)
	}
	*got[0].Expires = decided
	got[1].Reason = "changed"
	again := p.Blocks()
	if !again[0].Expires.Equal(exp) || again[1].Reason == "changed" {
		t.Fatal("Blocks() hands out the policy's own entries")
	}
}
