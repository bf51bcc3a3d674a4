package config

import "slices"

// The protocols a listener may accept.
const (
	ProtocolHTTP   = "http"   // HTTP forward requests and CONNECT
	ProtocolSOCKS4 = "socks4" // SOCKS4 and SOCKS4a
	ProtocolSOCKS5 = "socks5" // SOCKS5
)

// AllProtocols returns every protocol a listener may accept, in a fixed order.
func AllProtocols() []string { return []string{ProtocolHTTP, ProtocolSOCKS4, ProtocolSOCKS5} }

// Allows reports whether the listener accepts proto. Empty Protocols means all of them.
func (l Listener) Allows(proto string) bool {
	return len(l.Protocols) == 0 || slices.Contains(l.Protocols, proto)
}

// DisplayName returns Name, or the address when Name is empty.
func (l Listener) DisplayName() string {
	if l.Name != "" {
		return l.Name
	}
	return l.Address.String()
}

// setDefaults gives a listener written in a file its defaults before it is decoded.
func (l *Listener) setDefaults() { l.Protocols = AllProtocols() }

// fillDefaults fills the defaults that depend on other values: a listener's name is its
// address.
func (c *Config) fillDefaults() {
	for i := range c.Listeners {
		if c.Listeners[i].Name == "" && c.Listeners[i].Address.IsValid() {
			c.Listeners[i].Name = c.Listeners[i].Address.String()
		}
	}
}

// TLS reports whether the listener speaks TLS to its clients.
func (l Listener) TLS() bool { return l.TLSCertFile != "" && l.TLSKeyFile != "" }

// Path resolves a file name written in the configuration: relative names are taken from the
// directory of the configuration file.
func (c *Config) Path(name string) string { return c.src.path(name) }
