package config

import (
	"crypto/tls"
	"net/netip"
	"slices"
	"strconv"
)

// DoH holds the optional DNS-over-HTTPS endpoint (RFC 8484). It answers with its own resolver
// and cache, separate from the exit's, from the nameservers of the resolver section.
type DoH struct {
	// Listeners are the ip:port addresses the endpoint serves HTTPS on, at /dns-query.
	// Empty (the default): no DoH endpoint.
	Listeners []netip.AddrPort `yaml:"listeners"`
	// CertFile and KeyFile are the PEM certificate chain and key the endpoint serves, read
	// at start. Required when listeners are set.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Enabled reports whether the DoH endpoint is configured.
func (d DoH) Enabled() bool { return len(d.Listeners) > 0 }

func (c *Config) validateDoH(p *problems, path string) {
	d := c.DoH
	for i, a := range d.Listeners {
		pp := path + ".listeners[" + strconv.Itoa(i) + "]"
		switch {
		case !a.IsValid():
			p.add(pp, "want ip:port such as 127.0.0.1:8443, got nothing")
		case slices.Contains(d.Listeners[:i], a):
			p.add(pp, "%s is listed twice", a)
		default:
			c.checkClash(p, pp, a)
			if overlap(a, c.Metrics.Address) {
				p.add(pp, "%s clashes with metrics.address", a)
			}
		}
	}
	if !d.Enabled() && d.CertFile == "" && d.KeyFile == "" {
		return
	}
	switch {
	case d.CertFile == "" || d.KeyFile == "":
		p.add(path, "give both cert_file and key_file (PEM) for the DoH listeners")
	case !d.Enabled():
		p.add(path+".listeners", "empty, but cert_file and key_file are set: give an ip:port such as 127.0.0.1:8443")
	default:
		if _, err := tls.LoadX509KeyPair(c.Path(d.CertFile), c.Path(d.KeyFile)); err != nil {
			p.add(path+".cert_file", "certificate and key do not load: %v", err)
		}
	}
}
