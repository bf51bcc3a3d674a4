package main

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/dnstest"
)

func TestPolicyExplain(t *testing.T) {
	dns := dnstest.Start(t, map[string][]netip.Addr{
		"ok.explain.test":      {netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("2001:db8:51::7")},
		"inward.explain.test":  {netip.MustParseAddr("10.1.2.3")},
		"blocked.explain.test": {netip.MustParseAddr("198.51.100.8")},
	})
	dir := t.TempDir()
	file := filepath.Join(dir, "sortie.yaml")
	yaml := fmt.Sprintf(`version: 1
listeners:
  - address: 127.0.0.1:4480
egress:
  allow_special: [198.51.100.0/24, "2001:db8:51::/64"]
resolver:
  nameservers: [%q]
  timeout: 1s
policy:
  rules:
    - reject *:8080
  blocked_by: https://exit.example.org/
  blocklist:
    - id: X-1
      reason: test
      basis: terms
      decided_by: board
      decided: 2026-01-01
      notice_url: https://exit.example.org/x-1
      domain: blocked.explain.test
`, dns.Addr)
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		target   string
		wantCode int
		wantOut  []string
	}{
		{name: "allowed name", target: "ok.explain.test", wantCode: explainAllowed, wantOut: []string{"port 80", "198.51.100.7", "2001:db8:51::7", "accept"}},
		{name: "operator rule with its line", target: "ok.explain.test:8080", wantCode: explainRefused, wantOut: []string{"reject *:8080", file + ":11"}},
		{name: "name pointing inward", target: "inward.explain.test:443", wantCode: explainRefused, wantOut: []string{"10.1.2.3", "refuse", "RFC 1918"}},
		{name: "blocked name is not resolved", target: "blocked.explain.test", wantCode: explainRefused, wantOut: []string{"blocked", "X-1"}},
		{name: "numeric loopback", target: "0x7f.1:22", wantCode: explainRefused, wantOut: []string{"127.0.0.1", "refuse"}},
		{name: "bracketed v6", target: "[2001:db8:51::9]:443", wantCode: explainAllowed, wantOut: []string{"2001:db8:51::9", "accept"}},
		{name: "localhost", target: "Foo.LocalHost", wantCode: explainRefused, wantOut: []string{"refuse"}},
		{name: "no such name", target: "missing.explain.test", wantCode: explainNoSuchNX, wantOut: []string{"does not resolve"}},
		{name: "bad numeric host", target: "1.2.3.256", wantCode: explainUsage},
		{name: "bad port", target: "ok.explain.test:99999", wantCode: explainUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code, err := explain(context.Background(), &out, cfg, tt.target)
			if code != tt.wantCode {
				t.Errorf("exit code %d (err %v), want %d; output:\n%s", code, err, tt.wantCode, out.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
	if n := dns.Queries("blocked.explain.test", "A") + dns.Queries("blocked.explain.test", "AAAA"); n != 0 {
		t.Errorf("a blocked name was looked up %d times", n)
	}
}
