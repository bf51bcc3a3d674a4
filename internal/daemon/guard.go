package daemon

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"sortie.dev/sortie/internal/auth"
	"sortie.dev/sortie/internal/guard"
	"sortie.dev/sortie/internal/refusal"
)

// guardState holds the per-client limits and the proxy users' verifier.
type guardState struct {
	g        *guard.Guard // nil when guard.enabled is false
	verifier atomic.Pointer[auth.Verifier]
	checks   *prometheus.CounterVec // authentication outcomes; kept across reloads
}

// clientKey is the context key of the guard.Key that names a connection's client.
type clientKey struct{}

// keyOf returns the client key a connection's context carries.
func keyOf(ctx context.Context) guard.Key {
	k, _ := ctx.Value(clientKey{}).(guard.Key)
	return k
}

// setupGuard builds the limits and the users' verifier.
func (d *Daemon) setupGuard() error {
	if d.cfg.Guard.Enabled {
		d.guard.g = guard.New(d.cfg.Guard.GuardConfig(), d.reg)
		d.services = append(d.services, service{name: "guard", run: d.guard.g.Run})
	} else {
		d.log.Warn("guard.enabled is false: no per-client limits, no scan or brute-force throttles")
	}
	d.guard.checks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sortie_auth_checks_total",
		Help: "Proxy authentication checks by outcome: cached, accepted, rejected, busy.",
	}, []string{"outcome"})
	for _, o := range []auth.Outcome{auth.Cached, auth.Accepted, auth.Rejected, auth.Busy} {
		d.guard.checks.WithLabelValues(o.String())
	}
	if err := d.reg.Register(d.guard.checks); err != nil {
		return err
	}
	v, err := d.buildVerifier(d.cfg.Users())
	if err != nil {
		return err
	}
	d.guard.verifier.Store(v)
	return nil
}

// buildVerifier checks the users and keeps successful checks of the verifier in force.
func (d *Daemon) buildVerifier(users map[string]string) (*auth.Verifier, error) {
	return auth.New(users, auth.Options{
		Reuse:   d.guard.verifier.Load(),
		Observe: func(o auth.Outcome) { d.guard.checks.WithLabelValues(o.String()).Inc() },
	})
}

// guardGateway puts the limits on the gateway's hooks and the egress.
func (d *Daemon) guardGateway() error {
	d.gw.Authenticate = d.authenticate
	d.gw.Admit = d.admit
	g := d.guard.g
	if g == nil {
		return nil
	}
	d.gw.Request = func(ctx context.Context) error { return g.Request(keyOf(ctx)) }
	d.gw.TunnelDone = func(ctx context.Context, up net.Conn, lived time.Duration) {
		if ta, ok := up.RemoteAddr().(*net.TCPAddr); ok {
			g.Done(keyOf(ctx), ta.AddrPort().Addr(), ta.AddrPort().Port(), lived)
		}
	}
	d.eg.Limit = func(ctx context.Context, addr netip.Addr, port uint16) error {
		return g.Dest(keyOf(ctx), addr, port)
	}
	return nil
}

// admit names the client of a new connection by its source address (on a PROXY-protocol
// listener, the address the front end reported; for i2pd, its per-peer 127.a.b.c) and
// applies the per-client connection limits.
func (d *Daemon) admit(ctx context.Context, c net.Conn) (context.Context, func(), error) {
	var key guard.Key
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		key = guard.AddrKey(ta.AddrPort().Addr())
	}
	ctx = context.WithValue(ctx, clientKey{}, key)
	if d.guard.g == nil {
		return ctx, func() {}, nil
	}
	release, err := d.guard.g.Admit(key)
	if err != nil {
		return nil, nil, err
	}
	return ctx, release, nil
}

// authenticate checks proxy credentials. A client past its failure budget costs no password
// check; a failure (an empty user stands for malformed credentials) spends its budget; a
// user who passed is the client from then on.
func (d *Daemon) authenticate(ctx context.Context, user, password string) (context.Context, error) {
	key, g := keyOf(ctx), d.guard.g
	if g != nil {
		if err := g.AuthAllowed(key); err != nil {
			return nil, err
		}
	}
	ok := false
	var err error
	if user != "" {
		ok, err = d.guard.verifier.Load().Check(ctx, user, password)
	}
	if errors.Is(err, auth.ErrBusy) {
		return nil, &refusal.Error{Reason: refusal.Capacity, RetryAfter: time.Second, Err: err}
	}
	if !ok {
		if g != nil {
			g.AuthFailed(key)
		}
		return nil, refusal.New(refusal.Auth, "")
	}
	return context.WithValue(ctx, clientKey{}, guard.UserKey(user)), nil
}
