package main

// End-to-end tests of the exit policy, the block list, the public pages and their reload:
// the real curl and the real sortie, an origin in its own network namespace (198.51.100.20,
// 2001:db8:51::20) and a test DNS server on loopback.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sortie.dev/sortie/internal/dnstest"
	"sortie.dev/sortie/internal/netlab"
)

var (
	polOriginV4 = netip.MustParsePrefix("198.51.100.20/24")
	polOriginV6 = netip.MustParsePrefix("2001:db8:51::20/64")
)

// polConfig is the test's configuration; extra is appended to the block list, and a second
// listener is added on port2 unless it is 0.
func polConfig(dir string, dns netip.AddrPort, noticePort int, extra string, port2 int) string {
	second := ""
	if port2 != 0 {
		second = fmt.Sprintf("  - address: \"127.0.0.1:%d\"\n", port2)
	}
	return fmt.Sprintf(`version: 1
data_dir: %q
listeners:
  - address: "127.0.0.1:0"
%smetrics:
  address: "127.0.0.1:0"
guard:
  enabled: false # tests from one loopback address would hit per-client limits
gateway:
  drain_timeout: 5s
egress:
  allow_special: ["198.51.100.0/24", "2001:db8:51::/64"]
resolver:
  nameservers: [%q]
policy:
  rules:
    - reject *:8080
  blocked_by: https://exit.example.org/
  include: [desk.yaml]
  blocklist:
    - id: B-2026-1
      reason: Court order 12/345 against this site
      basis: court order
      decided_by: board
      decided: 2026-03-01
      notice_url: https://exit.example.org/notices/B-2026-1
      domain: blocked.sortie.test
      include_subdomains: true
    - id: B-2026-2
      reason: Emergency block of a flooded address
      basis: emergency
      decided_by: operations
      decided: 2026-04-02
      notice_url: https://exit.example.org/notices/B-2026-2
      prefix: 198.51.100.99/32
    - id: B-2019-9
      reason: An old block that has expired
      basis: terms
      decided_by: board
      decided: 2019-01-01
      expires: 2020-01-01
      notice_url: https://exit.example.org/notices/B-2019-9
      domain: expired.sortie.test
%snotice:
  operator: Sortie Test Exit
  contact: abuse@exit.example.org
  jurisdiction: Testland
  listeners: ["127.0.0.1:%d"]
`, filepath.Join(dir, "data"), second, dns, extra, noticePort)
}

const polDeskInclude = `blocklist:
  - id: DESK-7
    reason: Decided at the abuse desk
    basis: terms
    decided_by: abuse desk
    decided: 2026-05-05
    notice_url: https://exit.example.org/notices/DESK-7
    domain: desk-blocked.sortie.test
`

// polOpenBlock is added on reload.
const polOpenBlock = `    - id: B-2026-3
      reason: Added by a reload
      basis: court order
      decided_by: board
      decided: 2026-06-06
      notice_url: https://exit.example.org/notices/B-2026-3
      domain: open.sortie.test
`

type polLab struct {
	*e2e
	dns        *dnstest.Server
	config     string
	noticePort int
	proc       *e2eProcess
}

func TestPolicyE2E(t *testing.T) {
	netlab.Require(t)
	requireTools(t, "curl")
	l := polSetup(t)
	t.Run("blocked name answers 451 with the notice", l.testBlockedForward)
	t.Run("blocked name over CONNECT", l.testBlockedConnect)
	t.Run("blocked name over SOCKS is never resolved", l.testBlockedSOCKS)
	t.Run("block list covers", l.testBlockCoverage)
	t.Run("port rule answers 403", l.testPortRule)
	t.Run("public pages", l.testPublicPages)
	t.Run("reload", l.testReload)
}

func polSetup(t *testing.T) *polLab {
	l := &polLab{e2e: &e2e{dir: t.TempDir()}}
	lab := netlab.New(t, "srtpol")
	origin := lab.Host("origin", polOriginV4, polOriginV6)
	l.caFile, _ = startOrigin(t, origin, l.dir)
	a := polOriginV4.Addr()
	l.dns = dnstest.Start(t, map[string][]netip.Addr{
		"blocked.sortie.test":      {a},
		"www.blocked.sortie.test":  {a},
		"expired.sortie.test":      {a},
		"open.sortie.test":         {a},
		"desk-blocked.sortie.test": {a},
	})
	if err := os.Mkdir(filepath.Join(l.dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(l.dir, "desk.yaml"), polDeskInclude)
	l.noticePort = freePort(t)
	l.config = filepath.Join(l.dir, "sortie.yaml")
	writeTestFile(t, l.config, polConfig(l.dir, l.dns.Addr, l.noticePort, "", 0))
	bin := buildSortie(t, l.dir)
	l.proc, l.proxy = startSortieProcess(t, bin, l.config)
	return l
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (l *polLab) testBlockedForward(t *testing.T) {
	resp := l.raw(t, "GET http://blocked.sortie.test/hello HTTP/1.1\r\nHost: blocked.sortie.test\r\n\r\n")
	checkBlockAnswer(t, resp)
	status, _, body, res := l.fetch(t, "http://blocked.sortie.test/hello", l.via(modeForward)...)
	if status != http.StatusUnavailableForLegalReasons {
		t.Fatalf("status %d, want 451; %v", status, res)
	}
	for _, want := range []string{"B-2026-1", "Court order 12/345 against this site", "2026-03-01", "https://exit.example.org/notices/B-2026-1"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("451 page lacks %q:\n%s", want, body)
		}
	}
}

func checkBlockAnswer(t *testing.T, resp *http.Response) {
	t.Helper()
	if resp.StatusCode != http.StatusUnavailableForLegalReasons {
		t.Errorf("status %d, want 451", resp.StatusCode)
	}
	if got, want := resp.Header.Get("Link"), `<https://exit.example.org/>; rel="blocked-by"`; got != want {
		t.Errorf("Link = %q, want %q", got, want)
	}
}

func (l *polLab) testBlockedConnect(t *testing.T) {
	resp := l.raw(t, "CONNECT www.blocked.sortie.test:443 HTTP/1.1\r\nHost: www.blocked.sortie.test:443\r\n\r\n")
	checkBlockAnswer(t, resp)
	_, connect, _, res := l.fetch(t, "https://blocked.sortie.test/hello", l.via(modeConnect)...)
	if connect != http.StatusUnavailableForLegalReasons || res.exit != curlRecvError {
		t.Errorf("CONNECT status %d, curl exit %d; want 451 and %d (%v)", connect, res.exit, curlRecvError, res)
	}
}

func (l *polLab) testBlockedSOCKS(t *testing.T) {
	for _, mode := range []string{modeSocks5h, modeSocks4a} {
		_, _, _, res := l.fetch(t, "http://blocked.sortie.test/hello", l.via(mode)...)
		if res.exit != curlProxyFailure {
			t.Errorf("%s: curl exit %d, want %d (SOCKS refusal); %v", mode, res.exit, curlProxyFailure, res)
		}
	}
	if n := l.dns.Queries("blocked.sortie.test", "A") + l.dns.Queries("blocked.sortie.test", "AAAA"); n != 0 {
		t.Errorf("a blocked name was looked up %d times; want none", n)
	}
}

func (l *polLab) testBlockCoverage(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want int
	}{
		{name: "subdomain", url: "http://www.blocked.sortie.test/hello", want: 451},
		{name: "prefix", url: "http://198.51.100.99/hello", want: 451},
		{name: "included file", url: "http://desk-blocked.sortie.test/hello", want: 451},
		{name: "expired entry no longer applies", url: "http://expired.sortie.test/hello", want: 200},
		{name: "unblocked name", url: "http://open.sortie.test/hello", want: 200},
		{name: "unblocked literal", url: "http://198.51.100.20/hello", want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, _, res := l.fetch(t, tt.url, l.via(modeForward)...)
			if status != tt.want {
				t.Errorf("status %d, want %d; %v", status, tt.want, res)
			}
		})
	}
}

func (l *polLab) testPortRule(t *testing.T) {
	status, _, body, res := l.fetch(t, "http://open.sortie.test:8080/", l.via(modeForward)...)
	if status != http.StatusForbidden {
		t.Errorf("status %d, want 403; %v", status, res)
	}
	if strings.Contains(string(body), "8080") || strings.Contains(string(body), "reject") {
		t.Errorf("the 403 page shows the rule: %s", body)
	}
	_, _, _, res = l.fetch(t, "http://open.sortie.test:8080/", l.via(modeSocks5h)...)
	if res.exit != curlProxyFailure {
		t.Errorf("socks5h: curl exit %d, want %d", res.exit, curlProxyFailure)
	}
}

func (l *polLab) testPublicPages(t *testing.T) {
	// A browser pointed at the proxy port, and the notice listener, get the exit notice.
	for name, base := range map[string]string{
		"proxy port":      "http://" + l.proxy.String(),
		"notice listener": fmt.Sprintf("http://127.0.0.1:%d", l.noticePort),
	} {
		t.Run(name, func(t *testing.T) {
			status, _, body, res := l.fetch(t, base+"/")
			if status != 200 || !strings.Contains(string(body), "Sortie Test Exit") || !strings.Contains(string(body), "abuse@exit.example.org") {
				t.Fatalf("exit notice: status %d; %v\n%s", status, res, body)
			}
			status, _, body, res = l.fetch(t, base+"/blocklist.json")
			if status != 200 {
				t.Fatalf("block list: status %d; %v", status, res)
			}
			active := blockListActive(t, body)
			want := map[string]bool{"B-2026-1": true, "B-2026-2": true, "B-2019-9": false, "DESK-7": true}
			for id, w := range want {
				if got, ok := active[id]; !ok || got != w {
					t.Errorf("block list entry %s: present %v active %v, want active %v", id, ok, got, w)
				}
			}
		})
	}
}

func blockListActive(t *testing.T, body []byte) map[string]bool {
	t.Helper()
	var list struct {
		Entries []struct {
			ID     string `json:"id"`
			Active bool   `json:"active"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("block list JSON: %v\n%s", err, body)
	}
	out := map[string]bool{}
	for _, e := range list.Entries {
		out[e.ID] = e.Active
	}
	return out
}

// testReload holds a tunnel open across three SIGHUPs: a good configuration that adds a block
// and a listener, a broken one that must leave the good one in force, and one that removes
// the listener again.
func (l *polLab) testReload(t *testing.T) {
	tunnel := l.openTunnel(t)
	port2 := freePort(t)
	writeTestFile(t, l.config, polConfig(l.dir, l.dns.Addr, l.noticePort, polOpenBlock, port2))
	l.hangup(t)
	l.waitStatus(t, "http://open.sortie.test/hello", 451)
	second := []string{"-x", fmt.Sprintf("http://127.0.0.1:%d", port2)}
	if status, _, _, res := l.fetch(t, "http://expired.sortie.test/hello", second...); status != 200 {
		t.Errorf("the listener added by the reload: status %d; %v", status, res)
	}

	writeTestFile(t, l.config, "version: 1\npolicy:\n  base: nonsense\n")
	l.hangup(t)
	l.waitOutput(t, "reload failed")
	if !strings.Contains(l.proc.String(), "policy.base") {
		t.Errorf("a broken configuration was not reported with its reason:\n%s", l.proc)
	}
	if status, _, _, res := l.fetch(t, "http://open.sortie.test/hello", l.via(modeForward)...); status != 451 {
		t.Errorf("after a broken reload: status %d, want the previous block (451); %v", status, res)
	}

	writeTestFile(t, l.config, polConfig(l.dir, l.dns.Addr, l.noticePort, polOpenBlock, 0))
	l.hangup(t)
	l.waitOutput(t, "reload: listener closed")
	if _, _, _, res := l.fetch(t, "http://expired.sortie.test/hello", second...); res.exit == curlOK {
		t.Errorf("the listener removed by the reload still answers: %v", res)
	}
	tunnel.check(t)
}

// waitOutput waits up to 5 s for sortie to write s.
func (l *polLab) waitOutput(t *testing.T, s string) {
	t.Helper()
	for range 100 {
		if strings.Contains(l.proc.String(), s) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("sortie did not write %q:\n%s", s, l.proc)
}

func (l *polLab) hangup(t *testing.T) {
	t.Helper()
	if err := l.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

// waitStatus polls url through the forward proxy until it answers want, for at most 5 s.
func (l *polLab) waitStatus(t *testing.T, url string, want int) {
	t.Helper()
	var status int
	for range 50 {
		status, _, _, _ = l.fetch(t, url, l.via(modeForward)...)
		if status == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("status %d after reload, want %d", status, want)
}

// polTunnel is a CONNECT tunnel to the origin's plain HTTP port, kept open.
type polTunnel struct{ c net.Conn }

func (l *polLab) openTunnel(t *testing.T) *polTunnel {
	t.Helper()
	c, err := net.DialTimeout("tcp", l.proxy.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	io.WriteString(c, "CONNECT open.sortie.test:80 HTTP/1.1\r\nHost: open.sortie.test:80\r\n\r\n")
	head := readHead(t, c)
	if !strings.HasPrefix(head, "HTTP/1.1 200") {
		t.Fatalf("CONNECT answered %q", head)
	}
	return &polTunnel{c: c}
}

// check sends a request through the tunnel and expects the origin's page.
func (p *polTunnel) check(t *testing.T) {
	t.Helper()
	io.WriteString(p.c, "GET /hello HTTP/1.1\r\nHost: open.sortie.test\r\nConnection: close\r\n\r\n")
	b, err := io.ReadAll(p.c)
	if err != nil || !strings.Contains(string(b), helloMarker) {
		t.Errorf("the tunnel opened before the reloads did not carry a request after them: %v %q", err, e2eTruncate(b))
	}
}

// readHead reads up to the end of a response head, byte by byte, so nothing after it is lost.
func readHead(t *testing.T, c net.Conn) string {
	t.Helper()
	var b []byte
	one := make([]byte, 1)
	for !strings.HasSuffix(string(b), "\r\n\r\n") && len(b) < 4096 {
		if _, err := c.Read(one); err != nil {
			t.Fatalf("reading response head: %v (%q)", err, b)
		}
		b = append(b, one[0])
	}
	return string(b)
}
