package daemon

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"sortie.dev/sortie/internal/admin"
	"sortie.dev/sortie/internal/gateway"
	"sortie.dev/sortie/internal/metrics"
	"sortie.dev/sortie/internal/refusal"
	"sortie.dev/sortie/internal/ringlog"
	"sortie.dev/sortie/internal/scrub"
)

// Timeouts of the metrics HTTP server.
const (
	metricsReadHeaderTimeout = 10 * time.Second
	metricsWriteTimeout      = 30 * time.Second
	metricsIdleTimeout       = time.Minute
	metricsShutdownTimeout   = 5 * time.Second
)

// observeState holds the ring log, the metrics and the admin endpoint.
type observeState struct {
	ring *ringlog.Ring
	// ops logs operational events to the ring only, never to stderr.
	ops *slog.Logger
	// dests logs destination names to the ring only; nil unless log.debug_destinations.
	dests *slog.Logger
	gw    *metrics.Gateway
	// serving is set once every listener serves; draining once the drain starts.
	serving, draining atomic.Bool
	// metricsAddr and adminAddr are the bound side listeners (adminAddr only on TCP).
	metricsAddr, adminAddr net.Addr
}

// setupObserve prepares the ring log (and sends d.log to it as well as to stderr), the
// metrics and their listener, and the admin endpoint.
func (d *Daemon) setupObserve() error {
	d.setupRing()
	d.setupMetrics()
	if err := d.serveMetrics(); err != nil {
		return err
	}
	return d.serveAdmin()
}

// setupRing makes the ring log, locks its memory and adds it to d.log.
func (d *Daemon) setupRing() {
	c := d.cfg.Log
	r := ringlog.New(ringlog.Options{
		TTL: c.RingTTL.D(), MaxEntries: c.RingMaxEntries, MaxBytes: c.RingMaxBytes, Level: c.SlogLevel(),
	})
	d.observe.ring = r
	d.log = slog.New(slog.NewMultiHandler(d.log.Handler(), r.Handler()))
	d.observe.ops = slog.New(r.Handler())
	d.services = append(d.services, service{name: "ring log", run: r.Run})
	if c.RingTTL > 0 {
		if err := r.Lock(); err != nil && ringlog.SwapOn() {
			d.log.Warn("the ring log's memory could not be locked and swap is on: its events may reach the swap device; raise RLIMIT_MEMLOCK (LimitMEMLOCK= in systemd) or turn swap off", "error", err)
		}
	}
	if c.DebugDestinations {
		d.observe.dests = d.observe.ops
		d.log.Warn("log.debug_destinations is ON: the destination names clients ask for are kept in the RAM ring log for " + c.RingTTL.D().String() + ". Turn it off when you are done debugging.")
	}
}

// setupMetrics registers every metric of this instance on d.reg.
func (d *Daemon) setupMetrics() {
	d.observe.gw = metrics.NewGateway(d.reg, func() float64 {
		if d.gw == nil {
			return 0
		}
		return float64(d.gw.Tunnels())
	})
	cm := metrics.NewConfig(d.reg)
	d.onReload = append(d.onReload, cm.Reloaded)
	metrics.NewRing(d.reg, d.observe.ring)
	metrics.NewBuild(d.reg)
	// The prometheus package's own constructors, not the collectors package's: that one
	// imports database/sql, which the data plane must not reach (internal/archtest).
	d.reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{})) //nolint:staticcheck // see above
}

// observeGateway hands the gateway its metric and debug hooks. It runs after setupGateway.
func (d *Daemon) observeGateway() error {
	g := d.observe.gw
	d.gw.Conn = g.Conn
	d.gw.HandshakeFailed = g.HandshakeFailed
	d.gw.Relayed = g.Relayed
	d.gw.Observe = d.observeRequest
	d.gw.Dialed = d.observeDial
	return nil
}

// observeRequest counts a request and, at debug level, puts refusals in the ring.
func (d *Daemon) observeRequest(k gateway.Kind, r refusal.Reason, ok bool) {
	d.observe.gw.Observe(k, r, ok)
	if !ok {
		d.observe.ops.Debug("request refused", "kind", k.String(), "reason", r.String())
	}
}

// observeDial counts a dial and, with log.debug_destinations on, puts the destination's name
// (never the client's address) in the ring.
func (d *Daemon) observeDial(t gateway.Target, took time.Duration, err error) {
	d.observe.gw.Dialed(took, err)
	if l := d.observe.dests; l != nil {
		result := "ok"
		if err != nil {
			result = refusal.ReasonOf(err).String()
		}
		l.Info("destination", "kind", t.Kind.String(), "name", t.Host, "result", result)
	}
}

// markServing records that every listener serves: /readyz answers ready from now on.
func (d *Daemon) markServing() { d.observe.serving.Store(true) }

// markDraining records that the drain started: /readyz answers not ready from now on.
func (d *Daemon) markDraining() { d.observe.draining.Store(true) }

// serveState is the health check of the daemon's own life cycle.
func (d *Daemon) serveState() (bool, string) {
	switch {
	case d.observe.draining.Load():
		return false, "draining"
	case !d.observe.serving.Load():
		return false, "starting"
	}
	return true, ""
}

// serveAdmin opens the admin endpoint's unix socket and, when configured, its TCP address.
func (d *Daemon) serveAdmin() error {
	c := d.cfg.Admin
	d.health = append(d.health, d.serveState)
	srv := &admin.Server{Ring: d.observe.ring, Ready: d.ready, Pprof: c.Pprof, Logger: d.log}
	path, err := d.cfg.AdminSocket()
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	ln, err := d.listenUnix(path, admin.ListenUnix)
	if err != nil {
		return fmt.Errorf("admin.socket: %w", err)
	}
	d.closers = append(d.closers, func() { ln.Close() })
	d.services = append(d.services, service{name: "admin socket", run: func(ctx context.Context) error {
		return srv.Serve(ctx, ln)
	}})
	d.log.Info("admin endpoint at unix socket " + path)
	if !c.Address.IsValid() {
		return nil
	}
	tcp := *srv
	tcp.Token = []byte(c.Token.Reveal())
	tln, err := d.listenTCP(c.Address.String())
	if err != nil {
		return fmt.Errorf("admin.address: %w", err)
	}
	d.observe.adminAddr = tln.Addr()
	d.closers = append(d.closers, func() { tln.Close() })
	d.services = append(d.services, service{name: "admin address", run: func(ctx context.Context) error {
		return tcp.Serve(ctx, tln)
	}})
	d.log.Info("admin endpoint also at " + tln.Addr().String() + " (bearer token)")
	return nil
}

// serveMetrics opens the metrics listener.
func (d *Daemon) serveMetrics() error {
	m := d.cfg.Metrics
	ln, err := d.listenTCP(m.Address.String())
	if err != nil {
		return fmt.Errorf("metrics.address: %w", err)
	}
	d.observe.metricsAddr = ln.Addr()
	d.closers = append(d.closers, func() { ln.Close() })
	srv, err := d.metricsServer()
	if err != nil {
		return err
	}
	d.services = append(d.services, service{name: "metrics", run: func(ctx context.Context) error {
		return serveHTTP(ctx, srv, ln)
	}})
	d.log.Info("metrics served at " + ln.Addr().String() + "/metrics")
	return nil
}

// metricsServer builds the metrics HTTP server: /metrics only, behind basic authentication
// when configured, over TLS when configured.
func (d *Daemon) metricsServer() (*http.Server, error) {
	m := d.cfg.Metrics
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{
		MaxRequestsInFlight: 4, Timeout: metricsWriteTimeout,
	}))
	var h http.Handler = mux
	if m.Username != "" {
		h = basicAuth(m.Username, m.Password.Reveal(), h)
	}
	srv := &http.Server{
		Handler:           h,
		ErrorLog:          scrub.ErrorLog(d.observe.ops),
		ReadHeaderTimeout: metricsReadHeaderTimeout,
		ReadTimeout:       metricsReadHeaderTimeout,
		WriteTimeout:      metricsWriteTimeout,
		IdleTimeout:       metricsIdleTimeout,
		MaxHeaderBytes:    16 << 10,
	}
	if m.TLS() {
		cert, err := tls.LoadX509KeyPair(d.cfg.Path(m.TLSCertFile), d.cfg.Path(m.TLSKeyFile))
		if err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return srv, nil
}

// serveHTTP serves srv on ln (over TLS when srv has a TLS configuration) until ctx ends, then
// shuts it down within a few seconds.
func serveHTTP(ctx context.Context, srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), metricsShutdownTimeout)
	defer cancel()
	if srv.Shutdown(sctx) != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// basicAuth lets through only requests with the given user and password. Both sides are
// hashed before the comparison, so it takes the same time whatever their lengths.
func basicAuth(user, pass string, h http.Handler) http.Handler {
	want := sha256.Sum256([]byte(user + ":" + pass))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		got := sha256.Sum256([]byte(u + ":" + p))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="sortie-metrics", charset="UTF-8"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// observeListeners returns the bound TCP addresses of the metrics and admin listeners, which
// the egress must never dial.
func (d *Daemon) observeListeners() []netip.AddrPort {
	var out []netip.AddrPort
	for _, a := range []net.Addr{d.observe.metricsAddr, d.observe.adminAddr} {
		if ta, ok := a.(*net.TCPAddr); ok {
			out = append(out, ta.AddrPort())
		}
	}
	return out
}

// Logger returns the daemon's logger: stderr and the ring log. Messages logged to it must not
// hold client addresses, destinations, URLs, headers or credentials.
func (d *Daemon) Logger() *slog.Logger { return d.log }

// MetricsAddr returns the metrics listener's bound address.
func (d *Daemon) MetricsAddr() net.Addr { return d.observe.metricsAddr }

// Registry returns this instance's metrics registry.
func (d *Daemon) Registry() *prometheus.Registry { return d.reg }
