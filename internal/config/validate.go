package config

import (
	"crypto/tls"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Limits on values, named in the messages.
const (
	minHeaderBytes = 1024
	maxHeaderBytes = 1 << 20
)

// Validate checks the values of c and returns every problem at once (an errors.Join of
// *FieldError), each naming its key path, and the file and line when c came from a file.
func (c *Config) Validate() error {
	p := newProblems(c.src)
	c.validate(p)
	return p.err()
}

func (c *Config) validate(p *problems) {
	if c.Version != 1 {
		p.add("version", "want 1 (the only format this Sortie reads), got %d", c.Version)
	}
	if c.DataDir != "" && !filepath.IsAbs(c.DataDir) {
		p.add("data_dir", "want an absolute path, got %q", c.DataDir)
	}
	c.validateListeners(p)
	c.Gateway.validate(p, "gateway")
	c.Egress.validate(p, "egress")
	c.Resolver.validate(p, "resolver")
	c.validateMetrics(p, "metrics")
	c.Log.validate(p, "log")
	c.validateAdmin(p, "admin")
	c.validatePolicy(p)
	c.validateNotice(p)
	c.Routes.validate(p)
	c.Guard.validate(p)
	c.validateAuth(p)
	c.validateDoH(p, "doh")
	c.Egress.validateAddresses(p, "egress")
	c.validateDesk(p, "desk")
}

// positive checks a timeout.
func positive(p *problems, path string, d Duration) {
	if d <= 0 {
		p.add(path, "want a duration above zero such as 10s, got %s", d)
	}
}

func (c *Config) validateListeners(p *problems) {
	if len(c.Listeners) == 0 {
		p.add("listeners", "want at least one listener, such as - address: 127.0.0.1:4480")
		return
	}
	names := map[string]int{}
	for i, l := range c.Listeners {
		path := "listeners[" + strconv.Itoa(i) + "]"
		l.validate(p, path, c.src)
		if j, dup := names[l.DisplayName()]; dup && (l.Name != "" || l.Address.IsValid()) {
			p.add(path+".name", "%q is already the name of listeners[%d]", l.DisplayName(), j)
		} else {
			names[l.DisplayName()] = i
		}
		for j, o := range c.Listeners[:i] {
			if overlap(l.Address, o.Address) {
				p.add(path+".address", "%s clashes with listeners[%d] (%s): both cannot listen", l.Address, j, o.Address)
				break
			}
		}
	}
}

func (l Listener) validate(p *problems, path string, src *source) {
	if !l.Address.IsValid() {
		p.add(path+".address", "missing: want host:port such as 127.0.0.1:4480")
	}
	if len(l.Protocols) == 0 && src.has(path+".protocols") {
		p.add(path+".protocols", "empty: list some of http, socks4, socks5, or leave the key out for all three")
	}
	for i, proto := range l.Protocols {
		pp := path + ".protocols[" + strconv.Itoa(i) + "]"
		switch {
		case !slices.Contains(AllProtocols(), proto):
			p.add(pp, "want http, socks4 or socks5, got %q", proto)
		case slices.Contains(l.Protocols[:i], proto):
			p.add(pp, "%q is listed twice", proto)
		}
	}
	l.validateTLS(p, path, src)
	if l.ProxyProtocol && len(l.TrustedProxies) == 0 {
		p.add(path+".trusted_proxies", "want the front ends' addresses, such as [127.0.0.1/32], with proxy_protocol")
	}
}

// validateTLS checks that a TLS listener's certificate and key are given together and load.
func (l Listener) validateTLS(p *problems, path string, src *source) {
	switch {
	case l.TLSCertFile == "" && l.TLSKeyFile == "":
	case l.TLSCertFile == "" || l.TLSKeyFile == "":
		p.add(path, "want both tls_cert_file and tls_key_file, or neither")
	default:
		if _, err := tls.LoadX509KeyPair(src.path(l.TLSCertFile), src.path(l.TLSKeyFile)); err != nil {
			p.add(path+".tls_cert_file", "cannot load the certificate and key: %v", err)
		}
	}
}

// overlap reports whether two listen addresses cannot both be bound: the same address and
// port, or the same port where one is the unspecified address of its family (or [::], which
// also takes IPv4). Port 0 never clashes.
func overlap(a, b netip.AddrPort) bool {
	if !a.IsValid() || !b.IsValid() || a.Port() != b.Port() || a.Port() == 0 {
		return false
	}
	x, y := a.Addr().Unmap(), b.Addr().Unmap()
	if x == y {
		return true
	}
	for _, pair := range [2][2]netip.Addr{{x, y}, {y, x}} {
		u, o := pair[0], pair[1]
		if u.IsUnspecified() && (u.Is6() || o.Is4()) {
			return true
		}
	}
	return false
}

func (g Gateway) validate(p *problems, path string) {
	if g.MaxConnections < 1 {
		p.add(path+".max_connections", "want 1 or more, got %d", g.MaxConnections)
	}
	if g.MinBodyRate < 0 {
		p.add(path+".min_body_rate", "want 0 (off) or more bytes per second, got %d", g.MinBodyRate)
	}
	if g.MaxClientHandshakes < 1 {
		p.add(path+".max_client_handshakes", "want 1 or more, got %d", g.MaxClientHandshakes)
	}
	if g.MaxHandshakes < 1 {
		p.add(path+".max_handshakes", "want 1 or more, got %d", g.MaxHandshakes)
	}
	if g.MaxHeaderBytes < minHeaderBytes || g.MaxHeaderBytes > maxHeaderBytes {
		p.add(path+".max_header_bytes", "want between %d and %d, got %d", minHeaderBytes, maxHeaderBytes, g.MaxHeaderBytes)
	}
	positive(p, path+".handshake_timeout", g.HandshakeTimeout)
	positive(p, path+".keepalive_timeout", g.KeepAliveTimeout)
	positive(p, path+".idle_timeout", g.IdleTimeout)
	positive(p, path+".drain_timeout", g.DrainTimeout)
	if g.Via != "" && !isToken(g.Via) {
		p.add(path+".via", "want one word (letters, digits, -._~!#$%%&'*+^`|), no spaces or commas, got %q", g.Via)
	}
}

// isToken reports whether s is an RFC 9110 token: what a Via pseudonym must be.
func isToken(s string) bool {
	for _, r := range s {
		ok := r < 0x7f && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("!#$%&'*+-.^_`|~", r))
		if !ok {
			return false
		}
	}
	return s != ""
}

func (e Egress) validate(p *problems, path string) {
	positive(p, path+".dial_timeout", e.DialTimeout)
	for i, pf := range e.AllowSpecial {
		pp := path + ".allow_special[" + strconv.Itoa(i) + "]"
		switch {
		case !pf.IsValid():
			p.add(pp, "want a prefix such as 198.51.100.0/24, got nothing")
		case pf != pf.Masked():
			p.add(pp, "%s has bits set past the /%d mask: did you mean %s?", pf, pf.Bits(), pf.Masked())
		case slices.Contains(e.AllowSpecial[:i], pf):
			p.add(pp, "%s is listed twice", pf)
		}
	}
}

// maxCacheSize bounds resolver.cache_size (about 100 bytes an entry).
const maxCacheSize = 10_000_000

func (r Resolver) validate(p *problems, path string) {
	positive(p, path+".timeout", r.Timeout)
	if r.TTLFloor < 0 {
		p.add(path+".ttl_floor", "want a duration of zero (no cache) or more such as 60s, got %s", r.TTLFloor)
	}
	switch {
	case r.TTLCeiling <= 0:
		p.add(path+".ttl_ceiling", "want a duration above zero such as 1h, got %s", r.TTLCeiling)
	case r.TTLCeiling < r.TTLFloor:
		p.add(path+".ttl_ceiling", "%s is below ttl_floor (%s)", r.TTLCeiling, r.TTLFloor)
	}
	if r.CacheSize < 1 || r.CacheSize > maxCacheSize {
		p.add(path+".cache_size", "want 1 to %d entries, got %d", maxCacheSize, r.CacheSize)
	}
	for i, s := range r.NeverResolve {
		if !validSuffix(s) {
			p.add(path+".never_resolve["+strconv.Itoa(i)+"]", "want a name suffix such as internal or corp.example, got %q", s)
		}
	}
	for i, ns := range r.Nameservers {
		pp := path + ".nameservers[" + strconv.Itoa(i) + "]"
		ap := ns.AddrPort()
		switch {
		case !ap.IsValid():
			p.add(pp, "want ip or ip:port such as 192.0.2.53, got nothing")
		case ap.Port() == 0:
			p.add(pp, "port 0 is not a nameserver port: give the port, or leave it out for 53")
		case slices.Contains(r.Nameservers[:i], ns):
			p.add(pp, "%s is listed twice", ap)
		}
	}
}

func (c *Config) validateMetrics(p *problems, path string) {
	m := c.Metrics
	if !m.Address.IsValid() {
		p.add(path+".address", "missing: want host:port such as 127.0.0.1:4481")
	}
	for i, l := range c.Listeners {
		if overlap(m.Address, l.Address) {
			p.add(path+".address", "%s clashes with listeners[%d] (%s)", m.Address, i, l.Address)
		}
	}
	validateBasicAuth(p, path, m.Username, m.Password)
	c.validateMetricsTLS(p, path)
}

// validateBasicAuth checks a username and password pair for HTTP basic authentication.
func validateBasicAuth(p *problems, path, user string, pass Secret) {
	switch {
	case user != "" && !pass.IsSet():
		p.add(path+".password", "missing: %s.username is set, so give password or password_file", path)
	case user == "" && pass.IsSet():
		p.add(path+".username", "missing: a password is set, so give the username too")
	case strings.Contains(user, ":"):
		p.add(path+".username", "must not contain a colon (HTTP basic authentication)")
	}
	if pass.Reveal() == redacted {
		p.add(path+".password", "is the placeholder %s that sortie check prints: give the real secret", redacted)
	}
}

// validSuffix reports whether s is a domain name suffix: dot-separated labels of letters,
// digits, '-' and '_', with an optional leading or trailing dot.
func validSuffix(s string) bool {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "."), ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range strings.ToLower(label) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
