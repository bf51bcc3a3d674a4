package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CaseFilter selects cases for List. Zero fields select everything.
type CaseFilter struct {
	State    string
	Category string
	Month    string // "YYYY-MM", the month the case was opened
	Limit    int    // default 100, at most 10,000
}

// CaseSummary is one line of `sortie desk list`.
type CaseSummary struct {
	ID          int64
	State       string
	Category    string
	OurAddress  string
	Complainant string
	Resolution  string
	Reports     int
	Opened      time.Time
	Updated     time.Time
}

// ListCases returns the cases the filter selects, newest first.
func (s *Store) ListCases(ctx context.Context, f CaseFilter) ([]CaseSummary, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 10000)
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.State != "" {
		add("c.state = $%d", f.State)
	}
	if f.Category != "" {
		add("c.category = $%d", f.Category)
	}
	if f.Month != "" {
		add("c.opened_month = $%d", f.Month)
	}
	q := `SELECT c.id, c.state, c.category, c.our_address, COALESCE(c.complainant, ''), c.resolution,
		(SELECT COUNT(*) FROM reports r WHERE r.case_id = c.id), c.opened_at, c.updated_at FROM cases c`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(" ORDER BY c.id DESC LIMIT $%d", len(args))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list cases: %w", err)
	}
	defer rows.Close()
	var out []CaseSummary
	for rows.Next() {
		var c CaseSummary
		var opened, updated int64
		if err := rows.Scan(&c.ID, &c.State, &c.Category, &c.OurAddress, &c.Complainant, &c.Resolution,
			&c.Reports, &opened, &updated); err != nil {
			return nil, fmt.Errorf("store: list cases: %w", err)
		}
		c.Opened, c.Updated = time.Unix(opened, 0).UTC(), time.Unix(updated, 0).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// CaseDetail is a case with every message filed in it: what `sortie desk show` prints.
type CaseDetail struct {
	CaseSummary
	ExternalID string
	Messages   []MessageDetail
}

// MessageDetail is one message of a case with its triage.
type MessageDetail struct {
	ID         int64
	SHA256     string
	Size       int
	Source     string
	Received   time.Time
	Repeats    int
	Purged     bool
	Outcome    string
	Category   string
	Automated  bool
	NamesOurs  bool
	OursAtTime bool
	Rule       string
	SpamScore  float64
	HasScore   bool
	From       string
	Subject    string
	Reasons    []string
	Reports    []json.RawMessage // the normalised reports filed in this case
}

// ErrNotFound is returned for a case or message that does not exist.
var ErrNotFound = errors.New("not found")

// Case returns one case with its messages.
func (s *Store) Case(ctx context.Context, id int64) (CaseDetail, error) {
	var d CaseDetail
	var opened, updated int64
	var ext sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT c.id, c.state, c.category, c.our_address, COALESCE(c.complainant, ''),
		c.resolution, (SELECT COUNT(*) FROM reports r WHERE r.case_id = c.id), c.opened_at, c.updated_at, c.external_id
		FROM cases c WHERE c.id = $1`, id).Scan(&d.ID, &d.State, &d.Category, &d.OurAddress, &d.Complainant,
		&d.Resolution, &d.Reports, &opened, &updated, &ext)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("case %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("store: case %d: %w", id, err)
	}
	d.Opened, d.Updated, d.ExternalID = time.Unix(opened, 0).UTC(), time.Unix(updated, 0).UTC(), ext.String
	rows, err := s.db.QueryContext(ctx, `SELECT m.id, m.sha256, m.size, m.source, m.received_at, m.repeats,
		m.purged_at IS NOT NULL, t.outcome, t.category, t.automated, t.names_ours, t.ours_at_time, t.rule,
		t.spam_score, COALESCE(t.from_addr, ''), COALESCE(t.subject, ''), t.reasons
		FROM messages m JOIN triage t ON t.message_id = m.id
		WHERE m.id IN (SELECT message_id FROM reports WHERE case_id = $1) ORDER BY m.id`, id)
	if err != nil {
		return d, fmt.Errorf("store: case %d messages: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m MessageDetail
		var received, automated, ours, oursAt int64
		var score sql.NullFloat64
		var reasons string
		if err := rows.Scan(&m.ID, &m.SHA256, &m.Size, &m.Source, &received, &m.Repeats, &m.Purged, &m.Outcome,
			&m.Category, &automated, &ours, &oursAt, &m.Rule, &score, &m.From, &m.Subject, &reasons); err != nil {
			return d, fmt.Errorf("store: case %d messages: %w", id, err)
		}
		m.Received = time.Unix(received, 0).UTC()
		m.Automated, m.NamesOurs, m.OursAtTime = automated != 0, ours != 0, oursAt != 0
		m.SpamScore, m.HasScore = score.Float64, score.Valid
		_ = json.Unmarshal([]byte(reasons), &m.Reasons)
		d.Messages = append(d.Messages, m)
	}
	if err := rows.Err(); err != nil {
		return d, err
	}
	for i := range d.Messages {
		reps, err := s.reportData(ctx, d.Messages[i].ID, id)
		if err != nil {
			return d, err
		}
		d.Messages[i].Reports = reps
	}
	return d, nil
}

func (s *Store) reportData(ctx context.Context, messageID, caseID int64) ([]json.RawMessage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT COALESCE(data, '') FROM reports WHERE message_id = $1 AND case_id = $2 ORDER BY idx`,
		messageID, caseID)
	if err != nil {
		return nil, fmt.Errorf("store: reports: %w", err)
	}
	defer rows.Close()
	var out []json.RawMessage
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		if data != "" {
			out = append(out, json.RawMessage(data))
		}
	}
	return out, rows.Err()
}

// SetCaseState moves a case to state with a resolution (closing it for resolved, ignored
// and spam; reopening it otherwise).
func (s *Store) SetCaseState(ctx context.Context, id int64, state, resolution string) error {
	if !ValidState(state) {
		return fmt.Errorf("store: unknown case state %q", state)
	}
	now := unix(s.now())
	var closed any
	if state == StateResolved || state == StateIgnored || state == StateSpam {
		closed = now
	}
	res, err := s.db.ExecContext(ctx, `UPDATE cases SET state = $2, resolution = $3, updated_at = $4, closed_at = $5 WHERE id = $1`,
		id, state, resolution, now, closed)
	if err != nil {
		return fmt.Errorf("store: case %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("case %d: %w", id, ErrNotFound)
	}
	return nil
}

// CaseMessages returns the IDs of the messages filed in a case.
func (s *Store) CaseMessages(ctx context.Context, id int64) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT message_id FROM reports WHERE case_id = $1 ORDER BY message_id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: case %d: %w", id, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var m int64
		if err := rows.Scan(&m); err != nil {
			return nil, err
		}
		ids = append(ids, m)
	}
	return ids, rows.Err()
}

// CaseByTag says whether case id exists (a reply's subject tag names it).
func (s *Store) CaseByTag(ctx context.Context, id int64) (int64, bool, error) {
	return s.findCase(ctx, `SELECT id FROM cases WHERE id = $1`, id)
}

// CaseByMessageID finds the case a mail we sent (by its Message-ID, with or without angle
// brackets) belongs to.
func (s *Store) CaseByMessageID(ctx context.Context, msgid string) (int64, bool, error) {
	return s.findCase(ctx, `SELECT case_id FROM sent WHERE message_ref = $1`, bareMessageID(msgid))
}

// bareMessageID drops the angle brackets of a Message-ID.
func bareMessageID(id string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
}

// CaseByExternalID finds a case by the complainant's own case reference.
func (s *Store) CaseByExternalID(ctx context.Context, complainant, id string) (int64, bool, error) {
	return s.findCase(ctx, `SELECT id FROM cases WHERE complainant = $1 AND external_id = $2 ORDER BY id DESC LIMIT 1`, complainant, id)
}

func (s *Store) findCase(ctx context.Context, q string, args ...any) (int64, bool, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, q, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: find case: %w", err)
	}
	return id, true, nil
}

// RecordSent remembers the Message-ID of a mail sent about a case, so that replies find it.
func (s *Store) RecordSent(ctx context.Context, caseID int64, msgid string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sent (message_ref, case_id, sent_at) VALUES ($1, $2, $3)
		ON CONFLICT (message_ref) DO NOTHING`, bareMessageID(msgid), caseID, unix(s.now()))
	if err != nil {
		return fmt.Errorf("store: record sent: %w", err)
	}
	return nil
}

// MessageHash returns a message's SHA-256 (hex).
func (s *Store) MessageHash(ctx context.Context, id int64) (string, error) {
	var h string
	err := s.db.QueryRowContext(ctx, `SELECT sha256 FROM messages WHERE id = $1`, id).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("message %d: %w", id, ErrNotFound)
	}
	return h, err
}
