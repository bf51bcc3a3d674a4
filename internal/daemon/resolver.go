package daemon

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/doh"
	"sortie.dev/sortie/internal/egress"
	"sortie.dev/sortie/internal/resolve"
	"sortie.dev/sortie/internal/scrub"
)

// Values of the resolver label on the resolver metrics: the exit's and the DoH endpoint's.
const (
	resolverExit = "exit"
	resolverDoH  = "doh"
)

// resolveState holds the exit's caching resolver and the DoH endpoint with its own.
type resolveState struct {
	r *resolve.Resolver
	// doh answers the DoH endpoint; nil without doh.listeners.
	doh *resolve.Resolver
	// dohAddrs are the DoH listeners' bound addresses.
	dohAddrs []net.Addr
}

// setupResolver builds the exit's resolver, its health check, and the DoH endpoint.
func (d *Daemon) setupResolver() error {
	r, err := d.newResolver(resolverExit)
	if err != nil {
		return err
	}
	d.resolve.r = r
	d.health = append(d.health, d.dnsHealth)
	return d.setupDoH()
}

// newResolver builds a resolver on the resolver section, its metrics labelled with name.
func (d *Daemon) newResolver(name string) (*resolve.Resolver, error) {
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"resolver": name}, d.reg)
	r, err := resolve.New(resolverConfig(d.cfg), reg)
	if err != nil {
		return nil, fmt.Errorf("resolver: %w", err)
	}
	d.closers = append(d.closers, r.Close)
	return r, nil
}

// resolverConfig converts the resolver section.
func resolverConfig(c *config.Config) resolve.Config {
	rc := c.Resolver
	return resolve.Config{
		Nameservers:  nameservers(c),
		Timeout:      rc.Timeout.D(),
		Attempts:     resolve.DefaultAttempts,
		TTLFloor:     rc.TTLFloor.D(),
		TTLCeiling:   rc.TTLCeiling.D(),
		CacheSize:    rc.CacheSize,
		Disable0x20:  rc.Disable0x20,
		NeverResolve: rc.NeverResolve,
	}
}

// resolveBudget bounds the lookups of one dial: every attempt of one question, and a little
// more, so that the egress gives the resolver time for its second upstream.
func resolveBudget(c *config.Config) time.Duration {
	return c.Resolver.Timeout.D()*resolve.DefaultAttempts + 100*time.Millisecond
}

// dnsHealth says "dns degraded" while more than 1% of the exit's questions time out. The
// gateway still works, so the daemon stays ready.
func (d *Daemon) dnsHealth() (bool, string) {
	if d.resolve.r.Degraded() {
		return true, "dns degraded"
	}
	return true, ""
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

// setupDoH opens the DoH listeners, with their own resolver and cache, when configured.
func (d *Daemon) setupDoH() error {
	c := d.cfg.DoH
	if !c.Enabled() {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(d.cfg.Path(c.CertFile), d.cfg.Path(c.KeyFile))
	if err != nil {
		return fmt.Errorf("doh: %w", err)
	}
	r, err := d.newResolver(resolverDoH)
	if err != nil {
		return err
	}
	d.resolve.doh = r
	h := &doh.Handler{Resolver: r, Timeout: resolveBudget(d.cfg)}
	for i, a := range c.Listeners {
		ln, err := d.listenTCP(a.String())
		if err != nil {
			return fmt.Errorf("doh.listeners[%d]: %w", i, err)
		}
		d.closers = append(d.closers, func() { ln.Close() })
		d.resolve.dohAddrs = append(d.resolve.dohAddrs, ln.Addr())
		srv := doh.NewServer(h, cert, scrub.ErrorLog(d.opsLogger()))
		d.services = append(d.services, service{name: "doh", run: func(ctx context.Context) error {
			return doh.Serve(ctx, srv, ln)
		}})
		d.log.Info("DNS over HTTPS at https://" + ln.Addr().String() + doh.Path)
	}
	return nil
}

// opsLogger is the ring-only logger when there is one, else the daemon's.
func (d *Daemon) opsLogger() *slog.Logger {
	if d.observe.ops != nil {
		return d.observe.ops
	}
	return d.log
}

// DoHAddrs returns the DoH listeners' bound addresses, in configuration order.
func (d *Daemon) DoHAddrs() []net.Addr { return append([]net.Addr(nil), d.resolve.dohAddrs...) }
