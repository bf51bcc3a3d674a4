package config

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestValidateInCode checks configurations built in code: problems name the key path, with
// no file or line.
func TestValidateInCode(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
		want []string
	}{
		{name: "default is valid", edit: func(c *Config) {}},
		{
			name: "listener built in code needs no name or protocols",
			edit: func(c *Config) {
				c.Listeners = []Listener{{Address: netip.MustParseAddrPort("127.0.0.1:0")}, {Address: netip.MustParseAddrPort("127.0.0.1:0")}}
			},
			want: []string{`listeners[1].name: "127.0.0.1:0" is already the name of listeners[0]`},
		},
		{
			name: "zero config",
			edit: func(c *Config) { *c = Config{} },
			want: []string{
				"version: want 1 (the only format this Sortie reads), got 0",
				"listeners: want at least one listener, such as - address: 127.0.0.1:4480",
				"gateway.max_connections: want 1 or more, got 0",
				"gateway.max_client_handshakes: want 1 or more, got 0",
				"gateway.max_handshakes: want 1 or more, got 0",
				"gateway.max_header_bytes: want between 1024 and 1048576, got 0",
				"gateway.handshake_timeout: want a duration above zero such as 10s, got 0s",
				"gateway.keepalive_timeout: want a duration above zero such as 10s, got 0s",
				"gateway.idle_timeout: want a duration above zero such as 10s, got 0s",
				"gateway.drain_timeout: want a duration above zero such as 10s, got 0s",
				"egress.dial_timeout: want a duration above zero such as 10s, got 0s",
				"resolver.timeout: want a duration above zero such as 10s, got 0s",
				"resolver.ttl_ceiling: want a duration above zero such as 1h, got 0s",
				"resolver.cache_size: want 1 to 10000000 entries, got 0",
				"metrics.address: missing: want host:port such as 127.0.0.1:4481",
				"desk.retention: want at least 1d (such as 400d), got 0s",
				`desk.tag: want one word without brackets, # or spaces, such as sortie, got ""`,
				"desk.max_message_bytes: want 1024 to 67108864, got 0",
				"desk.maildir_interval: want a duration above zero such as 10s, got 0s",
			},
		},
		{
			name: "desk and address inventory",
			edit: func(c *Config) {
				c.Egress.Addresses = []OwnAddress{
					{Address: AddrPrefix{netip.MustParsePrefix("203.0.113.5/24")}},
					{},
					{Address: AddrPrefix{netip.MustParsePrefix("2001:db8::/48")},
						Since: Date{time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}, Until: Date{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
				}
				c.Desk.Maildir = "relative/Maildir"
				c.Desk.Tag = "[x]"
				c.Desk.IMAP = DeskIMAP{Address: "mail.example.org", TLS: "ssl", Folder: "INBOX", Interval: Duration(time.Minute)}
				c.Desk.SMTP = DeskSMTP{Address: "127.0.0.1:4480", Recipients: []string{"abuse"}, RatePerMinute: 0}
				c.Desk.SenderRules = []SenderRule{
					{Action: "delete", Body: "(", Category: "noise"},
					{Name: "r", From: "example.net", Action: "auto-reply"},
				}
			},
			want: []string{
				"egress.addresses[0].address: 203.0.113.5/24 has bits set past the /24 mask: did you mean 203.0.113.0/24?",
				"egress.addresses[1].address: want an address or prefix such as 203.0.113.5, got nothing",
				"egress.addresses[2].until: 2026-01-01 is before since (2026-02-01)",
				`desk.tag: want one word without brackets, # or spaces, such as sortie, got "[x]"`,
				`desk.maildir: want an absolute path, got "relative/Maildir"`,
				`desk.imap.address: want host:port such as mail.example.org:993, got "mail.example.org"`,
				`desk.imap.tls: want tls, starttls or none, got "ssl"`,
				"desk.imap: give username and password (or password_file) for mail.example.org",
				"desk.smtp.address: 127.0.0.1:4480 clashes with listeners[0] (127.0.0.1:4480)",
				`desk.smtp.recipients[0]: want an address or @domain, got "abuse"`,
				"desk.smtp.rate_per_minute: want 1 or more, got 0",
				"desk.sender_rules[0].name: want a name for the rule",
				"desk.sender_rules[0].body: not a regular expression: error parsing regexp: missing closing ): `(`",
				`desk.sender_rules[0].action: want one of ignore, queue, auto-reply, got "delete"`,
				`desk.sender_rules[0].category: want one of copyright, scanning, brute-force, dos, spam, fraud, hacking, harassment, law-enforcement, upstream, other, got "noise"`,
				"desk.sender_rules[1].template: an auto-reply rule needs a template",
			},
		},
		{
			name: "header bytes at the limits",
			edit: func(c *Config) { c.Gateway.MaxHeaderBytes = 1 << 20 },
		},
		{
			name: "header bytes past the limit",
			edit: func(c *Config) { c.Gateway.MaxHeaderBytes = 1<<20 + 1 },
			want: []string{"gateway.max_header_bytes: want between 1024 and 1048576, got 1048577"},
		},
		{
			name: "negative timeout",
			edit: func(c *Config) { c.Gateway.DrainTimeout = Duration(-time.Second) },
			want: []string{"gateway.drain_timeout: want a duration above zero such as 10s, got -1s"},
		},
		{
			name: "via with a comma",
			edit: func(c *Config) { c.Gateway.Via = "a,b" },
			want: []string{"gateway.via: want one word (letters, digits, -._~!#$%&'*+^`|), no spaces or commas, got \"a,b\""},
		},
		{
			name: "via token",
			edit: func(c *Config) { c.Gateway.Via = "exit~1.example" },
		},
		{
			name: "unmasked v6 prefix",
			edit: func(c *Config) { c.Egress.AllowSpecial = []netip.Prefix{netip.MustParsePrefix("2001:db8::1/32")} },
			want: []string{"egress.allow_special[0]: 2001:db8::1/32 has bits set past the /32 mask: did you mean 2001:db8::/32?"},
		},
		{
			name: "zero prefix and nameserver",
			edit: func(c *Config) {
				c.Egress.AllowSpecial = []netip.Prefix{{}}
				c.Resolver.Nameservers = []Nameserver{{}}
			},
			want: []string{
				"egress.allow_special[0]: want a prefix such as 198.51.100.0/24, got nothing",
				"resolver.nameservers[0]: want ip or ip:port such as 192.0.2.53, got nothing",
			},
		},
		{
			name: "duplicate nameserver",
			edit: func(c *Config) {
				ns := Nameserver(netip.MustParseAddrPort("192.0.2.53:53"))
				c.Resolver.Nameservers = []Nameserver{ns, ns}
			},
			want: []string{"resolver.nameservers[1]: 192.0.2.53:53 is listed twice"},
		},
		{
			name: "wildcard v4 clashes with loopback on the same port",
			edit: func(c *Config) {
				c.Listeners = append(c.Listeners, Listener{Name: "all", Address: netip.MustParseAddrPort("0.0.0.0:4480")})
			},
			want: []string{"listeners[1].address: 0.0.0.0:4480 clashes with listeners[0] (127.0.0.1:4480): both cannot listen"},
		},
		{
			name: "wildcard v4 does not clash with v6",
			edit: func(c *Config) {
				c.Listeners = []Listener{
					{Address: netip.MustParseAddrPort("0.0.0.0:4480")},
					{Address: netip.MustParseAddrPort("[::1]:4480")},
					{Address: netip.MustParseAddrPort("127.0.0.1:4490")},
				}
			},
		},
		{
			name: "metrics username with a colon",
			edit: func(c *Config) { c.Metrics.Username = "a:b"; c.Metrics.Password = NewSecret("x") },
			want: []string{"metrics.username: must not contain a colon (HTTP basic authentication)"},
		},
		{
			name: "metrics password without username",
			edit: func(c *Config) { c.Metrics.Password = NewSecret("x") },
			want: []string{"metrics.username: missing: a password is set, so give the username too"},
		},
		{
			name: "resolver cache off",
			edit: func(c *Config) { c.Resolver.TTLFloor = 0 },
		},
		{
			name: "resolver ttl bounds",
			edit: func(c *Config) {
				c.Resolver.TTLFloor = Duration(-time.Second)
				c.Resolver.TTLCeiling = Duration(-2 * time.Second)
			},
			want: []string{
				"resolver.ttl_floor: want a duration of zero (no cache) or more such as 60s, got -1s",
				"resolver.ttl_ceiling: want a duration above zero such as 1h, got -2s",
			},
		},
		{
			name: "resolver ceiling below floor",
			edit: func(c *Config) {
				c.Resolver.TTLFloor = Duration(time.Hour)
				c.Resolver.TTLCeiling = Duration(time.Minute)
			},
			want: []string{"resolver.ttl_ceiling: 1m is below ttl_floor (1h)"},
		},
		{
			name: "resolver cache too big",
			edit: func(c *Config) { c.Resolver.CacheSize = 10_000_001 },
			want: []string{"resolver.cache_size: want 1 to 10000000 entries, got 10000001"},
		},
		{
			name: "resolver never_resolve suffixes",
			edit: func(c *Config) { c.Resolver.NeverResolve = []string{".internal", "corp.example.", "a b", ""} },
			want: []string{
				`resolver.never_resolve[2]: want a name suffix such as internal or corp.example, got "a b"`,
				`resolver.never_resolve[3]: want a name suffix such as internal or corp.example, got ""`,
			},
		},
		{
			name: "doh listeners without certificate",
			edit: func(c *Config) { c.DoH.Listeners = []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:8443")} },
			want: []string{"doh: give both cert_file and key_file (PEM) for the DoH listeners"},
		},
		{
			name: "doh certificate without listeners",
			edit: func(c *Config) { c.DoH.CertFile, c.DoH.KeyFile = "/c.pem", "/k.pem" },
			want: []string{"doh.listeners: empty, but cert_file and key_file are set: give an ip:port such as 127.0.0.1:8443"},
		},
		{
			name: "doh listener clashes",
			edit: func(c *Config) {
				c.DoH.Listeners = []netip.AddrPort{
					netip.MustParseAddrPort("127.0.0.1:4480"),
					netip.MustParseAddrPort("127.0.0.1:4481"),
					{},
					netip.MustParseAddrPort("127.0.0.1:4481"),
				}
				c.DoH.CertFile = "/nonexistent/c.pem"
				c.DoH.KeyFile = "/nonexistent/k.pem"
			},
			want: []string{
				"doh.listeners[0]: 127.0.0.1:4480 clashes with listeners[0] (127.0.0.1:4480)",
				"doh.listeners[1]: 127.0.0.1:4481 clashes with metrics.address",
				"doh.listeners[2]: want ip:port such as 127.0.0.1:8443, got nothing",
				"doh.listeners[3]: 127.0.0.1:4481 is listed twice",
				"doh.cert_file: certificate and key do not load: open /nonexistent/c.pem: no such file or directory",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.edit(c)
			if diff := cmp.Diff(tt.want, problemLines(c.Validate())); diff != "" {
				t.Errorf("Validate mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestManyProblemsAreCapped(t *testing.T) {
	c := Default()
	for range maxProblems + 5 {
		c.Egress.AllowSpecial = append(c.Egress.AllowSpecial, netip.Prefix{})
	}
	lines := problemLines(c.Validate())
	if len(lines) != maxProblems+1 || lines[maxProblems] != "and 5 more problems" {
		t.Errorf("got %d lines ending %q, want %d problems and \"and 5 more problems\"", len(lines), lines[len(lines)-1], maxProblems)
	}
}

func TestListenerAllows(t *testing.T) {
	tests := []struct {
		name  string
		l     Listener
		proto string
		want  bool
	}{
		{name: "empty means all", l: Listener{}, proto: ProtocolSOCKS4, want: true},
		{name: "listed", l: Listener{Protocols: []string{ProtocolSOCKS5}}, proto: ProtocolSOCKS5, want: true},
		{name: "not listed", l: Listener{Protocols: []string{ProtocolSOCKS5}}, proto: ProtocolHTTP, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.Allows(tt.proto); got != tt.want {
				t.Errorf("Allows(%q) = %v, want %v", tt.proto, got, tt.want)
			}
		})
	}
}
