package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsExamplesParse checks that every complete example in docs/configuration.md (a yaml
// block starting with version: 1) parses, and that the docs name every key.
func TestDocsExamplesParse(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "metrics-password", "pw\n", 0o600)
	blocks := strings.Split(string(doc), "```yaml\n")[1:]
	n := 0
	for _, b := range blocks {
		body, _, _ := strings.Cut(b, "```")
		if !strings.HasPrefix(body, "version: 1\n") {
			continue
		}
		n++
		if _, err := Parse([]byte(body), filepath.Join(dir, "sortie.yaml")); err != nil {
			t.Errorf("example %d does not parse: %v\n%s", n, err, body)
		}
	}
	if n < 2 {
		t.Errorf("found %d complete examples, want at least 2", n)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "default.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(golden), "\n") {
		key, _, ok := strings.Cut(strings.TrimLeft(line, " -"), ":")
		if ok && !strings.Contains(string(doc), "`"+key+"`") {
			t.Errorf("docs/configuration.md does not name the key `%s`", key)
		}
	}
}
