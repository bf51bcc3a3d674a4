package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"sortie.dev/sortie/internal/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testConfig is a configuration on loopback ports chosen by the kernel, in a fresh data dir.
func testConfig(t *testing.T) *config.Config {
	t.Helper()
	c := config.Default()
	c.DataDir = t.TempDir()
	c.Listeners = []config.Listener{{Name: "test", Address: netip.MustParseAddrPort("127.0.0.1:0")}}
	c.Metrics.Address = netip.MustParseAddrPort("127.0.0.1:0")
	c.Gateway.HandshakeTimeout = config.Duration(300 * time.Millisecond)
	c.Gateway.DrainTimeout = config.Duration(time.Second)
	c.Egress.DialTimeout = config.Duration(time.Second)
	return c
}

// runDaemon starts a daemon on c and stops it when the test ends.
func runDaemon(t *testing.T, c *config.Config) *Daemon {
	t.Helper()
	d, err := New(c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
	return d
}

// adminGet fetches path from the admin socket of c.
func adminGet(t *testing.T, c *config.Config, path string) (int, string) {
	t.Helper()
	sock, err := c.AdminSocket()
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("http://admin" + path)
	if err != nil {
		t.Fatalf("GET %s on the admin socket: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// awaitAdminReady polls /readyz until it answers 200, for at most five seconds.
func awaitAdminReady(t *testing.T, c *config.Config) {
	t.Helper()
	for range 100 {
		if code, _ := adminGet(t, c, "/readyz"); code == http.StatusOK {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("/readyz did not answer 200 within five seconds")
}

// traffic sends a few requests of every kind through the proxy at addr: refused ones (the
// loopback destination is a special-purpose address), malformed ones and silent ones.
func traffic(t *testing.T, addr net.Addr) {
	t.Helper()
	sends := []string{
		"CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n",
		"GET http://127.0.0.1:9/x HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n",
		"\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x09",
		"\x04\x01\x00\x09\x7f\x00\x00\x01\x00",
		"NONSENSE\r\n\r\n",
		"\x05\xff",
		"", // says nothing: a handshake timeout
	}
	for _, s := range sends {
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(c, s)
		io.Copy(io.Discard, c)
		c.Close()
	}
}

func TestReadyzFollowsLifeCycle(t *testing.T) {
	d := &Daemon{}
	d.health = append(d.health, d.serveState)
	steps := []struct {
		name   string
		do     func()
		want   bool
		detail string
	}{
		{name: "before serving", do: func() {}, want: false, detail: "starting"},
		{name: "serving", do: d.markServing, want: true, detail: "ready"},
		{name: "draining", do: d.markDraining, want: false, detail: "draining"},
	}
	for _, s := range steps {
		s.do()
		if ok, detail := d.ready(); ok != s.want || detail != s.detail {
			t.Errorf("%s: ready() = %v, %q; want %v, %q", s.name, ok, detail, s.want, s.detail)
		}
	}
}

func TestAdminAndMetricsServe(t *testing.T) {
	c := testConfig(t)
	c.Log.Level = config.LevelDebug
	d := runDaemon(t, c)
	awaitAdminReady(t, c)
	sock, _ := c.AdminSocket()
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin socket %s: mode %v, err %v; want 0600", sock, fi.Mode().Perm(), err)
	}
	traffic(t, d.Addrs()[0])
	body := scrape(t, d, "", "")
	for _, want := range []string{
		`sortie_gateway_requests_total{kind="connect",reason="policy",verdict="refused"} 1`,
		`sortie_gateway_requests_total{kind="socks4",reason="policy",verdict="refused"} 1`,
		`sortie_gateway_connections_accepted_total{protocol="http"} 3`,
		`sortie_gateway_connections_accepted_total{protocol="none"} 1`,
		`sortie_gateway_handshake_failures_total{kind="timeout"} 2`, // "" and "\x05\xff"
		`sortie_gateway_handshake_failures_total{kind="malformed"} 1`,
		`sortie_gateway_requests_total{kind="forward",reason="malformed",verdict="refused"} 1`,
		`sortie_config_last_reload_successful 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q in\n%s", want, body)
		}
	}
	if code, ring := adminGet(t, c, "/debug/ring"); code != http.StatusOK || !strings.Contains(ring, `msg="request refused" kind=connect reason=policy`) {
		t.Errorf("/debug/ring = %d\n%s\nwant 200 with the refusal", code, ring)
	}
}

func TestMetricsBasicAuth(t *testing.T) {
	c := testConfig(t)
	c.Metrics.Username = "prom"
	c.Metrics.Password = config.NewSecret("s3cret")
	d := runDaemon(t, c)
	tests := []struct {
		name       string
		user, pass string
		want       int
	}{
		{name: "no credentials", want: http.StatusUnauthorized},
		{name: "wrong password", user: "prom", pass: "nope", want: http.StatusUnauthorized},
		{name: "right", user: "prom", pass: "s3cret", want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scrapeStatus(t, d, tt.user, tt.pass); got != tt.want {
				t.Errorf("GET /metrics = %d, want %d", got, tt.want)
			}
		})
	}
}

func scrapeStatus(t *testing.T, d *Daemon, user, pass string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+d.MetricsAddr().String()+"/metrics", nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// scrape fetches /metrics from d.
func scrape(t *testing.T, d *Daemon, user, pass string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+d.MetricsAddr().String()+"/metrics", nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d, %v", resp.StatusCode, err)
	}
	return string(b)
}

// registered runs a daemon, sends a little traffic and returns its metric families by name.
func registered(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	d := runDaemon(t, testConfig(t))
	traffic(t, d.Addrs()[0])
	fams, err := d.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	if len(out) < 10 {
		t.Fatalf("only %d metric families registered", len(out))
	}
	return out
}

func TestEveryMetricIsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	wild := regexp.MustCompile("`([a-z]+_)\\*`").FindAllStringSubmatch(string(doc), -1)
	for name, f := range registered(t) {
		if !strings.HasPrefix(name, "sortie_") && !slices.ContainsFunc(wild, func(m []string) bool { return strings.HasPrefix(name, m[1]) }) {
			t.Errorf("metric %s is neither sortie_* nor covered by a wildcard in docs/metrics.md", name)
			continue
		}
		if strings.HasPrefix(name, "sortie_") && !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/metrics.md does not list the metric `%s` (%s)", name, f.GetHelp())
		}
		if strings.HasPrefix(name, "sortie_") && f.GetHelp() == "" {
			t.Errorf("metric %s has no help text", name)
		}
	}
}

// metricName matches the metric names a PromQL expression uses (Sortie's, Go's, the process').
var metricName = regexp.MustCompile(`\b(?:sortie|go|process)_[a-z0-9_]+\b`)

func TestDashboardQueriesRegisteredSeries(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "sortie.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("deploy/grafana/sortie.json is not valid JSON: %v", err)
	}
	if dash["title"] == nil || dash["panels"] == nil || dash["schemaVersion"] == nil {
		t.Fatal("the dashboard lacks a title, panels or schemaVersion")
	}
	fams := registered(t)
	exprs := collectExprs(dash["panels"])
	if len(exprs) < 10 {
		t.Fatalf("found %d queries in the dashboard's panels, want at least 10", len(exprs))
	}
	for _, e := range exprs {
		names := metricName.FindAllString(e, -1)
		if len(names) == 0 {
			t.Errorf("query %q names no metric", e)
		}
		for _, n := range names {
			if !isSeries(fams, n) {
				t.Errorf("query %q uses %s, which is not a registered series", e, n)
			}
		}
	}
}

// isSeries reports whether name is a registered family, or a histogram's _bucket, _sum or
// _count series.
func isSeries(fams map[string]*dto.MetricFamily, name string) bool {
	if _, ok := fams[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		f, ok := fams[strings.TrimSuffix(name, suffix)]
		if ok && strings.HasSuffix(name, suffix) && f.GetType() == dto.MetricType_HISTOGRAM {
			return true
		}
	}
	return false
}

// collectExprs returns every "expr" string in a decoded JSON tree.
func collectExprs(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && k == "expr" {
				out = append(out, s)
				continue
			}
			out = append(out, collectExprs(val)...)
		}
	case []any:
		for _, val := range x {
			out = append(out, collectExprs(val)...)
		}
	}
	return out
}

func TestMetricsNameNoAddress(t *testing.T) {
	c := testConfig(t)
	d := runDaemon(t, c)
	traffic(t, d.Addrs()[0])
	body := scrape(t, d, "", "")
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.Contains(line, "127.0.0.1") || strings.Contains(line, `:9"`) {
			t.Errorf("a metric names an address: %s", line)
		}
	}
	if !strings.Contains(body, "sortie_build_info{") {
		t.Errorf("no sortie_build_info in\n%s", body)
	}
}
