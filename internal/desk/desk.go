// Package desk is the abuse desk: complaint mail comes in from its intake paths (a watched
// Maildir, IMAP polling, an SMTP listener, imports), is stored before anything else, then
// parsed, triaged and filed into cases. It is operations, not data plane: it runs inside
// `sortie serve` when enabled, or alone with `sortie desk serve`, and nothing under the
// gateway imports it.
//
// Subpackages: parse (complaint formats into reports), bayes (the learning spam filter),
// triage (the decisions), mailbox (Maildir and mbox files), intake (the paths mail comes in
// by).
package desk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"sortie.dev/sortie/internal/config"
	"sortie.dev/sortie/internal/desk/triage"
	"sortie.dev/sortie/internal/store"
)

// Desk ties the store, the intake paths and triage together.
type Desk struct {
	cfg   *config.Config
	store *store.Store
	log   *slog.Logger
	tri   *triage.Triage
	// wake tells the processing loop that a message was stored.
	wake chan struct{}
	now  func() time.Time
}

// OpenStore opens the desk's database the configuration names: PostgreSQL when
// desk.database is set, else SQLite in the data directory.
func OpenStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	if dsn := cfg.Desk.Database.Reveal(); dsn != "" {
		return store.Open(ctx, store.Options{DSN: dsn})
	}
	dir, err := cfg.StateDir()
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, store.Options{Dir: dir})
}

// New returns a desk over an open store.
func New(cfg *config.Config, st *store.Store, log *slog.Logger) (*Desk, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tri, err := newTriage(cfg, st)
	if err != nil {
		return nil, err
	}
	if len(cfg.Egress.Addresses) == 0 {
		log.Warn("desk: egress.addresses is empty, so no complaint can be matched to an exit of yours; " +
			"list your exit addresses there (docs/configuration.md)")
	}
	return &Desk{cfg: cfg, store: st, log: log, tri: tri, wake: make(chan struct{}, 1), now: time.Now}, nil
}

// Store is the desk's store.
func (d *Desk) Store() *store.Store { return d.store }

// Deliver stores a mail (returning after the commit) and wakes the processing loop: the
// intake paths hand their mail to it.
func (d *Desk) Deliver(ctx context.Context, dl store.Delivery) (store.Stored, error) {
	st, err := d.store.Deliver(ctx, dl)
	if err == nil && st.New {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
	return st, err
}

// batch is how many waiting messages one processing round reads at a time.
const batch = 100

// ProcessPending parses, triages and files every message waiting, and says how many were
// processed. A message that cannot be processed is set aside as failed (stats count it;
// `sortie desk retry` queues it again); a store error stops the round.
func (d *Desk) ProcessPending(ctx context.Context) (int, error) {
	n := 0
	for {
		ids, err := d.store.Unprocessed(ctx, batch)
		if err != nil {
			return n, err
		}
		if len(ids) == 0 {
			return n, nil
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return n, err
			}
			err := d.process(ctx, id)
			var bad *badMessage
			switch {
			case errors.As(err, &bad):
				d.log.Warn("desk: message set aside", "message", id, "reason", bad.reason)
				if err := d.store.MarkFailed(ctx, id, bad.reason); err != nil {
					return n, err
				}
			case err != nil:
				return n, fmt.Errorf("desk: message %d: %w", id, err)
			default:
				n++
			}
		}
	}
}

// badMessage is a message the desk cannot process (as opposed to a store failure).
type badMessage struct{ reason string }

func (b *badMessage) Error() string { return b.reason }
