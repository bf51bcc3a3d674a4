package daemon

import (
	"bytes"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/dnstest"
	"sortie.dev/sortie/internal/doh"
	"sortie.dev/sortie/internal/testkit"
)

func TestDNSDegradedStaysReady(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // a nameserver that never answers
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c := testConfig(t)
	c.Resolver.Nameservers = []config.Nameserver{config.Nameserver(pc.LocalAddr().(*net.UDPAddr).AddrPort())}
	c.Resolver.Timeout = config.Duration(50 * time.Millisecond)
	d, err := New(c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer d.close()
	if ok, detail := d.dnsHealth(); !ok || detail != "" {
		t.Fatalf("before any timeout: dnsHealth = %v %q, want true \"\"", ok, detail)
	}
	if _, err := d.resolver().LookupNetIP(t.Context(), "ip4", "silent.test"); err == nil {
		t.Fatal("lookup through a silent nameserver succeeded")
	}
	if ok, detail := d.dnsHealth(); !ok || detail != "dns degraded" {
		t.Errorf("after a timeout: dnsHealth = %v %q, want true \"dns degraded\"", ok, detail)
	}
	if _, detail := d.ready(); !strings.Contains(detail, "dns degraded") {
		t.Errorf("ready detail %q does not say dns degraded", detail)
	}
}

func TestDoHEndpoint(t *testing.T) {
	ns := dnstest.Start(t, map[string][]netip.Addr{"doh.sortie.test": {netip.MustParseAddr("192.0.2.7")}})
	ns.SetTTL(30)
	c := testConfig(t)
	c.Resolver.Nameservers = []config.Nameserver{config.Nameserver(ns.Addr)}
	c.DoH.Listeners = []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}
	c.DoH.CertFile, c.DoH.KeyFile = writeTestCert(t)
	d := runDaemon(t, c)
	if len(d.DoHAddrs()) != 1 {
		t.Fatalf("DoHAddrs = %v, want one", d.DoHAddrs())
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	url := "https://" + d.DoHAddrs()[0].String() + doh.Path
	ask := func() {
		t.Helper()
		q := new(dns.Msg)
		q.SetQuestion("doh.sortie.test.", dns.TypeA)
		wire, _ := q.Pack()
		resp, err := client.Post(url, doh.MediaType, bytes.NewReader(wire))
		if err != nil {
			t.Fatalf("POST: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		m := new(dns.Msg)
		if err := m.Unpack(body); err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST: %s, body does not unpack: %v", resp.Status, err)
		}
		if len(m.Answer) != 1 || !strings.HasSuffix(m.Answer[0].String(), "192.0.2.7") {
			t.Errorf("answer %v, want one A record for 192.0.2.7", m.Answer)
		}
		if got := resp.Header.Get("Cache-Control"); got != "max-age=30" {
			t.Errorf("Cache-Control %q, want max-age=30", got)
		}
	}
	ask()
	ask()
	if n := ns.Queries("doh.sortie.test", "A"); n != 1 {
		t.Errorf("nameserver saw %d queries after two DoH questions, want 1 (cached)", n)
	}
	if _, err := d.resolver().LookupNetIP(t.Context(), "ip4", "doh.sortie.test"); err != nil {
		t.Fatalf("exit lookup: %v", err)
	}
	if n := ns.Queries("doh.sortie.test", "A"); n != 2 {
		t.Errorf("nameserver saw %d queries after the exit's lookup, want 2 (separate caches)", n)
	}
}

// writeTestCert writes a throwaway certificate and key for 127.0.0.1 and returns their paths.
func writeTestCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "doh.crt"), filepath.Join(dir, "doh.key")
	testkit.NewCert(t, "doh test").Write(t, certFile, keyFile)
	return certFile, keyFile
}
