package daemon

import (
	"net/netip"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/egress"
)

// resolveState holds the resolver the egress uses.
type resolveState struct {
	r egress.Resolver
}

// setupResolver prepares the resolver and its side services.
func (d *Daemon) setupResolver() error {
	c := d.cfg
	d.resolve.r = egress.NewResolver(nameservers(c), c.Resolver.Timeout.D())
	return nil
}

// resolver returns the resolver the egress uses.
func (d *Daemon) resolver() egress.Resolver { return d.resolve.r }

func nameservers(c *config.Config) []netip.AddrPort {
	out := make([]netip.AddrPort, 0, len(c.Resolver.Nameservers))
	for _, n := range c.Resolver.Nameservers {
		out = append(out, n.AddrPort())
	}
	return out
}
