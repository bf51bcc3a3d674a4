package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"sortie.dev/sortie/internal/crashpoint"
)

// MaxMessageBytes caps a stored mail.
const MaxMessageBytes = 64 << 20

// errKnown rolls a delivery back when its copy turned out to be stored already.
var errKnown = errors.New("store: copy already stored")

// Deliver stores a mail before anything else is done with it: content-addressed (SHA-256 of
// the bytes), so that the same bytes twice are one message whose repeat count goes up, and
// recorded as a copy (Source, Key), so that the same copy handed over twice changes
// nothing. It returns only after the commit: a source may then let go of the mail.
func (s *Store) Deliver(ctx context.Context, d Delivery) (Stored, error) {
	if len(d.Raw) == 0 {
		return Stored{}, errors.New("store: empty message")
	}
	if len(d.Raw) > MaxMessageBytes {
		return Stored{}, fmt.Errorf("store: message of %d bytes is over the %d-byte cap", len(d.Raw), MaxMessageBytes)
	}
	if d.Source == "" {
		return Stored{}, errors.New("store: delivery without a source")
	}
	if d.Key != "" {
		if id, ok, err := s.knownCopy(ctx, d); err != nil || ok {
			return Stored{MessageID: id, Known: ok}, err
		}
	}
	sum := sha256.Sum256(d.Raw)
	hash := hex.EncodeToString(sum[:])
	now := s.now()
	received := d.ReceivedAt
	if received.IsZero() {
		received = now
	}
	var key any
	if d.Key != "" {
		key = d.Key
	}
	var st Stored
	err := s.tx(ctx, func(tx *sql.Tx) error {
		st = Stored{}
		err := tx.QueryRowContext(ctx, `INSERT INTO messages
			(sha256, size, raw, source, received_at, received_month, stored_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (sha256) DO NOTHING RETURNING id`,
			hash, len(d.Raw), d.Raw, string(d.Source), unix(received), month(received), unix(now)).Scan(&st.MessageID)
		switch {
		case err == nil:
			st.New = true
		case errors.Is(err, sql.ErrNoRows):
			st.Repeat = true
			if err := tx.QueryRowContext(ctx, `UPDATE messages SET repeats = repeats + 1 WHERE sha256 = $1 RETURNING id`,
				hash).Scan(&st.MessageID); err != nil {
				return fmt.Errorf("store: count repeat: %w", err)
			}
		default:
			return fmt.Errorf("store: insert message: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (message_id, source, key, received_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT (source, key) DO NOTHING`,
			st.MessageID, string(d.Source), key, unix(received))
		if err != nil {
			return fmt.Errorf("store: insert delivery: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errKnown // another process stored this copy meanwhile
		}
		crashpoint.Hit("store.before-commit")
		return nil
	})
	if errors.Is(err, errKnown) {
		id, _, err := s.knownCopy(ctx, d)
		return Stored{MessageID: id, Known: true}, err
	}
	if err != nil {
		return Stored{}, err
	}
	crashpoint.Hit("store.committed")
	return st, nil
}

func (s *Store) knownCopy(ctx context.Context, d Delivery) (int64, bool, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT message_id FROM deliveries WHERE source = $1 AND key = $2`,
		string(d.Source), d.Key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: look up copy: %w", err)
	}
	return id, true, nil
}

// Raw returns a stored message's bytes; nil when it was purged.
func (s *Store) Raw(ctx context.Context, id int64) ([]byte, error) {
	var raw []byte
	err := s.db.QueryRowContext(ctx, `SELECT raw FROM messages WHERE id = $1`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: no message %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: read message %d: %w", id, err)
	}
	return raw, nil
}

// Unprocessed returns up to limit messages still waiting for parsing and triage, oldest
// first.
func (s *Store) Unprocessed(ctx context.Context, limit int) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM messages WHERE state = 'new' ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: unprocessed: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: unprocessed: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// MarkFailed sets a message aside when it cannot be processed (it stays stored, and
// `sortie desk stats` counts it); Retry puts failed messages back in the queue.
func (s *Store) MarkFailed(ctx context.Context, id int64, reason string) error {
	if len(reason) > 500 {
		reason = reason[:500]
	}
	_, err := s.db.ExecContext(ctx, `UPDATE messages SET state = 'failed', failure = $2 WHERE id = $1 AND state = 'new'`, id, reason)
	if err != nil {
		return fmt.Errorf("store: mark message %d failed: %w", id, err)
	}
	return nil
}

// Retry puts every failed message back in the queue and says how many.
func (s *Store) Retry(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE messages SET state = 'new', failure = NULL WHERE state = 'failed' AND raw IS NOT NULL`)
	if err != nil {
		return 0, fmt.Errorf("store: retry: %w", err)
	}
	return res.RowsAffected()
}
