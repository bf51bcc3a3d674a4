package parse

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/mail")

// summary is what a golden file records of one parsed mail.
type summary struct {
	Message *messageSummary `json:"message"`
	Reports []Report        `json:"reports"`
}

type messageSummary struct {
	*Message
	// PartSizes are the decoded sizes of the parts, so a broken decoding shows.
	PartSizes []int `json:"part_sizes,omitempty"`
}

func fixtures(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob("testdata/mail/*.eml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	return names
}

func render(t testing.TB, raw []byte) []byte {
	t.Helper()
	m, reports, err := Parse(raw)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	ms := &messageSummary{Message: m}
	for _, p := range m.Parts {
		ms.PartSizes = append(ms.PartSizes, len(p.Body))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(summary{Message: ms, Reports: reports}); err != nil {
		t.Fatalf("encoding: %v", err)
	}
	return b.Bytes()
}

// TestGolden parses every fixture and compares the normalised result with its golden file.
func TestGolden(t *testing.T) {
	for _, name := range fixtures(t) {
		base := strings.TrimSuffix(filepath.Base(name), ".eml")
		t.Run(base, func(t *testing.T) {
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, raw)
			goldenPath := strings.TrimSuffix(name, ".eml") + ".golden.json"
			if *update {
				if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s: result differs from golden (-want +got):\n%s", base, diff)
			}
		})
	}
}
