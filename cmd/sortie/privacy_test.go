package main

// The privacy test: the real sortie binary serves a client whose source address (127.77.77.77)
// appears nowhere else, a few hundred requests through every mode with distinctive names,
// paths and credentials, accepted and refused in every way; then everything the process
// wrote (stdout, stderr, its data and working directories, the metrics, the ring log) is
// searched for the client's address and every name, path and credential. It uses the
// network namespace prefix "srtpriv" and the addresses 198.51.100.192/26, 2001:db8:77::/64.

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sortie.dev/sortie/internal/dnstest"
	"sortie.dev/sortie/internal/netlab"
)

var (
	privOriginV4 = netip.MustParsePrefix("198.51.100.200/26")
	privOriginV6 = netip.MustParsePrefix("2001:db8:77::10/64")
	privClient   = netip.MustParseAddr("127.77.77.77")
)

const (
	privTTL        = 3 * time.Second
	privRounds     = 25 // rounds of privacyCases: a few hundred requests
	privHandshake  = time.Second
	privMarkerBody = "privacy-origin-answer"
)

// privSecrets are the distinctive strings of one run: the names, paths and credentials a
// client sent. Every one is random, so a hit can only come from this run's traffic.
type privSecrets struct {
	tok                                                  string
	fwd, connect, socks5, socks4, refused, nx, blocked   string // names
	policy, malformed, timeout, tlsBad, sni, upgradeName string // names
	path, query                                          string // path and query parts
	user, pass, cookie, socksUser, socksPass, userID     string // credentials
}

func newPrivSecrets() privSecrets {
	b := make([]byte, 6)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	n := func(what string) string { return what + "-" + tok + ".privacy.test" }
	return privSecrets{
		tok: tok, fwd: n("fwd"), connect: n("tunnel"), socks5: n("sockfive"), socks4: n("sockfour"),
		refused: n("closedport"), nx: n("nosuchname"), blocked: n("blockedsite"), policy: n("smtp"),
		malformed: n("garbled"), timeout: n("slowpoke"), tlsBad: n("tlsgarbage"), sni: n("snihost"),
		upgradeName: n("upgrader"),
		path:        "/path-" + tok + "-secret", query: "q=query" + tok,
		user: "alice" + tok, pass: "pw" + tok, cookie: "cookie" + tok,
		socksUser: "bob" + tok, socksPass: "sockpw" + tok, userID: "ident" + tok,
	}
}

// names are the destination names, which the debug switch may put in the ring.
func (s privSecrets) names() []string {
	return []string{s.fwd, s.connect, s.socks5, s.socks4, s.refused, s.nx, s.blocked, s.policy, s.upgradeName}
}

// never are the strings that must never appear anywhere, debug switch or not.
func (s privSecrets) never() []string {
	auth := base64.StdEncoding.EncodeToString([]byte(s.user + ":" + s.pass))
	return []string{
		privClient.String(), privOriginV4.Addr().String(), privOriginV6.Addr().String(),
		s.path, s.query, s.user, s.pass, auth, s.cookie, s.socksUser, s.socksPass, s.userID,
		s.malformed, s.timeout, s.tlsBad, s.sni,
	}
}

// all are every distinctive string.
func (s privSecrets) all() []string { return append(s.names(), s.never()...) }

func TestPrivacyNothingAboutAUserSurvives(t *testing.T) {
	netlab.Require(t)
	dir := t.TempDir()
	lab := netlab.New(t, "srtpriv")
	origin := lab.Host("origin", privOriginV4, privOriginV6)
	privOrigin(t, origin)
	bin := buildSortie(t, dir)
	for _, debug := range []bool{false, true} {
		t.Run(fmt.Sprintf("debug_destinations=%v", debug), func(t *testing.T) {
			privacyRun(t, bin, debug)
		})
	}
}

// privOrigin serves plain HTTP on port 80 of the origin host; port 81 stays closed.
func privOrigin(t *testing.T, h *netlab.Host) {
	ln, err := h.Listen("tcp", ":80")
	if err != nil {
		t.Fatalf("origin listen: %v", err)
	}
	e2eServe(t, &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, privMarkerBody+"\n")
	})}, ln)
}

// privRun is one running sortie under the privacy test.
type privRun struct {
	s                  privSecrets
	config             string
	dataDir, workDir   string
	proxy, tlsProxy    netip.AddrPort
	metrics            string
	proc               *e2eProcess
	bin                string
	debug              bool
	accepted, refusals int
}

func privacyRun(t *testing.T, bin string, debug bool) {
	r := &privRun{s: newPrivSecrets(), bin: bin, debug: debug}
	r.start(t)
	r.traffic(t)
	t.Logf("%d requests answered as wanted, %d refusals", r.accepted, r.refusals)

	ring := r.ring(t)
	if debug {
		for _, n := range []string{r.s.fwd, r.s.connect, r.s.socks5, r.s.socks4, r.s.nx} {
			if !strings.Contains(ring, n) {
				t.Errorf("with debug_destinations on, the ring lacks the name %s:\n%s", n, ring)
			}
		}
		r.search(t, "ring (debug on, before the TTL)", ring, r.s.never())
	} else {
		if !strings.Contains(ring, "request refused") {
			t.Errorf("the ring holds no operational event at debug level:\n%s", ring)
		}
		r.search(t, "ring (before the TTL)", ring, r.s.all())
	}
	r.search(t, "metrics", r.scrape(t), r.s.all())
	r.search(t, "output so far", r.proc.String(), r.s.all())

	time.Sleep(privTTL + time.Second)
	after := r.ring(t)
	r.search(t, "ring after the TTL", after, r.s.all())
	if debug && strings.Contains(after, "destination") {
		t.Errorf("destination events outlived the TTL:\n%s", after)
	}
}

// start writes the configuration outside the searched directories and starts sortie with
// its own data and working directories.
func (r *privRun) start(t *testing.T) {
	dir := t.TempDir()
	confDir := filepath.Join(dir, "conf")
	r.dataDir, r.workDir = filepath.Join(dir, "data"), filepath.Join(dir, "work")
	for _, d := range []string{confDir, r.dataDir, r.workDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	dns := dnstest.Start(t, map[string][]netip.Addr{})
	for _, n := range []string{r.s.fwd, r.s.connect, r.s.socks5, r.s.socks4, r.s.refused, r.s.blocked, r.s.policy, r.s.upgradeName} {
		dns.Set(n, privOriginV4.Addr())
	}
	writeProxyCert(t, filepath.Join(confDir, "proxy.crt"), filepath.Join(confDir, "proxy.key"), "sortie-privacy")
	r.config = filepath.Join(confDir, "sortie.yaml")
	writeTestFile(t, r.config, fmt.Sprintf(`version: 1
data_dir: %q
listeners:
  - address: "127.0.0.1:0"
  - name: tls
    address: "127.0.0.1:0"
    tls_cert_file: proxy.crt
    tls_key_file: proxy.key
gateway:
  handshake_timeout: %s
  drain_timeout: 2s
egress:
  dial_timeout: 2s
  allow_special: ["198.51.100.192/26", "2001:db8:77::/64"]
resolver:
  nameservers: [%q]
  timeout: 1s
metrics:
  address: "127.0.0.1:0"
guard:
  enabled: false # tests from one loopback address would hit per-client limits
log:
  level: debug
  ring_ttl: %s
  debug_destinations: %v
policy:
  blocked_by: https://exit.example.org/
  blocklist:
    - id: 2026-777
      reason: A test entry.
      basis: court order
      decided_by: board
      decided: 2026-01-01
      notice_url: https://exit.example.org/notices/2026-777
      domain: %s
`, r.dataDir, privHandshake, dns.Addr, privTTL, r.debug, r.s.blocked))
	// Registered before sortie starts, so it runs after sortie has stopped.
	t.Cleanup(func() { r.searchAfterStop(t) })
	cmd := exec.Command(r.bin, "serve", "--config", r.config)
	cmd.Dir = r.workDir
	r.proc, r.proxy = startSortieCmd(t, cmd, r.config)
	r.findAddrs(t)
}

// findAddrs reads the TLS listener's and the metrics endpoint's addresses from the output.
func (r *privRun) findAddrs(t *testing.T) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out := r.proc.String()
		var found []netip.AddrPort
		for line := range strings.Lines(out) {
			if a, ok := listeningOn(line); ok {
				found = append(found, a)
			}
			if _, rest, ok := strings.Cut(line, "metrics served at "); ok {
				r.metrics, _, _ = strings.Cut(rest, "/metrics")
			}
		}
		if len(found) >= 2 && r.metrics != "" {
			r.tlsProxy = found[1]
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no second listener or metrics address in sortie's output:\n%s", r.proc)
}

// dial connects to addr from the client's own address.
func (r *privRun) dial(t *testing.T, addr netip.AddrPort) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(privClient, 0)), Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr.String())
	if err != nil {
		t.Fatalf("dial from %s: %v", privClient, err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// exchange sends msg on a new connection to the plain listener and returns everything
// the gateway answered until it closed.
func (r *privRun) exchange(t *testing.T, msg string) string {
	t.Helper()
	c := r.dial(t, r.proxy)
	defer c.Close()
	io.WriteString(c, msg)
	b, _ := io.ReadAll(c)
	return string(b)
}

// privCase is one kind of request; check reports whether the answer is the one wanted.
type privCase struct {
	name  string
	run   func(t *testing.T) string
	want  string // a substring of the answer
	isOK  bool   // the request should be accepted
	every int    // run on every round divisible by this (default 1)
}

func (r *privRun) cases() []privCase {
	s := r.s
	auth := "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(s.user+":"+s.pass)) + "\r\n"
	cookie := "Cookie: session=" + s.cookie + "\r\n"
	inner := "GET " + s.path + "?" + s.query + " HTTP/1.1\r\nHost: %s\r\n" + cookie + "Connection: close\r\n\r\n"
	forward := func(name string, port int) string {
		return fmt.Sprintf("GET http://%s:%d%s?%s HTTP/1.1\r\nHost: %s\r\n%s%sConnection: close\r\n\r\n", name, port, s.path, s.query, name, auth, cookie)
	}
	return []privCase{
		{name: "forward", want: privMarkerBody, isOK: true, run: func(t *testing.T) string { return r.exchange(t, forward(s.fwd, 80)) }},
		{name: "CONNECT", want: privMarkerBody, isOK: true, run: func(t *testing.T) string {
			return r.exchange(t, "CONNECT "+s.connect+":80 HTTP/1.1\r\nHost: "+s.connect+":80\r\n"+auth+"\r\n"+fmt.Sprintf(inner, s.connect))
		}},
		{name: "SOCKS5", want: privMarkerBody, isOK: true, run: func(t *testing.T) string { return r.socks5(t, s.socks5, fmt.Sprintf(inner, s.socks5)) }},
		{name: "SOCKS5 user/password (taken without checking: this listener has no auth)", want: "\x05\x02\x01\x00", run: r.socks5Auth},
		{name: "SOCKS4a", want: privMarkerBody, isOK: true, run: func(t *testing.T) string { return r.socks4a(t, s.socks4, fmt.Sprintf(inner, s.socks4)) }},
		{name: "refused dial", want: " 502 ", run: func(t *testing.T) string { return r.exchange(t, forward(s.refused, 81)) }},
		{name: "DNS failure", want: " 502 ", run: func(t *testing.T) string { return r.exchange(t, forward(s.nx, 80)) }},
		{name: "blocked", want: " 451 ", run: func(t *testing.T) string { return r.exchange(t, forward(s.blocked, 80)) }},
		{name: "exit policy", want: " 403 ", run: func(t *testing.T) string {
			return r.exchange(t, "CONNECT "+s.policy+":25 HTTP/1.1\r\nHost: "+s.policy+":25\r\n"+auth+"\r\n")
		}},
		{name: "malformed HTTP", want: " 505 ", run: func(t *testing.T) string {
			return r.exchange(t, "GET http://"+s.malformed+s.path+" HTTP/7.7\r\nHost: "+s.malformed+"\r\n"+auth+"\r\n")
		}},
		{name: "malformed SOCKS5", want: "", run: func(t *testing.T) string {
			return r.exchange(t, "\x05\x01\x00\x05\x01\x00\x09"+s.malformed)
		}},
		{name: "plain text to the TLS port", want: "", run: func(t *testing.T) string {
			c := r.dial(t, r.tlsProxy)
			defer c.Close()
			io.WriteString(c, "CONNECT "+s.tlsBad+":443 HTTP/1.1\r\n"+auth+"\r\n")
			b, _ := io.ReadAll(c)
			return string(b)
		}},
		{name: "CONNECT inside TLS", want: privMarkerBody, isOK: true, every: 5, run: r.tlsConnect},
		{name: "upgrade", want: " 200 ", isOK: true, every: 5, run: func(t *testing.T) string {
			return r.exchange(t, fmt.Sprintf("GET http://%s%s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n%s\r\n", s.upgradeName, s.path, s.upgradeName, auth))
		}},
	}
}

// traffic runs the handshake timeouts alongside privRounds rounds of every case.
func (r *privRun) traffic(t *testing.T) {
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			c := r.dial(t, r.proxy)
			defer c.Close()
			io.WriteString(c, "CONNECT "+r.s.timeout+":443 HTTP/1.1\r\nProxy-Authorization: Basic "+r.s.pass+"\r\n")
			io.ReadAll(c) // the gateway closes after its handshake timeout
		})
	}
	for round := range privRounds {
		for _, c := range r.cases() {
			if c.every > 1 && round%c.every != 0 {
				continue
			}
			got := c.run(t)
			if c.want != "" && !strings.Contains(got, c.want) {
				t.Errorf("round %d, %s: answer %q, want it to hold %q", round, c.name, e2eTruncate([]byte(got)), c.want)
			}
			if c.isOK {
				r.accepted++
			} else {
				r.refusals++
			}
		}
	}
	wg.Wait()
}

// socks5 connects to name:80 with SOCKS5 (offering no authentication and user/password),
// sends msg through the tunnel and returns the answer.
func (r *privRun) socks5(t *testing.T, name, msg string) string {
	c := r.dial(t, r.proxy)
	defer c.Close()
	req := []byte{5, 2, 0, 2, 5, 1, 0, 3, byte(len(name))}
	req = append(append(req, name...), 0, 80)
	c.Write(req)
	br := bufio.NewReader(c)
	head := make([]byte, 2+10)
	if _, err := io.ReadFull(br, head); err != nil || head[1] != 0 || head[3] != 0 {
		return fmt.Sprintf("socks5 reply %x, %v", head, err)
	}
	io.WriteString(c, msg)
	b, _ := io.ReadAll(br)
	return string(b)
}

// socks5Auth offers only user/password authentication, then sends the credentials anyway.
func (r *privRun) socks5Auth(t *testing.T) string {
	c := r.dial(t, r.proxy)
	defer c.Close()
	c.Write([]byte{5, 1, 2})
	auth := []byte{1, byte(len(r.s.socksUser))}
	auth = append(append(auth, r.s.socksUser...), byte(len(r.s.socksPass)))
	c.Write(append(auth, r.s.socksPass...))
	b, _ := io.ReadAll(c)
	return string(b)
}

// socks4a connects to name:80 with SOCKS4a and a user id, sends msg and returns the answer.
func (r *privRun) socks4a(t *testing.T, name, msg string) string {
	c := r.dial(t, r.proxy)
	defer c.Close()
	req := []byte{4, 1, 0, 80, 0, 0, 0, 1}
	req = append(append(req, r.s.userID...), 0)
	req = append(append(req, name...), 0)
	c.Write(req)
	br := bufio.NewReader(c)
	head := make([]byte, 8)
	if _, err := io.ReadFull(br, head); err != nil || head[1] != 0x5a {
		return fmt.Sprintf("socks4 reply %x, %v", head, err)
	}
	io.WriteString(c, msg)
	b, _ := io.ReadAll(br)
	return string(b)
}

// tlsConnect speaks TLS to the HTTPS proxy port (with a distinctive SNI name), then CONNECT.
func (r *privRun) tlsConnect(t *testing.T) string {
	raw := r.dial(t, r.tlsProxy)
	c := tls.Client(raw, &tls.Config{ServerName: r.s.sni, InsecureSkipVerify: true})
	defer c.Close()
	s := r.s
	io.WriteString(c, "CONNECT "+s.connect+":80 HTTP/1.1\r\nHost: "+s.connect+":80\r\nProxy-Authorization: Basic "+s.pass+"\r\n\r\n"+
		"GET "+s.path+" HTTP/1.1\r\nHost: "+s.connect+"\r\nConnection: close\r\n\r\n")
	b, _ := io.ReadAll(c)
	return string(b)
}

// ring reads the ring log through `sortie ring`, as text and as JSON.
func (r *privRun) ring(t *testing.T) string {
	t.Helper()
	var out strings.Builder
	for _, args := range [][]string{{"ring", "--config", r.config}, {"ring", "--json", "--config", r.config}} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		b, err := exec.CommandContext(ctx, r.bin, args...).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("sortie %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		out.Write(b)
	}
	return out.String()
}

// scrape fetches /metrics.
func (r *privRun) scrape(t *testing.T) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + r.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `sortie_gateway_requests_total{kind="forward",reason="blocked",verdict="refused"}`) {
		t.Errorf("the metrics lack the blocked requests:\n%s", b)
	}
	return string(b)
}

// search reports every secret found in text.
func (r *privRun) search(t *testing.T, where, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if i := strings.Index(text, s); i >= 0 {
			lo, hi := max(0, i-200), min(len(text), i+len(s)+200)
			t.Errorf("%s holds %q: ...%s...", where, s, text[lo:hi])
		}
	}
}

// searchAfterStop searches everything sortie wrote, once it has stopped: its output and
// every file under its data and working directories.
func (r *privRun) searchAfterStop(t *testing.T) {
	if r.proc == nil {
		return
	}
	r.search(t, "stdout and stderr", r.proc.String(), r.s.all())
	for _, dir := range []string{r.dataDir, r.workDir} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("read %s: %v", path, err)
				return nil
			}
			r.search(t, path, string(b), r.s.all())
			return nil
		})
	}
}
