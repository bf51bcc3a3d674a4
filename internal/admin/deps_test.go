package admin

import (
	"os/exec"
	"strings"
	"testing"
)

func TestNoDatabaseImport(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for dep := range strings.Lines(string(out)) {
		if strings.TrimSpace(dep) == "database/sql" {
			t.Error("admin depends on database/sql; it must not (DESIGN.md)")
		}
	}
}
