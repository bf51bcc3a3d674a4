package triage_test

import (
	"context"
	"testing"

	"sortie.dev/sortie/internal/desk/bayes"
	"sortie.dev/sortie/internal/desk/parse"
	"sortie.dev/sortie/internal/desk/triage"
)

// BenchmarkDecide measures Decide alone (parsing done beforehand) over the held-out mails,
// with a trained in-memory filter.
func BenchmarkDecide(b *testing.B) {
	mem := bayes.NewMemory()
	train(b, mem, devSamples())
	tr, err := triage.New(triage.Options{Inventory: evalInventory, Rules: devRules, Counts: mem, Lookup: evalCases{}})
	if err != nil {
		b.Fatal(err)
	}
	type parsed struct {
		m  *parse.Message
		rs []parse.Report
	}
	var mails []parsed
	for _, s := range heldOutSamples() {
		m, rs, err := parse.Parse(s.raw)
		if err != nil {
			b.Fatal(err)
		}
		mails = append(mails, parsed{m, rs})
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := mails[i%len(mails)]
		if _, err := tr.Decide(ctx, p.m, p.rs); err != nil {
			b.Fatal(err)
		}
	}
}
