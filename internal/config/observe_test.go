package config

import (
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestValidateObserve(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
		want []string
	}{
		{name: "ring off", edit: func(c *Config) { c.Log.RingTTL = 0 }},
		{name: "debug level", edit: func(c *Config) { c.Log.Level = "DEBUG" }},
		{
			name: "log values out of range",
			edit: func(c *Config) {
				c.Log = Log{Level: "loud", RingTTL: Duration(-time.Second), RingMaxEntries: -1, RingMaxBytes: 10}
			},
			want: []string{
				`log.level: want debug, info, warn or error, got "loud"`,
				"log.ring_ttl: want a duration of zero or more such as 15m, got -1s",
				"log.ring_max_entries: want 1 to 1048576, got -1",
				"log.ring_max_bytes: want 65536 to 1073741824 bytes, got 10",
			},
		},
		{
			name: "admin tcp without token",
			edit: func(c *Config) { c.Admin.Address = netip.MustParseAddrPort("127.0.0.1:4482") },
			want: []string{"admin.token: missing: admin.address is set, so give token_file (a bearer token)"},
		},
		{
			name: "admin tcp clashes",
			edit: func(c *Config) {
				c.Admin.Address = netip.MustParseAddrPort("127.0.0.1:4480")
				c.Admin.Token = NewSecret("t")
			},
			want: []string{"admin.address: 127.0.0.1:4480 clashes with listeners[0] (127.0.0.1:4480)"},
		},
		{
			name: "admin tcp clashes with metrics",
			edit: func(c *Config) {
				c.Admin.Address = netip.MustParseAddrPort("0.0.0.0:4481")
				c.Admin.Token = NewSecret("t")
			},
			want: []string{"admin.address: 0.0.0.0:4481 clashes with metrics.address"},
		},
		{
			name: "metrics tls half given",
			edit: func(c *Config) { c.Metrics.TLSCertFile = "/c.pem" },
			want: []string{"metrics: want both tls_cert_file and tls_key_file, or neither"},
		},
		{
			name: "metrics tls missing files",
			edit: func(c *Config) {
				c.Metrics.TLSCertFile, c.Metrics.TLSKeyFile = "/nonexistent/c.pem", "/nonexistent/k.pem"
			},
			want: []string{"metrics.tls_cert_file: cannot load the certificate and key: open /nonexistent/c.pem: no such file or directory"},
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

func TestSlogLevel(t *testing.T) {
	tests := []struct {
		level string
		want  slog.Level
	}{
		{level: "", want: slog.LevelInfo},
		{level: "debug", want: slog.LevelDebug},
		{level: "info", want: slog.LevelInfo},
		{level: "Warn", want: slog.LevelWarn},
		{level: "error", want: slog.LevelError},
	}
	for _, tt := range tests {
		if got := (Log{Level: tt.level}).SlogLevel(); got != tt.want {
			t.Errorf("Log{Level: %q}.SlogLevel() = %v, want %v", tt.level, got, tt.want)
		}
	}
}

func TestAdminSocket(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		c    *Config
		want string
	}{
		{name: "default in the data dir", c: &Config{DataDir: "/var/lib/sortie"}, want: "/var/lib/sortie/admin.sock"},
		{name: "absolute", c: &Config{Admin: Admin{Socket: "/run/sortie/admin.sock"}}, want: "/run/sortie/admin.sock"},
		{name: "relative to the file", c: mustParseFile(t, dir, "version: 1\nadmin:\n  socket: a.sock\n"), want: filepath.Join(dir, "a.sock")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.c.AdminSocket()
			if err != nil || got != tt.want {
				t.Errorf("AdminSocket() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func mustParseFile(t *testing.T, dir, yaml string) *Config {
	t.Helper()
	c, err := Parse([]byte(yaml), filepath.Join(dir, "sortie.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAdminTokenFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "token", "tok3n\n", 0o600)
	c := mustParseFile(t, dir, "version: 1\nadmin:\n  address: 127.0.0.1:4482\n  token_file: token\n")
	if got := c.Admin.Token.Reveal(); got != "tok3n" {
		t.Errorf("admin token = %q, want tok3n", got)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}
