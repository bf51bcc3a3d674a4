package main

// Headless Debian chromium, in a network namespace with only its own loopback, loads an HTTP
// page and an HTTPS page (test CA) through sortie as an http://, https:// and socks5:// proxy.

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sortie.dev/sortie/internal/netlab"
	"sortie.dev/sortie/internal/testkit"
)

const (
	chrOriginHTTP  = "127.0.0.5:8080"
	chrOriginHTTPS = "127.0.0.5:8443"
	chrPlain       = "127.0.0.1:4480" // sortie, plain listener
	chrTLS         = "127.0.0.1:4443" // sortie, TLS listener
	chrMarker      = "sortie-chromium-page-8d41"
)

func TestChromiumE2E(t *testing.T) {
	netlab.Require(t)
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium needed with CI=true (apt-get install chromium): %v", err)
		}
		t.Skipf("chromium not installed: %v", err)
	}
	dir := t.TempDir()
	host := netlab.New(t, "srtchr").Isolated("chr")
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeChromiumCert(t, certFile, keyFile)
	startChromiumOrigin(t, host, certFile, keyFile)
	config := filepath.Join(dir, "sortie.yaml")
	writeTestFile(t, config, fmt.Sprintf(`version: 1
data_dir: %q
listeners:
  - address: %q
  - address: %q
    tls_cert_file: tls.crt
    tls_key_file: tls.key
metrics:
  address: "127.0.0.1:0"
guard:
  enabled: false # tests from one loopback address would hit per-client limits
gateway:
  drain_timeout: 5s
egress:
  allow_special: [127.0.0.5/32]
`, filepath.Join(dir, "data"), chrPlain, chrTLS))
	startSortieCmd(t, host.Command(context.Background(), buildSortie(t, dir), "serve", "--config", config), config)
	spki := spkiHash(t, certFile)
	for _, proxy := range []string{"http://" + chrPlain, "https://" + chrTLS, "socks5://" + chrPlain} {
		for _, page := range []string{"http://" + chrOriginHTTP + "/page", "https://" + chrOriginHTTPS + "/page"} {
			t.Run(proxy+" "+page, func(t *testing.T) {
				dom := dumpDOM(t, host, chromium, dir, proxy, spki, page)
				if !strings.Contains(dom, chrMarker) {
					t.Errorf("chromium loaded %q", e2eTruncate([]byte(dom)))
				}
			})
		}
	}
}

// dumpDOM loads page in headless chromium through proxy and returns the DOM it printed.
func dumpDOM(t *testing.T, host *netlab.Host, chromium, dir, proxy, spki, page string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	profile, err := os.MkdirTemp(dir, "profile")
	if err != nil {
		t.Fatal(err)
	}
	cmd := host.Command(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir="+profile,
		"--proxy-server="+proxy, "--proxy-bypass-list=<-loopback>",
		"--ignore-certificate-errors-spki-list="+spki,
		"--virtual-time-budget=5000", "--dump-dom", page)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	var stderr testkit.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Logf("chromium: %v; stderr:\n%s", err, e2eTruncate([]byte(stderr.String())))
	}
	return string(out)
}

// startChromiumOrigin serves an HTML page over HTTP and HTTPS inside the namespace.
func startChromiumOrigin(t *testing.T, host *netlab.Host, certFile, keyFile string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><html><head><title>t</title></head><body><p>"+chrMarker+"</p></body></html>\n")
	})
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{chrOriginHTTP, chrOriginHTTPS} {
		ln, err := host.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if addr == chrOriginHTTPS {
			ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
		}
		e2eServe(t, &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln)
	}
}

// writeChromiumCert writes one certificate for both 127.0.0.1 (the proxy) and 127.0.0.5.
func writeChromiumCert(t *testing.T, certFile, keyFile string) {
	t.Helper()
	writeProxyCert(t, certFile, keyFile, "sortie-chromium", "127.0.0.1", "127.0.0.5")
}

// spkiHash returns the base64 SHA-256 of a certificate's public key, as chromium's
// --ignore-certificate-errors-spki-list wants it.
func spkiHash(t *testing.T, certFile string) string {
	t.Helper()
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}
