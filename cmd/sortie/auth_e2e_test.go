package main

// Proxy authentication and the guard end to end, with the real curl: users in the
// configuration, HTTP Basic (407), SOCKS5 username/password, an HTTPS proxy port, SOCKS4
// refused; then a port scan and a brute-force pattern throttled in each mode.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sortie.dev/sortie/internal/auth"
	"sortie.dev/sortie/internal/dnstest"
	"sortie.dev/sortie/internal/netlab"
)

const (
	authUser     = "alice"
	authPassword = "correct horse battery staple"
)

func TestAuthAndGuardE2E(t *testing.T) {
	netlab.Require(t)
	requireTools(t, "curl")
	e := &e2e{dir: t.TempDir()}
	lab := netlab.New(t, "srtauth")
	e.caFile, _ = startOrigin(t, lab.Host("origin", originV4, originV6), e.dir)
	dns := dnstest.Start(t, map[string][]netip.Addr{"origin.sortie.test": {originV4.Addr()}})
	hash, err := auth.NewHash(authPassword, auth.Params{Memory: 7168, Time: 5, Threads: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(e.dir, "proxy.crt"), filepath.Join(e.dir, "proxy.key")
	writeProxyCert(t, certFile, keyFile, "sortie-auth")
	config := filepath.Join(e.dir, "sortie.yaml")
	users := fmt.Sprintf("  - name: %s\n    password_hash: %q\n", authUser, hash.String())
	writeConfig := func(users string) {
		writeTestFile(t, config, fmt.Sprintf(`version: 1
data_dir: %q
listeners:
  - address: "127.0.0.1:0"
    auth: required
  - name: tls
    address: "127.0.0.1:0"
    auth: required
    tls_cert_file: proxy.crt
    tls_key_file: proxy.key
users:
%smetrics:
  address: "127.0.0.1:0"
guard:
  conn_rate: 1000
  conn_burst: 1000
  request_rate: 1000
  request_burst: 1000
  port_scan: {distinct: 5, window: 1m}
  brute_force: {max: 3, window: 1m}
gateway:
  drain_timeout: 5s
egress:
  allow_special: ["198.51.100.0/24", "2001:db8:51::/64"]
resolver:
  nameservers: [%q]
`, filepath.Join(e.dir, "data"), users, dns.Addr))
	}
	writeConfig(users)
	proc, proxy := startSortieProcess(t, buildSortie(t, e.dir), config)
	e.proxy = proxy
	tlsProxy := secondListener(t, proc)
	good := authUser + ":" + authPassword

	t.Run("HTTP proxy", func(t *testing.T) {
		tests := []struct {
			name string
			args []string
			want int
		}{
			{name: "no credentials", args: []string{"-x", "http://" + proxy.String()}, want: 407},
			{name: "wrong password", args: []string{"-x", "http://" + proxy.String(), "--proxy-user", authUser + ":guess"}, want: 407},
			{name: "right", args: []string{"-x", "http://" + proxy.String(), "--proxy-user", good}, want: 200},
			{name: "HTTPS proxy port", args: []string{"--proxy", "https://" + tlsProxy, "--proxy-cacert", certFile, "--proxy-user", good}, want: 200},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, _, body, res := e.fetch(t, "http://origin.sortie.test/echo", tt.args...)
				if status != tt.want {
					t.Fatalf("status %d, want %d; %v", status, tt.want, res)
				}
				if status == 200 {
					var got echoReply
					json.Unmarshal(body, &got)
					if h := http.Header(got.Header).Get("Proxy-Authorization"); h != "" {
						t.Errorf("the origin received Proxy-Authorization %q", h)
					}
				}
			})
		}
	})
	t.Run("CONNECT and SOCKS", func(t *testing.T) {
		tests := []struct {
			name     string
			args     []string
			wantExit int
		}{
			{name: "CONNECT", args: []string{"-p", "-x", "http://" + proxy.String(), "--proxy-user", good}, wantExit: curlOK},
			{name: "socks5h", args: []string{"--socks5-hostname", proxy.String(), "--proxy-user", good}, wantExit: curlOK},
			{name: "socks5h wrong password", args: []string{"--socks5-hostname", proxy.String(), "--proxy-user", authUser + ":guess"}, wantExit: curlProxyFailure},
			{name: "socks4a has no authentication", args: []string{"--socks4a", proxy.String()}, wantExit: curlProxyFailure},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, _, body, res := e.fetch(t, "https://origin.sortie.test/hello", append(tt.args, "--cacert", e.caFile)...)
				if res.exit != tt.wantExit || tt.wantExit == curlOK && !strings.Contains(string(body), helloMarker) {
					t.Errorf("curl exit %d, want %d; %v", res.exit, tt.wantExit, res)
				}
			})
		}
	})
	t.Run("port scan throttled", func(t *testing.T) {
		var statuses []int
		for port := 2000; port < 2010; port++ {
			status, _, _, _ := e.fetch(t, fmt.Sprintf("http://origin.sortie.test:%d/", port), "-x", "http://"+proxy.String(), "--proxy-user", good)
			statuses = append(statuses, status)
		}
		if last := statuses[len(statuses)-1]; last != http.StatusTooManyRequests || statuses[0] != http.StatusBadGateway {
			t.Errorf("statuses %v: want closed ports (502) first, then 429", statuses)
		}
		_, _, _, res := e.fetch(t, "http://origin.sortie.test:2011/", "--socks5-hostname", proxy.String(), "--proxy-user", good)
		if res.exit != curlProxyFailure {
			t.Errorf("SOCKS5 during the penalty: curl exit %d, want %d", res.exit, curlProxyFailure)
		}
	})
	t.Run("brute force throttled", func(t *testing.T) {
		var statuses []int
		for range 6 {
			_, connect, _, _ := e.fetch(t, "https://origin.sortie.test:22/", "-p", "-x", "http://"+proxy.String(), "--proxy-user", good)
			statuses = append(statuses, connect)
		}
		if statuses[len(statuses)-1] != http.StatusTooManyRequests {
			t.Errorf("CONNECT statuses to a login port %v: want 429 at the end", statuses)
		}
	})
	t.Run("reload adds a user", func(t *testing.T) {
		bob := authUser + "-2:another password"
		if status, _, _, res := e.fetch(t, "http://origin.sortie.test/hello", "-x", "http://"+proxy.String(), "--proxy-user", bob); status != 407 {
			t.Fatalf("unknown user before the reload: %v", res)
		}
		h2, err := auth.NewHash("another password", auth.Params{Memory: 7168, Time: 5, Threads: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		writeConfig(users + fmt.Sprintf("  - name: %s-2\n    password_hash: %q\n", authUser, h2.String()))
		if err := proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		for range 50 {
			if status, _, _, _ := e.fetch(t, "http://origin.sortie.test/hello", "-x", "http://"+proxy.String(), "--proxy-user", bob); status == 200 {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("the user added by a reload is still refused:\n%s", proc)
	})
	t.Run("credentials never printed", func(t *testing.T) {
		for _, secret := range []string{authPassword, "guess", hash.String()} {
			if strings.Contains(proc.String(), secret) {
				t.Errorf("sortie's output holds %q", secret)
			}
		}
	})
}

// secondListener returns the address of the second "listening on" line sortie prints,
// waiting for it up to 10 s.
func secondListener(t *testing.T, p *e2eProcess) string {
	t.Helper()
	for range 200 {
		var addrs []string
		for _, line := range strings.Split(p.String(), "\n") {
			if a, ok := listeningOn(line); ok {
				addrs = append(addrs, a.String())
			}
		}
		if len(addrs) >= 2 {
			return addrs[1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("sortie did not print a second listener:\n%s", p)
	return ""
}
