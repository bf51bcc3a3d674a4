package auth

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestDocsExampleHashes checks that every hash in docs/authentication.md is one of the
// password "wonderland", with parameters Sortie accepts, so that the examples can be copied.
func TestDocsExampleHashes(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "authentication.md"))
	if err != nil {
		t.Fatal(err)
	}
	hashes := regexp.MustCompile(`\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+`).FindAll(doc, -1)
	if len(hashes) == 0 {
		t.Fatal("docs/authentication.md shows no complete hash")
	}
	seen := map[string]bool{}
	for _, s := range hashes {
		if seen[string(s)] {
			continue
		}
		seen[string(s)] = true
		h, err := ParseHash(string(s))
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if err := h.CheckStrength(0); err != nil {
			t.Errorf("%s: %v", s, err)
		}
		if !h.Verify("wonderland") {
			t.Errorf("%s is not a hash of the documented password", s)
		}
	}
}
