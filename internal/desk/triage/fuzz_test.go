package triage_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"sortie.dev/sortie/internal/desk/bayes"
	"sortie.dev/sortie/internal/desk/parse"
	"sortie.dev/sortie/internal/desk/triage"
)

// FuzzDecide runs whole raw mails through parse.Parse and Decide, with a trained filter, and
// checks the invariants every decision keeps.
func FuzzDecide(f *testing.F) {
	g := devGen(41)
	for _, ts := range [][]template{devComplaints, devSpam, heldOutComplaints, heldOutSpam} {
		for _, t := range ts {
			f.Add(t.make(g).raw)
		}
	}
	f.Add([]byte("Subject: [sortie#9999999999999999999999]\r\nAuto-Submitted: no\r\n\r\n192.0.2.1 ::ffff:192.0.2.2"))
	mem := bayes.NewMemory()
	train(f, mem, devSamples())
	tr, err := triage.New(triage.Options{Inventory: evalInventory, Rules: devRules, Counts: mem, Lookup: evalCases{}})
	if err != nil {
		f.Fatal(err)
	}
	outcomes := []triage.Outcome{triage.OutcomeReply, triage.OutcomeQueue, triage.OutcomeIgnored, triage.OutcomeSpam, triage.OutcomeUnsure}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, reports, err := parse.Parse(raw)
		if err != nil {
			return // not a mail at all
		}
		d, err := tr.Decide(context.Background(), m, reports)
		if err != nil {
			t.Fatalf("decide: %v", err)
		}
		if !slices.Contains(outcomes, d.Outcome) {
			t.Fatalf("outcome %q unknown", d.Outcome)
		}
		if d.Outcome == triage.OutcomeSpam && d.NeverSpam != "" {
			t.Fatalf("classed spam although %s", d.NeverSpam)
		}
		if d.AutoReplyAllowed && (d.AutoSubmitted || d.Template == "") {
			t.Fatal("auto-reply allowed to Auto-Submitted mail or without a template")
		}
		if (d.ReplyTo != 0) != (d.Outcome == triage.OutcomeReply) {
			t.Fatalf("reply to %d with outcome %s", d.ReplyTo, d.Outcome)
		}
		if len(d.Reasons) == 0 || !strings.HasPrefix(d.Reasons[len(d.Reasons)-1], "outcome ") {
			t.Fatalf("reasons do not end with the outcome: %q", d.Reasons)
		}
		if d.Category == parse.CategoryNone || !slices.Contains(parse.Categories, d.Category) {
			t.Fatalf("category %q", d.Category)
		}
		if s := d.Spam.Score; math.IsNaN(s) || s < 0 || s > 1 {
			t.Fatalf("score %v", s)
		}
		for _, h := range d.Ours {
			if _, ok := evalInventory.Owner(h.Addr, h.At); ok != h.AtTime && h.AtKnown {
				t.Fatalf("hit %+v disagrees with the inventory", h)
			}
			if _, ok := evalInventory.Owner(h.Addr, time.Time{}); !ok {
				t.Fatalf("hit %+v was never ours", h)
			}
		}
		if d.NamesOurs != (len(d.Ours) > 0) {
			t.Fatal("NamesOurs disagrees with Ours")
		}
	})
}
