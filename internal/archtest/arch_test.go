package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "sortie.dev/sortie"

// dataPlane lists the packages that see users' traffic. They must never reach anything that
// could write it down.
var dataPlane = []string{
	"internal/auth", "internal/config", "internal/daemon", "internal/egress", "internal/gateway",
	"internal/doh", "internal/notice", "internal/policy", "internal/refusal", "internal/relay",
	"internal/resolve", "internal/ringlog", "internal/scrub", "internal/guard", "internal/proxyproto", "internal/metrics",
}

// forbidden are the imports no data-plane package may depend on, directly or not.
var forbidden = []string{
	"database/sql",
	module + "/internal/store",
	module + "/internal/desk",
	module + "/internal/report",
}

type pkg struct {
	ImportPath string
	Name       string
	Doc        string
	Deps       []string
	Dir        string
}

func listPackages(t *testing.T, patterns ...string) []pkg {
	t.Helper()
	args := append([]string{"list", "-json", "-deps=false"}, patterns...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestDataPlaneImportsNoStorage(t *testing.T) {
	var patterns []string
	for _, p := range dataPlane {
		patterns = append(patterns, module+"/"+p)
	}
	for _, p := range listPackages(t, patterns...) {
		for _, dep := range p.Deps {
			for _, bad := range forbidden {
				if dep == bad || strings.HasPrefix(dep, bad+"/") {
					t.Errorf("%s depends on %s: the data plane must not reach storage (DESIGN.md)", p.ImportPath, dep)
				}
			}
		}
	}
}

func TestEveryPackageHasDocComment(t *testing.T) {
	for _, p := range listPackages(t, module+"/...") {
		want := "Package " + p.Name + " "
		if p.Name == "main" {
			want = "Command "
		}
		if !strings.HasPrefix(p.Doc, strings.TrimSpace(want)) {
			t.Errorf("%s: doc comment %q, want one starting %q", p.ImportPath, p.Doc, want)
		}
	}
}

func TestDataPlaneListIsComplete(t *testing.T) {
	known := map[string]bool{}
	for _, p := range dataPlane {
		known[module+"/"+p] = true
	}
	operations := []string{"/internal/store", "/internal/desk", "/internal/report", "/internal/admin",
		"/internal/crashpoint", "/internal/archtest", "/internal/netlab", "/internal/dnstest", "/internal/testkit", "/cmd/"}
	for _, p := range listPackages(t, module+"/internal/...") {
		if known[p.ImportPath] {
			continue
		}
		ops := false
		for _, o := range operations {
			if strings.HasPrefix(p.ImportPath, module+o) {
				ops = true
			}
		}
		if !ops {
			t.Errorf("%s is neither listed as data plane nor as operations/test support in archtest: classify it", p.ImportPath)
		}
	}
}
