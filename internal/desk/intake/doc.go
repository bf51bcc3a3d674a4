// Package intake takes complaint mail in from where it arrives and hands every message to
// the store before its source lets go of it: a Maildir watched for new mail, imports of
// Maildirs, mbox files and single messages, IMAP polling of a folder, and an SMTP listener.
//
// Each path keeps one rule (DESIGN.md, invariant 5): a message is acknowledged to its source
// (moved to cur/, flagged \Seen or moved on the IMAP server, answered 250) only after
// Sink.Deliver returned, which is after the store's commit. A crash at any point therefore
// loses nothing: the source still holds every message the store may not, and handing the
// same copy over again (same source and key) changes nothing in the store.
//
// Every path marks its step boundaries with crashpoint.Hit: "intake.read" (a message read,
// before Deliver), "intake.stored" (Deliver returned, before the acknowledgement) and
// "intake.acked" (after it).
package intake

import (
	"context"
	"fmt"
	"log/slog"

	"sortie.dev/sortie/internal/store"
)

// Sink takes a message and returns once it is committed. *store.Store is one.
type Sink interface {
	Deliver(ctx context.Context, d store.Delivery) (store.Stored, error)
}

// DefaultMaxMessageBytes caps a message when the options leave the cap at zero.
const DefaultMaxMessageBytes = 25 << 20

// Crash points, in the order a message passes them.
const (
	pointRead   = "intake.read"
	pointStored = "intake.stored"
	pointAcked  = "intake.acked"
)

// maxBytes returns the effective size cap for a configured one: the default for zero, and
// never more than the store takes.
func maxBytes(configured int64) (int64, error) {
	switch {
	case configured < 0:
		return 0, fmt.Errorf("intake: message size cap %d is negative", configured)
	case configured == 0:
		return DefaultMaxMessageBytes, nil
	case configured > store.MaxMessageBytes:
		return 0, fmt.Errorf("intake: message size cap %d is over the store's %d bytes", configured, store.MaxMessageBytes)
	}
	return configured, nil
}

// logger returns l, or slog.Default() when l is nil.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
