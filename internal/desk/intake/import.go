package intake

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"sortie.dev/sortie/internal/crashpoint"
	"sortie.dev/sortie/internal/desk/mailbox"
	"sortie.dev/sortie/internal/store"
)

// MaxFailures bounds the failures a Summary lists; the rest are only counted.
const MaxFailures = 1000

// ImportOptions tune Import.
type ImportOptions struct {
	// MaxMessageBytes caps one message; a larger one is a failure. Zero means
	// DefaultMaxMessageBytes.
	MaxMessageBytes int64
	// Progress, when set, is called with the messages done so far and the total (known up
	// front: Import counts first), once before the first message and after each.
	Progress func(done, total int)
}

// Failure is one message that was not imported.
type Failure struct {
	// Where names the message: its file, "FILE#N" in an mbox.
	Where string
	// Reason says why, for the operator.
	Reason string
}

// Summary is what an import did.
type Summary struct {
	// Imported counts messages stored for the first time.
	Imported int
	// Repeats counts messages whose bytes were already stored from another copy.
	Repeats int
	// Known counts messages this very import source had handed over before (an import run
	// again): nothing changed.
	Known int
	// Failed lists messages not imported, at most MaxFailures of them.
	Failed []Failure
	// FailedOmitted counts failures beyond those listed.
	FailedOmitted int
}

// importer carries one import's state.
type importer struct {
	sink     Sink
	max      int64
	progress func(done, total int)
	sum      Summary
	done     int
	total    int
}

// Import stores every message of path: a Maildir (cur/ and new/), an mbox file or a single
// message file (see mailbox.Detect). It only reads: nothing is moved or deleted. Each
// message is a copy with source "import" and a key naming it: the file's absolute path, "PATH#N"
// for the N-th message of an mbox, "MAILDIR/UNIQUE" for a Maildir message (UNIQUE being its
// name without flags), so importing the same path again stores nothing new.
//
// Messages that cannot be imported (over the size cap, empty, unreadable) are listed in the
// summary and the import goes on. An error from the sink (the store) or the context ends
// the import with the summary so far; running it again resumes where it stopped.
func Import(ctx context.Context, path string, sink Sink, opts ImportOptions) (Summary, error) {
	max, err := maxBytes(opts.MaxMessageBytes)
	if err != nil {
		return Summary{}, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Summary{}, fmt.Errorf("import %s: %w", path, err)
	}
	kind, err := mailbox.Detect(abs)
	if err != nil {
		return Summary{}, fmt.Errorf("import: %w", err)
	}
	im := &importer{sink: sink, max: max, progress: opts.Progress}
	switch kind {
	case mailbox.KindMaildir:
		err = im.maildir(ctx, abs)
	case mailbox.KindMbox:
		err = im.mbox(ctx, abs)
	default:
		err = im.message(ctx, abs)
	}
	if err != nil {
		return im.sum, fmt.Errorf("import %s (%s): %w", abs, kind, err)
	}
	return im.sum, nil
}

// start announces the total.
func (im *importer) start(total int) {
	im.total = total
	if im.progress != nil {
		im.progress(0, total)
	}
}

// step counts one message done and reports progress.
func (im *importer) step() {
	im.done++
	if im.done > im.total {
		im.total = im.done // the source grew while it was read
	}
	if im.progress != nil {
		im.progress(im.done, im.total)
	}
}

// fail records a message that was not imported.
func (im *importer) fail(where string, err error) {
	if len(im.sum.Failed) < MaxFailures {
		im.sum.Failed = append(im.sum.Failed, Failure{Where: where, Reason: err.Error()})
	} else {
		im.sum.FailedOmitted++
	}
	im.step()
}

// deliver hands one message to the sink. Only the sink's and the context's errors are
// returned: they end the import.
func (im *importer) deliver(ctx context.Context, where, key string, raw []byte, received time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(raw) == 0 {
		im.fail(where, errors.New("empty message"))
		return nil
	}
	crashpoint.Hit(pointRead)
	st, err := im.sink.Deliver(ctx, store.Delivery{Source: store.SourceImport, Key: key, Raw: raw, ReceivedAt: received})
	if err != nil {
		return fmt.Errorf("store %s: %w", where, err)
	}
	crashpoint.Hit(pointStored)
	switch {
	case st.Known:
		im.sum.Known++
	case st.Repeat:
		im.sum.Repeats++
	default:
		im.sum.Imported++
	}
	im.step()
	crashpoint.Hit(pointAcked)
	return nil
}
