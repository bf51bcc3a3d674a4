package daemon

import (
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/egress"
	"sortie.dev/sortie/internal/policy"
)

// policyState holds the exit policy in force; a reload swaps it atomically.
type policyState struct {
	current atomic.Pointer[policy.Policy]
}

// setupEgress builds the exit policy and the one path of outbound connections.
func (d *Daemon) setupEgress() error {
	p, err := d.buildPolicy(d.cfg, d.ownListeners())
	if err != nil {
		return err
	}
	d.policy.current.Store(p)
	c := d.cfg
	d.eg = &egress.Egress{
		Resolver:       d.resolver(),
		Normalize:      policy.NormalizeHost,
		CheckName:      d.checkName,
		Check:          d.checkAddr,
		Own:            d.own,
		Routes:         routes(c),
		DialTimeout:    c.Egress.DialTimeout.D(),
		ResolveTimeout: resolveBudget(c),
	}
	return nil
}

// routes converts the configured routes for the egress.
func routes(c *config.Config) []egress.Route {
	var out []egress.Route
	for _, r := range c.Routes.All() {
		out = append(out, egress.Route{Suffix: r.Suffix, Upstream: r.Via})
	}
	return out
}

// buildPolicy assembles the exit policy of cfg with the gateway's own addresses: every
// address of this machine's interfaces, and every bound listener.
func (d *Daemon) buildPolicy(cfg *config.Config, own []netip.AddrPort) (*policy.Policy, error) {
	opts := cfg.PolicyOptions(own)
	opts.Own = localAddrs()
	p, err := policy.New(opts)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return p, nil
}

// checkName decides a name before it is resolved: the block list on names.
func (d *Daemon) checkName(name string, port uint16) error {
	return d.policy.current.Load().DecideName(name, port, time.Now()).Err()
}

// checkAddr decides one resolved address right before it is dialled.
func (d *Daemon) checkAddr(addr netip.Addr, port uint16) error {
	q := policy.Query{Addr: addr, Port: port, Proto: policy.TCP, Now: time.Now()}
	return d.policy.current.Load().Decide(q).Err()
}

// ownListeners returns the bound address of every TCP socket Sortie listens on: proxy ports,
// notice, metrics, admin and DoH listeners. The egress never dials them.
func (d *Daemon) ownListeners() []netip.AddrPort {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []netip.AddrPort
	for _, s := range d.handover.sockets {
		if ta, ok := s.ln.Addr().(*net.TCPAddr); ok {
			out = append(out, ta.AddrPort())
		}
	}
	return out
}

// localAddrs returns the addresses of this machine's interfaces.
func localAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out
}

// own reports whether addr:port is one of the gateway's own listeners. A listener on an
// unspecified address owns that port on every local address.
func (d *Daemon) own(addr netip.Addr, port uint16) bool {
	addr = addr.Unmap()
	for _, ap := range d.ownListeners() {
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
	for _, a := range localAddrs() {
		if a == addr {
			return true
		}
	}
	return false
}

// Policy assembles the exit policy a daemon would run with cfg, without opening anything:
// the configured listener addresses and this machine's interface addresses count as its own.
// `sortie policy explain` uses it.
func Policy(cfg *config.Config) (*policy.Policy, error) {
	var own []netip.AddrPort
	for _, l := range cfg.Listeners {
		own = append(own, l.Address)
	}
	own = append(own, cfg.Notice.Listeners...)
	opts := cfg.PolicyOptions(own)
	opts.Own = localAddrs()
	return policy.New(opts)
}
