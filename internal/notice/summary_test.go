package notice

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sortie.dev/sortie/internal/policy"
)

const reducedText = "20-23, 43, 53, 79-81, 88, 110, 143, 194, 220, 389, 443, 464-465, 531, 543-544, 554, 563, 587, 636, 706, 749, 873, 902-904, 981, 989-995, 1194, 1220, 1293, 1500, 1533, 1677, 1723, 1755, 1863, 2082-2083, 2086-2087, 2095-2096, 2102-2104, 3128, 3389, 3690, 4321, 4643, 5050, 5190, 5222-5223, 5228, 5900, 6660-6669, 6679, 6697, 8000, 8008, 8074, 8080, 8082, 8087-8088, 8232-8233, 8332-8333, 8443, 8888, 9418, 9999-10000, 11371, 19294, 19638, 50002, 64738"

func mustPolicy(t *testing.T, o policy.Options) *policy.Policy {
	t.Helper()
	p, err := policy.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRules(t *testing.T, text string) []policy.Rule {
	t.Helper()
	r, err := policy.ParseRules(text)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// summaryText is what the tests compare: the summary's fields in words.
type summaryText struct {
	Base          string
	OperatorRules int
	AddressRules  int
	IPv6Exit      bool
	IPv4, IPv6    string
	BaseText      string
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name  string
		opts  func(t *testing.T) policy.Options
		want  summaryText
		count int // open IPv4 ports
	}{
		{
			name: "default base",
			opts: func(*testing.T) policy.Options { return policy.Options{Base: policy.BaseDefault} },
			want: summaryText{
				Base: "default", IPv4: "all ports except 25, 119, 135-139, 445, 563, 1214, 4661-4666, 6346-6429, 6699, 6881-6999",
				IPv6: "no ports", BaseText: "Tor's default exit policy",
			},
			count: 65535 - 1 - 1 - 5 - 1 - 1 - 1 - 6 - 84 - 1 - 119,
		},
		{
			name: "empty base means default",
			opts: func(*testing.T) policy.Options {
				return policy.Options{Own: []netip.Addr{netip.MustParseAddr("192.0.2.7")}}
			},
			want: summaryText{
				Base: "default", IPv4: "all ports except 25, 119, 135-139, 445, 563, 1214, 4661-4666, 6346-6429, 6699, 6881-6999",
				IPv6: "no ports", BaseText: "Tor's default exit policy",
			},
			count: 65535 - 220,
		},
		{
			name: "reduced base",
			opts: func(*testing.T) policy.Options { return policy.Options{Base: policy.BaseReduced} },
			want: summaryText{
				Base: "reduced", IPv4: "only ports " + reducedText, IPv6: "no ports",
				BaseText: "Tor's reduced exit policy",
			},
			count: 101,
		},
		{
			name: "reject-all base",
			opts: func(*testing.T) policy.Options { return policy.Options{Base: policy.BaseRejectAll, IPv6Exit: true} },
			want: summaryText{
				Base: "reject-all", IPv6Exit: true, IPv4: "no ports", IPv6: "no ports",
				BaseText: "the operator's own rules; every port they do not open is closed",
			},
		},
		{
			name: "operator rules replace the base",
			opts: func(t *testing.T) policy.Options {
				return policy.Options{IPv6Exit: true, Rules: mustRules(t, "accept *:80\naccept *:443\nreject *:*")}
			},
			want: summaryText{
				OperatorRules: 3, IPv6Exit: true, IPv4: "only ports 80, 443", IPv6: "only ports 80, 443",
				BaseText: "the operator's own rules",
			},
			count: 2,
		},
		{
			name: "operator rules before the default, with address rules and families",
			opts: func(t *testing.T) policy.Options {
				return policy.Options{IPv6Exit: true, Base: policy.BaseDefault, Rules: mustRules(t,
					"reject 198.51.100.0/24:*\naccept 203.0.113.9:25\nreject *:22\nreject6 *:443\naccept *4:6999\nreject 0.0.0.0/0:8080-8081\nreject private:*")}
			},
			want: summaryText{
				Base: "default", OperatorRules: 7, AddressRules: 3, IPv6Exit: true,
				IPv4:     "all ports except 22, 25, 119, 135-139, 445, 563, 1214, 4661-4666, 6346-6429, 6699, 6881-6998, 8080-8081",
				IPv6:     "all ports except 22, 25, 119, 135-139, 443, 445, 563, 1214, 4661-4666, 6346-6429, 6699, 6881-6999",
				BaseText: "Tor's default exit policy, after 7 rules of the operator's own",
			},
			count: 65535 - 220 - 1 + 1 - 2,
		},
		{
			name: "one operator rule, one port open",
			opts: func(t *testing.T) policy.Options {
				return policy.Options{Base: policy.BaseRejectAll, Rules: mustRules(t, "accept *:443")}
			},
			want: summaryText{
				Base: "reject-all", OperatorRules: 1, IPv4: "only port 443", IPv6: "no ports",
				BaseText: "the operator's own rules; every port they do not open is closed",
			},
			count: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Summarize(mustPolicy(t, tt.opts(t)))
			if err != nil {
				t.Fatal(err)
			}
			got := summaryText{
				Base: s.Base, OperatorRules: s.OperatorRules, AddressRules: s.AddressRules,
				IPv6Exit: s.IPv6Exit, IPv4: s.IPv4.String(), IPv6: s.IPv6.String(), BaseText: baseText(s),
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			if got := s.IPv4.Count(); got != tt.count {
				t.Errorf("IPv4 open ports = %d, want %d", got, tt.count)
			}
		})
	}
}

func TestSummaryNeverNamesSpecialRanges(t *testing.T) {
	p := mustPolicy(t, policy.Options{
		IPv6Exit: true, Own: []netip.Addr{netip.MustParseAddr("192.0.2.7")},
		Rules: mustRules(t, "reject 198.51.100.0/24:*"),
	})
	s, err := Summarize(p)
	if err != nil {
		t.Fatal(err)
	}
	v := newSummaryView(s)
	var text strings.Builder
	text.WriteString(v.Base)
	for _, l := range v.Lines {
		text.WriteString(l.Family + l.Ports)
	}
	for _, bad := range []string{"private", "192.0.2", "198.51.100", "10.0.0.0", "fc00", "/"} {
		if strings.Contains(text.String(), bad) {
			t.Errorf("summary %q names %q", text.String(), bad)
		}
	}
}

func TestPortsString(t *testing.T) {
	many := Ports{}
	for port := uint16(2); port < 400; port += 2 {
		many.Open = append(many.Open, PortRange{Lo: port, Hi: port})
	}
	tests := []struct {
		name  string
		ports Ports
		want  string
	}{
		{name: "all", ports: Ports{Open: []PortRange{{Lo: 1, Hi: 65535}}}, want: "all ports"},
		{name: "none", ports: Ports{}, want: "no ports"},
		{name: "all but the ends", ports: Ports{Open: []PortRange{{Lo: 2, Hi: 65534}}}, want: "all ports except 1, 65535"},
		{name: "one range", ports: Ports{Open: []PortRange{{Lo: 8000, Hi: 8100}}}, want: "only ports 8000-8100"},
		{name: "capped", ports: many, want: "only ports 2, 4, 6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.ports.String()
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("String() = %q, want it to start with %q", got, tt.want)
			}
		})
	}
	if got, want := many.String(), "and 79 more ranges"; !strings.HasSuffix(got, want) {
		t.Errorf("capped String() = %q, want it to end with %q", got, want)
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
		want string
	}{
		{name: "default ring", d: 15 * time.Minute, want: "15 minutes"},
		{name: "one hour", d: time.Hour, want: "1 hour"},
		{name: "mixed", d: 90*time.Minute + 1*time.Second, want: "1 hour 30 minutes 1 second"},
		{name: "days", d: 48 * time.Hour, want: "2 days"},
		{name: "seconds", d: 45 * time.Second, want: "45 seconds"},
		{name: "tiny", d: time.Millisecond, want: "less than a second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := humanDuration(tt.d); got != tt.want {
				t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

// TestSummaryAgreesWithDecide checks every port of the summary against Decide itself, on a
// documentation address taken out of the special-purpose table and covered by no address rule.
func TestSummaryAgreesWithDecide(t *testing.T) {
	allow := []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")}
	tests := []struct {
		name  string
		base  string
		rules string
		ipv6  bool
	}{
		{name: "default", base: policy.BaseDefault},
		{name: "reduced", base: policy.BaseReduced, ipv6: true},
		{name: "reject-all with holes", base: policy.BaseRejectAll, rules: "accept *:1-1024\nreject *:25\naccept6 *:8080", ipv6: true},
		{name: "operator over default", base: policy.BaseDefault, rules: "reject 198.51.100.0/24:*\nreject *4:1-100\naccept *:25\nreject6 *:443", ipv6: true},
		{name: "operator replaces base", rules: "reject *:6000-7000\naccept *:*", ipv6: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rules []policy.Rule
			if tt.rules != "" {
				rules = mustRules(t, tt.rules)
			}
			p := mustPolicy(t, policy.Options{Base: tt.base, Rules: rules, IPv6Exit: tt.ipv6, AllowSpecial: allow})
			s, err := Summarize(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				addr  netip.Addr
				ports Ports
			}{
				{addr: netip.MustParseAddr("203.0.113.50"), ports: s.IPv4},
				{addr: netip.MustParseAddr("2001:db8::50"), ports: s.IPv6},
			} {
				open := make(map[uint16]bool, c.ports.Count())
				for _, r := range c.ports.Open {
					for port := int(r.Lo); port <= int(r.Hi); port++ {
						open[uint16(port)] = true
					}
				}
				mismatches := 0
				for port := 1; port <= 65535 && mismatches < 5; port++ {
					v := p.Decide(policy.Query{Addr: c.addr, Port: uint16(port)})
					if v.Allow != open[uint16(port)] {
						t.Errorf("%s port %d: Decide allows %v, summary says open %v", c.addr, port, v.Allow, open[uint16(port)])
						mismatches++
					}
				}
			}
		})
	}
}
