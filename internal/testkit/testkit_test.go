package testkit

import (
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestNewCertVerifiesForItsHosts(t *testing.T) {
	c := NewCert(t, "test", "127.0.0.1", "a.example.org")
	leaf, err := x509.ParseCertificate(c.TLS.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "a.example.org"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: c.Pool(), DNSName: host}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: c.Pool(), DNSName: "b.example.org"}); err == nil {
		t.Error("the certificate verifies for a host it does not name")
	}
	if d := NewCert(t, "default"); len(d.TLS.Certificate) != 1 {
		t.Fatal("no certificate")
	} else if l, _ := x509.ParseCertificate(d.TLS.Certificate[0]); len(l.IPAddresses) != 1 || !l.IPAddresses[0].IsLoopback() {
		t.Errorf("default hosts: %v", l.IPAddresses)
	}
}

func TestBufferTakesConcurrentWriters(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { fmt.Fprintf(&b, "line %d\n", i) })
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 8 {
		t.Fatalf("%d lines, want 8", n)
	}
}

func TestCountFrames(t *testing.T) {
	if n := CountFrames("testkit.TestCountFrames"); n != 1 {
		t.Fatalf("CountFrames found this test's goroutine %d times, want 1", n)
	}
	if n := CountFrames("no.such/function"); n != 0 {
		t.Fatalf("CountFrames of nothing = %d", n)
	}
}
