package main

// End-to-end tests: the real curl binary talks to the real sortie binary, which reaches an
// origin host in a network namespace made by the test (198.51.100.10, 2001:db8:51::10) and
// resolves names through a test DNS server on loopback.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
	"sortie.dev/sortie/internal/dnstest"
	"sortie.dev/sortie/internal/netlab"
	"sortie.dev/sortie/internal/testkit"
)

var (
	originV4 = netip.MustParsePrefix("198.51.100.10/24")
	originV6 = netip.MustParsePrefix("2001:db8:51::10/64")
)

const (
	helloMarker     = "sortie-e2e-origin-hello-5c1d"
	bigSize         = 4 << 20
	e2eDrainTimeout = 5 * time.Second
	curlTimeout     = 20 * time.Second
)

// e2e is the running topology shared by the subtests.
type e2e struct {
	dir    string         // scratch directory
	proxy  netip.AddrPort // sortie's listener
	caFile string         // PEM of the TLS origin's certificate
	inward *inwardServer  // a loopback server no request may reach
	bigSum string         // hex SHA-256 of /big
}

func TestE2ECurl(t *testing.T) {
	netlab.Require(t)
	requireTools(t, "curl")
	// Registered first, so it runs after every other cleanup: nothing the test started
	// (origins, DNS, the stderr reader) may outlive it.
	t.Cleanup(func() { goleak.VerifyNone(t) })
	e := e2eSetup(t)
	t.Run("fetch", e.testFetch)
	t.Run("post", e.testPost)
	t.Run("expect 100-continue", e.testExpectContinue)
	t.Run("keep-alive", e.testKeepAlive)
	t.Run("hop-by-hop headers", e.testHopByHop)
	t.Run("host rebuilt", e.testHostRebuilt)
	t.Run("big body", e.testBig)
	t.Run("numeric spellings of loopback", e.testNumericLoopback)
	t.Run("raw requests", e.testRaw)
	t.Run("websocket upgrade", e.testWebSocket)
	t.Run("inward server untouched", func(t *testing.T) {
		if n := e.inward.hits.Load(); n != 0 {
			t.Errorf("the loopback server behind inward names got %d requests, want 0", n)
		}
	})
}

// requireTools skips the test when a tool is missing, and fails it when CI=true: CI installs
// them (.ci/run), so a green run means the test ran.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s needed with CI=true (apt-get install %s): %v", tool, tool, err)
			}
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
}

// e2eSetup builds the topology: lab host, origins, DNS, the sortie binary and its process.
func e2eSetup(t *testing.T) *e2e {
	e := &e2e{dir: t.TempDir()}
	lab := netlab.New(t, "srte2e")
	origin := lab.Host("origin", originV4, originV6)
	e.caFile, e.bigSum = startOrigin(t, origin, e.dir)
	e.inward = startInward(t)
	dns := dnstest.Start(t, map[string][]netip.Addr{
		"origin.sortie.test":  {originV4.Addr(), originV6.Addr()},
		"v4.sortie.test":      {originV4.Addr()},
		"inward.sortie.test":  {netip.MustParseAddr("127.0.0.1")},
		"private.sortie.test": {netip.MustParseAddr("10.1.2.3")},
	})
	bin := buildSortie(t, e.dir)
	e.proxy = startSortie(t, bin, e2eWriteConfig(t, e.dir, dns.Addr))
	return e
}

// buildSortie compiles the binary under test into dir.
func buildSortie(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "sortie")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "sortie.dev/sortie/cmd/sortie").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// e2eWriteConfig writes sortie's configuration file and returns its path.
func e2eWriteConfig(t *testing.T, dir string, nameserver netip.AddrPort) string {
	t.Helper()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`version: 1
data_dir: %q
listeners:
  - address: "127.0.0.1:0"
metrics:
  address: "127.0.0.1:0"
guard:
  enabled: false # tests from one loopback address would hit per-client limits
gateway:
  drain_timeout: %s
egress:
  allow_special: ["198.51.100.0/24", "2001:db8:51::/64"]
resolver:
  nameservers: [%q]
`, data, e2eDrainTimeout, nameserver)
	file := filepath.Join(dir, "sortie.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// e2eProcess is a running sortie with everything it wrote.
type e2eProcess struct {
	testkit.Buffer // stdout and stderr
	cmd            *exec.Cmd
	eof            chan struct{}
}

// startSortie runs `sortie serve`, waits for its "listening on" line and returns the
// listener's address. At cleanup it sends SIGTERM and checks a clean exit within the drain
// timeout, and that nothing it wrote names a destination.
func startSortie(t *testing.T, bin, config string) netip.AddrPort {
	t.Helper()
	_, addr := startSortieProcess(t, bin, config)
	return addr
}

// startSortieProcess is startSortie that also returns the process, for signals and output.
func startSortieProcess(t *testing.T, bin, config string) (*e2eProcess, netip.AddrPort) {
	t.Helper()
	return startSortieCmd(t, exec.Command(bin, "serve", "--config", config), config)
}

// startSortieCmd is startSortieProcess for a prepared command, such as one that runs sortie
// inside a network namespace.
func startSortieCmd(t *testing.T, cmd *exec.Cmd, config string) (*e2eProcess, netip.AddrPort) {
	t.Helper()
	p := &e2eProcess{cmd: cmd, eof: make(chan struct{})}
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Dir(config)}
	p.cmd.Stdout = p
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start sortie: %v", err)
	}
	addrs := make(chan netip.AddrPort, 1)
	go p.readStderr(stderr, addrs)
	t.Cleanup(func() { stopSortie(t, p) })
	select {
	case a := <-addrs:
		return p, a
	case <-p.eof:
		t.Fatalf("sortie ended its output before a \"listening on\" line:\n%s", p)
	case <-time.After(30 * time.Second):
		t.Fatalf("no \"listening on\" line from sortie within 30s:\n%s", p)
	}
	return nil, netip.AddrPort{}
}

// readStderr copies sortie's stderr into the output and sends the first listener address.
func (p *e2eProcess) readStderr(r io.Reader, addrs chan<- netip.AddrPort) {
	defer close(p.eof)
	sc := bufio.NewScanner(r)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(p, line)
		if a, ok := listeningOn(line); ok && !sent {
			addrs <- a
			sent = true
		}
	}
}

// listeningOn parses the ip:port after "listening on " in a log line.
func listeningOn(line string) (netip.AddrPort, bool) {
	_, rest, ok := strings.Cut(line, "listening on ")
	if !ok {
		return netip.AddrPort{}, false
	}
	end := strings.IndexAny(rest, "\" \t")
	if end >= 0 {
		rest = rest[:end]
	}
	a, err := netip.ParseAddrPort(rest)
	return a, err == nil
}

func TestListeningOn(t *testing.T) {
	tests := []struct {
		name string
		line string
		want netip.AddrPort
		ok   bool
	}{
		{name: "slog text", line: `time=2026-01-01T00:00:00Z level=INFO msg="listening on 127.0.0.1:45123" listener=a`, want: netip.MustParseAddrPort("127.0.0.1:45123"), ok: true},
		{name: "end of line", line: `msg=x listening on [::1]:8080`, want: netip.MustParseAddrPort("[::1]:8080"), ok: true},
		{name: "other line", line: `level=INFO msg="reloaded"`},
		{name: "no port", line: `msg="listening on 127.0.0.1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := listeningOn(tt.line)
			if got != tt.want || ok != tt.ok {
				t.Errorf("listeningOn(%q) = %v, %v; want %v, %v", tt.line, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// stopSortie sends SIGTERM, waits for a clean exit and checks the privacy invariant on
// everything sortie wrote.
func stopSortie(t *testing.T, p *e2eProcess) {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("SIGTERM: %v", err)
	}
	start := time.Now()
	defer func() { t.Logf("sortie stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond)) }()
	exited := make(chan error, 1)
	go func() {
		<-p.eof
		exited <- p.cmd.Wait()
	}()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("sortie exit after SIGTERM: %v, want status 0; output:\n%s", err, p)
		}
	case <-time.After(e2eDrainTimeout + 5*time.Second):
		p.cmd.Process.Kill()
		<-exited
		t.Errorf("sortie still running %v after SIGTERM; output:\n%s", e2eDrainTimeout+5*time.Second, p)
	}
	out := p.String()
	for _, secret := range []string{"sortie.test", originV4.Addr().String(), originV6.Addr().String(), "/echo", "/hello", helloMarker} {
		if strings.Contains(out, secret) {
			t.Errorf("sortie's output names a destination (%q):\n%s", secret, out)
		}
	}
}

// curlResult is what one curl run gave.
type curlResult struct {
	exit   int
	stdout string
	stderr string
}

func (r curlResult) String() string {
	return fmt.Sprintf("curl exit %d, stdout %q, stderr %q", r.exit, r.stdout, strings.TrimSpace(r.stderr))
}

// curl runs curl without any rc file or proxy environment, bounded in time.
func (e *e2e) curl(t *testing.T, args ...string) curlResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), curlTimeout)
	defer cancel()
	base := []string{"-q", "-sS", "--noproxy", "", "--max-time", "10"}
	cmd := exec.CommandContext(ctx, "curl", append(base, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.dir}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	res := curlResult{stdout: stdout.String(), stderr: stderr.String()}
	switch {
	case errors.As(err, &exitErr):
		res.exit = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("curl: %v", err)
	}
	return res
}

// fetch runs curl with args and url, the body going to a file, and returns the status
// (%{http_code}), the CONNECT status (%{http_connect}), the body and the run.
func (e *e2e) fetch(t *testing.T, url string, args ...string) (status, connect int, body []byte, res curlResult) {
	t.Helper()
	f, err := os.CreateTemp(e.dir, "body")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	args = append(args, "-g", "-o", f.Name(), "-w", "%{http_code} %{http_connect}", url)
	res = e.curl(t, args...)
	if _, err := fmt.Sscanf(res.stdout, "%d %d", &status, &connect); err != nil {
		t.Fatalf("curl -w output: %v; %v", err, res)
	}
	body, err = os.ReadFile(f.Name())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	os.Remove(f.Name())
	return status, connect, body, res
}

// The ways curl uses the proxy.
const (
	modeForward = "forward"
	modeConnect = "connect"
	modeSocks5h = "socks5h"
	modeSocks4a = "socks4a"
	modeSocks5  = "socks5"
)

// via returns curl's arguments for one way of using the proxy.
func (e *e2e) via(mode string) []string {
	p := e.proxy.String()
	args := map[string][]string{
		modeForward: {"-x", "http://" + p},
		modeConnect: {"-p", "-x", "http://" + p},
		modeSocks5h: {"--socks5-hostname", p},
		modeSocks4a: {"--socks4a", p},
		modeSocks5:  {"--socks5", p},
	}[mode]
	return append(args, "--cacert", e.caFile)
}

// curl's exit codes the tests expect.
const (
	curlOK           = 0
	curlRecvError    = 56 // CONNECT answered with an error status
	curlProxyFailure = 97 // SOCKS handshake refused
)

func (e *e2e) testFetch(t *testing.T) {
	inward := "inward.sortie.test:" + strconv.Itoa(e.inward.port)
	tests := []struct {
		name        string
		mode        string
		url         string
		extra       []string
		wantExit    int
		wantStatus  int // %{http_code}; 0 means none
		wantConnect int // %{http_connect}; checked for CONNECT only
		wantBody    string
	}{
		{name: "forward by name", mode: modeForward, url: "http://origin.sortie.test/hello", wantStatus: 200, wantBody: helloMarker},
		{name: "forward v4-only name", mode: modeForward, url: "http://v4.sortie.test/hello", wantStatus: 200, wantBody: helloMarker},
		{name: "forward v4 literal", mode: modeForward, url: "http://198.51.100.10/hello", wantStatus: 200, wantBody: helloMarker},
		{name: "forward v6 literal", mode: modeForward, url: "http://[2001:db8:51::10]/hello", wantStatus: 200, wantBody: helloMarker},
		{name: "forward chunked response", mode: modeForward, url: "http://origin.sortie.test/chunked", wantStatus: 200, wantBody: chunkedBody()},
		{name: "connect tls by name", mode: modeConnect, url: "https://origin.sortie.test/hello", wantStatus: 200, wantConnect: 200, wantBody: helloMarker},
		{name: "connect tls v6 literal", mode: modeConnect, url: "https://[2001:db8:51::10]/hello", wantStatus: 200, wantConnect: 200, wantBody: helloMarker},
		{name: "socks5 hostname", mode: modeSocks5h, url: "http://origin.sortie.test/hello", wantStatus: 200, wantBody: helloMarker},
		{name: "socks5 hostname tls", mode: modeSocks5h, url: "https://origin.sortie.test/hello", wantStatus: 200, wantBody: helloMarker},
		{name: "socks4a", mode: modeSocks4a, url: "http://origin.sortie.test/hello", wantStatus: 200, wantBody: helloMarker},
		{name: "socks5 v4 literal", mode: modeSocks5, url: "http://198.51.100.10/hello", wantStatus: 200, wantBody: helloMarker},
		{name: "socks5 v6 literal", mode: modeSocks5, url: "http://[2001:db8:51::10]/hello", wantStatus: 200, wantBody: helloMarker},
		{name: "trace refused", mode: modeForward, url: "http://origin.sortie.test/echo", extra: []string{"-X", "TRACE"}, wantStatus: 405},
		{name: "forward inward name", mode: modeForward, url: "http://" + inward + "/", wantStatus: 403},
		{name: "connect inward name", mode: modeConnect, url: "http://" + inward + "/", wantExit: curlRecvError, wantConnect: 403},
		{name: "socks5 hostname inward name", mode: modeSocks5h, url: "http://" + inward + "/", wantExit: curlProxyFailure},
		{name: "socks4a inward name", mode: modeSocks4a, url: "http://" + inward + "/", wantExit: curlProxyFailure},
		{name: "forward private name", mode: modeForward, url: "http://private.sortie.test/", wantStatus: 403},
		{name: "socks5 hostname private name", mode: modeSocks5h, url: "http://private.sortie.test/", wantExit: curlProxyFailure},
		{name: "forward nxdomain", mode: modeForward, url: "http://nxdomain.sortie.test/", wantStatus: 502},
		{name: "connect nxdomain", mode: modeConnect, url: "https://nxdomain.sortie.test/", wantExit: curlRecvError, wantConnect: 502},
		{name: "socks5 hostname nxdomain", mode: modeSocks5h, url: "http://nxdomain.sortie.test/", wantExit: curlProxyFailure},
		{name: "socks4a nxdomain", mode: modeSocks4a, url: "http://nxdomain.sortie.test/", wantExit: curlProxyFailure},
		{name: "forward closed port", mode: modeForward, url: "http://origin.sortie.test:81/", wantStatus: 502},
		{name: "connect closed port", mode: modeConnect, url: "https://origin.sortie.test:81/", wantExit: curlRecvError, wantConnect: 502},
		{name: "socks5 hostname closed port", mode: modeSocks5h, url: "http://origin.sortie.test:81/", wantExit: curlProxyFailure},
		{name: "socks5 closed port", mode: modeSocks5, url: "http://198.51.100.10:81/", wantExit: curlProxyFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, conn, body, res := e.fetch(t, tt.url, append(e.via(tt.mode), tt.extra...)...)
			if res.exit != tt.wantExit {
				t.Errorf("curl exit = %d, want %d; %v", res.exit, tt.wantExit, res)
			}
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d; %v", status, tt.wantStatus, res)
			}
			if tt.mode == modeConnect && conn != tt.wantConnect {
				t.Errorf("CONNECT status = %d, want %d; %v", conn, tt.wantConnect, res)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body = %q, want it to contain %q", e2eTruncate(body), tt.wantBody)
			}
		})
	}
}

// echoReply is what the origin's /echo answers: the request as the origin received it.
type echoReply struct {
	Method           string
	Host             string
	Header           http.Header
	TransferEncoding []string
	ContentLength    int64
	Body             string
}

// echo runs curl against /echo through the forward proxy and decodes the reply.
func (e *e2e) echo(t *testing.T, url string, args ...string) echoReply {
	t.Helper()
	status, _, body, res := e.fetch(t, url, append(e.via(modeForward), args...)...)
	if res.exit != 0 || status != 200 {
		t.Fatalf("echo: status %d; %v; body %q", status, res, e2eTruncate(body))
	}
	var r echoReply
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("echo reply: %v: %q", err, e2eTruncate(body))
	}
	return r
}

func (e *e2e) testPost(t *testing.T) {
	payload := strings.Repeat("posted body 0123456789\n", 40)
	file := filepath.Join(e.dir, "post")
	if err := os.WriteFile(file, []byte(payload), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		extra   []string
		wantTE  []string
		wantLen int64
	}{
		{name: "content-length", wantLen: int64(len(payload))},
		{name: "chunked", extra: []string{"-H", "Transfer-Encoding: chunked"}, wantTE: []string{"chunked"}, wantLen: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.echo(t, "http://origin.sortie.test/echo", append([]string{"--data-binary", "@" + file}, tt.extra...)...)
			if r.Method != "POST" {
				t.Errorf("method = %q, want POST", r.Method)
			}
			if r.Body != payload {
				t.Errorf("origin got body of %d bytes, want the %d sent", len(r.Body), len(payload))
			}
			// The proxy may re-frame a chunked body with a length; a length must be right.
			if r.ContentLength >= 0 && r.ContentLength != int64(len(payload)) {
				t.Errorf("origin got Content-Length %d, want %d", r.ContentLength, len(payload))
			}
			if r.ContentLength < 0 && len(r.TransferEncoding) == 0 {
				t.Errorf("origin got neither a length nor chunked framing")
			}
		})
	}
}

func (e *e2e) testExpectContinue(t *testing.T) {
	payload := strings.Repeat("x", 4096)
	start := time.Now()
	r := e.echo(t, "http://origin.sortie.test/echo",
		"-H", "Expect: 100-continue", "--expect100-timeout", "8", "--data-binary", payload)
	if r.Body != payload {
		t.Errorf("origin got %d bytes, want %d", len(r.Body), len(payload))
	}
	// Without a 100 Continue from the proxy (its own or relayed), curl waits 8s before
	// sending the body.
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("request took %v: no 100 Continue reached curl", d)
	}
}

func (e *e2e) testKeepAlive(t *testing.T) {
	res := e.curl(t, append(e.via(modeForward),
		"-o", os.DevNull, "-o", os.DevNull, "-w", "%{http_code} %{num_connects}\n",
		"http://origin.sortie.test/hello", "http://origin.sortie.test/echo")...)
	if res.exit != 0 {
		t.Fatalf("%v", res)
	}
	var codes []string
	connects := 0
	for line := range strings.Lines(res.stdout) {
		var code string
		var n int
		if _, err := fmt.Sscanf(line, "%s %d", &code, &n); err != nil {
			t.Fatalf("curl -w line %q: %v", line, err)
		}
		codes = append(codes, code)
		connects += n
	}
	if diff := cmp.Diff([]string{"200", "200"}, codes); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if connects != 1 {
		t.Errorf("connections to the proxy = %d, want 1 for two requests; %v", connects, res)
	}
}

func (e *e2e) testHopByHop(t *testing.T) {
	r := e.echo(t, "http://origin.sortie.test/echo",
		"-H", "Connection: X-Secret",
		"-H", "X-Secret: 1",
		"-H", "Proxy-Connection: keep-alive",
		"-H", "Keep-Alive: timeout=5",
		"-H", "Proxy-Authorization: Basic dXNlcjpwYXNz",
		"-H", "X-I2P-DestB32: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b32.i2p",
		"-H", "X-I2P-DestHash: aGFzaA==",
		"-H", "X-Accept-Encoding: x-i2p-gzip;q=1.0, identity;q=0.5",
		"-H", "X-Kept: yes")
	for _, h := range []string{"X-Secret", "Proxy-Connection", "Keep-Alive", "Proxy-Authorization",
		"X-I2p-Destb32", "X-I2p-Desthash", "X-Accept-Encoding", "X-Forwarded-For", "Via", "Forwarded"} {
		if v, ok := r.Header[h]; ok {
			t.Errorf("origin got %s: %q, want it absent", h, v)
		}
	}
	if got := r.Header.Get("X-Kept"); got != "yes" {
		t.Errorf("origin got X-Kept: %q, want %q (end-to-end headers pass)", got, "yes")
	}
	if got := r.Header.Get("Connection"); strings.Contains(strings.ToLower(got), "x-secret") {
		t.Errorf("origin got Connection: %q naming the client's hop-by-hop header", got)
	}
}

func (e *e2e) testHostRebuilt(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want string
	}{
		{name: "name", url: "http://origin.sortie.test/echo", want: "origin.sortie.test"},
		{name: "v6 literal", url: "http://[2001:db8:51::10]/echo", want: "[2001:db8:51::10]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.echo(t, tt.url, "-H", "Host: elsewhere.sortie.test")
			if r.Host != tt.want {
				t.Errorf("origin got Host %q, want %q", r.Host, tt.want)
			}
		})
	}
}

func (e *e2e) testBig(t *testing.T) {
	for _, tt := range []struct {
		name string
		mode string
		url  string
	}{
		{name: "forward", mode: modeForward, url: "http://origin.sortie.test/big"},
		{name: "connect", mode: modeConnect, url: "https://origin.sortie.test/big"},
		{name: "socks5 hostname", mode: modeSocks5h, url: "http://origin.sortie.test/big"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body, res := e.fetch(t, tt.url, e.via(tt.mode)...)
			if res.exit != 0 || status != 200 {
				t.Fatalf("status %d; %v", status, res)
			}
			sum := sha256.Sum256(body)
			if got := hex.EncodeToString(sum[:]); got != e.bigSum || len(body) != bigSize {
				t.Errorf("got %d bytes with SHA-256 %s, want %d bytes with %s", len(body), got, bigSize, e.bigSum)
			}
		})
	}
}

func (e *e2e) testNumericLoopback(t *testing.T) {
	port := strconv.Itoa(e.inward.port)
	for _, host := range []string{"127.1", "0x7f000001", "2130706433", "0177.0.0.1", "[::ffff:127.0.0.1]", "[::1]"} {
		t.Run(host, func(t *testing.T) {
			// curl may normalise the spelling itself: send it raw as well.
			status, _, _, res := e.fetch(t, "http://"+host+":"+port+"/", e.via(modeForward)...)
			if status == 200 {
				t.Errorf("curl: status 200 for a loopback destination; %v", res)
			}
			req := "GET http://" + host + ":" + port + "/ HTTP/1.1\r\nHost: " + host + ":" + port + "\r\n\r\n"
			if got := e.raw(t, req).StatusCode; got == 200 {
				t.Errorf("raw: status 200 for a loopback destination")
			}
		})
	}
}

func (e *e2e) testRaw(t *testing.T) {
	tests := []struct {
		name string
		req  string
		want int
	}{
		{
			name: "content-length with transfer-encoding",
			req: "POST http://origin.sortie.test/echo HTTP/1.1\r\nHost: origin.sortie.test\r\n" +
				"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			want: 400,
		},
		{
			name: "two host headers",
			req:  "GET http://origin.sortie.test/hello HTTP/1.1\r\nHost: origin.sortie.test\r\nHost: v4.sortie.test\r\n\r\n",
			want: 400,
		},
		{
			name: "trace",
			req:  "TRACE http://origin.sortie.test/ HTTP/1.1\r\nHost: origin.sortie.test\r\nMax-Forwards: 0\r\n\r\n",
			want: 405,
		},
		{
			name: "origin-form to the proxy",
			req:  "GET / HTTP/1.1\r\nHost: " + e.proxy.String() + "\r\n\r\n",
			want: 200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.raw(t, tt.req)
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	t.Run("origin-form page is small html", func(t *testing.T) {
		status, _, body, res := e.fetch(t, "http://"+e.proxy.String()+"/")
		if status != 200 || len(body) == 0 || len(body) > 64<<10 {
			t.Errorf("status %d with %d bytes, want 200 with a small page; %v", status, len(body), res)
		}
		if strings.Contains(string(body), helloMarker) {
			t.Errorf("the proxy's own page is the origin's")
		}
	})
}

// raw sends req to the proxy as bytes and reads the response head and body.
func (e *e2e) raw(t *testing.T, req string) *http.Response {
	t.Helper()
	c, err := net.DialTimeout("tcp", e.proxy.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatalf("write: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp
}

func (e *e2e) testWebSocket(t *testing.T) {
	c, err := net.DialTimeout("tcp", e.proxy.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	req := "GET http://origin.sortie.test/ws HTTP/1.1\r\nHost: origin.sortie.test\r\n" +
		"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	if resp.StatusCode != 101 {
		t.Fatalf("status = %d, want 101", resp.StatusCode)
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), wsAccept(key); got != want {
		t.Errorf("Sec-WebSocket-Accept = %q, want %q", got, want)
	}
	if _, err := io.WriteString(c, "raw bytes after upgrade\n"); err != nil {
		t.Fatal(err)
	}
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if line != "raw bytes after upgrade\n" {
		t.Errorf("echo = %q, want the bytes sent", line)
	}
}

// startOrigin runs the origin's HTTP server on :80 and TLS server on :443 inside the host,
// and returns the file of its certificate (PEM) and the hex SHA-256 of /big.
func startOrigin(t *testing.T, h *netlab.Host, dir string) (caFile, bigSum string) {
	t.Helper()
	bigBody := make([]byte, bigSize)
	mrand.NewChaCha8([32]byte{1}).Read(bigBody)
	sum := sha256.Sum256(bigBody)
	bigSum = hex.EncodeToString(sum[:])
	mux := originMux(bigBody, bigSum)
	cert, certPEM := e2eCert(t)
	caFile = filepath.Join(dir, "origin-ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, port := range []string{"80", "443"} {
		ln, err := h.Listen("tcp", ":"+port)
		if err != nil {
			t.Fatalf("origin listen: %v", err)
		}
		if port == "443" {
			ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
		}
		e2eServe(t, &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln)
	}
	return caFile, bigSum
}

// e2eServe runs srv on ln until the test ends.
func e2eServe(t *testing.T, srv *http.Server, ln net.Listener) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
}

// originMux is the origin's handlers.
func originMux(bigBody []byte, bigSum string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>origin</title><p>%s</p>\n", helloMarker)
	})
	mux.HandleFunc("/echo", handleEcho)
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		for i := range 5 {
			fmt.Fprintf(w, "part-%d\n", i)
			rc.Flush()
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Sha256", bigSum)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(bigBody)
	})
	mux.HandleFunc("/ws", handleWebSocket)
	return mux
}

// chunkedBody is what /chunked sends.
func chunkedBody() string {
	var b strings.Builder
	for i := range 5 {
		fmt.Fprintf(&b, "part-%d\n", i)
	}
	return b.String()
}

func handleEcho(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(echoReply{
		Method:           r.Method,
		Host:             r.Host,
		Header:           r.Header,
		TransferEncoding: r.TransferEncoding,
		ContentLength:    r.ContentLength,
		Body:             string(body),
	})
}

// handleWebSocket answers a WebSocket handshake with 101, then echoes raw bytes.
func handleWebSocket(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "want Upgrade: websocket", http.StatusBadRequest)
		return
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		wsAccept(r.Header.Get("Sec-WebSocket-Key")))
	rw.Flush()
	buf := make([]byte, 4096)
	for range 100 {
		n, err := rw.Read(buf)
		if n > 0 {
			conn.Write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// wsAccept computes Sec-WebSocket-Accept for a key (RFC 6455 §4.2.2).
func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// e2eCert makes a self-signed certificate for the origin's names and addresses.
func e2eCert(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	c := testkit.NewCert(t, "origin.sortie.test", "origin.sortie.test", "v4.sortie.test",
		originV4.Addr().String(), originV6.Addr().String())
	return c.TLS, c.CertPEM
}

// inwardServer is an HTTP server on the root namespace's loopback, standing for the
// gateway's own machine: names and numeric spellings that point inward must never reach it.
type inwardServer struct {
	port int
	hits atomic.Int64
}

func startInward(t *testing.T) *inwardServer {
	t.Helper()
	s := &inwardServer{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	e2eServe(t, &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		io.WriteString(w, "inward reached\n")
	})}, ln)
	return s
}

// e2eTruncate shortens a body for a message.
func e2eTruncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}
