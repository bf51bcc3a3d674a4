package config

import (
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add(DefaultYAML())
	f.Add([]byte("version: 1\nlisteners:\n  - address: 127.0.0.1:1\n    protocols: [http]\n"))
	f.Add([]byte("version: 1\ngateway: {via: a b, max_connections: x}\nmetrics:\n  password: a\n  password_file: b\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("version: 1\n---\n"))
	f.Add([]byte("{version: 1, egress: {allow_special: [10.0.0.1/8, ::/0]}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if c != nil {
				t.Errorf("Parse returned a config with an error")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Errorf("Parse accepted a config that Validate refuses: %v", err)
		}
		b, err := c.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed config: %v", err)
		}
		if c.Metrics.Password.IsSet() {
			return // redacted: it cannot round-trip
		}
		if _, err := Parse(b, "again.yaml"); err != nil {
			t.Errorf("Parse(Marshal(c)) failed: %v\n%s", err, b)
		}
	})
}
