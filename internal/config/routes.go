package config

import (
	"net/url"
	"strconv"
	"strings"
)

// Routes send names under some suffixes to upstream proxies. Such names are never resolved
// locally; with no upstream they are refused ("no route", HTTP 502, SOCKS5 0x04).
type Routes struct {
	// Onion is the upstream for .onion names, usually a local Tor: socks5://127.0.0.1:9050.
	// Empty refuses them.
	Onion string `yaml:"onion"`
	// I2P is the upstream for .i2p names: a local i2pd's HTTP proxy (http://127.0.0.1:4444,
	// used with CONNECT) or its SOCKS proxy (socks5://127.0.0.1:4447). Empty refuses them.
	I2P string `yaml:"i2p"`
	// Other routes more suffixes, each with its upstream.
	Other []Route `yaml:"other"`
}

// Route is one suffix and its upstream proxy.
type Route struct {
	// Suffix is the name suffix, such as .example.
	Suffix string `yaml:"suffix"`
	// Via is the upstream proxy: socks5://host:port or http://host:port. Empty refuses the
	// names.
	Via string `yaml:"via"`
}

// All returns every route, .onion and .i2p first, with its upstream parsed (nil when
// empty). Call it on a validated configuration.
func (r Routes) All() []ParsedRoute {
	out := []ParsedRoute{{Suffix: ".onion", Via: parseVia(r.Onion)}, {Suffix: ".i2p", Via: parseVia(r.I2P)}}
	for _, o := range r.Other {
		out = append(out, ParsedRoute{Suffix: o.Suffix, Via: parseVia(o.Via)})
	}
	return out
}

// ParsedRoute is a route with its upstream URL; Via is nil when the names are refused.
type ParsedRoute struct {
	Suffix string
	Via    *url.URL
}

func parseVia(s string) *url.URL {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil
	}
	return u
}

// validate checks every upstream URL and suffix.
func (r Routes) validate(p *problems) {
	checkVia(p, "routes.onion", r.Onion)
	checkVia(p, "routes.i2p", r.I2P)
	for i, o := range r.Other {
		path := "routes.other[" + strconv.Itoa(i) + "]"
		s := strings.TrimPrefix(o.Suffix, ".")
		if s == "" || strings.ContainsAny(s, " /:@") {
			p.add(path+".suffix", "want a name suffix such as .example, got %q", o.Suffix)
		}
		checkVia(p, path+".via", o.Via)
	}
}

func checkVia(p *problems, path, via string) {
	if via == "" {
		return
	}
	u, err := url.Parse(via)
	ok := err == nil && u.Port() != "" && u.Hostname() != "" && u.Path == "" && u.User == nil
	if !ok || (u.Scheme != "socks5" && u.Scheme != "socks5h" && u.Scheme != "http") {
		p.add(path, "want socks5://host:port or http://host:port, got %q", via)
	}
}
