// Package egress is the one place Sortie makes outbound connections. It normalises the host a
// client asked for, resolves names (AAAA and A in parallel), checks every address against the
// exit policy immediately before it is dialled, and races the attempts as RFC 8305 (Happy
// Eyeballs v2) describes. Every failure comes back as a *refusal.Error whose public message
// never names the destination.
package egress

import (
	"context"
	"net"
	"net/netip"
	"time"

	"sortie.dev/sortie/internal/refusal"
)

// Defaults and RFC 8305 timings.
const (
	DefaultDialTimeout    = 10 * time.Second
	DefaultResolveTimeout = 5 * time.Second

	resolutionDelay = 50 * time.Millisecond  // RFC 8305 §3: wait this long for AAAA after A
	attemptDelay    = 250 * time.Millisecond // RFC 8305 §5: between connection attempts
	maxInFlight     = 4                      // concurrent connection attempts per Dial

	// maxAddrsPerFamily bounds the addresses taken from one lookup: a hostile answer with
	// hundreds of records must not buy hundreds of Check calls and connection attempts.
	maxAddrsPerFamily = 16
)

// Target is what a client asked for: Host is a name or an IP literal as the client gave it
// (IPv6 literals may arrive with or without brackets), Port its port.
type Target struct {
	Host string
	Port uint16
}

// Resolver is satisfied by *net.Resolver and by Sortie's caching resolver. network is "ip4"
// or "ip6". Errors should be *net.DNSError (IsNotFound for NXDOMAIN and NODATA, IsTimeout for
// timeouts). A Resolver must return soon after ctx is done: Dial waits for its lookups.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Egress dials outbound connections. Its zero value is ready to use: the system's resolver,
// Builtin as the address check, DefaultNormalize for hosts. It is safe for concurrent use;
// do not change its fields while it dials.
type Egress struct {
	// Resolver looks names up; nil means NewResolver(nil, ResolveTimeout). A *net.Resolver
	// is asked for the rooted name ("example.com.") so that resolv.conf search domains never
	// apply to a client's destination.
	Resolver Resolver
	// Check decides one resolved address before it is dialled; nil means Builtin. It returns
	// a *refusal.Error (Reason Policy or Blocked) to refuse; any other error is taken as a
	// Policy refusal.
	Check func(addr netip.Addr, port uint16) error
	// Routes send names under some suffixes (.onion, .i2p) to upstream proxies instead of
	// resolving them; the operator's upstreams are dialled as configured, outside Check.
	Routes []Route
	// Limit, when set, is asked right after Check about each address the policy allows, with
	// the dial's context (which carries who asks): the per-destination limits and the scan
	// and brute-force throttles. It returns a *refusal.Error (RateLimited) to refuse.
	Limit func(ctx context.Context, addr netip.Addr, port uint16) error
	// CheckName decides a normalised name before it is resolved (the block list on names);
	// nil allows every name. It returns a *refusal.Error to refuse; the name is then never
	// looked up.
	CheckName func(name string, port uint16) error
	// Normalize turns the client's host into a lower-case name or an address; nil means
	// DefaultNormalize. Its errors should be *refusal.Error; others are taken as Malformed.
	Normalize func(host string) (name string, addr netip.Addr, err error)
	// DialTimeout bounds the connection attempts of one Dial, all addresses together,
	// counted from the first attempt; 0 means DefaultDialTimeout.
	DialTimeout time.Duration
	// ResolveTimeout bounds the lookups of one Dial; 0 means DefaultResolveTimeout.
	ResolveTimeout time.Duration
	// Own reports the gateway's own listeners; such destinations are always refused
	// (Policy), whatever Check says. nil means none.
	Own func(addr netip.Addr, port uint16) bool
	// Dialer makes each TCP connection (its LocalAddr chooses the source address); nil means
	// a zero net.Dialer. Its Timeout is ignored in favour of DialTimeout.
	Dialer *net.Dialer

	// dialContext replaces Dialer in tests.
	dialContext func(ctx context.Context, network, address string) (net.Conn, error)
}

// Dial connects to t over TCP, or returns a *refusal.Error saying why it could not.
func (e *Egress) Dial(ctx context.Context, t Target) (net.Conn, error) {
	if t.Port == 0 {
		return nil, refusal.New(refusal.Malformed, msgMalformed)
	}
	name, addr, err := e.normalize(t.Host)
	if err != nil {
		return nil, asRefusal(err, refusal.Malformed, msgMalformed)
	}
	if addr.IsValid() {
		return e.dialLiteral(ctx, addr.Unmap().WithZone(""), t.Port)
	}
	if e.CheckName != nil {
		if err := e.CheckName(name, t.Port); err != nil {
			return nil, asRefusal(err, refusal.Policy, msgPolicy)
		}
	}
	if r, ok := e.route(name); ok {
		return e.dialRoute(ctx, r, name, t.Port)
	}
	return e.dialName(ctx, name, t.Port)
}

func (e *Egress) dialLiteral(ctx context.Context, addr netip.Addr, port uint16) (net.Conn, error) {
	if err := e.allow(ctx, addr, port); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, e.dialTimeout())
	defer cancel()
	c, err := e.dialOne(ctx, addr, port)
	if err != nil {
		return nil, classifyDial(err)
	}
	return c, nil
}

// allow runs Own, Check and Limit on one address; it returns nil or a *refusal.Error.
func (e *Egress) allow(ctx context.Context, addr netip.Addr, port uint16) error {
	if e.Own != nil && e.Own(addr, port) {
		return refusal.New(refusal.Policy, msgPolicy)
	}
	check := e.Check
	if check == nil {
		check = Builtin
	}
	if err := check(addr, port); err != nil {
		return asRefusal(err, refusal.Policy, msgPolicy)
	}
	if e.Limit != nil {
		if err := e.Limit(ctx, addr, port); err != nil {
			return asRefusal(err, refusal.RateLimited, "too many connections")
		}
	}
	return nil
}

func (e *Egress) dialOne(ctx context.Context, addr netip.Addr, port uint16) (net.Conn, error) {
	address := netip.AddrPortFrom(addr, port).String()
	if e.dialContext != nil {
		return e.dialContext(ctx, "tcp", address)
	}
	var d net.Dialer
	if e.Dialer != nil {
		d = *e.Dialer
		d.Timeout, d.Deadline = 0, time.Time{}
	}
	return d.DialContext(ctx, "tcp", address)
}

func (e *Egress) normalize(host string) (string, netip.Addr, error) {
	if e.Normalize != nil {
		return e.Normalize(host)
	}
	return DefaultNormalize(host)
}

func (e *Egress) resolver() Resolver {
	if e.Resolver != nil {
		return e.Resolver
	}
	return NewResolver(nil, e.resolveTimeout())
}

func (e *Egress) dialTimeout() time.Duration {
	if e.DialTimeout > 0 {
		return e.DialTimeout
	}
	return DefaultDialTimeout
}

func (e *Egress) resolveTimeout() time.Duration {
	if e.ResolveTimeout > 0 {
		return e.ResolveTimeout
	}
	return DefaultResolveTimeout
}
