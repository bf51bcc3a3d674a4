package main

// An HTTPS proxy port end to end: curl speaks TLS to sortie (--proxy https://), then HTTP
// forward or CONNECT inside; SIGHUP re-reads the certificate without a restart.

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sortie.dev/sortie/internal/dnstest"
	"sortie.dev/sortie/internal/netlab"
	"sortie.dev/sortie/internal/testkit"
)

func TestHTTPSProxyE2E(t *testing.T) {
	netlab.Require(t)
	requireTools(t, "curl")
	e := &e2e{dir: t.TempDir()}
	lab := netlab.New(t, "srttls")
	e.caFile, _ = startOrigin(t, lab.Host("origin", originV4, originV6), e.dir)
	dns := dnstest.Start(t, map[string][]netip.Addr{"origin.sortie.test": {originV4.Addr()}})
	certFile, keyFile := filepath.Join(e.dir, "proxy.crt"), filepath.Join(e.dir, "proxy.key")
	writeProxyCert(t, certFile, keyFile, "sortie-proxy-1")
	config := filepath.Join(e.dir, "sortie.yaml")
	writeTestFile(t, config, fmt.Sprintf(`version: 1
data_dir: %q
listeners:
  - address: "127.0.0.1:0"
    tls_cert_file: proxy.crt
    tls_key_file: proxy.key
metrics:
  address: "127.0.0.1:0"
guard:
  enabled: false # tests from one loopback address would hit per-client limits
gateway:
  drain_timeout: 5s
egress:
  allow_special: ["198.51.100.0/24", "2001:db8:51::/64"]
resolver:
  nameservers: [%q]
`, e.dir, dns.Addr))
	proc, proxy := startSortieProcess(t, buildSortie(t, e.dir), config)
	e.proxy = proxy
	viaHTTPS := []string{"--proxy", "https://" + proxy.String(), "--proxy-cacert", certFile, "--cacert", e.caFile}

	t.Run("forward inside TLS", func(t *testing.T) {
		status, _, body, res := e.fetch(t, "http://origin.sortie.test/hello", viaHTTPS...)
		if status != 200 || !strings.Contains(string(body), helloMarker) {
			t.Errorf("status %d; %v", status, res)
		}
	})
	t.Run("CONNECT inside TLS", func(t *testing.T) {
		status, connect, body, res := e.fetch(t, "https://origin.sortie.test/hello", append(viaHTTPS, "-p")...)
		if status != 200 || connect != 200 || !strings.Contains(string(body), helloMarker) {
			t.Errorf("status %d connect %d; %v", status, connect, res)
		}
	})
	t.Run("plain text to the TLS port is closed", func(t *testing.T) {
		c, err := net.DialTimeout("tcp", proxy.String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(15 * time.Second))
		io.WriteString(c, "GET http://origin.sortie.test/hello HTTP/1.1\r\nHost: x\r\n\r\n")
		b, _ := io.ReadAll(c)
		if strings.Contains(string(b), helloMarker) {
			t.Errorf("a TLS port served a plain-text request: %q", b)
		}
	})
	t.Run("reload re-reads the certificate", func(t *testing.T) {
		writeProxyCert(t, certFile, keyFile, "sortie-proxy-2")
		if err := proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		var cn string
		for range 50 {
			if cn = proxyCertName(t, proxy); cn == "sortie-proxy-2" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if cn != "sortie-proxy-2" {
			t.Errorf("certificate after reload: %q, want sortie-proxy-2", cn)
		}
	})
}

// proxyCertName returns the common name of the certificate the proxy presents.
func proxyCertName(t *testing.T, proxy netip.AddrPort) string {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", proxy.String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS to the proxy: %v", err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// writeProxyCert writes a self-signed certificate and its key, for 127.0.0.1 unless other
// addresses are given.
func writeProxyCert(t *testing.T, certFile, keyFile, name string, ips ...string) {
	t.Helper()
	testkit.NewCert(t, name, ips...).Write(t, certFile, keyFile)
}
