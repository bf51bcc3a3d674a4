package config

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func TestMarshalDefaultGolden(t *testing.T) {
	got, err := Default().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "default.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("Marshal(Default()) differs from %s (-want +got):\n%s", golden, diff)
	}
	if !strings.HasPrefix(string(got), "version: 1\n") {
		t.Errorf("Marshal output does not start with version: 1:\n%s", got)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	full := Default()
	full.DataDir = "/var/lib/sortie"
	full.Listeners = []Listener{
		{Name: "i2p", Address: netip.MustParseAddrPort("127.0.0.1:4480"), Protocols: []string{"socks4"}},
		{Name: "[2001:db8::1]:8080", Address: netip.MustParseAddrPort("[2001:db8::1]:8080"), Protocols: AllProtocols()},
	}
	full.Gateway.IdleTimeout = Duration(90 * time.Minute)
	full.Gateway.Via = "exit-1"
	full.Egress.AllowSpecial = []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("2001:db8::/32")}
	full.Resolver.Nameservers = []Nameserver{Nameserver(netip.MustParseAddrPort("[2001:db8::53]:5353"))}
	full.Metrics.Username = "yes" // a word YAML 1.1 would read as a boolean
	tests := []struct {
		name string
		cfg  *Config
	}{
		{name: "default", cfg: Default()},
		{name: "every kind of value", cfg: full},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.cfg.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if tt.cfg.Metrics.Username != "" {
				// The password is redacted, so give one back the way an operator would.
				b = []byte(strings.Replace(string(b), "password: \"\"", "password: pw", 1))
				tt.cfg.Metrics.Password = NewSecret("pw")
			}
			got, err := Parse(b, "marshalled.yaml")
			if err != nil {
				t.Fatalf("Parse(Marshal()): %v\n%s", err, b)
			}
			if diff := cmp.Diff(tt.cfg, got, cfgCmp); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s\n%s", diff, b)
			}
		})
	}
}

func TestDurationText(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
		want string
	}{
		{name: "seconds", d: 10 * time.Second, want: "10s"},
		{name: "minutes", d: 5 * time.Minute, want: "5m"},
		{name: "hours", d: 2 * time.Hour, want: "2h"},
		{name: "hours and minutes", d: 90 * time.Minute, want: "1h30m"},
		{name: "minutes and seconds", d: 90 * time.Second, want: "1m30s"},
		{name: "zero", d: 0, want: "0s"},
		{name: "milliseconds", d: 1500 * time.Millisecond, want: "1.5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Duration(tt.d).MarshalText()
			if err != nil || string(b) != tt.want {
				t.Fatalf("MarshalText() = %q, %v, want %q", b, err, tt.want)
			}
			var back Duration
			if err := back.UnmarshalText(b); err != nil || back.D() != tt.d {
				t.Errorf("UnmarshalText(%q) = %v, %v, want %v", b, back.D(), err, tt.d)
			}
		})
	}
}
