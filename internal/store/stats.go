package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Stats are the desk's counts: what `sortie desk stats` prints and the yearly report reads.
// They survive the retention purge.
type Stats struct {
	// Intake counts messages by month received and first source; Repeats the copies with the
	// same bytes that came after.
	Intake []IntakeCount
	// Waiting, Processed and Failed count messages by processing state.
	Waiting, Processed, Failed int
	// Triage counts processed messages by month, category and outcome.
	Triage []TriageCount
	// Cases counts cases by state.
	Cases map[string]int
}

// IntakeCount is one line of Stats.Intake.
type IntakeCount struct {
	Month    string
	Source   string
	Messages int
	Repeats  int
}

// TriageCount is one line of Stats.Triage.
type TriageCount struct {
	Month    string
	Category string
	Outcome  string
	Messages int
}

// Stats counts everything Stats holds.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Cases: map[string]int{}}
	rows, err := s.db.QueryContext(ctx, `SELECT received_month, source, COUNT(*), COALESCE(SUM(repeats), 0)
		FROM messages GROUP BY received_month, source ORDER BY received_month, source`)
	if err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	for rows.Next() {
		var c IntakeCount
		if err := rows.Scan(&c.Month, &c.Source, &c.Messages, &c.Repeats); err != nil {
			rows.Close()
			return st, fmt.Errorf("store: stats: %w", err)
		}
		st.Intake = append(st.Intake, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, err
	}
	rows, err = s.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM messages GROUP BY state`)
	if err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			rows.Close()
			return st, err
		}
		switch state {
		case "new":
			st.Waiting = n
		case "processed":
			st.Processed = n
		case "failed":
			st.Failed = n
		}
	}
	rows.Close()
	rows, err = s.db.QueryContext(ctx, `SELECT month, category, outcome, COUNT(*) FROM triage
		GROUP BY month, category, outcome ORDER BY month, category, outcome`)
	if err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	for rows.Next() {
		var c TriageCount
		if err := rows.Scan(&c.Month, &c.Category, &c.Outcome, &c.Messages); err != nil {
			rows.Close()
			return st, err
		}
		st.Triage = append(st.Triage, c)
	}
	rows.Close()
	rows, err = s.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM cases GROUP BY state`)
	if err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return st, err
		}
		st.Cases[state] = n
	}
	return st, rows.Err()
}

// Purged says what a purge removed.
type Purged struct {
	Messages int64 // raw mails removed
	Cases    int64 // closed cases whose complainant was removed
}

// Purge removes the raw mail and the personal fields (sender, subject, Message-ID,
// complainant, notice IDs, the reports' raw fields) of every message stored before cutoff,
// and the complainant of closed cases last updated before it. The counts Stats reads stay.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (Purged, error) {
	var p Purged
	now := unix(s.now())
	c := unix(cutoff)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET raw = NULL, purged_at = $2
			WHERE stored_at < $1 AND purged_at IS NULL`, c, now)
		if err != nil {
			return fmt.Errorf("store: purge messages: %w", err)
		}
		p.Messages, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `UPDATE triage SET from_addr = NULL, subject = NULL, message_ref = NULL
			WHERE message_id IN (SELECT id FROM messages WHERE purged_at IS NOT NULL) AND
			(from_addr IS NOT NULL OR subject IS NOT NULL OR message_ref IS NOT NULL)`); err != nil {
			return fmt.Errorf("store: purge triage: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE reports SET complainant = NULL, notice_id = NULL, data = NULL
			WHERE message_id IN (SELECT id FROM messages WHERE purged_at IS NOT NULL) AND
			(complainant IS NOT NULL OR notice_id IS NOT NULL OR data IS NOT NULL)`); err != nil {
			return fmt.Errorf("store: purge reports: %w", err)
		}
		res, err = tx.ExecContext(ctx, `UPDATE cases SET complainant = NULL, external_id = NULL
			WHERE updated_at < $1 AND state IN ('resolved', 'ignored', 'spam') AND
			(complainant IS NOT NULL OR external_id IS NOT NULL)`, c)
		if err != nil {
			return fmt.Errorf("store: purge cases: %w", err)
		}
		p.Cases, _ = res.RowsAffected()
		return nil
	})
	return p, err
}
