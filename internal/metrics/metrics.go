// Package metrics owns Sortie's Prometheus metrics: constructors that register counters,
// gauges and histograms on a caller's prometheus.Registerer (never the global one), named
// sortie_<subsystem>_<name>, whose labels come from small fixed sets only (protocol, request
// kind, verdict, refusal reason, error class). No label ever holds an address, a name, a URL
// or a credential. Every series a constructor can produce is created up front, so that a
// scrape shows zeros rather than nothing and the label sets are visibly bounded.
package metrics

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"sortie.dev/sortie/internal/gateway"
	"sortie.dev/sortie/internal/refusal"
)

// Namespace prefixes every metric name.
const Namespace = "sortie"

// DialBuckets are the dial latency histogram's upper bounds in seconds: from a same-host dial
// to the default dial timeout.
var DialBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// protocols are the label values of the protocol label, indexed by protocolIndex.
var protocols = [...]string{"none", "http", "socks4", "socks5"}

func protocolIndex(p gateway.Protocols) int {
	switch p {
	case gateway.HTTP:
		return 1
	case gateway.SOCKS4:
		return 2
	case gateway.SOCKS5:
		return 3
	}
	return 0
}

// kinds are the request kinds, indexed by gateway.Kind (0: unknown).
var kinds = [...]gateway.Kind{0, gateway.KindForward, gateway.KindConnect, gateway.KindSOCKS5, gateway.KindSOCKS4}

// mustRegister registers cs on reg, or panics: a clash is a programming error.
func mustRegister(reg prometheus.Registerer, cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			panic(fmt.Sprintf("metrics: %v", err))
		}
	}
}

// Gateway counts client connections, requests, dials and relayed bytes. Its methods match
// the hooks of gateway.Server and are safe for concurrent use; they take no lock and do not
// allocate.
type Gateway struct {
	accepted  [len(protocols)]prometheus.Counter
	active    [len(protocols)]prometheus.Gauge
	requests  [len(kinds)][]prometheus.Counter // by kind, then reason; the last is "accepted"
	handshake [5]prometheus.Counter            // by gateway.Failure
	dials     []prometheus.Counter             // by refusal.Reason; the last is "ok"
	dialTime  prometheus.Histogram
	bytesUp   prometheus.Counter
	bytesDown prometheus.Counter
}

// NewGateway registers the gateway's metrics on reg. tunnels, when not nil, reports the
// tunnels open right now.
func NewGateway(reg prometheus.Registerer, tunnels func() float64) *Gateway {
	g := &Gateway{}
	g.connections(reg)
	g.requestsBy(reg)
	g.dialsBy(reg)
	g.relayBytes(reg)
	if tunnels != nil {
		mustRegister(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "gateway", Name: "tunnels_active",
			Help: "Tunnels (CONNECT, SOCKS, protocol upgrades) open right now.",
		}, tunnels))
	}
	return g
}

func (g *Gateway) connections(reg prometheus.Registerer) {
	accepted := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "gateway", Name: "connections_accepted_total",
		Help: "Client connections accepted, by the protocol their first byte announced (none: closed before it, or a protocol the listener refuses).",
	}, []string{"protocol"})
	active := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: "gateway", Name: "connections_active",
		Help: "Client connections open right now, by protocol.",
	}, []string{"protocol"})
	for i, p := range protocols {
		g.accepted[i] = accepted.WithLabelValues(p)
		g.active[i] = active.WithLabelValues(p)
	}
	handshake := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "gateway", Name: "handshake_failures_total",
		Help: "Connections that ended before their request was complete, by kind: timeout, tls, malformed, closed.",
	}, []string{"kind"})
	for _, f := range gateway.Failures() {
		g.handshake[f] = handshake.WithLabelValues(f.String())
	}
	mustRegister(reg, accepted, active, handshake)
}

func (g *Gateway) requestsBy(reg prometheus.Registerer) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "gateway", Name: "requests_total",
		Help: "Requests by kind (forward, connect, socks4, socks5) and verdict (accepted, refused), with the refusal reason (none when accepted).",
	}, []string{"kind", "verdict", "reason"})
	reasons := refusal.Reasons()
	for i, k := range kinds {
		g.requests[i] = make([]prometheus.Counter, len(reasons)+1)
		for j, r := range reasons {
			g.requests[i][j] = requests.WithLabelValues(k.String(), "refused", r.String())
		}
		g.requests[i][len(reasons)] = requests.WithLabelValues(k.String(), "accepted", "none")
	}
	mustRegister(reg, requests)
}

// dialReasons are the refusal reasons that a dial itself can end with; other refusals
// (policy, block list) happen before anything is dialled and are not dial outcomes.
var dialReasons = []refusal.Reason{
	refusal.NXDomain, refusal.DNSFailure, refusal.DNSTimeout, refusal.Refused,
	refusal.NetUnreach, refusal.HostUnreach, refusal.DialTimeout, refusal.UpstreamFailure,
	refusal.Unknown,
}

func (g *Gateway) dialsBy(reg prometheus.Registerer) {
	dials := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "egress", Name: "dials_total",
		Help: "Outbound dials by result: ok, or the error class (nxdomain, dns_failure, dns_timeout, refused, net_unreachable, host_unreachable, dial_timeout, upstream_failure, unknown). Requests refused before a dial are not counted.",
	}, []string{"result"})
	g.dials = make([]prometheus.Counter, len(refusal.Reasons())+1)
	for _, r := range dialReasons {
		g.dials[r] = dials.WithLabelValues(r.String())
	}
	g.dials[len(g.dials)-1] = dials.WithLabelValues("ok")
	g.dialTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "egress", Name: "dial_duration_seconds",
		Help:    "Time taken by outbound dials that were attempted (resolution included), whatever their result.",
		Buckets: DialBuckets,
	})
	mustRegister(reg, dials, g.dialTime)
}

func (g *Gateway) relayBytes(reg prometheus.Registerer) {
	b := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "relay", Name: "bytes_total",
		Help: "Bytes relayed, by direction: up (client to destination) and down. A tunnel is counted when it ends.",
	}, []string{"direction"})
	g.bytesUp, g.bytesDown = b.WithLabelValues("up"), b.WithLabelValues("down")
	mustRegister(reg, b)
}

// Conn is gateway.Server's Conn hook.
func (g *Gateway) Conn(p gateway.Protocols, delta int) {
	i := protocolIndex(p)
	if delta > 0 {
		g.accepted[i].Inc()
	}
	g.active[i].Add(float64(delta))
}

// HandshakeFailed is gateway.Server's HandshakeFailed hook.
func (g *Gateway) HandshakeFailed(f gateway.Failure) {
	if int(f) < len(g.handshake) && g.handshake[f] != nil {
		g.handshake[f].Inc()
	}
}

// Observe is gateway.Server's Observe hook.
func (g *Gateway) Observe(k gateway.Kind, r refusal.Reason, ok bool) {
	ki := int(k)
	if ki >= len(kinds) {
		ki = 0
	}
	row := g.requests[ki]
	switch {
	case ok:
		row[len(row)-1].Inc()
	case int(r) < len(row)-1:
		row[r].Inc()
	default:
		row[refusal.Unknown].Inc()
	}
}

// Dialed counts a dial: by its outcome, with its latency, unless it was refused before
// anything was dialled. It never looks at the target.
func (g *Gateway) Dialed(took time.Duration, err error) {
	c := g.dials[len(g.dials)-1]
	if err != nil {
		r := refusal.ReasonOf(err)
		if int(r) >= len(g.dials)-1 {
			r = refusal.Unknown
		}
		if c = g.dials[r]; c == nil {
			return // refused by policy or the block list: nothing was dialled
		}
	}
	c.Inc()
	g.dialTime.Observe(took.Seconds())
}

// Relayed is gateway.Server's Relayed hook.
func (g *Gateway) Relayed(up, down int64) {
	g.bytesUp.Add(float64(up))
	g.bytesDown.Add(float64(down))
}

// Config counts configuration reloads.
type Config struct {
	ok, failed prometheus.Counter
	last       prometheus.Gauge
	lastTime   prometheus.Gauge
}

// NewConfig registers the configuration metrics on reg. The last reload counts as successful
// until one fails: the configuration in force at start loaded.
func NewConfig(reg prometheus.Registerer) *Config {
	reloads := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "config", Name: "reloads_total",
		Help: "Configuration reloads (SIGHUP) by result: success or failure.",
	}, []string{"result"})
	c := &Config{ok: reloads.WithLabelValues("success"), failed: reloads.WithLabelValues("failure")}
	c.last = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: "config", Name: "last_reload_successful",
		Help: "1 when the last reload (or the start) applied the configuration, 0 when it failed.",
	})
	c.lastTime = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: "config", Name: "last_reload_success_timestamp_seconds",
		Help: "Unix time of the last successful reload, or of the start.",
	})
	c.last.Set(1)
	c.lastTime.SetToCurrentTime()
	mustRegister(reg, reloads, c.last, c.lastTime)
	return c
}

// Reloaded records the outcome of one reload.
func (c *Config) Reloaded(ok bool) {
	if !ok {
		c.failed.Inc()
		c.last.Set(0)
		return
	}
	c.ok.Inc()
	c.last.Set(1)
	c.lastTime.SetToCurrentTime()
}

// Ring is what NewRing reads from the ring log.
type Ring interface {
	Len() int
	Bytes() int
	Dropped() uint64
}

// NewRing registers gauges over the ring log's size on reg.
func NewRing(reg prometheus.Registerer, r Ring) {
	mustRegister(reg,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "ringlog", Name: "entries",
			Help: "Events the RAM ring log holds right now.",
		}, func() float64 { return float64(r.Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "ringlog", Name: "bytes",
			Help: "Bytes of the ring log's memory its events occupy right now.",
		}, func() float64 { return float64(r.Bytes()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "ringlog", Name: "dropped_total",
			Help: "Events dropped because they were larger than the ring's memory.",
		}, func() float64 { return float64(r.Dropped()) }),
	)
}

// NewBuild registers sortie_build_info, whose labels are the module version and the Go
// version, and sortie_start_time_seconds.
func NewBuild(reg prometheus.Registerer) {
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version = bi.Main.Version
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: "build", Name: "info",
		Help:        "Always 1; the labels name the running build.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	info.Set(1)
	start := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "start_time_seconds",
		Help: "Unix time at which this process started serving.",
	})
	start.SetToCurrentTime()
	mustRegister(reg, info, start)
}
