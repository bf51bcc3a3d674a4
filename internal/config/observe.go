package config

import (
	"crypto/tls"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
)

// Log levels accepted by log.level.
const (
	LevelDebug = "debug"
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"
)

// Bounds of the ring log, named in the messages.
const (
	minRingBytes = 64 << 10
	maxRingBytes = 1 << 30
)

// Log holds the RAM-only ring log and what goes to stderr.
type Log struct {
	// Level is the lowest level logged, to stderr and to the ring: debug, info, warn or error.
	Level string `yaml:"level"`
	// RingTTL is how long the ring log keeps an operational event in RAM. 0 keeps nothing.
	RingTTL Duration `yaml:"ring_ttl"`
	// RingMaxEntries caps the number of events the ring holds; the oldest go first.
	RingMaxEntries int `yaml:"ring_max_entries"`
	// RingMaxBytes is the size of the ring's memory, allocated (and locked) at start.
	RingMaxBytes int `yaml:"ring_max_bytes"`
	// DebugDestinations puts the destination names clients ask for (never their addresses)
	// into the ring log, for debugging. Sortie warns loudly at start when it is on.
	DebugDestinations bool `yaml:"debug_destinations"`
}

// SlogLevel returns Level as a slog.Level; an unknown level is slog.LevelInfo.
func (l Log) SlogLevel() slog.Level {
	switch strings.ToLower(l.Level) {
	case LevelDebug:
		return slog.LevelDebug
	case LevelWarn:
		return slog.LevelWarn
	case LevelError:
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (l Log) validate(p *problems, path string) {
	switch strings.ToLower(l.Level) {
	case "", LevelDebug, LevelInfo, LevelWarn, LevelError: // "" (a Config built in code): info
	default:
		p.add(path+".level", "want debug, info, warn or error, got %q", l.Level)
	}
	if l.RingTTL < 0 {
		p.add(path+".ring_ttl", "want a duration of zero or more such as 15m, got %s", l.RingTTL)
	}
	if l.RingMaxEntries < 0 || l.RingMaxEntries > 1<<20 { // 0 (in code): ringlog's default
		p.add(path+".ring_max_entries", "want 1 to %d, got %d", 1<<20, l.RingMaxEntries)
	}
	if l.RingMaxBytes != 0 && (l.RingMaxBytes < minRingBytes || l.RingMaxBytes > maxRingBytes) {
		p.add(path+".ring_max_bytes", "want %d to %d bytes, got %d", minRingBytes, maxRingBytes, l.RingMaxBytes)
	}
}

// Admin holds the admin endpoint.
type Admin struct {
	// Socket is the path of the admin endpoint's unix socket (mode 0600). Empty means
	// admin.sock in the data directory.
	Socket string `yaml:"socket"`
	// Address, when set, also serves the admin endpoint on TCP at ip:port; every request must
	// then carry the token as "Authorization: Bearer <token>".
	Address netip.AddrPort `yaml:"address"`
	// Token is the bearer token for the TCP address. Required when address is set; give it
	// as token_file.
	Token Secret `yaml:"token"`
	// Pprof serves Go's profiler under /debug/pprof/ on the admin endpoint.
	Pprof bool `yaml:"pprof"`
}

// AdminSocket returns the admin socket's path: admin.socket, or admin.sock in the data
// directory.
func (c *Config) AdminSocket() (string, error) {
	if c.Admin.Socket != "" {
		return c.Path(c.Admin.Socket), nil
	}
	dir, err := c.StateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "admin.sock"), nil
}

func (c *Config) validateAdmin(p *problems, path string) {
	a := c.Admin
	if a.Address.IsValid() {
		if !a.Token.IsSet() {
			p.add(path+".token", "missing: admin.address is set, so give token_file (a bearer token)")
		}
		c.checkClash(p, path+".address", a.Address)
		if overlap(a.Address, c.Metrics.Address) {
			p.add(path+".address", "%s clashes with metrics.address", a.Address)
		}
	}
	if a.Token.Reveal() == redacted {
		p.add(path+".token", "is the placeholder %s that sortie check prints: give the real secret", redacted)
	}
	if len(a.Socket) > 100 {
		p.add(path+".socket", "path too long for a unix socket (%d bytes, want at most 100)", len(a.Socket))
	}
}

// checkClash reports when a side listener's address overlaps a proxy listener.
func (c *Config) checkClash(p *problems, path string, ap netip.AddrPort) {
	for i, l := range c.Listeners {
		if overlap(ap, l.Address) {
			p.add(path, "%s clashes with listeners[%d] (%s)", ap, i, l.Address)
		}
	}
}

// validateMetricsTLS checks that the metrics certificate and key are given together and load.
func (c *Config) validateMetricsTLS(p *problems, path string) {
	m := c.Metrics
	switch {
	case m.TLSCertFile == "" && m.TLSKeyFile == "":
	case m.TLSCertFile == "" || m.TLSKeyFile == "":
		p.add(path, "want both tls_cert_file and tls_key_file, or neither")
	default:
		if _, err := tls.LoadX509KeyPair(c.Path(m.TLSCertFile), c.Path(m.TLSKeyFile)); err != nil {
			p.add(path+".tls_cert_file", "cannot load the certificate and key: %v", err)
		}
	}
}

// TLS reports whether the metrics endpoint serves HTTPS.
func (m Metrics) TLS() bool { return m.TLSCertFile != "" && m.TLSKeyFile != "" }
