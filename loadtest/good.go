package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"time"
)

// goodSource is the well-behaved client's own loopback address.
var goodSource = netip.MustParseAddr("127.77.0.1")

// probeEvery is the well-behaved client's pace: well under the per-client limits.
const probeEvery = 100 * time.Millisecond

// goodClient fetches the origin's page through Sortie as an HTTP forward request, on a new
// connection each time, as a browser behind a proxy often does.
type goodClient struct {
	client *http.Client
	page   string
}

func newGoodClient(proxy, page string) *goodClient {
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(goodSource, 0)), Timeout: ioTimeout}
	tr := &http.Transport{
		Proxy:             http.ProxyURL(&url.URL{Scheme: "http", Host: proxy}),
		DialContext:       d.DialContext,
		DisableKeepAlives: true,
	}
	return &goodClient{client: &http.Client{Transport: tr, Timeout: ioTimeout}, page: "http://" + page + "/"}
}

// fetch gets the page once and returns how long it took.
func (g *goodClient) fetch(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.page, nil)
	if err != nil {
		return 0, err
	}
	res, err := g.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<10))
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK || string(body) != pageBody {
		return 0, fmt.Errorf("%w: status %d", errNotServed, res.StatusCode)
	}
	return time.Since(start), nil
}

// probeStats is what the well-behaved client saw over a period.
type probeStats struct {
	Latencies []time.Duration // of the fetches served
	Failed    int             // fetches not served (refused, closed, timed out)
}

// Served is the number of fetches that got the page.
func (s probeStats) Served() int { return len(s.Latencies) }

// quantile returns the q-quantile of the latencies (0 when none).
func (s probeStats) quantile(q float64) time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	l := slices.Clone(s.Latencies)
	slices.Sort(l)
	return l[min(int(q*float64(len(l))), len(l)-1)]
}

// probe fetches the page every probeEvery until stop closes or ctx ends.
func (g *goodClient) probe(ctx context.Context, stop <-chan struct{}) probeStats {
	var s probeStats
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		if d, err := g.fetch(ctx); err == nil {
			s.Latencies = append(s.Latencies, d)
		} else {
			s.Failed++
		}
		select {
		case <-stop:
			return s
		case <-ctx.Done():
			return s
		case <-t.C:
		}
	}
}

// probeFor is probe for a fixed duration.
func (g *goodClient) probeFor(ctx context.Context, d time.Duration) probeStats {
	stop := make(chan struct{})
	time.AfterFunc(d, func() { close(stop) })
	return g.probe(ctx, stop)
}

// background probes until the returned function is called, which returns what it saw.
func (g *goodClient) background(ctx context.Context) func() probeStats {
	stop := make(chan struct{})
	got := make(chan probeStats, 1)
	go func() { got <- g.probe(ctx, stop) }()
	return func() probeStats {
		close(stop)
		return <-got
	}
}
