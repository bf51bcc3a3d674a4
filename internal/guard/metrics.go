package guard

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"sortie.dev/sortie/internal/refusal"
)

// Cause names which limit refused a connection or a request. Its names are the metric's label
// values: a small fixed set that never names a client or a destination.
type Cause uint8

// The causes.
const (
	CauseTunnels      Cause = iota + 1 // the client's open connections are at MaxTunnels
	CauseConnRate                      // the client opens connections faster than ConnRate
	CauseRequestRate                   // the client sends requests faster than RequestRate
	CauseDestRate                      // the destination receives connections faster than DestRate
	CausePortScan                      // the client reached many ports of one address
	CauseSweep                         // the client reached many addresses of one network
	CauseBruteForce                    // the client connects again and again to a login port
	CauseAuthFailures                  // the client failed proxy authentication too often
	numCauses
)

var causeNames = [numCauses]string{
	CauseTunnels:      "client_tunnels",
	CauseConnRate:     "client_conn_rate",
	CauseRequestRate:  "client_request_rate",
	CauseDestRate:     "dest_rate",
	CausePortScan:     "port_scan",
	CauseSweep:        "sweep",
	CauseBruteForce:   "brute_force",
	CauseAuthFailures: "auth_failures",
}

// causeMessages are the public messages of the refusals: plain words, no identity.
var causeMessages = [numCauses]string{
	CauseTunnels:      "Too many connections at once from this client.",
	CauseConnRate:     "Too many new connections; slow down.",
	CauseRequestRate:  "Too many requests; slow down.",
	CauseDestRate:     "Too many connections to this destination right now.",
	CausePortScan:     "Connections to many ports of one address are throttled.",
	CauseSweep:        "Connections to many addresses of one network are throttled.",
	CauseBruteForce:   "Repeated connections to a login service are throttled.",
	CauseAuthFailures: "Too many failed authentications; try again later.",
}

// String returns the cause's stable snake_case name.
func (c Cause) String() string {
	if c > 0 && c < numCauses {
		return causeNames[c]
	}
	return "unknown"
}

// Error returns the cause's name: a Cause is the underlying error of the guard's refusals.
func (c Cause) Error() string { return "guard: " + c.String() }

// Causes returns every cause, in order.
func Causes() []Cause {
	cs := make([]Cause, 0, numCauses-1)
	for c := CauseTunnels; c < numCauses; c++ {
		cs = append(cs, c)
	}
	return cs
}

// CauseOf returns the cause of a refusal made by a guard, or 0.
func CauseOf(err error) Cause {
	var c Cause
	if errors.As(err, &c) {
		return c
	}
	return 0
}

// refuse counts a refusal and returns it as a *refusal.Error. RetryAfter is rounded up to a
// whole second, as Retry-After carries seconds.
func (g *Guard) refuse(c Cause, wait time.Duration) error {
	g.m.refusals[c].Inc()
	wait = max(time.Second, (wait + time.Second - 1).Truncate(time.Second))
	return &refusal.Error{Reason: refusal.RateLimited, Message: causeMessages[c], RetryAfter: wait, Err: c}
}

// The tables, for the entries metric and Snapshot.
const (
	tableClients = iota
	tableDests
	tableScans
	tableSweeps
	tableBrutes
	numTables
)

var tableNames = [numTables]string{"clients", "dests", "port_scan", "sweep", "brute_force"}

type metrics struct {
	refusals [numCauses]prometheus.Counter
	live     [numTables]atomic.Int64
}

func newMetrics(g *Guard, reg prometheus.Registerer) *metrics {
	m := &metrics{}
	refusals := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sortie_guard_refusals_total",
		Help: "Connections and requests the guard refused, by the limit that refused them.",
	}, []string{"cause"})
	for _, c := range Causes() {
		m.refusals[c] = refusals.WithLabelValues(c.String())
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(refusals)
	evictions := [numTables]func() uint64{
		g.clients.evictions.Load, g.dests.evictions.Load, g.scans.evictions.Load,
		g.sweeps.evictions.Load, g.brutes.evictions.Load,
	}
	for i, name := range tableNames {
		labels := prometheus.Labels{"table": name}
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sortie_guard_entries", ConstLabels: labels,
			Help: "Slots in use in each guard table, as of the last sweep.",
		}, func() float64 { return float64(m.live[i].Load()) }))
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "sortie_guard_evictions_total", ConstLabels: labels,
			Help: "Entries that still counted something evicted from a full set of a guard table.",
		}, func() float64 { return float64(evictions[i]()) }))
	}
	return m
}

// Snapshot is what the guard can say about its state: counts only.
type Snapshot struct {
	// Tables holds one row per table, in a fixed order.
	Tables []TableCount
}

// TableCount counts the slots of one table.
type TableCount struct {
	Name      string // clients, dests, port_scan, sweep, brute_force
	InUse     int    // slots that hold an entry that still counts something
	Capacity  int    // slots in all
	Evictions uint64 // live entries evicted so far
}

// Snapshot clears spent entries (as Sweep) and returns the count of each table.
func (g *Guard) Snapshot() Snapshot {
	g.Sweep()
	caps := [numTables]int{g.clients.capacity(), g.dests.capacity(), g.scans.capacity(),
		g.sweeps.capacity(), g.brutes.capacity()}
	ev := [numTables]uint64{g.clients.evictions.Load(), g.dests.evictions.Load(),
		g.scans.evictions.Load(), g.sweeps.evictions.Load(), g.brutes.evictions.Load()}
	var s Snapshot
	for i, name := range tableNames {
		s.Tables = append(s.Tables, TableCount{Name: name, InUse: int(g.m.live[i].Load()),
			Capacity: caps[i], Evictions: ev[i]})
	}
	return s
}
