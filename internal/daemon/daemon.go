// Package daemon wires `sortie serve`: it turns a validated configuration into listeners, the
// egress and the gateway, serves until its context ends, then drains open tunnels for at most
// the configured time. It is the only place that knows every part of the data plane.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/egress"
	"sortie.dev/sortie/internal/gateway"
)

// Daemon is one running Sortie gateway.
type Daemon struct {
	cfg       *config.Config
	log       *slog.Logger
	gw        *gateway.Server
	listeners []boundListener
}

type boundListener struct {
	ln        net.Listener
	name      string
	protocols gateway.Protocols
}

// New prepares a daemon from cfg: it creates the data directory and opens every listener, so
// that a port already in use fails before anything is served.
func New(cfg *config.Config, log *slog.Logger) (*Daemon, error) {
	dir, err := cfg.StateDir()
	if err != nil {
		return nil, err
	}
	if err := config.EnsureDir(dir); err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, log: log}
	if err := d.listen(); err != nil {
		d.closeListeners()
		return nil, err
	}
	d.gw = d.gateway()
	return d, nil
}

func (d *Daemon) listen() error {
	for i, l := range d.cfg.Listeners {
		ln, err := net.Listen("tcp", l.Address.String())
		if err != nil {
			return fmt.Errorf("listeners[%d]: %w", i, err)
		}
		protos, err := protocolsOf(l.Protocols)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listeners[%d]: %w", i, err)
		}
		d.listeners = append(d.listeners, boundListener{ln: ln, name: l.Name, protocols: protos})
	}
	return nil
}

func protocolsOf(names []string) (gateway.Protocols, error) {
	if len(names) == 0 {
		return gateway.AllProtocols, nil
	}
	var p gateway.Protocols
	for _, n := range names {
		switch n {
		case "http":
			p |= gateway.HTTP
		case "socks4":
			p |= gateway.SOCKS4
		case "socks5":
			p |= gateway.SOCKS5
		default:
			return 0, fmt.Errorf("unknown protocol %q", n)
		}
	}
	return p, nil
}

func protocolNames(p gateway.Protocols) string {
	var names []string
	for _, x := range []struct {
		p    gateway.Protocols
		name string
	}{{gateway.HTTP, "http"}, {gateway.SOCKS4, "socks4"}, {gateway.SOCKS5, "socks5"}} {
		if p&x.p != 0 {
			names = append(names, x.name)
		}
	}
	return strings.Join(names, ",")
}

func (d *Daemon) closeListeners() {
	for _, l := range d.listeners {
		l.ln.Close()
	}
}

// gateway builds the gateway server and its egress from the configuration.
func (d *Daemon) gateway() *gateway.Server {
	c := d.cfg
	eg := &egress.Egress{
		Resolver:       egress.NewResolver(nameservers(c), c.Resolver.Timeout.D()),
		Check:          specialCheck(c.Egress.AllowSpecial),
		Own:            d.own,
		DialTimeout:    c.Egress.DialTimeout.D(),
		ResolveTimeout: c.Resolver.Timeout.D(),
	}
	return &gateway.Server{
		Dial: func(ctx context.Context, t gateway.Target) (net.Conn, error) {
			return eg.Dial(ctx, egress.Target{Host: t.Host, Port: t.Port})
		},
		HandshakeTimeout: c.Gateway.HandshakeTimeout.D(),
		KeepAliveTimeout: c.Gateway.KeepAliveTimeout.D(),
		IdleTimeout:      c.Gateway.IdleTimeout.D(),
		MaxHeaderBytes:   c.Gateway.MaxHeaderBytes,
		MaxConnections:   c.Gateway.MaxConnections,
		Via:              c.Gateway.Via,
		Logger:           d.log,
	}
}

func nameservers(c *config.Config) []netip.AddrPort {
	out := make([]netip.AddrPort, 0, len(c.Resolver.Nameservers))
	for _, n := range c.Resolver.Nameservers {
		out = append(out, n.AddrPort())
	}
	return out
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

// Run serves until ctx ends, then stops accepting and drains open connections for at most
// gateway.drain_timeout before closing the rest.
func (d *Daemon) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(d.listeners))
	for _, l := range d.listeners {
		d.log.Info("listening on "+l.ln.Addr().String(), "listener", l.name, "protocols", protocolNames(l.protocols))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.gw.Serve(l.ln, l.protocols); err != nil && !errors.Is(err, gateway.ErrServerClosed) {
				errs <- fmt.Errorf("listener %s: %w", l.name, err)
			}
		}()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errs:
	}
	d.log.Info("stopping: draining open connections", "active", d.gw.Active(), "drain_timeout", d.cfg.Gateway.DrainTimeout.D())
	dctx, cancel := context.WithTimeout(context.Background(), d.cfg.Gateway.DrainTimeout.D())
	defer cancel()
	start := time.Now()
	if err := d.gw.Shutdown(dctx); err != nil {
		d.log.Warn("drain timed out; remaining connections closed", "after", time.Since(start).Round(time.Millisecond))
	}
	wg.Wait()
	d.log.Info("stopped")
	return runErr
}

// Addrs returns the listeners' bound addresses, in configuration order.
func (d *Daemon) Addrs() []net.Addr {
	out := make([]net.Addr, len(d.listeners))
	for i, l := range d.listeners {
		out[i] = l.ln.Addr()
	}
	return out
}
