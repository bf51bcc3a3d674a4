// Package daemon wires `sortie serve`: it turns a validated configuration into listeners, the
// egress, the gateway and the side services (public pages, admin, metrics), serves until its
// context ends, then drains open tunnels for at most the configured time. It is the only place
// that knows every part of the data plane.
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

	"github.com/prometheus/client_golang/prometheus"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/egress"
	"sortie.dev/sortie/internal/gateway"
	"sortie.dev/sortie/internal/proxyproto"
)

// Daemon is one running Sortie gateway.
type Daemon struct {
	cfg       *config.Config
	log       *slog.Logger
	reg       *prometheus.Registry // this instance's metrics
	gw        *gateway.Server
	eg        *egress.Egress
	listeners []boundListener
	// services run beside the gateway until the context ends (admin, metrics, public
	// pages...). Each subsystem's setup adds its own.
	services []service
	// health reports problems for /readyz; each subsystem may add a check.
	health []func() (ok bool, detail string)
	// closers run after the drain, in reverse order.
	closers []func()
	// wg counts the goroutines Run started; errs carries the first that failed.
	wg   sync.WaitGroup
	errs chan error
	// mu guards listeners, which a reload changes while the egress reads them.
	mu sync.Mutex
	// onReload is told the outcome of every reload (metrics).
	onReload []func(ok bool)

	// Each subsystem keeps its own state in its own file's type.
	observe  observeState  // observe.go
	resolve  resolveState  // resolver.go
	notice   noticeState   // notice.go
	policy   policyState   // egress.go
	guard    guardState    // guard.go
	handover handoverState // handover.go
}

// service is a side server: run serves until ctx ends and returns.
type service struct {
	name string
	run  func(ctx context.Context) error
}

type boundListener struct {
	ln        net.Listener
	name      string
	address   netip.AddrPort // as configured
	protocols gateway.Protocols
	certs     *certStore   // TLS listeners only
	raw       net.Listener // ln before TLS wrapping: the socket handed over on upgrade
	auth      bool         // proxy authentication required
}

// closeListener closes a proxy listener a reload dropped (or could not use).
func (d *Daemon) closeListener(l boundListener) {
	l.ln.Close()
	d.forget(l.raw)
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
	checkDescriptors(cfg.Gateway.MaxConnections, log)
	d := &Daemon{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	d.inherit()
	if err := d.setup(); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

// setup builds every part in dependency order; each step lives in its own file.
func (d *Daemon) setup() error {
	steps := []func() error{
		d.setupObserve,   // observe.go: ring log, metrics, admin endpoint
		d.listen,         // listeners, before anything that needs their addresses
		d.setupResolver,  // resolver.go: the resolver and its side services
		d.setupGuard,     // guard.go: per-client limits, proxy users
		d.setupEgress,    // egress.go: policy and dialer
		d.setupGateway,   // the proxy protocols
		d.guardGateway,   // guard.go: limits and authentication on the gateway's hooks
		d.observeGateway, // observe.go: metric and debug hooks on the gateway
		d.setupNotice,    // notice.go: the public pages
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (d *Daemon) listen() error {
	for i, l := range d.cfg.Listeners {
		bl, err := d.openListener(l)
		if err != nil {
			return fmt.Errorf("listeners[%d]: %w", i, err)
		}
		d.listeners = append(d.listeners, bl)
	}
	return nil
}

// openListener opens (or inherits) one proxy listener, TLS-wrapped when configured.
func (d *Daemon) openListener(l config.Listener) (boundListener, error) {
	protos, err := protocolsOf(l.Protocols)
	if err != nil {
		return boundListener{}, err
	}
	ln, err := d.listenTCP(l.Address.String())
	if err != nil {
		return boundListener{}, err
	}
	front := ln
	if l.ProxyProtocol {
		if front, err = proxyproto.NewListener(ln, proxyproto.Config{Trusted: l.TrustedProxies}); err != nil {
			ln.Close()
			d.forget(ln)
			return boundListener{}, err
		}
	}
	wrapped, certs, err := d.wrapTLS(front, l)
	if err != nil {
		ln.Close()
		d.forget(ln)
		return boundListener{}, err
	}
	return boundListener{ln: wrapped, raw: ln, name: l.DisplayName(), address: l.Address,
		protocols: protos, certs: certs, auth: l.Auth == config.AuthRequired}, nil
}

func protocolsOf(names []string) (gateway.Protocols, error) {
	if len(names) == 0 {
		return gateway.AllProtocols, nil
	}
	var p gateway.Protocols
	for _, n := range names {
		switch n {
		case config.ProtocolHTTP:
			p |= gateway.HTTP
		case config.ProtocolSOCKS4:
			p |= gateway.SOCKS4
		case config.ProtocolSOCKS5:
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

// close releases what setup opened, when New fails or after Run.
func (d *Daemon) close() {
	d.mu.Lock()
	for _, l := range d.listeners {
		l.ln.Close()
	}
	d.mu.Unlock()
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
	d.closers = nil
}

// setupGateway builds the gateway server over the egress.
func (d *Daemon) setupGateway() error {
	c := d.cfg
	d.gw = &gateway.Server{
		Dial: func(ctx context.Context, t gateway.Target) (net.Conn, error) {
			return d.eg.Dial(ctx, egress.Target{Host: t.Host, Port: t.Port})
		},
		HandshakeTimeout:    c.Gateway.HandshakeTimeout.D(),
		KeepAliveTimeout:    c.Gateway.KeepAliveTimeout.D(),
		IdleTimeout:         c.Gateway.IdleTimeout.D(),
		MaxHeaderBytes:      c.Gateway.MaxHeaderBytes,
		MaxConnections:      c.Gateway.MaxConnections,
		MaxHandshakes:       c.Gateway.MaxHandshakes,
		MaxClientHandshakes: c.Gateway.MaxClientHandshakes,
		MinBodyRate:         c.Gateway.MinBodyRate,
		Via:                 c.Gateway.Via,
		Logger:              d.log,
	}
	return nil
}

// Run serves until ctx ends, then stops accepting and drains open connections for at most
// gateway.drain_timeout before closing the rest.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.close()
	sctx, stopServices := context.WithCancel(context.Background())
	d.errs = make(chan error, 1)
	for _, l := range d.listeners {
		d.serveListener(l)
	}
	for _, s := range d.services {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			if err := s.run(sctx); err != nil && sctx.Err() == nil {
				d.fail(fmt.Errorf("%s: %w", s.name, err))
			}
		}()
	}
	d.signalReady()
	d.markServing()
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-d.errs:
	}
	d.drain()
	stopServices()
	d.wg.Wait()
	d.log.Info("stopped")
	return runErr
}

// serveListener serves one proxy listener until it is closed: by the drain, or by a reload
// that removed it (then its end is no error).
func (d *Daemon) serveListener(l boundListener) {
	d.log.Info("listening on "+l.ln.Addr().String(), "listener", l.name, "protocols", protocolNames(l.protocols))
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		err := d.gw.ServeListen(l.ln, gateway.Listen{Protocols: l.protocols, Auth: l.auth})
		if err != nil && !errors.Is(err, gateway.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			d.fail(fmt.Errorf("listener %s: %w", l.name, err))
		}
	}()
}

// fail ends Run with err, unless another error already does.
func (d *Daemon) fail(err error) {
	select {
	case d.errs <- err:
	default:
	}
}

// drain stops the gateway, giving open connections up to the drain timeout.
func (d *Daemon) drain() {
	d.markDraining()
	d.log.Info("stopping: draining open connections", "active", d.gw.Active(), "drain_timeout", d.cfg.Gateway.DrainTimeout.D())
	dctx, cancel := context.WithTimeout(context.Background(), d.cfg.Gateway.DrainTimeout.D())
	defer cancel()
	start := time.Now()
	if err := d.gw.Shutdown(dctx); err != nil {
		d.log.Warn("drain timed out; remaining connections closed", "after", time.Since(start).Round(time.Millisecond))
	}
}

// Addrs returns the listeners' bound addresses, in configuration order.
func (d *Daemon) Addrs() []net.Addr {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]net.Addr, len(d.listeners))
	for i, l := range d.listeners {
		out[i] = l.ln.Addr()
	}
	return out
}

// ready reports whether the daemon is ready, with the details of any problem.
func (d *Daemon) ready() (bool, string) {
	ok, details := true, []string{}
	for _, h := range d.health {
		hok, detail := h()
		ok = ok && hok
		if detail != "" {
			details = append(details, detail)
		}
	}
	if len(details) == 0 {
		if ok {
			return true, "ready"
		}
		return false, "not ready"
	}
	return ok, strings.Join(details, "; ")
}
