package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

var ctx = context.Background()

func mail(n int) []byte {
	return fmt.Appendf(nil, "From: abuse@example.net\r\nSubject: report %d\r\n\r\nAbuse from 203.0.113.%d\r\n", n, n%250)
}

func TestDeliver(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store, c *clock) {
		first, err := s.Deliver(ctx, Delivery{Source: SourceMaildir, Key: "1.a", Raw: mail(1)})
		if err != nil || !first.New || first.Repeat || first.Known || first.MessageID == 0 {
			t.Fatalf("first copy: %+v %v", first, err)
		}
		again, err := s.Deliver(ctx, Delivery{Source: SourceMaildir, Key: "1.a", Raw: mail(1)})
		if err != nil || !again.Known || again.New || again.Repeat || again.MessageID != first.MessageID {
			t.Fatalf("same copy again: %+v %v", again, err)
		}
		repeat, err := s.Deliver(ctx, Delivery{Source: SourceIMAP, Key: "7/1", Raw: mail(1)})
		if err != nil || !repeat.Repeat || repeat.New || repeat.Known || repeat.MessageID != first.MessageID {
			t.Fatalf("same bytes, other copy: %+v %v", repeat, err)
		}
		// Without a key every hand-over is a new copy.
		for range 2 {
			r, err := s.Deliver(ctx, Delivery{Source: SourceSMTP, Raw: mail(1)})
			if err != nil || !r.Repeat {
				t.Fatalf("keyless copy: %+v %v", r, err)
			}
		}
		other, err := s.Deliver(ctx, Delivery{Source: SourceSMTP, Raw: mail(2)})
		if err != nil || !other.New || other.MessageID == first.MessageID {
			t.Fatalf("other bytes: %+v %v", other, err)
		}
		raw, err := s.Raw(ctx, first.MessageID)
		if err != nil || string(raw) != string(mail(1)) {
			t.Fatalf("raw: %q %v", raw, err)
		}
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var msgs, reps int
		for _, c := range st.Intake {
			msgs += c.Messages
			reps += c.Repeats
		}
		if msgs != 2 || reps != 3 || st.Waiting != 2 {
			t.Fatalf("stats: %d messages, %d repeats, %d waiting; want 2, 3, 2: %+v", msgs, reps, st.Waiting, st)
		}
		if _, err := s.Deliver(ctx, Delivery{Source: SourceSMTP}); err == nil {
			t.Error("an empty message was stored")
		}
		if _, err := s.Deliver(ctx, Delivery{Raw: mail(3)}); err == nil {
			t.Error("a delivery without source was stored")
		}
		if _, err := s.Deliver(ctx, Delivery{Source: SourceSMTP, Raw: make([]byte, MaxMessageBytes+1)}); err == nil {
			t.Error("an oversized message was stored")
		}
	})
}

func TestDeliverConcurrent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store, c *clock) {
		const n = 12
		var wg sync.WaitGroup
		results := make([]Stored, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				key := fmt.Sprintf("k%d", i%6) // six copies, each handed over twice
				results[i], errs[i] = s.Deliver(ctx, Delivery{Source: SourceMaildir, Key: key, Raw: mail(9)})
			})
		}
		wg.Wait()
		var news, repeats, known int
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("deliver %d: %v", i, errs[i])
			}
			switch {
			case results[i].New:
				news++
			case results[i].Repeat:
				repeats++
			case results[i].Known:
				known++
			}
		}
		if news != 1 || repeats != 5 || known != 6 {
			t.Fatalf("new %d repeat %d known %d, want 1 5 6", news, repeats, known)
		}
		st, _ := s.Stats(ctx)
		if len(st.Intake) != 1 || st.Intake[0].Messages != 1 || st.Intake[0].Repeats != 5 {
			t.Fatalf("stored: %+v", st.Intake)
		}
	})
}

func report(ours, complainant, notice string) ReportRecord {
	data, _ := json.Marshal(map[string]string{"source": ours, "notice_id": notice})
	key := notice
	if key == "" {
		key = "hash-" + ours + complainant
	}
	return ReportRecord{Format: "x-arf-0.2", Category: "brute-force", OurAddress: ours, Complainant: complainant,
		NoticeID: notice, DedupeKey: key, Data: data,
		OccurredAt: time.Date(2026, 3, 13, 22, 1, 0, 0, time.UTC)}
}

func deliverNew(t *testing.T, s *Store, n int) int64 {
	t.Helper()
	st, err := s.Deliver(ctx, Delivery{Source: SourceImport, Key: fmt.Sprint(n), Raw: mail(n)})
	if err != nil || !st.New {
		t.Fatalf("deliver %d: %+v %v", n, st, err)
	}
	return st.MessageID
}

func record(t *testing.T, s *Store, id int64, outcome string, reps ...ReportRecord) {
	t.Helper()
	err := s.Record(ctx, Record{MessageID: id, Outcome: outcome, Category: "brute-force", From: "abuse@example.net",
		Subject: "report", Reasons: []string{"names 203.0.113.5, ours"}, Reports: reps, HasScore: true, SpamScore: 0.1})
	if err != nil {
		t.Fatalf("record %d: %v", id, err)
	}
}

func TestRecordFilesCases(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store, c *clock) {
		m1, m2, m3, m4 := deliverNew(t, s, 1), deliverNew(t, s, 2), deliverNew(t, s, 3), deliverNew(t, s, 4)
		if ids, err := s.Unprocessed(ctx, 10); err != nil || len(ids) != 4 || ids[0] != m1 {
			t.Fatalf("unprocessed: %v %v", ids, err)
		}
		record(t, s, m1, OutcomeQueue, report("203.0.113.5", "example.net", "N1"))
		// Same complainant, address and category while open: the same case. A resend of
		// notice N1 is a repeat of its event.
		record(t, s, m2, OutcomeQueue, report("203.0.113.5", "example.net", "N1"), report("203.0.113.6", "example.net", "N2"))
		record(t, s, m3, OutcomeSpam, report("", "spammer@example.org", ""))
		// Recording twice changes nothing.
		record(t, s, m3, OutcomeSpam, report("", "spammer@example.org", ""))
		if ids, _ := s.Unprocessed(ctx, 10); len(ids) != 1 || ids[0] != m4 {
			t.Fatalf("unprocessed after recording: %v", ids)
		}
		cases, err := s.ListCases(ctx, CaseFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(cases) != 3 {
			t.Fatalf("%d cases, want 3: %+v", len(cases), cases)
		}
		byAddr := map[string]CaseSummary{}
		for _, c := range cases {
			byAddr[c.OurAddress] = c
		}
		c5 := byAddr["203.0.113.5"]
		if c5.Reports != 2 || c5.State != StateNew || c5.Complainant != "example.net" {
			t.Fatalf("case of .5: %+v", c5)
		}
		var repeats int
		if err := s.db.QueryRowContext(ctx, `SELECT repeats FROM events WHERE case_id = $1 AND dedupe_key = 'N1'`, c5.ID).Scan(&repeats); err != nil || repeats != 1 {
			t.Fatalf("event N1 repeats %d (%v), want 1", repeats, err)
		}
		if sp := byAddr[""]; sp.State != StateSpam || sp.Resolution == "" {
			t.Fatalf("spam case: %+v", sp)
		}
		// A reply to case .5 while waiting reopens it.
		if err := s.SetCaseState(ctx, c5.ID, StateWaiting, "asked for log lines"); err != nil {
			t.Fatal(err)
		}
		if err := s.Record(ctx, Record{MessageID: m4, Outcome: OutcomeReply, ReplyTo: c5.ID, Category: "brute-force",
			Reasons: []string{"reply"}, Reports: []ReportRecord{report("203.0.113.5", "example.net", "")}}); err != nil {
			t.Fatal(err)
		}
		d, err := s.Case(ctx, c5.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.State != StateOpen || len(d.Messages) != 3 || d.Messages[0].Subject != "report" || len(d.Messages[0].Reasons) != 1 ||
			!d.Messages[0].HasScore || len(d.Messages[1].Reports) != 1 {
			t.Fatalf("case detail: %+v", d)
		}
		if _, err := s.Case(ctx, 9999); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing case: %v", err)
		}
		if got, _ := s.ListCases(ctx, CaseFilter{State: StateSpam}); len(got) != 1 {
			t.Fatalf("filter state: %+v", got)
		}
		if got, _ := s.ListCases(ctx, CaseFilter{Category: "brute-force", Month: "2026-03"}); len(got) != 3 {
			t.Fatalf("filter category and month: %+v", got)
		}
		if got, _ := s.ListCases(ctx, CaseFilter{Month: "2026-04"}); len(got) != 0 {
			t.Fatalf("filter month: %+v", got)
		}
		if err := s.SetCaseState(ctx, c5.ID, "lost", ""); err == nil {
			t.Error("an unknown state was accepted")
		}
		ids, err := s.CaseMessages(ctx, c5.ID)
		if err != nil || len(ids) != 3 {
			t.Fatalf("case messages: %v %v", ids, err)
		}
	})
}

func TestRecordIgnoredGroupsByMonth(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store, c *clock) {
		for i := range 3 {
			id := deliverNew(t, s, 10+i)
			record(t, s, id, OutcomeIgnored, report("203.0.113.5", "robot@example.com", fmt.Sprint("R", i)))
		}
		c.Add(40 * 24 * time.Hour)
		id := deliverNew(t, s, 20)
		record(t, s, id, OutcomeIgnored, report("203.0.113.5", "robot@example.com", "R9"))
		cases, _ := s.ListCases(ctx, CaseFilter{State: StateIgnored})
		if len(cases) != 2 || cases[1].Reports != 3 || cases[0].Reports != 1 {
			t.Fatalf("ignored cases: %+v", cases)
		}
	})
}

func TestCaseLookups(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store, c *clock) {
		id := deliverNew(t, s, 1)
		r := report("203.0.113.5", "example.net", "N1")
		r.CaseID = "EX-42"
		record(t, s, id, OutcomeQueue, r)
		cases, _ := s.ListCases(ctx, CaseFilter{})
		cid := cases[0].ID
		if got, ok, err := s.CaseByTag(ctx, cid); err != nil || !ok || got != cid {
			t.Fatalf("by tag: %d %v %v", got, ok, err)
		}
		if _, ok, _ := s.CaseByTag(ctx, cid+100); ok {
			t.Error("a missing case was found by tag")
		}
		if got, ok, err := s.CaseByExternalID(ctx, "example.net", "EX-42"); err != nil || !ok || got != cid {
			t.Fatalf("by external id: %d %v %v", got, ok, err)
		}
		if _, ok, _ := s.CaseByExternalID(ctx, "example.org", "EX-42"); ok {
			t.Error("another complainant's reference matched")
		}
		if err := s.RecordSent(ctx, cid, "<reply-1@desk.example.org>"); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.CaseByMessageID(ctx, "reply-1@desk.example.org"); err != nil || !ok || got != cid {
			t.Fatalf("by message id: %d %v %v", got, ok, err)
		}
		// A second report with the same external case ID joins the case even for another
		// address of ours.
		id2 := deliverNew(t, s, 2)
		r2 := report("203.0.113.77", "example.net", "N2")
		r2.CaseID = "EX-42"
		record(t, s, id2, OutcomeQueue, r2)
		if cases, _ := s.ListCases(ctx, CaseFilter{}); len(cases) != 1 || cases[0].Reports != 2 {
			t.Fatalf("external case grouping: %+v", cases)
		}
	})
}

func TestFailedAndRetry(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store, c *clock) {
		id := deliverNew(t, s, 1)
		if err := s.MarkFailed(ctx, id, strings.Repeat("x", 900)); err != nil {
			t.Fatal(err)
		}
		if ids, _ := s.Unprocessed(ctx, 10); len(ids) != 0 {
			t.Fatalf("a failed message is still queued: %v", ids)
		}
		if st, _ := s.Stats(ctx); st.Failed != 1 {
			t.Fatalf("failed count: %+v", st)
		}
		if n, err := s.Retry(ctx); err != nil || n != 1 {
			t.Fatalf("retry: %d %v", n, err)
		}
		if ids, _ := s.Unprocessed(ctx, 10); len(ids) != 1 {
			t.Fatalf("retried message not queued: %v", ids)
		}
	})
}

func TestPurgeKeepsCounts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store, c *clock) {
		old := deliverNew(t, s, 1)
		record(t, s, old, OutcomeQueue, report("203.0.113.5", "person@example.net", "N1"))
		cases, _ := s.ListCases(ctx, CaseFilter{})
		if err := s.SetCaseState(ctx, cases[0].ID, StateResolved, "answered"); err != nil {
			t.Fatal(err)
		}
		before, _ := s.Stats(ctx)
		c.Add(401 * 24 * time.Hour)
		fresh := deliverNew(t, s, 2)
		record(t, s, fresh, OutcomeQueue, report("203.0.113.6", "other@example.net", "N2"))
		p, err := s.Purge(ctx, c.Now().Add(-400*24*time.Hour))
		if err != nil || p.Messages != 1 || p.Cases != 1 {
			t.Fatalf("purge: %+v %v", p, err)
		}
		if raw, _ := s.Raw(ctx, old); raw != nil {
			t.Error("the old raw mail survived the purge")
		}
		if raw, _ := s.Raw(ctx, fresh); raw == nil {
			t.Error("the fresh raw mail was purged")
		}
		var personal int
		s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM triage WHERE message_id = $1 AND (from_addr IS NOT NULL OR subject IS NOT NULL)`, old).Scan(&personal)
		var reports int
		s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM reports WHERE message_id = $1 AND (complainant IS NOT NULL OR data IS NOT NULL OR notice_id IS NOT NULL)`, old).Scan(&reports)
		var complainants int
		s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM cases WHERE complainant = 'person@example.net'`).Scan(&complainants)
		if personal+reports+complainants != 0 {
			t.Fatalf("personal fields left: triage %d, reports %d, cases %d", personal, reports, complainants)
		}
		after, _ := s.Stats(ctx)
		if len(after.Triage) < len(before.Triage) || after.Triage[0] != before.Triage[0] || after.Intake[0] != before.Intake[0] {
			t.Fatalf("counts changed by the purge:\nbefore %+v\nafter  %+v", before, after)
		}
		d, err := s.Case(ctx, cases[0].ID)
		if err != nil || len(d.Messages) != 1 || !d.Messages[0].Purged || d.Messages[0].From != "" {
			t.Fatalf("purged case: %+v %v", d, err)
		}
		if p, err := s.Purge(ctx, c.Now().Add(-400*24*time.Hour)); err != nil || p.Messages != 0 {
			t.Fatalf("second purge: %+v %v", p, err)
		}
	})
}

func TestBayesCounts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store, c *clock) {
		a := []string{"viagra", "subject:win", "203.0.113.5"}
		b := []string{"viagra", "ssh"}
		for range 2 { // idempotent
			if _, err := s.Learn(ctx, "h1", ClassSpam, a); err != nil {
				t.Fatal(err)
			}
		}
		if changed, _ := s.Learn(ctx, "h1", ClassSpam, a); changed {
			t.Error("learning the same message twice changed something")
		}
		if _, err := s.Learn(ctx, "h2", ClassHam, b); err != nil {
			t.Fatal(err)
		}
		check := func(wantSpam, wantHam int64, want map[string]TokenCount) {
			t.Helper()
			sp, hm, err := s.BayesTotals(ctx)
			if err != nil || sp != wantSpam || hm != wantHam {
				t.Fatalf("totals %d/%d (%v), want %d/%d", sp, hm, err, wantSpam, wantHam)
			}
			got, err := s.TokenCounts(ctx, []string{"viagra", "subject:win", "203.0.113.5", "ssh", "unknown"})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("tokens %v, want %v", got, want)
			}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("token %s: %+v, want %+v", k, got[k], v)
				}
			}
		}
		check(1, 1, map[string]TokenCount{"viagra": {1, 1}, "subject:win": {1, 0}, "203.0.113.5": {1, 0}, "ssh": {0, 1}})
		// h1 changes class: unlearned as spam, learned as ham.
		if changed, err := s.Learn(ctx, "h1", ClassHam, a); err != nil || !changed {
			t.Fatalf("relearn: %v %v", changed, err)
		}
		check(0, 2, map[string]TokenCount{"viagra": {0, 2}, "subject:win": {0, 1}, "203.0.113.5": {0, 1}, "ssh": {0, 1}})
		if changed, err := s.Unlearn(ctx, "h2"); err != nil || !changed {
			t.Fatalf("unlearn: %v %v", changed, err)
		}
		if changed, _ := s.Unlearn(ctx, "h2"); changed {
			t.Error("unlearning twice changed something")
		}
		check(0, 1, map[string]TokenCount{"viagra": {0, 1}, "subject:win": {0, 1}, "203.0.113.5": {0, 1}})
		if _, err := s.Learn(ctx, "h3", "eggs", a); err == nil {
			t.Error("an unknown class was learned")
		}
		// Many tokens at once cross the query batch size.
		var many []string
		for i := range 1000 {
			many = append(many, fmt.Sprint("t", i))
		}
		if _, err := s.Learn(ctx, "h4", ClassSpam, many); err != nil {
			t.Fatal(err)
		}
		got, err := s.TokenCounts(ctx, many)
		if err != nil || len(got) != 1000 {
			t.Fatalf("batched counts: %d %v", len(got), err)
		}
	})
}

func TestReopenAndSchema(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store, c *clock) {
		v, err := s.schemaVersion(ctx)
		if err != nil || v != SchemaVersion() || v < 1 {
			t.Fatalf("schema version %d (%v), build knows %d", v, err, SchemaVersion())
		}
		// Migrating again is a no-op.
		if err := s.migrate(ctx); err != nil {
			t.Fatal(err)
		}
		// A database from a newer Sortie is refused.
		if _, err := s.db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`); err != nil {
			t.Fatal(err)
		}
		if err := s.migrate(ctx); err == nil || !strings.Contains(err.Error(), "newer than this Sortie") {
			t.Fatalf("newer schema: %v", err)
		}
	})
}
