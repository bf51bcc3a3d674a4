package daemon

import (
	"net"
	"net/netip"

	"sortie.dev/sortie/internal/egress"
)

// setupEgress builds the one path of outbound connections.
func (d *Daemon) setupEgress() error {
	c := d.cfg
	d.eg = &egress.Egress{
		Resolver:       d.resolver(),
		Check:          specialCheck(c.Egress.AllowSpecial),
		Own:            d.own,
		DialTimeout:    c.Egress.DialTimeout.D(),
		ResolveTimeout: c.Resolver.Timeout.D(),
	}
	return nil
}

// specialCheck refuses special-purpose addresses except those inside the operator's
// allow_special prefixes.
func specialCheck(allow []netip.Prefix) func(netip.Addr, uint16) error {
	return func(addr netip.Addr, port uint16) error {
		a := addr.Unmap()
		for _, p := range allow {
			if p.Contains(a) {
				return nil
			}
		}
		return egress.Builtin(addr, port)
	}
}

// own reports whether addr:port is one of the gateway's own listeners. A listener on an
// unspecified address owns that port on every local address.
func (d *Daemon) own(addr netip.Addr, port uint16) bool {
	addr = addr.Unmap()
	for _, l := range d.listeners {
		ap := l.ln.Addr().(*net.TCPAddr).AddrPort()
		if ap.Port() != port {
			continue
		}
		la := ap.Addr().Unmap()
		if la == addr || la.IsUnspecified() && isLocal(addr) {
			return true
		}
	}
	return false
}

// isLocal reports whether addr belongs to one of this machine's interfaces.
func isLocal(addr netip.Addr) bool {
	if addr.IsLoopback() || addr.IsUnspecified() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return true // unknown: refuse rather than risk dialling ourselves
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Unmap() == addr {
			return true
		}
	}
	return false
}
