package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDefault(t *testing.T) {
	want := &Config{
		Version: 1,
		Listeners: []Listener{{
			Name:      "127.0.0.1:4480",
			Address:   netip.MustParseAddrPort("127.0.0.1:4480"),
			Protocols: []string{"http", "socks4", "socks5"},
		}},
		Gateway: Gateway{
			MaxConnections:      4096,
			MaxHandshakes:       1024,
			MaxClientHandshakes: 16,
			MinBodyRate:         256,
			MaxHeaderBytes:      32768,
			HandshakeTimeout:    Duration(10 * time.Second),
			KeepAliveTimeout:    Duration(60 * time.Second),
			IdleTimeout:         Duration(5 * time.Minute),
			DrainTimeout:        Duration(30 * time.Second),
		},
		Egress:   Egress{DialTimeout: Duration(10 * time.Second)},
		Resolver: Resolver{Timeout: Duration(2 * time.Second), TTLFloor: Duration(time.Minute), TTLCeiling: Duration(time.Hour), CacheSize: 10000},
		Metrics:  Metrics{Address: netip.MustParseAddrPort("127.0.0.1:4481")},
		Policy:   Policy{IPv6Exit: true, Base: "default"},
		Guard: Guard{
			Enabled: true, MaxTunnels: 256, ConnRate: 20, ConnBurst: 100,
			RequestRate: 20, RequestBurst: 100, DestRate: 200, DestBurst: 1000,
			PortScan:   GuardPattern{Distinct: 20, Window: Duration(time.Minute)},
			Sweep:      GuardPattern{Distinct: 32, Window: Duration(time.Minute)},
			BruteForce: GuardBrute{Max: 20, Window: Duration(time.Minute), LongLived: Duration(30 * time.Second)},
			Penalty:    Duration(5 * time.Minute), TableSize: 65536,
		},
		Notice: Notice{Language: "en"},
		Log:    Log{Level: "info", RingTTL: Duration(15 * time.Minute), RingMaxEntries: 4096, RingMaxBytes: 4 << 20},
		Desk: Desk{
			Retention: Duration(400 * 24 * time.Hour), Tag: "sortie", MaxMessageBytes: 25 << 20,
			MaildirInterval: Duration(2 * time.Second),
			IMAP:            DeskIMAP{TLS: "tls", Folder: "INBOX", Interval: Duration(time.Minute)},
			SMTP:            DeskSMTP{RatePerMinute: 30},
		},
	}
	got := Default()
	if diff := cmp.Diff(want, got, cfgCmp); diff != "" {
		t.Errorf("Default() mismatch (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v, want nil", err)
	}
	if !strings.HasPrefix(string(DefaultYAML()), "# ") || !strings.Contains(string(DefaultYAML()), "\nversion: 1\n") {
		t.Errorf("default.yaml does not hold version: 1 after its header comment")
	}
}

func TestDefaultIsACopy(t *testing.T) {
	a := Default()
	a.Listeners[0].Protocols[0] = "changed"
	a.Gateway.MaxConnections = 1
	b := Default()
	if b.Listeners[0].Protocols[0] != "http" || b.Gateway.MaxConnections != 4096 {
		t.Errorf("changing one Default() changed the next: %+v", b)
	}
}

func TestParseOverrides(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		edit func(c *Config) // applied to Default() to get the wanted config
	}{
		{
			name: "only version",
			yaml: "version: 1\n",
			edit: func(c *Config) {},
		},
		{
			name: "one gateway key keeps the other defaults",
			yaml: "version: 1\ngateway:\n  max_connections: 10\n",
			edit: func(c *Config) { c.Gateway.MaxConnections = 10 },
		},
		{
			name: "listeners replace the default list and get defaults",
			yaml: "version: 1\nlisteners:\n  - address: 192.0.2.1:1080\n    protocols: [socks5]\n  - address: '[2001:db8::1]:8080'\n",
			edit: func(c *Config) {
				c.Listeners = []Listener{
					{Name: "192.0.2.1:1080", Address: netip.MustParseAddrPort("192.0.2.1:1080"), Protocols: []string{"socks5"}},
					{Name: "[2001:db8::1]:8080", Address: netip.MustParseAddrPort("[2001:db8::1]:8080"), Protocols: []string{"http", "socks4", "socks5"}},
				}
			},
		},
		{
			name: "named listener",
			yaml: "version: 1\nlisteners:\n  - name: i2p\n    address: 127.0.0.1:0\n",
			edit: func(c *Config) {
				c.Listeners = []Listener{{Name: "i2p", Address: netip.MustParseAddrPort("127.0.0.1:0"), Protocols: AllProtocols()}}
			},
		},
		{
			name: "durations, prefixes, nameservers, via, data dir",
			yaml: `version: 1
data_dir: /var/lib/sortie
gateway: {idle_timeout: 1h30m, via: exit-1}
egress:
  dial_timeout: 2s
  allow_special: [198.51.100.0/24, "2001:db8::/32"]
resolver:
  nameservers: [192.0.2.53, "192.0.2.54:5353", "2001:db8::53", "[2001:db8::54]:53"]
`,
			edit: func(c *Config) {
				c.DataDir = "/var/lib/sortie"
				c.Gateway.IdleTimeout = Duration(90 * time.Minute)
				c.Gateway.Via = "exit-1"
				c.Egress.DialTimeout = Duration(2 * time.Second)
				c.Egress.AllowSpecial = []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("2001:db8::/32")}
				c.Resolver.Nameservers = []Nameserver{
					Nameserver(netip.MustParseAddrPort("192.0.2.53:53")),
					Nameserver(netip.MustParseAddrPort("192.0.2.54:5353")),
					Nameserver(netip.MustParseAddrPort("[2001:db8::53]:53")),
					Nameserver(netip.MustParseAddrPort("[2001:db8::54]:53")),
				}
			},
		},
		{
			name: "empty section and null string keep defaults or clear",
			yaml: "version: 1\ngateway:\negress:\n  allow_special:\nmetrics:\n  username: ~\n",
			edit: func(c *Config) {},
		},
		{
			name: "anchors and aliases",
			yaml: "version: 1\ngateway:\n  handshake_timeout: &t 7s\n  keepalive_timeout: *t\n",
			edit: func(c *Config) {
				c.Gateway.HandshakeTimeout = Duration(7 * time.Second)
				c.Gateway.KeepAliveTimeout = Duration(7 * time.Second)
			},
		},
		{
			name: "metrics with inline password",
			yaml: "version: 1\nmetrics:\n  address: 127.0.0.1:9100\n  username: prom\n  password: hunter2\n",
			edit: func(c *Config) {
				c.Metrics = Metrics{Address: netip.MustParseAddrPort("127.0.0.1:9100"), Username: "prom", Password: NewSecret("hunter2")}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.yaml), "test.yaml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := Default()
			tt.edit(want)
			if diff := cmp.Diff(want, got, cfgCmp); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "empty file",
			yaml: "",
			want: []string{"f.yaml: empty: the file must start with version: 1"},
		},
		{
			name: "missing version",
			yaml: "gateway:\n  via: x\n",
			want: []string{"f.yaml:1: version: missing: the file must start with version: 1"},
		},
		{
			name: "other version",
			yaml: "version: 2\n",
			want: []string{"f.yaml:1: version: want 1 (the only format this Sortie reads), got 2"},
		},
		{
			name: "not a mapping",
			yaml: "- version: 1\n",
			want: []string{`f.yaml:1: want a mapping of keys starting with version: 1, got a list`},
		},
		{
			name: "two documents",
			yaml: "version: 1\n---\nversion: 1\n",
			want: []string{"f.yaml: want one YAML document, found several (remove the --- separators)"},
		},
		{
			name: "syntax error names the line",
			yaml: "version: 1\ngateway:\n  via: [x\n",
			want: []string{"f.yaml:4: not valid YAML: did not find expected ',' or ']' (while parsing a flow sequence)"},
		},
		{
			name: "unknown key with its line and a suggestion",
			yaml: "version: 1\ngateway:\n  max_conections: 5\n",
			want: []string{`f.yaml:3: gateway.max_conections: unknown key (did you mean "max_connections"?)`},
		},
		{
			name: "unknown top key lists the known ones",
			yaml: "version: 1\nlogging: {}\n",
			want: []string{"f.yaml:2: logging: unknown key; known keys: admin, data_dir, desk, doh, egress, gateway, guard, listeners, log, metrics, notice, policy, resolver, routes, users, users_file, version"},
		},
		{
			name: "duplicate key",
			yaml: "version: 1\ngateway:\n  via: a\n  via: b\n",
			want: []string{"f.yaml:4: gateway.via: duplicate key (first given at line 3)"},
		},
		{
			name: "wrong types",
			yaml: "version: 1\ngateway:\n  max_connections: many\n  idle_timeout: 10\n  via: [a]\nlisteners: {address: 127.0.0.1:1}\negress: []\n",
			want: []string{
				`f.yaml:3: gateway.max_connections: want a whole number, got "many"`,
				`f.yaml:4: gateway.idle_timeout: want a duration such as 10s or 5m, got "10"`,
				`f.yaml:5: gateway.via: want a string, got a list`,
				`f.yaml:6: listeners: want a list, got a mapping`,
				`f.yaml:7: egress: want a mapping of keys, got a list`,
			},
		},
		{
			name: "bad address, prefix and nameserver",
			yaml: "version: 1\nlisteners:\n  - address: foo\n  - address: localhost:80\negress:\n  allow_special: [10.0.0.0/33]\nresolver:\n  nameservers: [dns.example]\n",
			want: []string{
				`f.yaml:3: listeners[0].address: want host:port such as 127.0.0.1:4480, got "foo"`,
				`f.yaml:4: listeners[1].address: want host:port such as 127.0.0.1:4480, got "localhost:80"`,
				`f.yaml:6: egress.allow_special[0]: want a prefix such as 198.51.100.0/24, got "10.0.0.0/33"`,
				`f.yaml:8: resolver.nameservers[0]: want ip or ip:port such as 192.0.2.53 or [2001:db8::53]:53, got "dns.example"`,
			},
		},
		{
			name: "aliases report where they are used",
			yaml: "version: 1\nx: &a [1, 2]\nlisteners: [*a, *a]\n",
			want: []string{
				"f.yaml:2: x: unknown key; known keys: admin, data_dir, desk, doh, egress, gateway, guard, listeners, log, metrics, notice, policy, resolver, routes, users, users_file, version",
				"f.yaml:3: listeners[0]: want a mapping of keys, got a list",
				"f.yaml:3: listeners[1]: want a mapping of keys, got a list",
			},
		},
		{
			name: "recursive alias",
			yaml: "version: 1\ngateway: &g {via: *g}\n",
			want: []string{"f.yaml:2: gateway.via: want a string, got a mapping"},
		},
		{
			name: "number out of range",
			yaml: "version: 1\ngateway:\n  max_connections: 99999999999999999999\n",
			want: []string{`f.yaml:3: gateway.max_connections: want a whole number, got "99999999999999999999"`},
		},
		{
			name: "every problem at once, decoding and validation, in line order",
			yaml: `version: 1
listeners:
  - address: 127.0.0.1:4480
    protocols: [http, gopher, http]
  - address: 127.0.0.1:4480
gateway:
  max_connections: 0
  max_header_bytes: 100
  handshake_timeout: 0s
  bogus: 1
  via: "a b"
egress:
  allow_special: [198.51.100.1/24, 198.51.100.0/24, 198.51.100.0/24]
resolver:
  timeout: -1s
  nameservers: ["192.0.2.1:0"]
`,
			want: []string{
				`f.yaml:4: listeners[0].protocols[1]: want http, socks4 or socks5, got "gopher"`,
				`f.yaml:4: listeners[0].protocols[2]: "http" is listed twice`,
				`f.yaml:5: listeners[1].name: "127.0.0.1:4480" is already the name of listeners[0]`,
				`f.yaml:5: listeners[1].address: 127.0.0.1:4480 clashes with listeners[0] (127.0.0.1:4480): both cannot listen`,
				`f.yaml:7: gateway.max_connections: want 1 or more, got 0`,
				`f.yaml:8: gateway.max_header_bytes: want between 1024 and 1048576, got 100`,
				`f.yaml:9: gateway.handshake_timeout: want a duration above zero such as 10s, got 0s`,
				`f.yaml:10: gateway.bogus: unknown key; known keys: drain_timeout, handshake_timeout, idle_timeout, keepalive_timeout, max_client_handshakes, max_connections, max_handshakes, max_header_bytes, min_body_rate, via`,
				`f.yaml:11: gateway.via: want one word (letters, digits, -._~!#$%&'*+^` + "`" + `|), no spaces or commas, got "a b"`,
				`f.yaml:13: egress.allow_special[0]: 198.51.100.1/24 has bits set past the /24 mask: did you mean 198.51.100.0/24?`,
				`f.yaml:13: egress.allow_special[2]: 198.51.100.0/24 is listed twice`,
				`f.yaml:15: resolver.timeout: want a duration above zero such as 10s, got -1s`,
				`f.yaml:16: resolver.nameservers[0]: port 0 is not a nameserver port: give the port, or leave it out for 53`,
			},
		},
		{
			name: "document separator at the end",
			yaml: "version: 1\nlisteners: []\n---\n",
			want: []string{"f.yaml: want one YAML document, found several (remove the --- separators)"},
		},
		{
			name: "no listeners",
			yaml: "version: 1\nlisteners: []\n",
			want: []string{"f.yaml:2: listeners: want at least one listener, such as - address: 127.0.0.1:4480"},
		},
		{
			name: "listener without address and with empty protocols",
			yaml: "version: 1\nlisteners:\n  - name: a\n    protocols: []\n",
			want: []string{
				"f.yaml:3: listeners[0].address: missing: want host:port such as 127.0.0.1:4480",
				"f.yaml:4: listeners[0].protocols: empty: list some of http, socks4, socks5, or leave the key out for all three",
			},
		},
		{
			name: "two listeners with one name",
			yaml: "version: 1\nlisteners:\n  - name: a\n    address: 127.0.0.1:1\n  - name: a\n    address: 127.0.0.1:2\n",
			want: []string{`f.yaml:5: listeners[1].name: "a" is already the name of listeners[0]`},
		},
		{
			name: "wildcard listener clashes with a specific one",
			yaml: "version: 1\nlisteners:\n  - address: 127.0.0.1:4480\n  - address: '[::]:4480'\n",
			want: []string{"f.yaml:4: listeners[1].address: [::]:4480 clashes with listeners[0] (127.0.0.1:4480): both cannot listen"},
		},
		{
			name: "relative data dir",
			yaml: "version: 1\ndata_dir: state\n",
			want: []string{`f.yaml:2: data_dir: want an absolute path, got "state"`},
		},
		{
			name: "metrics clashes with a listener and lacks a password",
			yaml: "version: 1\nmetrics:\n  address: 127.0.0.1:4480\n  username: prom\n",
			want: []string{
				"f.yaml:2: metrics.password: missing: metrics.username is set, so give password or password_file",
				"f.yaml:3: metrics.address: 127.0.0.1:4480 clashes with listeners[0] (127.0.0.1:4480)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), "f.yaml")
			if err == nil {
				t.Fatalf("Parse succeeded with %+v, want errors %q", c, tt.want)
			}
			if diff := cmp.Diff(tt.want, problemLines(err)); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
