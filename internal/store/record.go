package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"sortie.dev/sortie/internal/crashpoint"
)

// Triage outcomes, as the desk records them.
const (
	OutcomeReply   = "reply"   // a reply to one of our cases: attached to it
	OutcomeQueue   = "queue"   // new work for a volunteer
	OutcomeIgnored = "ignored" // ignored and counted (automated sender, sender rule)
	OutcomeSpam    = "spam"    // the spam filter's verdict
	OutcomeUnsure  = "unsure"  // queued, marked for a look
)

// Case states.
const (
	StateNew      = "new"
	StateOpen     = "open"
	StateWaiting  = "waiting"
	StateResolved = "resolved"
	StateIgnored  = "ignored"
	StateSpam     = "spam"
)

// States lists every case state.
var States = []string{StateNew, StateOpen, StateWaiting, StateResolved, StateIgnored, StateSpam}

// ValidState says whether s is a case state.
func ValidState(s string) bool {
	for _, v := range States {
		if v == s {
			return true
		}
	}
	return false
}

// Record is the outcome of parsing and triaging one stored message.
type Record struct {
	MessageID  int64
	Outcome    string
	Category   string
	Automated  bool
	NamesOurs  bool
	OursAtTime bool
	Rule       string
	// SpamScore is the filter's score; HasScore false when the filter did not score.
	SpamScore float64
	HasScore  bool
	// ReplyTo is our case a reply belongs to (Outcome reply).
	ReplyTo int64
	// From, Subject and MessageRef (Message-ID) are personal fields, purged with the mail.
	From, Subject, MessageRef string
	Reasons                   []string
	Reports                   []ReportRecord
}

// ReportRecord is one complaint found in the message.
type ReportRecord struct {
	Format     string
	Category   string
	OurAddress string // the address of ours it names, "" when none
	OccurredAt time.Time
	// Complainant, CaseID (theirs) and NoticeID are purged with the mail.
	Complainant string
	CaseID      string
	NoticeID    string
	// DedupeKey makes a resend of the same notice one event: the notice ID when there is
	// one, else a hash of the report's content.
	DedupeKey string
	// Data is the whole normalised report as JSON (purged with the mail).
	Data []byte
}

// Record stores the triage of a message, files each report into its case and marks the
// message processed, in one transaction: after a crash the message is simply processed
// again. Recording a message that is not waiting any more does nothing.
func (s *Store) Record(ctx context.Context, r Record) error {
	if len(r.Reports) == 0 {
		return errors.New("store: a record needs at least one report")
	}
	reasons, err := json.Marshal(r.Reasons)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var state string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM messages WHERE id = $1`, r.MessageID).Scan(&state); err != nil {
			return fmt.Errorf("store: message %d: %w", r.MessageID, err)
		}
		if state != "new" {
			return nil
		}
		var firstCase int64
		for i, rep := range r.Reports {
			caseID, err := s.fileCase(ctx, tx, r, rep, now)
			if err != nil {
				return err
			}
			if i == 0 {
				firstCase = caseID
			}
			var eventID int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO events (case_id, dedupe_key, created_at) VALUES ($1, $2, $3)
				ON CONFLICT (case_id, dedupe_key) DO UPDATE SET repeats = events.repeats + 1 RETURNING id`,
				caseID, rep.DedupeKey, unix(now)).Scan(&eventID); err != nil {
				return fmt.Errorf("store: event: %w", err)
			}
			var occurred any
			if !rep.OccurredAt.IsZero() {
				occurred = unix(rep.OccurredAt)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO reports (message_id, idx, case_id, event_id, format, category,
				our_address, occurred_at, month, complainant, notice_id, data)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
				r.MessageID, i, caseID, eventID, rep.Format, rep.Category, rep.OurAddress, occurred, month(now),
				nullString(rep.Complainant), nullString(rep.NoticeID), string(rep.Data)); err != nil {
				return fmt.Errorf("store: report: %w", err)
			}
		}
		var score any
		if r.HasScore {
			score = r.SpamScore
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO triage (message_id, outcome, category, automated, names_ours,
			ours_at_time, rule, spam_score, case_id, from_addr, subject, reasons, decided_at, month, message_ref)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			r.MessageID, r.Outcome, r.Category, boolInt(r.Automated), boolInt(r.NamesOurs), boolInt(r.OursAtTime),
			r.Rule, score, firstCase, nullString(r.From), nullString(r.Subject), string(reasons), unix(now), month(now),
			nullString(r.MessageRef)); err != nil {
			return fmt.Errorf("store: triage: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET state = 'processed', failure = NULL WHERE id = $1`, r.MessageID); err != nil {
			return fmt.Errorf("store: mark processed: %w", err)
		}
		crashpoint.Hit("store.record-before-commit")
		return nil
	})
	if err != nil {
		return err
	}
	crashpoint.Hit("store.record-committed")
	return nil
}

// fileCase finds or opens the case a report belongs to.
func (s *Store) fileCase(ctx context.Context, tx *sql.Tx, r Record, rep ReportRecord, now time.Time) (int64, error) {
	category := rep.Category
	if category == "" {
		category = r.Category
	}
	complainant := rep.Complainant
	if complainant == "" {
		complainant = r.From
	}
	var id int64
	found := func(err error) (bool, error) {
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return err == nil, err
	}
	switch r.Outcome {
	case OutcomeReply:
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET updated_at = $2,
			state = CASE WHEN state IN ('waiting', 'resolved') THEN 'open' ELSE state END,
			closed_at = CASE WHEN state = 'resolved' THEN NULL ELSE closed_at END WHERE id = $1`,
			r.ReplyTo, unix(now)); err != nil {
			return 0, fmt.Errorf("store: reopen case %d: %w", r.ReplyTo, err)
		}
		return r.ReplyTo, nil
	case OutcomeQueue, OutcomeUnsure:
		if rep.CaseID != "" {
			ok, err := found(tx.QueryRowContext(ctx, `SELECT id FROM cases WHERE complainant = $1 AND external_id = $2
				AND state IN ('new', 'open', 'waiting') ORDER BY id LIMIT 1`, complainant, rep.CaseID).Scan(&id))
			if err != nil {
				return 0, fmt.Errorf("store: find case: %w", err)
			}
			if ok {
				return id, s.touchCase(ctx, tx, id, now)
			}
		}
		ok, err := found(tx.QueryRowContext(ctx, `SELECT id FROM cases WHERE complainant = $1 AND our_address = $2
			AND category = $3 AND state IN ('new', 'open', 'waiting') ORDER BY id LIMIT 1`,
			complainant, rep.OurAddress, category).Scan(&id))
		if err != nil {
			return 0, fmt.Errorf("store: find case: %w", err)
		}
		if ok {
			return id, s.touchCase(ctx, tx, id, now)
		}
		return s.openCase(ctx, tx, complainant, rep, category, StateNew, "", now)
	case OutcomeIgnored:
		// Robots repeat themselves: one ignored case per sender, address, category and month.
		ok, err := found(tx.QueryRowContext(ctx, `SELECT id FROM cases WHERE complainant = $1 AND our_address = $2
			AND category = $3 AND state = 'ignored' AND opened_month = $4 ORDER BY id LIMIT 1`,
			complainant, rep.OurAddress, category, month(now)).Scan(&id))
		if err != nil {
			return 0, fmt.Errorf("store: find case: %w", err)
		}
		if ok {
			return id, s.touchCase(ctx, tx, id, now)
		}
		resolution := "automated sender: ignored and counted"
		if r.Rule != "" {
			resolution = "sender rule " + r.Rule + ": ignored and counted"
		}
		return s.openCase(ctx, tx, complainant, rep, category, StateIgnored, resolution, now)
	case OutcomeSpam:
		return s.openCase(ctx, tx, complainant, rep, category, StateSpam, "spam filter", now)
	}
	return 0, fmt.Errorf("store: unknown outcome %q", r.Outcome)
}

func (s *Store) touchCase(ctx context.Context, tx *sql.Tx, id int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE cases SET updated_at = $2 WHERE id = $1`, id, unix(now))
	if err != nil {
		return fmt.Errorf("store: update case %d: %w", id, err)
	}
	return nil
}

func (s *Store) openCase(ctx context.Context, tx *sql.Tx, complainant string, rep ReportRecord, category, state, resolution string, now time.Time) (int64, error) {
	var closed any
	if state == StateIgnored || state == StateSpam {
		closed = unix(now)
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO cases (complainant, our_address, category, state, resolution,
		external_id, opened_at, opened_month, updated_at, closed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $9) RETURNING id`,
		complainant, rep.OurAddress, category, state, resolution, nullString(rep.CaseID),
		unix(now), month(now), closed).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: open case: %w", err)
	}
	return id, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
