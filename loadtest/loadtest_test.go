package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain runs the origin and the load generator when the test binary is re-executed as
// one of them, and checks the test process itself leaks no goroutine.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "-role" {
		os.Exit(runRole(os.Args[2], os.Args[3:]))
	}
	goleak.VerifyTestMain(m)
}

// documentedPeakMiB are the peak resident memory figures of the full run, as written in the
// Measured section of docs/hardening.md. The reduced run must stay under twice each.
var documentedPeakMiB = map[string]int{
	"idle":      250,
	"malformed": 128,
	"slowloris": 148,
	"scan":      93,
	"brute":     93,
}

// TestUnderAttack runs every attack at the reduced scale and checks only what cannot flake:
// the well-behaved client is still served, sortie still runs and stops cleanly, its
// descriptors and goroutines come back near their baseline, its memory stays under twice the
// documented figure, the throttles trip in every proxy mode, and nothing sortie wrote names
// an address of the test.
func TestUnderAttack(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	rep, err := run(ctx, options{scale: reducedScale(), progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	if rep != nil {
		var b strings.Builder
		rep.write(&b)
		t.Log("\n" + b.String())
	}
	if len(rep.Results) != len(reducedScale().Scenarios) {
		t.Fatalf("%d scenarios ran, want %d", len(rep.Results), len(reducedScale().Scenarios))
	}
	for _, res := range rep.Results {
		t.Run(res.Scenario.Name, func(t *testing.T) { checkResult(t, res) })
	}
}

// checkResult checks one scenario's non-flaky properties.
func checkResult(t *testing.T, res *result) {
	if !res.Running || res.ExitErr != nil {
		t.Errorf("sortie running after the attack: %v; exit on SIGTERM: %v\n%s", res.Running, res.ExitErr, res.Output)
	}
	if res.During.Served() == 0 {
		t.Errorf("the well-behaved client got the page 0 times of %d during the attack", res.During.Failed)
	}
	if !res.ServedAfter {
		t.Error("the well-behaved client is not served after the attack")
	}
	if !res.Settled {
		t.Errorf("after %v: %+v; want back near %+v (sockets +%d, goroutines +%d, pipes +%d)",
			res.Settle, res.After, res.Base, fdSlack, goroutineSlack, pipePool)
	}
	if doc := documentedPeakMiB[res.Scenario.Name]; doc > 0 && res.After.PeakKiB>>10 >= 2*doc {
		t.Errorf("peak RSS %d MiB, want under twice the documented %d MiB", res.After.PeakKiB>>10, doc)
	}
	if res.Scenario.holds() && res.Held == 0 {
		t.Errorf("the attack held no connection at its peak: %v", res.Counts)
	}
	for _, m := range res.Modes {
		if m.Refused == 0 {
			t.Errorf("%s through %s: the guard refused nothing of %d probes: %v", res.Scenario.Name, m.Mode, res.Scenario.N, m.Counts)
		}
	}
	for _, a := range []string{"127.66.", "127.77.", "127.55."} {
		if strings.Contains(res.Output, a) {
			t.Errorf("sortie's output names an address of the test (%s*):\n%s", a, res.Output)
		}
	}
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}
