package intake

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"sortie.dev/sortie/internal/crashpoint"
	"sortie.dev/sortie/internal/desk/mailbox"
	"sortie.dev/sortie/internal/store"
)

// Defaults of WatchOptions.
const (
	DefaultWatchInterval = 2 * time.Second
	DefaultWatchBatch    = 1000
)

// WatchOptions tune a Maildir watcher.
type WatchOptions struct {
	// Interval is the time between two looks at new/; zero means DefaultWatchInterval.
	Interval time.Duration
	// MaxMessageBytes caps one message; a larger one stays in new/ and is logged once.
	// Zero means DefaultMaxMessageBytes.
	MaxMessageBytes int64
	// Batch caps the messages taken per look, oldest first; zero means DefaultWatchBatch.
	Batch int
	// Log receives problems, each once per message; nil means slog.Default().
	Log *slog.Logger
}

// Watcher delivers the mail that arrives in a Maildir's new/ and moves each message to
// cur/ (flag S) once it is committed. A message the sink refuses stays in new/ and is tried
// again at the next look.
type Watcher struct {
	md       *mailbox.Maildir
	sink     Sink
	interval time.Duration
	batch    int
	max      int64
	log      *slog.Logger
	logged   onceSet
}

// NewWatcher opens the Maildir dir for watching.
func NewWatcher(dir string, sink Sink, opts WatchOptions) (*Watcher, error) {
	max, err := maxBytes(opts.MaxMessageBytes)
	if err != nil {
		return nil, err
	}
	if opts.Interval < 0 || opts.Batch < 0 {
		return nil, fmt.Errorf("intake: watch %s: negative interval or batch", dir)
	}
	md, err := mailbox.OpenMaildir(dir)
	if err != nil {
		return nil, fmt.Errorf("intake: watch: %w", err)
	}
	w := &Watcher{md: md, sink: sink, interval: opts.Interval, batch: opts.Batch, max: max, log: logger(opts.Log)}
	if w.interval == 0 {
		w.interval = DefaultWatchInterval
	}
	if w.batch == 0 {
		w.batch = DefaultWatchBatch
	}
	return w, nil
}

// WatchMaildir watches the Maildir dir until ctx is done; see Watcher.
func WatchMaildir(ctx context.Context, dir string, sink Sink, opts WatchOptions) error {
	w, err := NewWatcher(dir, sink, opts)
	if err != nil {
		return err
	}
	defer w.Close()
	return w.Run(ctx)
}

// Close releases the Maildir.
func (w *Watcher) Close() error { return w.md.Close() }

// Run looks at new/ at once and then every interval, until ctx is done; it then returns
// nil. Problems are logged, never fatal: the mail stays where it is.
func (w *Watcher) Run(ctx context.Context) error {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		if _, err := w.Poll(ctx); err != nil && ctx.Err() == nil && w.logged.first("\x00list") {
			w.log.Warn("maildir: cannot list new mail", "dir", w.md.Dir(), "err", err)
		} else if err == nil {
			w.logged.forget("\x00list")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Poll takes up to a batch of messages from new/, oldest first: each is delivered, then
// moved to cur/. It returns an error only when new/ cannot be listed or ctx ends.
func (w *Watcher) Poll(ctx context.Context) (Counts, error) {
	var c Counts
	names, err := w.md.List(mailbox.New, w.batch)
	if err != nil {
		return c, err
	}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return c, err
		}
		w.take(ctx, name, &c)
	}
	return c, nil
}

// take delivers one message of new/ and moves it to cur/ after the commit.
func (w *Watcher) take(ctx context.Context, name string, c *Counts) {
	raw, mod, err := w.md.Read(mailbox.New, name, w.max)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return // another reader took it meanwhile
	case errors.Is(err, mailbox.ErrTooLarge):
		c.Oversized++
		w.problem(name, "maildir: message over the size cap left in new/", err)
		return
	case err != nil:
		c.Failed++
		w.problem(name, "maildir: cannot read message", err)
		return
	}
	crashpoint.Hit(pointRead)
	st, err := w.sink.Deliver(ctx, store.Delivery{Source: store.SourceMaildir, Key: mailbox.Unique(name), Raw: raw, ReceivedAt: mod})
	if err != nil {
		c.Failed++
		w.problem(name, "maildir: delivery failed, message left in new/", err)
		return
	}
	crashpoint.Hit(pointStored)
	c.add(st)
	if _, err := w.md.MarkSeen(name); err != nil {
		w.problem(name, "maildir: stored, but cannot move to cur/", err)
		return
	}
	w.logged.forget(name)
	crashpoint.Hit(pointAcked)
}

// problem logs a problem with one message, once for as long as it lasts.
func (w *Watcher) problem(name, msg string, err error) {
	if w.logged.first(name) {
		w.log.Warn(msg, "dir", w.md.Dir(), "name", name, "err", err)
	}
}
