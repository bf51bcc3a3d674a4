package main

// End-to-end tests of the caching resolver and the DNS-over-HTTPS endpoint: the real sortie
// binary, the real curl, a test DNS server on loopback and, for the rebinding test, an origin
// in its own network namespace (2001:db8:66::10/64, netlab prefix "srtres").

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"sortie.dev/sortie/internal/dnstest"
	"sortie.dev/sortie/internal/netlab"
)

// resOrigin is IPv6 only: this machine may sit on an IPv4 documentation range itself.
var resOrigin = netip.MustParsePrefix("2001:db8:66::10/64")

const resMarker = "sortie-resolver-origin-7f2a"

func TestResolverE2E(t *testing.T) {
	requireTools(t, "curl")
	t.Cleanup(func() { goleak.VerifyNone(t) })
	dir := t.TempDir()
	bin := buildSortie(t, dir)
	t.Run("DoH answers curl", func(t *testing.T) { testDoHCurl(t, bin) })
	t.Run("rebinding refused with ttl_floor 0", func(t *testing.T) { testRebinding(t, bin) })
}

// testDoHCurl has curl resolve a name through sortie's DoH endpoint (--doh-url), then fetch
// from the loopback server the name points to. Nothing else resolves that name.
func testDoHCurl(t *testing.T, bin string) {
	e := &e2e{dir: t.TempDir()}
	origin := startLoopbackOrigin(t)
	ns := dnstest.Start(t, map[string][]netip.Addr{"doh.sortie.test": {netip.MustParseAddr("127.0.0.1")}})
	certFile, keyFile := filepath.Join(e.dir, "doh.crt"), filepath.Join(e.dir, "doh.key")
	writeProxyCert(t, certFile, keyFile, "doh.sortie.invalid")
	cfg := resConfig(t, e.dir, ns.Addr, fmt.Sprintf(`  ttl_floor: 60s
doh:
  listeners: ["127.0.0.1:0"]
  cert_file: %q
  key_file: %q
`, certFile, keyFile))
	p, _ := startSortieProcess(t, bin, cfg)
	dohURL := dohURLOf(t, p)
	url := "http://doh.sortie.test:" + strconv.Itoa(origin) + "/"
	for i := range 2 {
		res := e.curl(t, "--doh-url", dohURL, "--doh-insecure", url)
		if res.exit != 0 || !strings.Contains(res.stdout, resMarker) {
			t.Fatalf("curl %d through DoH: %v", i+1, res)
		}
	}
	if n := ns.Queries("doh.sortie.test", "A"); n != 1 {
		t.Errorf("nameserver saw %d A queries for two curl runs, want 1 (the DoH cache answers the second)", n)
	}
	res := e.curl(t, "--doh-url", dohURL, "--doh-insecure", "http://missing.sortie.test:"+strconv.Itoa(origin)+"/")
	if res.exit != 6 { // CURLE_COULDNT_RESOLVE_HOST
		t.Errorf("curl for a name the nameserver does not know: %v, want exit 6", res)
	}
}

// dohURLOf finds the DoH endpoint's URL in sortie's start-up output.
func dohURLOf(t *testing.T, p *e2eProcess) string {
	t.Helper()
	re := regexp.MustCompile(`https://127\.0\.0\.1:[0-9]+/dns-query`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if u := re.FindString(p.String()); u != "" {
			return u
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no DoH URL in sortie's output:\n%s", p)
	return ""
}

// testRebinding fetches a name that points to an allowed origin, then points it at loopback:
// with ttl_floor 0 the second request asks the nameserver again and is refused at its dial.
func testRebinding(t *testing.T, bin string) {
	netlab.Require(t)
	e := &e2e{dir: t.TempDir()}
	inward := startInward(t)
	lab := netlab.New(t, "srtres")
	host := lab.Host("origin", resOrigin)
	ln, err := host.Listen("tcp", net.JoinHostPort(resOrigin.Addr().String(), strconv.Itoa(inward.port)))
	if err != nil {
		t.Fatalf("origin listen: %v", err)
	}
	e2eServe(t, &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: markerHandler()}, ln)
	ns := dnstest.Start(t, map[string][]netip.Addr{"rebind.sortie.test": {resOrigin.Addr()}})
	e.proxy = startSortie(t, bin, resConfig(t, e.dir, ns.Addr, "  ttl_floor: 0s\n"))
	url := "http://rebind.sortie.test:" + strconv.Itoa(inward.port) + "/"
	status, _, body, res := e.fetch(t, url, "-x", "http://"+e.proxy.String())
	if status != http.StatusOK || !strings.Contains(string(body), resMarker) {
		t.Fatalf("first request: status %d, body %q, %v; want 200 from the origin", status, e2eTruncate(body), res)
	}
	ns.Set("rebind.sortie.test", netip.MustParseAddr("127.0.0.1"))
	status, _, body, res = e.fetch(t, url, "-x", "http://"+e.proxy.String())
	if status != http.StatusForbidden {
		t.Errorf("second request, name now on loopback: status %d, body %q, %v; want 403", status, e2eTruncate(body), res)
	}
	if n := inward.hits.Load(); n != 0 {
		t.Errorf("the loopback server got %d requests, want 0", n)
	}
	for _, qtype := range []string{"A", "AAAA"} {
		if n := ns.Queries("rebind.sortie.test", qtype); n != 2 {
			t.Errorf("nameserver saw %d %s queries for two requests, want 2 (ttl_floor 0: no cache)", n, qtype)
		}
	}
}

// resConfig writes a configuration with one proxy listener on loopback, the nameserver, the
// origin's subnet allowed, and extra appended to the resolver section.
func resConfig(t *testing.T, dir string, ns netip.AddrPort, extra string) string {
	t.Helper()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`version: 1
data_dir: %q
listeners:
  - address: "127.0.0.1:0"
gateway:
  drain_timeout: %s
egress:
  allow_special: [%q]
metrics:
  address: "127.0.0.1:0"
guard:
  enabled: false # tests from one loopback address would hit per-client limits
resolver:
  nameservers: [%q]
%s`, data, e2eDrainTimeout, resOrigin.Masked(), ns, extra)
	file := filepath.Join(dir, "sortie.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// startLoopbackOrigin serves the marker on 127.0.0.1 until the test ends; it returns the port.
func startLoopbackOrigin(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e2eServe(t, &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: markerHandler()}, ln)
	return ln.Addr().(*net.TCPAddr).Port
}

func markerHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, resMarker+"\n") })
}
