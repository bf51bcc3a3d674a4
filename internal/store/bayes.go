package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Classes the spam filter learns.
const (
	ClassSpam = "spam"
	ClassHam  = "ham"
)

// TokenCount is how many learned spam and ham messages held a token.
type TokenCount struct{ Spam, Ham int64 }

// BayesTotals counts the messages learned as spam and as ham.
func (s *Store) BayesTotals(ctx context.Context) (spam, ham int64, err error) {
	rows, err := s.db.QueryContext(ctx, `SELECT class, COUNT(*) FROM bayes_learned GROUP BY class`)
	if err != nil {
		return 0, 0, fmt.Errorf("store: bayes totals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var class string
		var n int64
		if err := rows.Scan(&class, &n); err != nil {
			return 0, 0, err
		}
		switch class {
		case ClassSpam:
			spam = n
		case ClassHam:
			ham = n
		}
	}
	return spam, ham, rows.Err()
}

// TokenCounts returns the counts of the tokens asked for that were ever learned.
func (s *Store) TokenCounts(ctx context.Context, tokens []string) (map[string]TokenCount, error) {
	out := make(map[string]TokenCount, len(tokens))
	const batch = 400
	for len(tokens) > 0 {
		n := min(batch, len(tokens))
		part := tokens[:n]
		tokens = tokens[n:]
		marks := make([]string, len(part))
		args := make([]any, len(part))
		for i, t := range part {
			marks[i] = fmt.Sprintf("$%d", i+1)
			args[i] = t
		}
		rows, err := s.db.QueryContext(ctx, `SELECT token, spam, ham FROM bayes_tokens WHERE token IN (`+strings.Join(marks, ",")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: token counts: %w", err)
		}
		for rows.Next() {
			var t string
			var c TokenCount
			if err := rows.Scan(&t, &c.Spam, &c.Ham); err != nil {
				rows.Close()
				return nil, err
			}
			out[t] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Learn teaches the filter that the message with this hash (and these tokens) is class.
// It is idempotent per message: learning it again as the same class changes nothing, and
// learning it as the other class first unlearns the old class. changed says whether
// anything changed.
func (s *Store) Learn(ctx context.Context, sha256, class string, tokens []string) (changed bool, err error) {
	if class != ClassSpam && class != ClassHam {
		return false, fmt.Errorf("store: learn: class %q is neither spam nor ham", class)
	}
	list, err := json.Marshal(tokens)
	if err != nil {
		return false, err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		old, oldTokens, err := learned(ctx, tx, sha256)
		if err != nil {
			return err
		}
		if old == class {
			return nil
		}
		if old != "" {
			if err := count(ctx, tx, old, oldTokens, -1); err != nil {
				return err
			}
		}
		if err := count(ctx, tx, class, tokens, +1); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO bayes_learned (sha256, class, tokens, learned_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (sha256) DO UPDATE SET class = excluded.class, tokens = excluded.tokens, learned_at = excluded.learned_at`,
			sha256, class, string(list), unix(s.now())); err != nil {
			return fmt.Errorf("store: learn: %w", err)
		}
		changed = true
		return nil
	})
	return changed, err
}

// Unlearn takes a learned message out of the filter; changed is false when it was not
// learned.
func (s *Store) Unlearn(ctx context.Context, sha256 string) (changed bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		old, oldTokens, err := learned(ctx, tx, sha256)
		if err != nil || old == "" {
			return err
		}
		if err := count(ctx, tx, old, oldTokens, -1); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM bayes_learned WHERE sha256 = $1`, sha256); err != nil {
			return fmt.Errorf("store: unlearn: %w", err)
		}
		changed = true
		return nil
	})
	return changed, err
}

func learned(ctx context.Context, tx *sql.Tx, sha256 string) (string, []string, error) {
	var class, list string
	err := tx.QueryRowContext(ctx, `SELECT class, tokens FROM bayes_learned WHERE sha256 = $1`, sha256).Scan(&class, &list)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("store: learned: %w", err)
	}
	var tokens []string
	if err := json.Unmarshal([]byte(list), &tokens); err != nil {
		return "", nil, fmt.Errorf("store: learned tokens of %s: %w", sha256, err)
	}
	return class, tokens, nil
}

// count adds delta to class's count of each token (each token once).
func count(ctx context.Context, tx *sql.Tx, class string, tokens []string, delta int64) error {
	var ds, dh int64
	if class == ClassSpam {
		ds = delta
	} else {
		dh = delta
	}
	seen := make(map[string]bool, len(tokens))
	for _, t := range tokens {
		if seen[t] {
			continue
		}
		seen[t] = true
		q := `UPDATE bayes_tokens SET spam = spam + $2, ham = ham + $3 WHERE token = $1`
		if delta > 0 {
			q = `INSERT INTO bayes_tokens (token, spam, ham) VALUES ($1, $2, $3)
			ON CONFLICT (token) DO UPDATE SET spam = bayes_tokens.spam + excluded.spam, ham = bayes_tokens.ham + excluded.ham`
		}
		if _, err := tx.ExecContext(ctx, q, t, ds, dh); err != nil {
			return fmt.Errorf("store: token count: %w", err)
		}
	}
	if delta < 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM bayes_tokens WHERE spam <= 0 AND ham <= 0`); err != nil {
			return fmt.Errorf("store: token count: %w", err)
		}
	}
	return nil
}
