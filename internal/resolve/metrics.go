package resolve

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the resolver's counters. Labels are small fixed sets, never a name.
type metrics struct {
	queries     *prometheus.CounterVec // type: A, AAAA, other
	answers     *prometheus.CounterVec // outcome
	hits        prometheus.Counter
	misses      prometheus.Counter
	upstream    prometheus.Histogram
	caseOff     prometheus.Counter
	never       prometheus.Counter
	setAside    prometheus.Counter
	timeoutRate prometheus.GaugeFunc

	byType    [len(typeLabels)]prometheus.Counter // queries, resolved once
	byOutcome [numOutcomes]prometheus.Counter     // answers, resolved once
}

func newMetrics(reg prometheus.Registerer, timeoutRatio func() float64) (*metrics, error) {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sortie_resolver_queries_total",
			Help: "Questions asked of the resolver, by record type (A, AAAA, other).",
		}, []string{"type"}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sortie_resolver_answers_total",
			Help: "Answers given by the resolver, cached or not, by outcome.",
		}, []string{"outcome"}),
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sortie_resolver_cache_hits_total",
			Help: "Questions answered from the cache.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sortie_resolver_cache_misses_total",
			Help: "Questions not found in the cache.",
		}),
		upstream: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sortie_resolver_upstream_duration_seconds",
			Help:    "Time of one query to one upstream, UDP and any TCP retry together.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		caseOff: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sortie_resolver_case_disabled_total",
			Help: "Upstreams for which 0x20 case randomisation was turned off because they do not preserve case.",
		}),
		never: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sortie_resolver_never_resolve_total",
			Help: "Names refused without a query because of their suffix (.onion, .i2p, configured ones).",
		}),
		setAside: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sortie_resolver_upstream_set_aside_total",
			Help: "Times an upstream was set aside after consecutive failures.",
		}),
		timeoutRate: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sortie_resolver_timeout_ratio",
			Help: "Share of upstream questions that timed out over the last ten minutes.",
		}, timeoutRatio),
	}
	for i, t := range typeLabels {
		m.byType[i] = m.queries.WithLabelValues(t)
	}
	for o := range numOutcomes {
		m.byOutcome[o] = m.answers.WithLabelValues(o.String())
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("resolve: register metrics: %w", err)
	}
	return m, nil
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.queries, m.answers, m.hits, m.misses, m.upstream, m.caseOff, m.never, m.setAside, m.timeoutRate}
}

// window counts upstream questions and their timeouts per minute over the last ten minutes.
type window struct {
	mu      sync.Mutex
	buckets [windowMinutes]minuteCount
}

const windowMinutes = 10

type minuteCount struct {
	minute   int64
	total    uint64
	timeouts uint64
}

func newWindow() *window { return &window{} }

func (w *window) record(now time.Time, timedOut bool) {
	m := now.Unix() / 60
	w.mu.Lock()
	defer w.mu.Unlock()
	b := &w.buckets[m%windowMinutes]
	if b.minute != m {
		*b = minuteCount{minute: m}
	}
	b.total++
	if timedOut {
		b.timeouts++
	}
}

// ratio returns timeouts/total over the minutes of the last ten, 0 when nothing was asked.
func (w *window) ratio(now time.Time) float64 {
	m := now.Unix() / 60
	var total, timeouts uint64
	w.mu.Lock()
	for _, b := range w.buckets {
		if b.total > 0 && m-b.minute < windowMinutes && b.minute <= m {
			total += b.total
			timeouts += b.timeouts
		}
	}
	w.mu.Unlock()
	if total == 0 {
		return 0
	}
	return float64(timeouts) / float64(total)
}
