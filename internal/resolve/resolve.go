// Package resolve is Sortie's caching DNS stub resolver for exits. It asks a small list of
// upstream recursive resolvers for A and AAAA records over UDP (TCP when the answer is
// truncated), randomises the case of query names (0x20), sets aside upstreams that keep failing,
// caches answers with TTLs clipped to a few fixed buckets, caches negative answers (RFC 2308),
// coalesces identical concurrent questions, refuses names it must never resolve (.onion, .i2p)
// and counts everything on a per-instance Prometheus registerer. It keeps no log.
package resolve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied by New to zero fields, and by DefaultConfig.
const (
	DefaultTimeout    = 2 * time.Second
	DefaultAttempts   = 2
	DefaultTTLFloor   = 60 * time.Second
	DefaultTTLCeiling = time.Hour
	DefaultCacheSize  = 10000
)

// Fixed policy of the upstream set-aside and of the wire format.
const (
	failuresBeforeAside = 3                // consecutive failures that set an upstream aside
	asideFor            = 30 * time.Second // how long it stays aside
	ednsSize            = 1232             // EDNS0 UDP payload size (DNS flag day 2020)
	resolvConfPath      = "/etc/resolv.conf"
)

// alwaysNeverResolve are the suffixes refused whatever the configuration says.
var alwaysNeverResolve = []string{"onion", "i2p"}

// Sentinel errors carried by the *net.DNSError values LookupNetIP returns; test with errors.Is.
var (
	ErrNeverResolve = errors.New("name is in a suffix that is never resolved")
	ErrServFail     = errors.New("upstream server failure (SERVFAIL)")
	ErrRefused      = errors.New("upstream refused the query (REFUSED)")
	ErrFormat       = errors.New("upstream format error (FORMERR)")
	ErrNotImpl      = errors.New("upstream does not implement the query (NOTIMP)")
	ErrTimeout      = errors.New("upstream timed out")
	ErrUpstream     = errors.New("upstream error")
	ErrInvalidName  = errors.New("invalid domain name")
	ErrClosed       = errors.New("resolver closed")
)

// Config says where and how to resolve. Start from DefaultConfig: the zero TTLFloor means no
// caching at all.
type Config struct {
	// Nameservers are the upstream recursive resolvers, tried in order. Empty means the
	// nameservers of /etc/resolv.conf.
	Nameservers []netip.AddrPort
	// Timeout bounds one query to one upstream (UDP plus its TCP retry). Zero means 2s.
	Timeout time.Duration
	// Attempts is how many queries one question may cost, spread over the upstreams in turn.
	// Zero means 2.
	Attempts int
	// TTLFloor is the shortest time an answer is cached; zero disables the cache entirely.
	TTLFloor time.Duration
	// TTLCeiling is the longest time an answer is cached. Zero means 1h.
	TTLCeiling time.Duration
	// CacheSize bounds the cache, in entries (one per name and record type). Zero means 10000.
	CacheSize int
	// Disable0x20 turns off query-name case randomisation for every upstream.
	Disable0x20 bool
	// NeverResolve lists name suffixes refused without a query, on top of onion and i2p.
	NeverResolve []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns the defaults: system nameservers, 2s timeout, 2 attempts, TTLs
// between 60s and 1h, 10000 entries, 0x20 on.
func DefaultConfig() Config {
	return Config{
		Timeout:    DefaultTimeout,
		Attempts:   DefaultAttempts,
		TTLFloor:   DefaultTTLFloor,
		TTLCeiling: DefaultTTLCeiling,
		CacheSize:  DefaultCacheSize,
	}
}

// Resolver is a caching DNS resolver. Its methods are safe for concurrent use.
type Resolver struct {
	cfg       Config
	now       func() time.Time
	upstreams []*upstream
	never     []string
	buckets   []time.Duration // nil when caching is off
	cache     *cache
	flights   *flights
	metrics   *metrics
	window    *window
	randU64   func() uint64
}

// New returns a resolver for cfg with its metrics registered on reg (nil: not registered).
func New(cfg Config, reg prometheus.Registerer) (*Resolver, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	r := &Resolver{cfg: cfg, now: cfg.Now, flights: newFlights(), randU64: randUint64}
	for _, ap := range cfg.Nameservers {
		r.upstreams = append(r.upstreams, &upstream{addr: ap, no0x20: cfg.Disable0x20})
	}
	r.never = normaliseSuffixes(append(append([]string{}, alwaysNeverResolve...), cfg.NeverResolve...))
	if cfg.TTLFloor > 0 {
		r.buckets = ttlBuckets(cfg.TTLFloor, cfg.TTLCeiling)
		r.cache = newCache(cfg.CacheSize)
	}
	r.window = newWindow()
	r.metrics, err = newMetrics(reg, func() float64 { return r.window.ratio(r.now()) })
	if err != nil {
		return nil, err
	}
	return r, nil
}

func withDefaults(cfg Config) (Config, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultAttempts
	}
	if cfg.TTLCeiling <= 0 {
		cfg.TTLCeiling = DefaultTTLCeiling
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.TTLFloor < 0 || cfg.TTLFloor > cfg.TTLCeiling {
		return cfg, fmt.Errorf("resolve: ttl floor %v must be between 0 and the ceiling %v", cfg.TTLFloor, cfg.TTLCeiling)
	}
	if len(cfg.Nameservers) == 0 {
		ns, err := readResolvConf(resolvConfPath)
		if err != nil {
			return cfg, fmt.Errorf("resolve: no nameservers configured: %w", err)
		}
		cfg.Nameservers = ns
	}
	for _, ap := range cfg.Nameservers {
		if !ap.IsValid() || ap.Port() == 0 {
			return cfg, fmt.Errorf("resolve: nameserver %v is not an address with a port", ap)
		}
	}
	return cfg, nil
}

// Close stops the queries in flight and waits for them. Lookups after Close fail.
func (r *Resolver) Close() {
	r.flights.close()
}

// Degraded reports whether more than 1% of the questions sent upstream in the last ten
// minutes timed out (the threshold at which Tor marks an exit overloaded).
func (r *Resolver) Degraded() bool {
	return r.window.ratio(r.now()) > 0.01
}

// LookupNetIP returns the addresses of host: network "ip4" asks for A records, "ip6" for AAAA,
// "ip" for both (IPv6 first). An IP literal is returned as is. Errors are *net.DNSError:
// IsNotFound for NXDOMAIN, NODATA and refused names, IsTimeout for timeouts; errors.Is tells
// the sentinels of this package apart.
func (r *Resolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	qtypes, err := qtypesFor(network)
	if err != nil {
		return nil, err
	}
	if mayBeLiteral(host) {
		if ip, err := netip.ParseAddr(host); err == nil {
			return literal(ip.Unmap(), network, host)
		}
	}
	name, err := canonicalName(host)
	if err != nil {
		return nil, dnsError(host, ErrInvalidName)
	}
	if r.neverResolve(name) {
		r.metrics.never.Inc()
		return nil, dnsError(host, ErrNeverResolve)
	}
	if len(qtypes) == 1 {
		return r.lookup(ctx, host, name, qtypes[0])
	}
	return r.lookupBoth(ctx, host, name)
}

// The record types asked for each network; read only.
var (
	qtypesA    = []uint16{dns.TypeA}
	qtypesAAAA = []uint16{dns.TypeAAAA}
	qtypesBoth = []uint16{dns.TypeAAAA, dns.TypeA}
)

func qtypesFor(network string) ([]uint16, error) {
	switch network {
	case "ip4":
		return qtypesA, nil
	case "ip6":
		return qtypesAAAA, nil
	case "ip":
		return qtypesBoth, nil
	}
	return nil, net.UnknownNetworkError(network)
}

// mayBeLiteral is a cheap test that spares host names the error netip.ParseAddr allocates.
func mayBeLiteral(host string) bool {
	if strings.ContainsRune(host, ':') {
		return true
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func literal(ip netip.Addr, network, host string) ([]netip.Addr, error) {
	if (network == "ip4" && !ip.Is4()) || (network == "ip6" && !ip.Is6()) {
		return nil, &net.DNSError{Err: "no suitable address", Name: host, IsNotFound: true}
	}
	return []netip.Addr{ip}, nil
}

// lookupBoth asks for AAAA and A at once and returns whatever was found.
func (r *Resolver) lookupBoth(ctx context.Context, host, name string) ([]netip.Addr, error) {
	var (
		wg     sync.WaitGroup
		v6, v4 []netip.Addr
		e6, e4 error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		v6, e6 = r.lookup(ctx, host, name, dns.TypeAAAA)
	}()
	v4, e4 = r.lookup(ctx, host, name, dns.TypeA)
	wg.Wait()
	if e6 != nil && e4 != nil {
		return nil, worseError(e6, e4)
	}
	return append(v6, v4...), nil
}

// worseError picks the error to report when both families failed: a failure beats "not found".
func worseError(a, b error) error {
	var da *net.DNSError
	if errors.As(a, &da) && da.IsNotFound {
		return b
	}
	return a
}

// lookup answers one question from the cache or from a (coalesced) upstream query.
func (r *Resolver) lookup(ctx context.Context, host, name string, qtype uint16) ([]netip.Addr, error) {
	r.metrics.byType[typeIndex(qtype)].Inc()
	k := key{name: name, qtype: qtype}
	if r.cache != nil {
		if a, ok := r.cache.get(k, r.now()); ok {
			r.metrics.hits.Inc()
			return r.finish(host, a)
		}
		r.metrics.misses.Inc()
	}
	a, err := r.flights.do(ctx, k, r.flightBudget(), r.resolveUpstream)
	if err != nil {
		return nil, dnsError(host, err)
	}
	return r.finish(host, a)
}

// finish counts an answer and turns it into the caller's result.
func (r *Resolver) finish(host string, a answer) ([]netip.Addr, error) {
	r.metrics.byOutcome[a.outcome].Inc()
	if a.outcome == outSuccess {
		return append([]netip.Addr(nil), a.addrs...), nil
	}
	return nil, dnsError(host, a.outcome.err())
}

func (r *Resolver) flightBudget() time.Duration {
	return r.cfg.Timeout*time.Duration(r.cfg.Attempts) + 100*time.Millisecond
}

// resolveUpstream runs once per coalesced question: asks upstream, records, caches.
func (r *Resolver) resolveUpstream(ctx context.Context, k key) answer {
	q := question{name: k.name, qtype: k.qtype, parse: parseAnswer}
	if k.raw != 0 {
		q.do, q.cd, q.parse = k.raw&rawDO != 0, k.raw&rawCD != 0, parseRaw
	}
	a := r.query(ctx, q)
	r.window.record(r.now(), a.outcome == outTimeout)
	if r.cache != nil && a.cacheable {
		a.expires = r.now().Add(clipTTL(a.ttl, r.buckets))
		r.cache.set(k, a, r.now())
	}
	return a
}

func (r *Resolver) neverResolve(name string) bool {
	for _, s := range r.never {
		if name == s || strings.HasSuffix(name, "."+s) {
			return true
		}
	}
	return false
}

func normaliseSuffixes(in []string) []string {
	var out []string
	for _, s := range in {
		s = strings.ToLower(strings.Trim(strings.TrimSpace(s), "."))
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// canonicalName lower-cases host, drops one trailing dot and checks it is a host name.
func canonicalName(host string) (string, error) {
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "" || len(name) > 253 {
		return "", ErrInvalidName
	}
	for label := range strings.SplitSeq(name, ".") {
		if !validLabel(label) {
			return "", ErrInvalidName
		}
	}
	return name, nil
}

func validLabel(l string) bool {
	if l == "" || len(l) > 63 {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// typeLabels are the values of the queries_total type label, indexed by typeIndex.
var typeLabels = [...]string{"A", "AAAA", "other"}

func typeIndex(qtype uint16) int {
	switch qtype {
	case dns.TypeA:
		return 0
	case dns.TypeAAAA:
		return 1
	}
	return 2
}
