package desk

import (
	"context"
	"fmt"

	"sortie.dev/sortie/internal/desk/bayes"
	"sortie.dev/sortie/internal/desk/parse"
	"sortie.dev/sortie/internal/store"
)

// Learn teaches the spam filter that every message of a case is class (store.ClassSpam or
// store.ClassHam), and moves the case: spam to the spam state, ham out of it (back to new).
// It says how many messages changed class. Learning is idempotent per message.
func (d *Desk) Learn(ctx context.Context, caseID int64, class string) (int, error) {
	c, err := d.store.Case(ctx, caseID)
	if err != nil {
		return 0, err
	}
	ids, err := d.store.CaseMessages(ctx, caseID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		raw, err := d.store.Raw(ctx, id)
		if err != nil {
			return n, err
		}
		if raw == nil {
			continue // purged: nothing left to learn from
		}
		msg, _, err := parse.Parse(raw)
		if err != nil {
			continue
		}
		hash, err := d.store.MessageHash(ctx, id)
		if err != nil {
			return n, err
		}
		changed, err := d.store.Learn(ctx, hash, class, bayes.Tokenize(msg))
		if err != nil {
			return n, err
		}
		if changed {
			n++
		}
	}
	switch {
	case class == store.ClassSpam && c.State != store.StateSpam:
		err = d.store.SetCaseState(ctx, caseID, store.StateSpam, "marked spam by a volunteer")
	case class == store.ClassHam && c.State == store.StateSpam:
		err = d.store.SetCaseState(ctx, caseID, store.StateNew, "marked not spam by a volunteer")
	}
	if err != nil {
		return n, fmt.Errorf("desk: case %d: %w", caseID, err)
	}
	return n, nil
}
